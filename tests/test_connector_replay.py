"""The Socrata connector against real recorded portal responses, served by tests/replay.py."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import orjson
import pyarrow as pa
import pytest
from replay import REAL, ReplayApp, raw_response
from servers import serve

from btvstat_open.errors import (
    CountMismatch,
    PortalAuthError,
    PortalError,
    PortalNotFound,
    PortalRequestError,
    PortalUnavailable,
)
from btvstat_open.types import LOCATION_ARROW
from connectors import connect
from connectors.socrata import SocrataConnector


@pytest.fixture(scope="module")
def replay() -> Iterator[tuple[str, ReplayApp]]:
    app = ReplayApp()
    with serve(app) as url:
        yield url, app


def portal(url: str, **kw: object) -> SocrataConnector:
    options: dict[str, object] = {"page_format": "json", "retries": 3, "backoff": 0.01, "concurrency": 1}
    options.update(kw)
    conn = connect(url, **options)
    assert isinstance(conn, SocrataConnector)
    return conn


def test_earthquakes_typed_from_legacy_soda2_headers(replay: tuple[str, ReplayApp]) -> None:
    url, _ = replay
    _, _, body = raw_response(REAL / "soda-ruby-http-responses" / "earthquakes_50.response")
    recorded = orjson.loads(body)
    table = portal(url).pull("earthquakes")
    assert table.num_rows == len(recorded) == 50
    schema = table.schema
    # number (sent as strings), calendar_date -> floating timestamp, location -> struct, text stays text
    assert schema.field("magnitude").type == pa.float64()
    assert schema.field("depth").type == pa.float64()
    assert schema.field("occurred_at").type == pa.timestamp("us")
    assert schema.field("geolocation").type == LOCATION_ARROW
    assert schema.field("earthquake_id").type == pa.string()
    assert not any(name.startswith(":") for name in schema.names)
    rows = table.to_pylist()
    for got, want in zip(rows, recorded, strict=True):
        assert got["magnitude"] == float(want["magnitude"])
        assert got["earthquake_id"] == want["earthquake_id"]  # "00388610" keeps its zeros
        assert got["occurred_at"] == datetime.fromisoformat(want["occurred_at"])
        assert got["geolocation"]["latitude"] == float(want["geolocation"]["latitude"])
        assert got["geolocation"]["longitude"] == float(want["geolocation"]["longitude"])
    assert rows[0]["earthquake_id"].startswith("0")


def pulled_until_checked(conn: SocrataConnector, dataset_id: str) -> tuple[pa.Table, CountMismatch]:
    """The rows a pull delivered before its count check refused it (the recordings hold one page
    of datasets whose count says more), and the refusal."""
    batches: list[pa.RecordBatch] = []
    with pytest.raises(CountMismatch) as short:
        batches.extend(conn.iter_batches(dataset_id))
    return pa.Table.from_batches(batches), short.value


def test_where_filter_reaches_the_server(replay: tuple[str, ReplayApp]) -> None:
    url, app = replay
    _, _, body = raw_response(REAL / "soda-ruby-http-responses" / "earthquakes_where_gt_5.response")
    recorded = orjson.loads(body)
    table = portal(url).pull("earthquakes", where="magnitude > 5")
    assert table.num_rows == len(recorded)
    assert all(m > 5 for m in table.column("magnitude").to_pylist())
    pages = [q for m, p, q in app.log if p == "/resource/earthquakes.json" and "$offset" in q]
    last = pages[-1]
    assert last["$where"] == "(magnitude > 5)"
    assert last["$order"] == ":id"


def test_paging_stops_after_the_short_last_page(replay: tuple[str, ReplayApp]) -> None:
    url, app = replay
    before = app.requests_to("/resource/bikes.json")
    table = portal(url, page_size=1000).pull("bikes")
    page1 = orjson.loads((REAL / "sodapy-fixtures" / "bike_counts_page_1.json").read_bytes())
    page2 = orjson.loads((REAL / "sodapy-fixtures" / "bike_counts_page_2.json").read_bytes())
    assert table.num_rows == len(page1) + len(page2) == 1001
    # The count(*) the pull is checked against, 1000 rows, then 1, then stop.
    assert app.requests_to("/resource/bikes.json") - before == 3
    assert table.schema.field("counts").type == pa.float64()
    assert table.column("counts").to_pylist()[:2] == [100.0, 77.0]
    assert table.column("date").to_pylist()[-1] == datetime(2016, 10, 2, 1, 45)
    offsets = [q["$offset"] for m, p, q in app.log if p == "/resource/bikes.json" and "$offset" in q][-2:]
    assert offsets == ["0", "1000"]


def test_seattle_view_types_sparse_rows_and_locations(replay: tuple[str, ReplayApp]) -> None:
    url, _ = replay
    conn = portal(url, page_size=5000)
    desc = conn.describe("3k2p-39jp")
    assert desc.row_count == 1001  # from "$select=count(*)", a string "1001"
    assert len(desc.columns) == 19
    types = {c.field_name: c.data_type for c in desc.columns}
    assert types["event_clearance_date"] == "floating_timestamp"
    assert types["incident_location"] == "location"
    assert types["longitude"] == "number"
    assert desc.row_identifier is not None and desc.row_identifier in types
    # Koop's Socrata provider answers at most 1,000 rows a page without saying so: the pager
    # takes the short page for the last, and the count check refuses the pull as short.
    table, short = pulled_until_checked(conn, "3k2p-39jp")
    assert (short.expected, short.delivered) == (1001, 1000)
    recorded = orjson.loads((REAL / "koop-socrata-seattle" / "crimes-page.json").read_bytes())
    assert table.num_rows == len(recorded) == 1000
    assert table.column_names == [c.field_name for c in desc.columns]
    # Keys absent from a row are nulls, never errors or empty strings.
    for field in types:
        missing = sum(1 for row in recorded if field not in row)
        assert table.column(field).null_count == missing
    located = [r for r in recorded if "incident_location" in r]
    got = [v for v in table.column("incident_location").to_pylist() if v is not None]
    assert len(got) == len(located)
    assert got[0]["latitude"] == float(located[0]["incident_location"]["latitude"])


def test_bom_inside_a_value_is_kept_verbatim(replay: tuple[str, ReplayApp]) -> None:
    url, _ = replay
    table, _ = pulled_until_checked(portal(url, page_size=1), "3k2p-39jp")  # one recorded page of 1,001
    first = orjson.loads((REAL / "koop-socrata-seattle" / "crimes-first.json").read_bytes())
    assert table.num_rows == 1
    assert table.column("cad_cdw_id")[0].as_py() == first[0]["cad_cdw_id"] == "\ufeff15736"


def test_schools_location_column(replay: tuple[str, ReplayApp]) -> None:
    url, _ = replay
    table = portal(url).pull("gza6-uqxz")
    assert table.num_rows == 80
    shape = next(c for c in portal(url).describe("gza6-uqxz").columns if c.field_name == "shape")
    assert shape.data_type == "location"
    values = [v for v in table.column("shape").to_pylist() if v]
    assert values and all(isinstance(v["latitude"], float) for v in values if v["latitude"] is not None)


def test_songs_without_column_metadata_keep_text_and_read_url_objects(replay: tuple[str, ReplayApp]) -> None:
    url, _ = replay
    table = portal(url).pull("songs")
    recorded = orjson.loads((REAL / "sodapy-fixtures" / "get_songs.txt").read_bytes())
    assert table.num_rows == len(recorded)
    urls = [r["spotify_url"]["url"] if "spotify_url" in r else None for r in recorded]
    assert table.column("spotify_url").to_pylist() == urls
    assert urls.count(None) > 0  # the recording leaves the field out of some rows
    assert table.column("year").to_pylist() == [r["year"] for r in recorded]  # no metadata: text


@pytest.mark.parametrize(
    ("dataset", "kind", "code", "text"),
    [
        ("idontexist", PortalNotFound, "dataset.missing", "Not found"),
        ("missing", PortalNotFound, "not_found", "Cannot find view with id missing"),
    ],
)
def test_error_shapes_become_typed_errors(
    replay: tuple[str, ReplayApp], dataset: str, kind: type[Exception], code: str, text: str
) -> None:
    url, _ = replay
    with pytest.raises(kind) as info:
        portal(url).describe(dataset)
    assert getattr(info.value, "code", None) == code
    assert text in str(info.value)
    assert getattr(info.value, "status", None) == 404


@pytest.mark.parametrize(
    ("dataset", "kind", "text", "exit_code"),
    [
        ("private", PortalAuthError, "You must be logged in", 2),
        ("badargs", PortalRequestError, "Unrecognized arguments [limit]", 2),
    ],
)
def test_4xx_is_a_typed_error_never_retried(
    replay: tuple[str, ReplayApp], dataset: str, kind: type[PortalError], text: str, exit_code: int
) -> None:
    url, app = replay
    path = f"/resource/{dataset}.json"
    before = app.requests_to(path)
    with pytest.raises(kind) as info:
        portal(url).pull(dataset)
    assert text in str(info.value)
    assert info.value.exit_code == exit_code
    assert app.requests_to(path) - before == 1


def test_errorcode_shape_and_request_id(replay: tuple[str, ReplayApp]) -> None:
    url, _ = replay
    with pytest.raises(PortalRequestError) as info:
        portal(url).pull("soda3error")
    assert info.value.code == "query.compiler.malformed"
    assert info.value.request_id == "replay-req-1"
    assert "replay-req-1" in str(info.value)


def test_500_is_retried_then_reported(replay: tuple[str, ReplayApp]) -> None:
    url, app = replay
    before = app.requests_to("/resource/broken.json")
    with pytest.raises(PortalUnavailable) as info:
        portal(url, retries=2).pull("broken")
    assert "Internal error" in str(info.value)
    assert app.requests_to("/resource/broken.json") - before == 3


def test_500_twice_then_success(replay: tuple[str, ReplayApp]) -> None:
    url, app = replay
    table = portal(url, retries=3).pull("flaky")
    assert table.num_rows == 50
    assert app.requests_to("/resource/flaky.json") == 4  # 500, 500, the rows, and the count(*)


def test_push_results_are_parsed_from_real_bodies(replay: tuple[str, ReplayApp]) -> None:
    url, app = replay
    conn = portal(url)
    rows = pa.table({"artist": ["ABC"], "title": ["The Look of Love"]})
    upserted = conn.push(rows, "songs")
    assert (upserted.created, upserted.updated, upserted.deleted, upserted.errors) == (1, 0, 0, 0)
    replaced = conn.push(rows, "songs", mode="replace")
    assert (replaced.created, replaced.batches) == (2, 1)
    methods = [m for m, p, _ in app.log if p == "/resource/songs.json"]
    assert methods[-2:] == ["POST", "PUT"]
    quake = conn.push(pa.table({"region": ["Nevada"]}), "earthquakes")
    assert quake.created == 1


def test_catalog_discovery(replay: tuple[str, ReplayApp]) -> None:
    url, _ = replay
    conn = portal(url)
    bus = conn.datasets(q="bus", limit=10)
    assert len(bus) == 10
    kc = [d for d in bus if d.domain == "data.kcmo.org"]
    assert kc and kc[0].name == "KCATA Bus Stops"
    assert len(conn.datasets()) == 7


@pytest.mark.parametrize(
    ("view_id", "field", "data_type"),
    [
        ("7ray-xvet", "week", "floating_timestamp"),
        ("7ray-xvet", "average_days_to_permit", "number"),
        ("rkpp-igza", "geolocation", "point"),
        ("9ubz-5r4b", None, "url"),
        ("9ubz-5r4b", None, "location"),
    ],
)
def test_real_view_metadata(
    replay: tuple[str, ReplayApp], view_id: str, field: str | None, data_type: str
) -> None:
    url, _ = replay
    desc = portal(url).describe(view_id, count=False)
    types = {c.field_name: c.data_type for c in desc.columns}
    if field is None:
        assert data_type in types.values()
    else:
        assert types[field] == data_type


@pytest.mark.parametrize("view_id", ["9ubz-5r4b", "2frc-hyvj"])
def test_row_identifier_from_column_id(replay: tuple[str, ReplayApp], view_id: str) -> None:
    url, _ = replay
    path = {"9ubz-5r4b": REAL / "socrata-official-fixtures" / "ViewWithPermissions.json"}.get(
        view_id, REAL / "sodapy-fixtures" / "create_foobar.txt"
    )
    view = orjson.loads(path.read_bytes())
    expected = next(c["fieldName"] for c in view["columns"] if c["id"] == view["rowIdentifierColumnId"])
    assert portal(url).describe(view_id, count=False).row_identifier == expected
