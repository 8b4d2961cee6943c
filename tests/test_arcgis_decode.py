"""Geometry to WKT, dates and ids as ArcGIS writes them, and which answers are ArcGIS at all."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from connectors.arcgis import recognizes
from connectors.arcgis.decode import geometry_wkt, oid_of, parse_date

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
