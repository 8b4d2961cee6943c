"""The CKAN connector against real recorded CKAN answers (tests/data/ckan), served byte for byte.

Recordings: data.gov.sg ``datastore_search`` (limit=400, 59 rows), three demo.ckan.org
``package_show`` answers (Amsterdam dcatd's fixtures) and EnviDat's ``package_show``
(ckanext-scheming). The data.gov.sg ``resource_show``/``package_show`` were not recorded: the
two small bodies that stand in for them are written here and marked ``X-Replay-Constructed``.
The recorded ``datastore_search`` is the answer to ``limit=400``; the replay also serves it to
``limit=0`` (a describe reads only its ``fields`` and ``total``) and answers any other offset
with a 404, so a client that followed ``_links.next`` past the end would fail.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pyarrow as pa
import pytest
from servers import serve
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from btvstat_open.errors import UsageError
from btvstat_open.instants import parse_instant
from connectors.ckan import CkanConnector, recognizes
from connectors.opendatasoft import recognizes as opendatasoft_recognizes

DATA = Path(__file__).parent / "data" / "ckan"
SG = "a807b7ab-6cad-4aa6-87d0-e283a7353a0f"
PACKAGES = {
    "17be64bb-da74-4195-9bb8-565c39846af2": "2016-regione-asia-est-oceania-classi-di-eta",
    "62513382-3b26-4bc8-9096-40b6ce8383c0": "100-validated-species-of-plants",
    "9c3036b8-f6ac-4a4e-9036-5a3cc90c3900": "1617in10-regulation-of-sale-of-overseas-properties-20170426-c",
}
ENVIDAT = "fatal-avalanche-accidents-in-switzerland-since-1936-37"
CONSTRUCTED_RESOURCE = {
    "id": SG,
    "package_id": "mobile-data-usage",
    "name": "mobile data usage",
    "format": "CSV",
}
CONSTRUCTED_RESOURCE |= {"url": "", "datastore_active": True, "last_modified": "2019-05-20T09:00:00"}
CONSTRUCTED_PACKAGE = {"id": "mobile-data-usage", "name": "mobile-data-usage", "title": "Mobile Data Usage"}
CONSTRUCTED_PACKAGE |= {"metadata_modified": "2019-05-20T09:00:01", "resources": [CONSTRUCTED_RESOURCE]}


def _file(name: str) -> Response:
    return Response((DATA / name).read_bytes(), media_type="application/json;charset=utf-8")


def _made(status: int, body: object) -> Response:
    return Response(
        orjson.dumps(body), status, media_type="application/json", headers={"X-Replay-Constructed": "1"}
    )


def _missing() -> Response:
    return _made(404, {"success": False, "error": {"__type": "Not Found Error", "message": "Not found"}})


class CkanReplay:
    """Routes: datastore_search (data.gov.sg), package_show (dcatd by id or name, EnviDat by name)."""

    def __init__(self) -> None:
        self.log: list[str] = []

    async def action(self, request: Request) -> Response:
        name, q = request.path_params["name"], request.query_params
        self.log.append(f"{name}?{q}")
        if name == "datastore_search":
            if q.get("resource_id") == SG and q.get("offset", "0") == "0" and q.get("limit") in ("0", "400"):
                return _file("datagovsg-datastore_search.json")
            return _missing()
        key = q.get("id", "")
        if name == "resource_show":
            return _made(200, {"success": True, "result": CONSTRUCTED_RESOURCE}) if key == SG else _missing()
        if name == "package_show":
            if key == "mobile-data-usage":
                return _made(200, {"success": True, "result": CONSTRUCTED_PACKAGE})
            if key == ENVIDAT:
                return _file("envidat-package_show.json")
            for uuid, slug in PACKAGES.items():
                if key in (uuid, slug):
                    return _file(f"{uuid}.json")
        return _missing()


@pytest.fixture(scope="module")
def replay() -> Iterator[tuple[CkanConnector, CkanReplay]]:
    app = CkanReplay()
    routes = [Route("/api/3/action/{name}", app.action)]
    with serve(Starlette(routes=routes)) as url, CkanConnector(url, page_size=400) as conn:
        yield conn, app


def _pulls(app: CkanReplay) -> list[str]:
    return [line for line in app.log if line.startswith("datastore_search?") and "limit=400" in line]


def test_next_link_past_the_end_is_not_followed(replay: tuple[CkanConnector, CkanReplay]) -> None:
    conn, app = replay
    body = orjson.loads((DATA / "datagovsg-datastore_search.json").read_bytes())["result"]
    assert (
        body["_links"]["next"].startswith("/api/action/datastore_search?offset=400") and body["total"] == 59
    )
    app.log.clear()
    table = conn.pull(SG)
    assert table.num_rows == 59 and len(_pulls(app)) == 1  # stopped on total / the short page


def test_answer_without_offset_or_include_total_is_read(replay: tuple[CkanConnector, CkanReplay]) -> None:
    conn, _ = replay
    body = orjson.loads((DATA / "datagovsg-datastore_search.json").read_bytes())["result"]
    assert "offset" not in body and "include_total" not in body
    desc = conn.describe(SG)
    assert desc.row_count == 59 and [c.field_name for c in desc.columns] == [
        "quarter",
        "volume_of_mobile_data",
    ]


def test_numeric_strings_become_numbers(replay: tuple[CkanConnector, CkanReplay]) -> None:
    conn, _ = replay
    table = conn.pull(SG)
    assert table.schema.field("volume_of_mobile_data").type == pa.float64()
    assert table.schema.field("quarter").type == pa.string()
    assert table.column("volume_of_mobile_data")[0].as_py() == 0.000384
    assert table.column("volume_of_mobile_data")[58].as_py() == 20.53504752


def test_int_id_gives_the_order_and_is_not_a_column(replay: tuple[CkanConnector, CkanReplay]) -> None:
    conn, app = replay
    app.log.clear()
    table = conn.pull(SG)
    assert "_id" not in table.column_names
    quarters = table.column("quarter").to_pylist()
    assert quarters[0] == "2004-Q3" and quarters[-1] == "2019-Q1" and quarters == sorted(quarters)
    assert "_id" in _pulls(app)[0]  # paged in _id order


def test_package_name_means_its_datastore_resource(replay: tuple[CkanConnector, CkanReplay]) -> None:
    conn, _ = replay
    resource = conn.resource("2016-regione-asia-est-oceania-classi-di-eta")
    assert resource.id == "a5cd573b-5565-48f1-9b2d-8726004cb020" and resource.datastore_active
    assert resource.package["title"] == "2016 Regione Asia Est Oceania * Classi di et\u00e0"  # \u00e0 decoded
    assert resource.package["resources"][0]["mimetype"] is None  # nulls kept, not fatal


def test_csv_resource_outside_the_datastore_is_a_file_to_download(
    replay: tuple[CkanConnector, CkanReplay],
) -> None:
    conn, _ = replay
    resource = conn.resource("62513382-3b26-4bc8-9096-40b6ce8383c0")
    assert (resource.id, resource.datastore_active, resource.is_table) == (
        "bf4d5116-634e-43f2-a41c-9ae22d362083",
        False,
        True,
    )
    assert resource.url.endswith("validated_100_species.csv")


def test_package_without_a_table_is_refused_clearly(replay: tuple[CkanConnector, CkanReplay]) -> None:
    conn, _ = replay
    with pytest.raises(UsageError, match=r"no DataStore or CSV resource to pull \(its resources: PDF\)"):
        conn.pull(PACKAGES["9c3036b8-f6ac-4a4e-9036-5a3cc90c3900"])


def test_json_inside_strings_is_decoded(replay: tuple[CkanConnector, CkanReplay]) -> None:
    conn, _ = replay
    meta = conn.package(ENVIDAT)
    assert meta["author"][0]["email"] == "data@slf.ch"
    assert meta["funding"][0]["institution"] == "SLF"
    assert meta["publication"] == {"publication_year": "2023", "publisher": "EnviDat"}
    assert meta["spatial"]["type"] == "Polygon" and meta["spatial"]["coordinates"][0][0] == [
        5.95587,
        45.81802,
    ]
    assert meta["author_email"] is None and meta["url"] is None
    assert meta["title"] == "Fatal avalanche accidents in Switzerland since 1936/37"  # plain text untouched


def test_envelope_without_help_and_several_csvs_ask_for_a_resource(
    replay: tuple[CkanConnector, CkanReplay],
) -> None:
    conn, _ = replay
    assert "help" not in orjson.loads((DATA / "envidat-package_show.json").read_bytes())
    with pytest.raises(UsageError, match="several tables; give one resource id") as err:
        conn.describe(ENVIDAT)
    assert "907dc25c-1e66-4e9c-8c22-050e5b08a917" in err.value.message


@pytest.mark.parametrize(
    "name", ["datagovsg-datastore_search.json", "envidat-package_show.json", *[f"{u}.json" for u in PACKAGES]]
)
def test_every_recorded_answer_is_recognized_as_ckan(name: str) -> None:
    body = orjson.loads((DATA / name).read_bytes())
    assert recognizes("https://portal.example", body)
    assert not opendatasoft_recognizes("https://portal.example", body)


def test_metadata_modified_is_utc(replay: tuple[CkanConnector, CkanReplay]) -> None:
    conn, _ = replay
    desc = conn.describe(SG)
    assert desc.last_modified == datetime(2019, 5, 20, 9, 0, 1, tzinfo=UTC)
    # The stamps, the count, then the content fingerprint: the site has no SQL search, so the rows'.
    assert desc.etag is not None and desc.etag.startswith(
        '"2019-05-20T09:00:01|2019-05-20T09:00:00|59|rows:59:'
    )
    assert conn.describe_if_changed(SG, etag=desc.etag) is None
    recorded = conn.package(ENVIDAT)["metadata_modified"]  # the real stamp: microseconds, no zone
    assert parse_instant(recorded) == datetime(2025, 12, 15, 13, 58, 11, 26778, tzinfo=UTC)
