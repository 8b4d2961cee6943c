"""Every ArcGIS quirk of the real recordings (tests/data/arcgis/SOURCES.md) read through the connector.

One test per quirk; the bodies are served byte for byte by ``arcgis_replay``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pytest
from arcgis_replay import ArcgisReplay
from servers import serve

from btvstat_open.errors import CountMismatch, PortalAuthError, PortalRequestError
from connectors.arcgis import ArcgisConnector, recognizes
from connectors.arcgis.decode import decode_features, readers
from connectors.arcgis.metadata import parse_layer
from connectors.arcgis.paging import exceeded, id_bounds, probe_pagination, range_pages

Replay = tuple[str, ArcgisReplay]


@pytest.fixture(scope="module")
def replay() -> Iterator[tuple[str, ArcgisReplay]]:
    app = ArcgisReplay()
    with serve(app) as url:
        yield url, app


def connect(replay: Replay, layer_path: str) -> ArcgisConnector:
    url, _ = replay
    return ArcgisConnector(url + layer_path, retries=0)


def page_of(conn: ArcgisConnector, where: str = "1=1") -> tuple[dict[str, Any], pa.RecordBatch]:
    """The layer's recorded feature page, and its rows decoded with every column and system field."""
    info = conn.layer(str(conn.default_layer))
    body = conn.http.get_json(conn.url + "/query", {"where": where, "outFields": "*"})
    names = [c.field_name for c in info.columns] + ([":id"] if info.oid_field else [])
    return body, decode_features(body["features"], readers(info, names))


def fetcher(conn: ArcgisConnector) -> Any:
    return lambda params: conn.http.get_json(conn.url + "/query", params)


def test_chicago_a_text_field_named_oid_is_a_column_and_an_empty_layer_pulls_empty(replay: Replay) -> None:
    conn = connect(replay, "/chicago/rest/services/Places/MapServer/0")
    desc = conn.describe("0")
    assert desc.column("oid") is not None and desc.column("oid").data_type == "text"  # type: ignore[union-attr]
    info = conn.layer("0")
    assert (info.oid_field, info.max_record_count, info.supports_pagination) == ("OBJECTID", 100_000, True)
    assert desc.row_count == 0  # {"count":0}
    assert id_bounds(fetcher(conn), "1=1", "OBJECTID") is None  # THE_MIN/THE_MAX are null
    assert conn.pull("0").num_rows == 0


def test_cook_old_server_text_dates_blanks_and_no_transfer_flag(replay: Replay) -> None:
    conn = connect(replay, "/cook/rest/services/POI/MapServer/0")
    info = conn.layer("0")
    assert (info.max_record_count, info.supports_pagination) == (1000, False)  # defaults: nothing said
    body, rows = page_of(conn)
    assert "fields" not in body and exceeded(body) is None and rows.num_rows == 500
    assert rows.schema.field("last_edit").type == pa.timestamp("us", "UTC")
    edits = rows.column("last_edit").to_pylist()
    assert datetime(2005, 12, 23, tzinfo=UTC) in edits  # "12/23/2005 12:00:00 AM"
    texts = [
        v
        for name in rows.schema.names
        if rows.schema.field(name).type == pa.string()
        for v in rows.column(name).to_pylist()
    ]
    assert " " not in texts and None in texts  # blank strings are null
    assert rows.column("geometry")[0].as_py().startswith("POINT (-8")


def test_kent_statistics_error_body_with_http_200_and_padded_polygons(replay: Replay) -> None:
    conn = connect(replay, "/kent/rest/services/External/MapServer/5")
    with pytest.raises(PortalRequestError, match="Unable to complete operation") as failed:
        conn.http.get_json(conn.url + "/query", {"outStatistics": "[]"})
    assert failed.value.code == "arcgis.400" and failed.value.status == 400
    assert conn.describe("5").row_count == 222_460
    info = conn.layer("5")
    assert {"shape_starea", "shape_stlength"} <= {c.field_name for c in info.columns}
    _, rows = page_of(conn)
    assert "GRANT" in rows.column("propaddresscity").to_pylist()  # 'GRANT                    '
    assert rows.column("ownername2")[0].as_py() is None  # all blanks
    assert rows.column("geometry")[0].as_py().startswith("POLYGON ((12745374.032152027 656587.5843799561")


def test_columbia_object_ids_in_exponent_notation(replay: Replay) -> None:
    conn = connect(replay, "/columbia/rest/services/ADDRESSES/MapServer/2")
    # No statistics were recorded (404): the bounds come from returnIdsOnly, written as 6.4579816E7.
    assert id_bounds(fetcher(conn), "1=1", "OBJECTID") == (64_579_816, 64_579_858)
    _, rows = page_of(conn)
    assert rows.num_rows == 43 and rows.column(":id")[0].as_py() == "64579816"
    assert conn.describe("2").row_count == 84_296
    assert conn.layer("2").max_record_count == 1000  # not given: the server default


def test_columbia_pulls_whole_by_one_id_range(replay: Replay) -> None:
    _, app = replay
    conn = connect(replay, "/columbia/rest/services/ADDRESSES/MapServer/2")
    app.log.clear()
    batches: list[pa.RecordBatch] = []
    # The recording holds 43 of the layer's 84,296 rows: the count check refuses the pull.
    with pytest.raises(CountMismatch) as short:
        batches.extend(conn.iter_batches("2", select=":id, geometry"))
    assert (short.value.expected, short.value.delivered) == (84_296, 43)
    table = pa.Table.from_batches(batches)
    assert table.num_rows == 43 and table.column(":id").to_pylist()[-1] == "64579858"
    assert all(g.startswith("POINT (-92.") for g in table.column("geometry").to_pylist())
    pages = [q["where"] for p, q in app.log if p.endswith("/query") and "OBJECTID <=" in q.get("where", "")]
    assert pages == ["(1=1) AND OBJECTID > 64579815 AND OBJECTID <= 64579858"]


def test_madison_two_object_id_like_fields(replay: Replay) -> None:
    info = connect(replay, "/madison/rest/services/Madison/MapServer/13").layer("13")
    assert info.oid_field == "OBJECTID"
    assert "objectid" not in {c.field_name for c in info.columns}
    assert next(c for c in info.columns if c.field_name == "objectid_1").data_type == "number"


def test_carson_no_max_record_count(replay: Replay) -> None:
    info = connect(replay, "/carson/rest/services/basemap/MapServer/1").layer("1")
    assert info.max_record_count == 1000 and info.geometry_type == "esriGeometryPoint"


def test_esri_sample_feature_server_types_and_null_edit_fields(replay: Replay) -> None:
    conn = connect(replay, "/esri-test/rest/services/Recreation/FeatureServer/0")
    assert not conn.supports("changes")  # editFieldsInfo: null
    info = conn.layer("0")
    assert (info.supports_pagination, info.max_record_count, info.edit_date_field) == (True, 1000, None)
    types = {c.field_name: c.data_type for c in conn.describe("0").columns}
    assert types["observed"] == "fixed_timestamp" and types["globalid"] == "text"
    assert types["quality"] == "number"  # a coded domain 0..3 is not a yes/no
    assert conn.describe("0").row_count == 3_120


def test_tuolumne_statistics_names_ignored(replay: Replay) -> None:
    conn = connect(replay, "/tuolumne/rest/services/Address_Parcels/MapServer/0")
    assert conn.layer("0").oid_field == "SHAPE.fid"
    assert id_bounds(fetcher(conn), "1=1", "SHAPE.fid") == (1, 167_612)
    assert conn.describe("0").row_count == 46_909


def test_runnels_token_required_is_an_auth_error(replay: Replay) -> None:
    conn = connect(replay, "/runnels/rest/services/Runnels_Services/MapServer/1")
    with pytest.raises(PortalAuthError, match="Token Required") as refused:
        conn.describe("1")
    assert refused.value.code == "arcgis.499"


def test_washington_advertised_pagination_fails_the_probe(replay: Replay) -> None:
    conn = connect(replay, "/washington/rest/services/Public_Parcels/MapServer/0")
    assert conn.layer("0").supports_pagination
    assert probe_pagination(fetcher(conn), "OBJECTID") is False
    body, rows = page_of(conn)
    assert list(body)[-1] == "exceededTransferLimit" and exceeded(body) is True and rows.num_rows == 10


def test_lancaster_hosted_layer_last_edit_and_flag_before_features(replay: Replay) -> None:
    conn = connect(replay, "/lancaster/rest/services/AddressPoints/FeatureServer/0")
    info = conn.layer("0")
    assert info.last_edit_ms == 1_443_712_219_214
    assert conn.describe_if_changed("0", etag='"1443712219214"') is None  # the edit date did not move
    probe = conn.http.get_json(conn.url + "/query", {"resultRecordCount": 1})
    assert exceeded(probe) is True and probe["spatialReference"]["wkid"] == 102729
    body, rows = page_of(conn)
    assert list(body).index("exceededTransferLimit") < list(body).index("features")
    assert exceeded(body) is True and rows.num_rows == 30 and body["globalIdFieldName"] == ""


def test_orange_bare_nan_geometry(replay: Replay) -> None:
    conn = connect(replay, "/orange/rest/services/LandBase/MapServer/0")
    assert conn.layer("0").oid_field == "SHAPE.fid"
    _, rows = page_of(conn)
    assert rows.num_rows == 9 and None in rows.column("geometry").to_pylist()
    assert all(isinstance(v, str) for v in rows.column("streetaddress").to_pylist())


def test_kharkiv_cyrillic_and_a_fourteen_digit_integer(replay: Replay) -> None:
    conn = connect(replay, "/kharkiv/rest/services/gis_ort_stat_general/MapServer/1")
    assert conn.layer("1").name == "Адрес"
    _, rows = page_of(conn)
    row = rows.to_pylist()[0]
    assert row["addressid"] == 30_575_024_000_000.0
    assert row["fulladdrua"] == "вулиця Дерев'янка, 24"  # trailing space dropped
    assert row["sufixru"] is None


def test_brown_polylines_and_an_st_geometry_field_name(replay: Replay) -> None:
    conn = connect(replay, "/brown/rest/services/Brown/MapServer/33")
    assert "st_length_shape" in {c.field_name for c in conn.layer("33").columns}
    _, rows = page_of(conn)
    assert rows.num_rows == 25
    assert all(
        v.startswith(("LINESTRING (", "MULTILINESTRING ((")) for v in rows.column("geometry").to_pylist()
    )


def test_waco_a_one_row_range_flagged_exceeded_is_whole(replay: Replay) -> None:
    conn = connect(replay, "/waco/rest/services/Parcels/MapServer/0")
    asked: list[dict[str, Any]] = []

    def fetch(params: dict[str, Any]) -> dict[str, Any]:
        asked.append(params)
        return conn.http.get_json(conn.url + "/query", params)

    pages = list(
        range_pages(fetch, {"where": "1=1"}, oid_field="OBJECTID", bounds=(1, 1), step=1000, count_of=len)
    )
    assert [len(p) for p in pages] == [1] and len(asked) == 1  # one id, one row: nothing was cut
    assert len(pages[0][0]["attributes"]) == 58


def test_auckland_pjson_attributes_only(replay: Replay) -> None:
    url, _ = replay
    conn = ArcgisConnector(url + "/auckland/rest/services/Hosted/Vessels/FeatureServer/0", retries=0)
    body = conn.http.get_json(conn.url + "/query", {"where": "1=1"})
    assert next(iter(body)) == "exceededTransferLimit" and exceeded(body) is False
    info = parse_layer(body, "0")  # a query answer carries its own field list
    rows = decode_features(body["features"], readers(info, [":id", "mmsi", "callsign"]))
    assert rows.num_rows == 112 and rows.column("callsign").null_count == 8
    assert rows.schema.field("mmsi").type == pa.string()


def test_hub_feed_lists_its_layers(replay: Replay) -> None:
    url, _ = replay
    # The feed's layers are on another host (apps.fs.usda.gov): listed only once it is allowed.
    assert ArcgisConnector(url + "/hub", retries=0).datasets(limit=1000) == []
    conn = ArcgisConnector(url + "/hub", retries=0, allow_hosts=["apps.fs.usda.gov"])
    found = conn.datasets(limit=1000)
    assert len(found) == 188  # the 542 datasets with a MapServer/N layer; image services are left out
    assert all(d.id.rsplit("/", 1)[1].isdigit() and "/MapServer/" in d.id for d in found)
    assert "<" not in found[0].description and found[0].link.startswith("https://data-usfs.hub.arcgis.com/")
    assert len(conn.datasets(q="timber", limit=1000)) < len(found)


def test_service_root_lists_its_layers(replay: Replay) -> None:
    url, _ = replay
    conn = ArcgisConnector(url + "/usfs/rest/services/Actv_TimberHarvest/MapServer", retries=0)
    names = {d.id: d.name for d in conn.datasets()}
    assert names["11"] == "Timber Harvest 2021 - Current" and names["0"] == "Timber Harvest 2011 - 2020"
    assert recognizes(conn.url, conn.http.get_json(conn.url))
