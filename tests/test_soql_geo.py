"""Socrata's geospatial SoQL over real HTTP (requests and sodapy), checked against shapely and by hand.

Points are 3,000 seeded random points around Kansas City (a ``point`` column, WKT) and the real
KC 311 requests (a ``location`` column). Every answer is compared with shapely's own predicate
or measure, or with the haversine formula written out here.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from itertools import pairwise
from typing import Any

import pyarrow as pa
import pytest
import requests
import shapely
import sodapy

from btvstat_open.errors import SoqlError
from btvstat_open.soql import QueryParams, ast, compile_soql, wkt
from btvstat_open.soql.geo import within_polygon
from btvstat_open.soql.typed import Sql, literal_text
from btvstat_open.store import Store
from btvstat_open.types import Column

GEO = "geo-points"
KC = "kc-311-potholes"
# A concave polygon with a hole, and a multipolygon of two parts (lon lat).
CONCAVE = (
    "POLYGON ((-94.70 38.95, -94.40 38.95, -94.40 39.25, -94.55 39.10, -94.70 39.25, -94.70 38.95), "
    "(-94.62 39.00, -94.50 39.00, -94.50 39.05, -94.62 39.05, -94.62 39.00))"
)
MULTI = (
    "MULTIPOLYGON (((-94.80 38.90, -94.65 38.90, -94.65 39.05, -94.80 38.90)), "
    "((-94.45 39.15, -94.30 39.15, -94.30 39.30, -94.45 39.30, -94.45 39.15)))"
)


def _points() -> list[tuple[float, float]]:
    rng = random.Random(20)
    return [(round(rng.uniform(-94.9, -94.2), 6), round(rng.uniform(38.8, 39.4), 6)) for _ in range(3000)]


@pytest.fixture(scope="module")
def geo_store(portal_store: Store) -> Iterator[Store]:
    """The session portal's store with the random points as a dataset (a point column)."""
    points = _points()
    table = pa.table(
        {
            "n": [float(i) for i in range(len(points))],
            "where": [f"POINT ({x} {y})" for x, y in points],
            "zone": ["a" if i % 3 else "b" for i in range(len(points))],
        }
    )
    columns = [Column("n", "N", "number"), Column("where", "Where", "point"), Column("zone", "Zone", "text")]
    portal_store.load(GEO, table, columns, row_identifier="n")
    yield portal_store
    portal_store.drop(GEO)


def _get(portal_url: str, dataset: str, **params: str) -> list[dict[str, Any]]:
    reply = requests.get(
        f"{portal_url}/resource/{dataset}.json", params={"$limit": "5000", **params}, timeout=60
    )
    assert reply.status_code == 200, reply.text
    rows: list[dict[str, Any]] = reply.json()
    return rows


def _ids_where(portal_url: str, where: str) -> set[int]:
    return {int(r["n"]) for r in _get(portal_url, GEO, **{"$select": "n", "$where": where})}


def _haversine(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371008.8 * math.asin(math.sqrt(a))


@pytest.mark.parametrize("wkt", [CONCAVE, MULTI])
def test_within_polygon_and_intersects_agree_with_shapely(
    portal_url: str, geo_store: Store, wkt: str
) -> None:
    shape = shapely.from_wkt(wkt)
    points = _points()
    expected = {i for i, (x, y) in enumerate(points) if shapely.contains_xy(shape, x, y)}
    assert 100 < len(expected) < 2900  # the shape splits the points
    assert _ids_where(portal_url, f"within_polygon(where, '{wkt}')") == expected
    assert _ids_where(portal_url, f"intersects(where, '{wkt}')") == expected
    assert _ids_where(portal_url, f"NOT within_polygon(where, '{wkt}') AND zone = 'b'") == {
        i for i in range(len(points)) if i not in expected and i % 3 == 0
    }


def _comb(teeth: int) -> str:
    """A comb: ``teeth`` long thin teeth from one spine, so every band holds many long edges."""
    west, east, south, north = -94.9, -94.2, 38.8, 39.4
    step = (east - west) / teeth
    ring = [(west, south)]
    for i in range(teeth):
        x = west + i * step
        ring += [(x, north), (x + step / 2, north), (x + step / 2, south + 0.05)]
    ring += [(east, south + 0.05), (east, south), (west, south)]
    return "POLYGON ((" + ", ".join(f"{x:.4f} {y:.4f}" for x, y in ring) + "))"


def test_within_polygon_of_a_comb_agrees_with_shapely(geo_store: Store) -> None:
    """Long edges in every band (fewer bands are used), and the comb's own vertices as points."""
    wkt = _comb(250)
    shape = shapely.from_wkt(wkt)
    assert shape.is_valid and shapely.get_num_coordinates(shape) > 700
    points = _points()
    query = compile_soql(
        QueryParams(select="n", limit="5000", where=f"within_polygon(where, '{wkt}')"), geo_store.info(GEO)
    )
    got = {int(n) for (n,) in geo_store.cursor().execute(query.sql, query.params).fetchall()}
    assert got == {i for i, (x, y) in enumerate(points) if shapely.contains_xy(shape, x, y)}
    assert 300 < len(got) < 2700


def test_within_polygon_on_a_real_location_column_with_sodapy(portal_url: str, portal_store: Store) -> None:
    box = "POLYGON ((-94.60 39.00, -94.50 39.00, -94.50 39.10, -94.60 39.10, -94.60 39.00))"
    rows = _get(portal_url, KC, **{"$select": "case_id, address_with_geocode"})
    shape = shapely.from_wkt(box)
    expected = {
        r["case_id"]
        for r in rows
        if "address_with_geocode" in r
        and "latitude" in r["address_with_geocode"]
        and shapely.contains_xy(
            shape, float(r["address_with_geocode"]["longitude"]), float(r["address_with_geocode"]["latitude"])
        )
    }
    assert len(expected) > 100
    with sodapy.Socrata(portal_url.removeprefix("http://"), None) as client:
        client.uri_prefix = "http://"
        got = client.get(
            KC, select="case_id", where=f"within_polygon(address_with_geocode, '{box}')", limit=5000
        )
        boxed = client.get(
            KC,
            select="case_id",
            where="within_box(address_with_geocode, 39.10, -94.60, 39.00, -94.50)",
            limit=5000,
        )
    assert {r["case_id"] for r in got} == expected == {r["case_id"] for r in boxed}


def test_intersects_points_and_lines(portal_url: str, geo_store: Store) -> None:
    points = _points()
    x0, y0 = points[7]
    x1, y1 = points[11]
    assert _ids_where(portal_url, f"intersects(where, 'MULTIPOINT (({x0} {y0}), ({x1} {y1}))')") == {7, 11}
    # A line through two of the points (and its far end): exactly those on it.
    line = f"LINESTRING ({x0} {y0}, {x1} {y1}, {x1 + 1} {y1 + 1})"
    shape = shapely.from_wkt(line)
    on_line = {i for i, (x, y) in enumerate(points) if shapely.distance(shape, shapely.Point(x, y)) == 0}
    assert {7, 11} <= on_line
    assert _ids_where(portal_url, f"intersects(where, '{line}')") == on_line


def test_distance_and_within_circle_by_hand(portal_url: str, geo_store: Store) -> None:
    points = _points()
    centre = (39.1, -94.58)
    rows = _get(
        portal_url,
        GEO,
        **{
            "$select": "n, distance_in_meters(where, 'POINT (-94.58 39.1)') AS d",
            "$order": "d",
            "$limit": "40",
        },
    )
    by_hand = sorted((_haversine(y, x, *centre), i) for i, (x, y) in enumerate(points))[:40]
    assert [int(r["n"]) for r in rows] == [i for _, i in by_hand]
    for row, (metres, _) in zip(rows, by_hand, strict=True):
        assert float(row["d"]) == pytest.approx(metres, rel=1e-9)
    inside = {i for i, (x, y) in enumerate(points) if _haversine(y, x, *centre) <= 5000}
    assert _ids_where(portal_url, "within_circle(where, 39.1, -94.58, 5000)") == inside
    # Either side may be the field; a field against a field is 0 on the diagonal.
    swapped = _get(
        portal_url,
        GEO,
        **{"$select": "distance_in_meters('POINT (-94.58 39.1)', where) AS d", "$where": "n = 3"},
    )
    assert float(swapped[0]["d"]) == pytest.approx(_haversine(points[3][1], points[3][0], *centre), rel=1e-9)
    assert _get(
        portal_url, GEO, **{"$select": "distance_in_meters(where, where) AS d", "$where": "n = 3"}
    ) == [{"d": "0"}]


def test_extent_and_convex_hull_agree_with_shapely(portal_url: str, geo_store: Store) -> None:
    points = _points()
    rows = _get(
        portal_url,
        GEO,
        **{
            "$select": "zone, extent(where) AS box, convex_hull(where) AS hull",
            "$group": "zone",
            "$order": "zone",
        },
    )
    assert [r["zone"] for r in rows] == ["a", "b"]
    for row in rows:
        mine = [p for i, p in enumerate(points) if (i % 3 == 0) == (row["zone"] == "b")]
        cloud = shapely.multipoints(mine)
        box = shapely.geometry.shape(row["box"])
        assert row["box"]["type"] == "MultiPolygon" and box.bounds == pytest.approx(cloud.bounds)
        hull = shapely.geometry.shape(row["hull"])
        assert row["hull"]["type"] == "MultiPolygon"
        assert shapely.equals_exact(
            shapely.normalize(hull.geoms[0]), shapely.normalize(cloud.convex_hull), 1e-9
        )
    csv = requests.get(
        f"{portal_url}/resource/{GEO}.csv", params={"$select": "extent(where)"}, timeout=30
    ).text
    header, value = csv.strip().split("\n")
    assert header == '"extent_where"'
    assert shapely.from_wkt(value.strip('"')).bounds == pytest.approx(shapely.multipoints(points).bounds)


@pytest.mark.parametrize(
    ("where", "fragment"),
    [
        ("within_polygon(where, 'POLYGON ((0 0, 1 0')", "not valid WKT"),
        ("within_polygon(where, 'POINT (0 0)')", "give a POLYGON"),
        ("within_polygon(where, zone)", "quoted WKT"),
        ("within_polygon(zone, 'POLYGON ((0 0, 1 0, 1 1, 0 0))')", "point or location"),
        ("distance_in_meters(where, 'POLYGON ((0 0, 1 0, 1 1, 0 0))') > 1", "POINT (lon lat)"),
        ("within_polygon(where)", "takes 2"),
    ],
)
def test_geospatial_mistakes_are_400s(portal_url: str, geo_store: Store, where: str, fragment: str) -> None:
    reply = requests.get(f"{portal_url}/resource/{GEO}.json", params={"$where": where}, timeout=30)
    assert reply.status_code == 400, reply.text
    body = reply.json()
    assert body["error"] is True and fragment in body["message"]


def _edges_of(shape: shapely.Polygon) -> list[list[float]]:
    xy = list(shape.exterior.coords)
    return [[a[0], a[1], b[0], b[1]] for a, b in pairwise(xy)]


def _ring(n: int) -> str:
    ring = [
        f"{-94.5 + 0.1 * math.cos(2 * math.pi * k / n):.4f} {39.1 + 0.1 * math.sin(2 * math.pi * k / n):.4f}"
        for k in range(n)
    ]
    return f"POLYGON (({', '.join(ring)}, {ring[0]}))"


def test_shapes_become_one_parameter_never_sql(geo_store: Store) -> None:
    """However many vertices, the SQL is the same text: the shape is a parameter, the budget applies."""
    info = geo_store.info(GEO)

    def compiled(n: int) -> tuple[str, list[Any]]:
        query = compile_soql(QueryParams(where=f"within_polygon(where, '{_ring(n)}')"), info)
        return query.sql, query.params

    small_sql, _ = compiled(4)
    big_sql, big_params = compiled(600)
    assert small_sql == big_sql and "POLYGON" not in big_sql
    bands = next(p for p in big_params if isinstance(p, list))  # the edges, grouped by band
    assert {tuple(e) for band in bands for e in band} == {
        tuple(e) for e in _edges_of(shapely.from_wkt(_ring(600))) if e[1] != e[3]
    }
    # The clause-length budget bounds a shape from the network; the compiler bounds it too.
    call = ast.FuncCall("within_polygon", ())
    with pytest.raises(SoqlError, match="at most"):
        within_polygon(call, [Sql('"where"', "point"), literal_text(_ring(wkt.MAX_VERTICES + 10))])


def test_long_edges_everywhere_use_fewer_bands() -> None:
    """1,000 edges spanning the whole height: fewer bands, every edge in each, within the cap."""
    edges = [[float(i), 0.0, float(i), 1.0] for i in range(1000)]
    bands, height = wkt.bands(edges, 0.0, 1.0)
    assert 1 < len(bands) < 1000 and sum(map(len, bands)) <= wkt.BAND_CELLS
    assert all(band == edges for band in bands) and height == pytest.approx(1 / len(bands))
