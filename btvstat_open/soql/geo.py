"""Socrata's geospatial SoQL over point and location columns, compiled to plain DuckDB SQL.

- ``within_polygon(geom, 'MULTIPOLYGON (...)' | 'POLYGON (...)')``: true for points inside (the
  even-odd rule over every ring, so holes are left out).
- ``intersects(geom, 'WKT')``: a polygon or multipolygon as ``within_polygon``; a point or
  multipoint: the same coordinates; a line: the point lies on one of its segments.
- ``distance_in_meters(a, b)``: the great-circle (haversine) distance, each side a point or
  location field or a ``'POINT (lon lat)'`` text.
- ``extent(geom)`` (aggregate): the bounding box of the points, a ``multipolygon``.
- ``convex_hull(geom)`` (aggregate): the smallest convex polygon holding the points, a
  ``multipolygon`` (the distinct points are gathered by DuckDB; the hull is drawn as the
  answer is encoded, see :mod:`btvstat_open.encode.shapes`).

``within_circle`` and ``within_box`` live in :mod:`btvstat_open.soql.functions`.

The WKT is read (with shapely) when the query is compiled: its coordinates become one list
parameter (a polygon's edges grouped by horizontal band, so each row tests only the few edges at
its latitude), so no user text reaches the SQL, the SQL's size does not grow with the shape, and
the query runs under the same budget as any other. A shape with more than
:data:`MAX_VERTICES` vertices is refused.

Example:
    >>> from btvstat_open.soql.typed import Sql, literal_text
    >>> from btvstat_open.soql import ast
    >>> call = ast.FuncCall("within_polygon", ())
    >>> frag = within_polygon(call, [Sql('"p"', "point"), literal_text("POLYGON ((0 0, 1 0, 1 1, 0 0))")])
    >>> bands = next(p for p in frag.params if isinstance(p, list))  # the edges, by band of height
    >>> frag.type, bands
    ('checkbox', [[[1.0, 0.0, 1.0, 1.0], [1.0, 1.0, 0.0, 0.0]], [[1.0, 0.0, 1.0, 1.0], [1.0, 1.0, 0.0, 0.0]]])
"""

from __future__ import annotations

from typing import Any, Final

import shapely
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from btvstat_open.errors import SoqlError
from btvstat_open.soql import ast
from btvstat_open.soql.typed import Sql, mismatch, template
from btvstat_open.soql.wkt import MAX_VERTICES, POLYGONS, bands, read_shape, segments

__all__ = [
    "GEO_AGGREGATES",
    "GEO_FUNCTIONS",
    "LAMBDA_NAMES",
    "MAX_VERTICES",
    "distance_sql",
    "within_polygon",
]

#: mean Earth radius in metres (IUGG): distances are haversine distances on this sphere
EARTH_RADIUS_M: Final = 6371008.8
# The lambdas' parameters: quoted names no field can take (field names are [a-z0-9_] and ":id"...),
# so a parameter never hides a field of the same name.
_E: Final = '"0-edge"'
_P: Final = '"0-point"'
#: the names of the lambdas' parameters, as they stand (quoted) in the SQL
LAMBDA_NAMES: Final = frozenset({"0-edge", "0-point"})
_POINTS: Final = frozenset({"Point", "MultiPoint"})
_LINES: Final = frozenset({"LineString", "MultiLineString", "LinearRing"})

GEO_AGGREGATES: Final = frozenset({"extent", "convex_hull"})


def _bad(call: ast.FuncCall, detail: str) -> SoqlError:
    return SoqlError(
        f"{call.name}(): {detail}.",
        code="query.soql.type-mismatch",
        data={"function": call.name},
    )


def _arity(call: ast.FuncCall, args: list[Sql], count: int) -> None:
    from btvstat_open.soql.functions import check_arity

    check_arity(call, args, count)


def _shape(call: ast.FuncCall, arg: Sql, n: int) -> BaseGeometry:
    """The WKT text literal argument ``n`` as a shapely geometry (see :func:`.wkt.read_shape`)."""
    if arg.literal is None:
        raise _bad(call, f"argument {n} must be a quoted WKT text, e.g. 'POLYGON ((-94.6 39.0, ...))'")
    try:
        return read_shape(arg.literal)
    except ValueError as exc:
        raise _bad(call, f"argument {n} {exc}") from None


def _lat_lon(call: ast.FuncCall, geo: Sql) -> tuple[Sql, Sql]:
    from btvstat_open.soql.functions import lat_lon

    return lat_lon(call, geo)


def _edges(segments: list[list[float]]) -> Sql:
    return Sql("CAST(? AS DOUBLE[][])", "edges", [segments])


def _inside(call: ast.FuncCall, geo: Sql, shape: BaseGeometry) -> Sql:
    """Point in polygon: the bounding box, then the even-odd count of the point's band's edges
    that a ray from it crosses (the same SQL whatever the shape; the edges are one parameter).

    The point's coordinates are read once per row (``[lon, lat]``, bound by an outer lambda),
    not once per edge.
    """
    lat, lon = _lat_lon(call, geo)
    west, south, east, north = (float(v) for v in shape.bounds)
    by_band, height = bands(segments(shape), south, north)
    number = [Sql("CAST(? AS DOUBLE)", "number", [v]) for v in (south, north, west, east, height)]
    last = Sql("CAST(? AS BIGINT)", "number", [len(by_band) - 1])
    edges = Sql("CAST(? AS DOUBLE[][][])", "bands", [by_band])
    e, p = _E, _P
    band = f"greatest(0, least(CAST(floor(({p}[2] - {{2}}) / {{6}}) AS BIGINT), {{7}})) + 1"
    crossing = (
        f"(({e}[2] > {p}[2]) <> ({e}[4] > {p}[2])) AND "
        f"({p}[1] < ({e}[3] - {e}[1]) * ({p}[2] - {e}[2]) / ({e}[4] - {e}[2]) + {e}[1])"
    )
    return template(
        f"list_transform([[{{1}}, {{0}}]], lambda {p}: {p}[2] BETWEEN {{2}} AND {{3}} AND "
        f"{p}[1] BETWEEN {{4}} AND {{5}} AND "
        f"len(list_filter({{8}}[{band}], lambda {e}: {crossing})) % 2 = 1)[1]",
        lat, lon, *number, last, edges, type="checkbox",
    )  # fmt: skip


def _on_lines(call: ast.FuncCall, geo: Sql, shape: BaseGeometry) -> Sql:
    """Point on a line: collinear with a segment (to rounding) and within its box (the point is
    read once per row, as in :func:`_inside`)."""
    lat, lon = _lat_lon(call, geo)
    e, p = _E, _P
    on = (
        f"abs(({e}[3] - {e}[1]) * ({p}[2] - {e}[2]) - ({e}[4] - {e}[2]) * ({p}[1] - {e}[1])) "
        "<= 0.000000000001 AND "
        f"{p}[1] BETWEEN least({e}[1], {e}[3]) AND greatest({e}[1], {e}[3]) AND "
        f"{p}[2] BETWEEN least({e}[2], {e}[4]) AND greatest({e}[2], {e}[4])"
    )
    return template(
        f"list_transform([[{{1}}, {{0}}]], lambda {p}: len(list_filter({{2}}, lambda {e}: {on})) > 0)[1]",
        lat,
        lon,
        _edges(segments(shape)),
        type="checkbox",
    )


def _at_points(call: ast.FuncCall, geo: Sql, shape: BaseGeometry) -> Sql:
    """Point at one of the shape's points: its ``[lon, lat]`` is one of theirs."""
    lat, lon = _lat_lon(call, geo)
    points = [[float(x), float(y)] for x, y in shapely.get_coordinates(shape)]
    pts = Sql("CAST(? AS DOUBLE[][])", "points", [points])
    return template("list_contains({2}, [{1}, {0}])", lat, lon, pts, type="checkbox")


def within_polygon(call: ast.FuncCall, args: list[Sql]) -> Sql:
    """``within_polygon(geom, 'MULTIPOLYGON (...)')``: whether each point is inside the shape."""
    _arity(call, args, 2)
    shape = _shape(call, args[1], 2)
    if shape.geom_type not in POLYGONS:
        raise _bad(call, f"the shape is a {shape.geom_type}; give a POLYGON or MULTIPOLYGON")
    return _inside(call, args[0], shape)


def intersects(call: ast.FuncCall, args: list[Sql]) -> Sql:
    """``intersects(geom, 'WKT')``: whether each point meets the shape (any WKT geometry)."""
    _arity(call, args, 2)
    shape = _shape(call, args[1], 2)
    kind = shape.geom_type
    if kind in POLYGONS:
        return _inside(call, args[0], shape)
    if kind in _POINTS:
        return _at_points(call, args[0], shape)
    if kind in _LINES:
        return _on_lines(call, args[0], shape)
    raise _bad(call, f"the shape is a {kind}; give a point, line or polygon (or their multi- forms)")


def _point_side(call: ast.FuncCall, arg: Sql, n: int) -> tuple[Sql, Sql]:
    """Latitude and longitude of one side of ``distance_in_meters``: a field or a POINT text."""
    if arg.literal is None:
        return _lat_lon(call, arg)
    shape = _shape(call, arg, n)
    if not isinstance(shape, Point):
        raise _bad(call, f"argument {n} is a {shape.geom_type}; give 'POINT (lon lat)'")
    return (
        Sql("CAST(? AS DOUBLE)", "number", [float(shape.y)]),
        Sql("CAST(? AS DOUBLE)", "number", [float(shape.x)]),
    )


def distance_sql(lat1: Sql, lon1: Sql, lat2: Sql, lon2: Sql) -> Sql:
    """The haversine distance in metres between two (lat, lon) pairs, as SQL."""
    return template(
        f"(2 * {EARTH_RADIUS_M} * asin(sqrt(pow(sin(radians({{0}} - {{2}}) / 2), 2) + cos(radians({{2}})) "
        "* cos(radians({0})) * pow(sin(radians({1} - {3}) / 2), 2))))",
        lat1, lon1, lat2, lon2, type="number",
    )  # fmt: skip


def distance_in_meters(call: ast.FuncCall, args: list[Sql]) -> Sql:
    """``distance_in_meters(a, b)``: metres between two points (fields or ``'POINT (lon lat)'``)."""
    _arity(call, args, 2)
    if args[0].literal is not None and args[1].literal is not None:
        raise mismatch("distance_in_meters() needs a point or location field on at least one side")
    lat1, lon1 = _point_side(call, args[0], 1)
    lat2, lon2 = _point_side(call, args[1], 2)
    return distance_sql(lat1, lon1, lat2, lon2)


def _no_nested(call: ast.FuncCall, args: list[Sql]) -> None:
    if any(a.aggregate for a in args):
        raise SoqlError(
            f"Aggregates cannot be nested: {ast.to_text(call)}.",
            code="query.soql.aggregate-in-ungrouped-context",
        )


def extent(call: ast.FuncCall, args: list[Sql]) -> Sql:
    """``extent(geom)``: the bounding box of the group's points as a MULTIPOLYGON (WKT)."""
    _arity(call, args, 1)
    _no_nested(call, args)
    lat, lon = _lat_lon(call, args[0])
    w, s, e, n = "min({1})::VARCHAR", "min({0})::VARCHAR", "max({1})::VARCHAR", "max({0})::VARCHAR"
    ring = " || ', ' || ".join(f"{x} || ' ' || {y}" for x, y in ((w, s), (e, s), (e, n), (w, n), (w, s)))
    return template(
        f"CASE WHEN count({{0}}) = 0 THEN NULL ELSE 'MULTIPOLYGON (((' || {ring} || ')))' END",
        lat, lon, type="multipolygon", aggregate=True,
    )  # fmt: skip


def convex_hull(call: ast.FuncCall, args: list[Sql]) -> Sql:
    """``convex_hull(geom)``: the group's distinct points, drawn as their hull when encoded."""
    _arity(call, args, 1)
    _no_nested(call, args)
    lat, lon = _lat_lon(call, args[0])
    return template(
        "list(DISTINCT [{1}, {0}]) FILTER (WHERE {0} IS NOT NULL AND {1} IS NOT NULL)",
        lat, lon, type="multipolygon", aggregate=True,
    )  # fmt: skip


GEO_FUNCTIONS: Final[dict[str, Any]] = {
    "within_polygon": within_polygon,
    "intersects": intersects,
    "distance_in_meters": distance_in_meters,
    "extent": extent,
    "convex_hull": convex_hull,
}
