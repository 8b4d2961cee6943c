"""Geometry to WKT, dates and ids as ArcGIS writes them, and which answers are ArcGIS at all."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from connectors.arcgis import recognizes
from connectors.arcgis.client import loads
from connectors.arcgis.decode import decode_features, geometry_wkt, oid_of, parse_date, readers
from connectors.arcgis.metadata import LayerInfo, parse_layer

DATA = Path(__file__).parent / "data" / "arcgis"
OUTER = [[0, 0], [0, 10], [10, 10], [10, 0], [0, 0]]  # clockwise: an outer ring in Esri JSON
HOLE = [[2, 2], [4, 2], [4, 4], [2, 4], [2, 2]]  # counter-clockwise: a hole
FAR = [[20, 20], [20, 30], [30, 30], [20, 20]]


def test_polygon_rings_group_by_direction() -> None:
    assert geometry_wkt({"rings": [OUTER, HOLE]}) == (
        "POLYGON ((0.0 0.0, 0.0 10.0, 10.0 10.0, 10.0 0.0, 0.0 0.0), "
        "(2.0 2.0, 4.0 2.0, 4.0 4.0, 2.0 4.0, 2.0 2.0))"
    )
    multi = geometry_wkt({"rings": [OUTER, HOLE, FAR]})
    assert multi is not None and multi.startswith("MULTIPOLYGON (((0.0 0.0") and multi.count("((") == 2


def test_lines_points_and_empty_geometry() -> None:
    assert geometry_wkt({"paths": [[[0, 0], [1, 1]], [[2, 2], [3, 3]]]}) == (
        "MULTILINESTRING ((0.0 0.0, 1.0 1.0), (2.0 2.0, 3.0 3.0))"
    )
    assert geometry_wkt({"points": [[1, 2], [3, 4]]}) == "MULTIPOINT (1.0 2.0, 3.0 4.0)"
    assert geometry_wkt({"x": 1, "y": 2, "z": 9}) == "POINT (1.0 2.0)"  # x and y only
    assert geometry_wkt(None) is None and geometry_wkt({}) is None
    assert geometry_wkt({"rings": [[[0, 0], [float("nan"), 1], [0, 0]]]}) is None


def test_dates_ids_as_servers_write_them() -> None:
    assert parse_date(1443712219214) == datetime(2015, 10, 1, 15, 10, 19, 214000)
    assert parse_date("1443712219214") == datetime(2015, 10, 1, 15, 10, 19, 214000)
    assert parse_date("12/23/2005 12:00:00 AM") == datetime(2005, 12, 23)
    assert parse_date("2005-12-23T10:00:00Z") == datetime(2005, 12, 23, 10)
    assert parse_date("not a date") is None and parse_date(float("nan")) is None
    assert oid_of(6.4579816e7) == 64_579_816 and oid_of("1.0E7") == 10_000_000 and oid_of(True) is None


def test_recognizes_arcgis_answers_and_urls() -> None:
    layer = json.loads((DATA / "arcgis-oa-machine" / "us-pa-lancaster-metadata.json").read_bytes())
    secured = json.loads((DATA / "arcgis-oa-machine" / "us-tx-runnels-metadata.json").read_bytes())
    service = json.loads((DATA / "arcgis-hub-usfs" / "Actv_TimberHarvest_service.json").read_bytes())
    assert recognizes("https://maps.example.gov/gis", layer)
    assert recognizes("https://maps.example.gov/gis", secured)  # a Token Required error body
    assert recognizes("https://maps.example.gov/gis", service)
    assert recognizes("https://data-usfs.hub.arcgis.com", None)
    assert recognizes("https://x.gov/arcgis/rest/services/Roads/MapServer/3?f=json", None)
    socrata_view = {"id": "abcd-1234", "name": "Potholes", "columns": []}
    assert not recognizes("https://data.example.gov", socrata_view)
    assert not recognizes("https://data.example.gov", {"error": True, "message": "not found"})
    assert not recognizes("https://data.example.gov", None)


PAGES = [
    ("arcgis-oa-machine/us-ks-brown-metadata.json", "arcgis-oa-machine/us-ks-brown-0.json"),
    ("arcgis-oa-machine/us-pa-lancaster-metadata.json", "arcgis-oa-machine/us-pa-lancaster-0.json"),
    ("arcgis-oa-machine/ua-kharkiv-metadata.json", "arcgis-oa-machine/ua-kharkiv-0.json"),
    ("arcgis-oa-machine/us-nm-washington-metadata.json", "arcgis-oa-machine/us-nm-washington-0.json"),
    ("arcgis-oa-machine/us-tx-waco-metadata.json", "arcgis-oa-machine/us-tx-waco-0.json"),
    ("arcgis-oa-machine/us-ny-orange-metadata.json", "arcgis-oa-machine/us-ny-orange-0.json"),
    (
        "arcgis-pyesridump/us-mi-kent/us-mi-kent-metadata.json",
        "arcgis-pyesridump/us-mi-kent/us-mi-kent-0.json",
    ),
    ("arcgis-pyesridump/us-il-cook/metadata.json", "arcgis-pyesridump/us-il-cook/page-full.json"),
]


def _both_ways(info: LayerInfo, features: list[dict[str, Any]]) -> tuple[list[Any], list[Any]]:
    """A page decoded with the whole-column readers and cell by cell only."""
    names = [c.field_name for c in info.columns] + ([":id"] if info.oid_field else [])
    wanted = readers(info, names)
    slow = [(n, t, read, None) for n, t, read, _ in wanted]
    return decode_features(features, wanted).to_pylist(), decode_features(features, slow).to_pylist()


@pytest.mark.parametrize(("meta", "page"), PAGES)
def test_whole_columns_read_recorded_pages_as_cells_do(meta: str, page: str) -> None:
    info = parse_layer(json.loads((DATA / meta).read_bytes()), "0")
    features = loads((DATA / page).read_bytes())["features"]
    assert features
    fast, slow = _both_ways(info, features)
    assert fast == slow


def test_whole_columns_fall_back_to_cells_for_odd_values() -> None:
    info = parse_layer(
        {
            "fields": [
                {"name": "OBJECTID", "type": "esriFieldTypeOID"},
                {"name": "N", "type": "esriFieldTypeDouble"},
                {"name": "T", "type": "esriFieldTypeString"},
                {"name": "D", "type": "esriFieldTypeDate"},
            ],
            "geometryType": "esriGeometryPoint",
        },
        "0",
    )
    plain = [
        {
            "attributes": {"OBJECTID": 1, "N": 2, "T": "a  ", "D": 1443712219214},
            "geometry": {"x": 1, "y": 2.5},
        },
        {"attributes": {"OBJECTID": 2, "N": None, "T": "   ", "D": None}, "geometry": {"x": -73.25, "y": 44}},
    ]
    odd = [
        {"attributes": {"OBJECTID": 1.0e7, "N": "3.5", "T": 12, "D": "12/23/2005"}, "geometry": None},
        {
            "attributes": {"OBJECTID": 3, "N": True, "T": None, "D": 1.5e12},
            "geometry": {"x": float("nan"), "y": 1},
        },
        {
            "attributes": {"OBJECTID": "4", "N": float("nan"), "T": "b", "D": 0},
            "geometry": {"paths": [[[0, 0], [1, 1]]]},
        },
    ]
    for page in (plain, odd, plain + odd):
        fast, slow = _both_ways(info, page)
        assert fast == slow
    fast, _ = _both_ways(info, plain)
    assert [r["t"] for r in fast] == ["a", None] and fast[0]["geometry"] == "POINT (1.0 2.5)"
