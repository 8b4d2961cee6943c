"""The contract suite against the ArcGIS connector and a stand-in ArcGIS REST server, honest and lying."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from arcgis_standin import ArcgisStandin, Lies, Service, layer_from_table
from servers import serve

from btvstat_open.errors import (
    NotSupported,
    PortalAuthError,
    PortalRequestError,
    PortalUnavailable,
    UsageError,
)
from connectors.arcgis import ArcgisConnector
from connectors.testing import ConnectorContract, ContractSetup, source_table

ROWS = source_table().num_rows
SERVICES = {
    "Honest": (Lies(), True),
    "IgnoresOffset": (Lies(ignores_offset=True), True),
    "CapsPages": (Lies(page_cap=170), True),
    "ProbeFails": (Lies(probe_fails=True, no_flag=True, statistics_fail=True), True),
    "NoPaging": (Lies(no_flag=True), False),
    "WholeSeconds": (Lies(whole_seconds=True), True),
}


def build_standin() -> ArcgisStandin:
    services = {}
    for name, (lies, paging) in SERVICES.items():
        layers = {
            0: layer_from_table(0, "Cases (map)", source_table(50), geometry=True),
            1: layer_from_table(1, "Cases", source_table(), max_record_count=400),
        }
        services[name] = Service(layers, lies, supports_pagination=paging)
    return ArcgisStandin(services)


@pytest.fixture(scope="module")
def standin() -> Iterator[tuple[str, ArcgisStandin]]:
    app = build_standin()
    with serve(app) as url:
        yield url, app


@pytest.fixture(params=list(SERVICES))
def contract(request: pytest.FixtureRequest, standin: tuple[str, ArcgisStandin]) -> ContractSetup:
    url, _ = standin
    conn = ArcgisConnector(f"{url}/arcgis/rest/services/{request.param}/FeatureServer", page_size=500)
    return ContractSetup(conn, "1", None, ROWS)


class TestArcgisContract(ConnectorContract):
    """Every contract test, against each stand-in service (the table layer 1)."""


def test_geometry_layer_pulls_points_as_wkt(standin: tuple[str, ArcgisStandin]) -> None:
    url, _ = standin
    conn = ArcgisConnector(f"{url}/arcgis/rest/services/Honest/FeatureServer/0")
    desc = conn.describe("0")
    assert desc.column("geometry") is not None and desc.column("geometry").data_type == "point"  # type: ignore[union-attr]
    table = conn.pull("0", select="case_id, geometry, :id")
    assert table.column_names == ["case_id", "geometry", ":id"]
    assert table.column("geometry")[0].as_py() == "POINT (-73.2 44.47)"
    assert table.column(":id").to_pylist()[:3] == ["1", "2", "3"]


def test_lying_servers_are_paged_by_object_id_ranges(standin: tuple[str, ArcgisStandin]) -> None:
    url, app = standin
    for name in ("IgnoresOffset", "ProbeFails", "NoPaging"):
        conn = ArcgisConnector(f"{url}/arcgis/rest/services/{name}/FeatureServer", page_size=500)
        app.log.clear()
        table = conn.pull("1")
        assert sorted(table.column("case_id").to_pylist()) == source_table().column("case_id").to_pylist()
        ranged = [q for p, q in app.log if p.endswith("/1/query") and "OBJECTID <=" in q.get("where", "")]
        assert ranged, name
    conn = ArcgisConnector(f"{url}/arcgis/rest/services/Honest/FeatureServer", page_size=500)
    app.log.clear()
    assert conn.pull("1").num_rows == ROWS
    assert not [q for p, q in app.log if "OBJECTID <=" in q.get("where", "")]  # offsets where they work


def test_push_and_create_say_why_not(standin: tuple[str, ArcgisStandin]) -> None:
    url, _ = standin
    conn = ArcgisConnector(f"{url}/arcgis/rest/services/Honest/FeatureServer")
    with pytest.raises(NotSupported, match="read-only") as refused:
        conn.push(source_table(1), "1")
    assert refused.value.kind == "arcgis" and refused.value.capability == "push"


def test_a_layer_url_or_a_number(standin: tuple[str, ArcgisStandin]) -> None:
    url, _ = standin
    service = f"{url}/arcgis/rest/services/Honest/FeatureServer"
    conn = ArcgisConnector(service)
    assert conn.describe(f"{service}/1").row_count == ROWS
    with pytest.raises(UsageError, match="layer number"):
        conn.describe("cases")
    with pytest.raises(PortalRequestError, match="Invalid or missing"):  # an error body, HTTP 200
        conn.describe("7")


def test_error_bodies_coded_5xx_are_retried_and_4xx_are_not(standin: tuple[str, ArcgisStandin]) -> None:
    url, app = standin
    app.services["Busy"] = Service({1: layer_from_table(1, "Cases", source_table(30))}, Lies(busy_answers=3))
    conn = ArcgisConnector(f"{url}/arcgis/rest/services/Busy/FeatureServer", backoff=0.001, max_wait=0.01)
    assert conn.describe("1").row_count == 30  # three 503 bodies (HTTP 200), then the answers
    assert conn.http.requests_made == 5
    before = conn.http.requests_made
    with pytest.raises(PortalRequestError):
        conn.describe("9")  # a 400 body: asking again cannot help
    assert conn.http.requests_made == before + 1
    app.services["Busy"].lies.busy_answers = 10
    few = ArcgisConnector(f"{url}/arcgis/rest/services/Busy/FeatureServer", retries=2, backoff=0.001)
    with pytest.raises(PortalUnavailable, match="busy") as gave_up:
        few.describe("1")
    assert gave_up.value.code == "arcgis.503" and few.http.requests_made == 3


def test_a_callers_session_is_used_and_left_open(standin: tuple[str, ArcgisStandin]) -> None:
    url, _ = standin
    session = requests.Session()
    session.headers["X-Caller"] = "city-etl"
    with ArcgisConnector(f"{url}/arcgis/rest/services/Honest/FeatureServer", session=session) as conn:
        assert conn.describe("1").row_count == ROWS
    assert session.get(f"{url}/arcgis/rest/services/Honest/FeatureServer?f=json").json()["tables"]
    session.close()


def test_a_token_opens_a_secured_layer_and_never_shows(standin: tuple[str, ArcgisStandin]) -> None:
    url, app = standin
    secret = "s3cret-token-value"
    app.services["Secured"] = Service({1: layer_from_table(1, "Cases", source_table(12))}, Lies(token=secret))
    service = f"{url}/arcgis/rest/services/Secured/FeatureServer"
    with pytest.raises(PortalAuthError, match="Token Required") as refused:
        ArcgisConnector(service).describe("1")
    assert refused.value.code == "arcgis.499"
    conn = ArcgisConnector(service, token=secret)
    assert conn.pull("1").num_rows == 12
    with pytest.raises(PortalRequestError) as failed:
        conn.describe("5")
    assert secret not in str(failed.value) and secret not in repr(conn)


def test_pages_that_repeat_part_way_switch_to_object_id_ranges(standin: tuple[str, ArcgisStandin]) -> None:
    url, app = standin
    app.services["Repeats"] = Service(
        {1: layer_from_table(1, "Cases", source_table())}, Lies(repeats_from=1000)
    )
    service = f"{url}/arcgis/rest/services/Repeats/FeatureServer"
    conn = ArcgisConnector(service, page_size=400)
    table = conn.pull("1")  # offsets 0, 400, 800; 1200 repeats page one: ranges after the last id seen
    assert table.column("case_id").to_pylist() == source_table().column("case_id").to_pylist()
    ordered = ArcgisConnector(service, page_size=400)
    with pytest.raises(PortalRequestError, match="ignored resultOffset part-way"):
        ordered.pull("1", order="case_id DESC")
    again = ordered.pull("1", order="case_id DESC")  # now paged by ranges and sorted here
    assert again.column("case_id").to_pylist() == sorted(
        source_table().column("case_id").to_pylist(), reverse=True
    )
