"""Shapes that geospatial SoQL answers with (``multipolygon``): WKT texts, or a hull's points.

``extent()`` answers WKT text; ``convex_hull()`` answers each group's distinct points as a list
of ``[lon, lat]`` pairs, whose hull is drawn here (with shapely) as the answer is encoded. JSON
gets GeoJSON geometries, CSV gets WKT, as Socrata's answers do.

Example:
    >>> arr = pa.array([[[0.0, 0.0], [2.0, 0.0], [0.0, 2.0], [0.5, 0.5]]])
    >>> shape_wkt(arr).to_pylist()
    ['MULTIPOLYGON (((0 0, 0 2, 2 0, 0 0)))']
    >>> shape_json(pa.array(["MULTIPOLYGON (((0 0, 1 0, 1 1, 0 0)))"])).to_pylist()[0][:33]
    '{"type":"MultiPolygon","coordinat'
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pyarrow as pa
import shapely
from shapely.geometry import MultiPoint, MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

__all__ = ["SHAPE_TYPES", "shape_json", "shape_wkt"]

#: the Socrata types whose values are shapes (WKT text, or points to hull)
SHAPE_TYPES: Final = frozenset({"multipolygon", "polygon", "multiline", "line", "multipoint"})


def _geometries(arr: pa.Array) -> np.ndarray:
    """Shapely geometries (None for nulls) from WKT texts or lists of ``[lon, lat]`` points."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if pa.types.is_list(arr.type) or pa.types.is_large_list(arr.type):
        return np.array([_hull(points) for points in arr.to_pylist()], dtype=object)
    texts = arr.cast(pa.string()).to_pylist()
    return np.array(
        [None if t is None else shapely.from_wkt(t, on_invalid="ignore") for t in texts], dtype=object
    )


def _hull(points: list[list[float]] | None) -> BaseGeometry | None:
    """The convex hull of the points: a multipolygon (a point or a line when they are fewer or in a row)."""
    if not points:
        return None
    hull = MultiPoint(points).convex_hull
    return MultiPolygon([hull]) if isinstance(hull, Polygon) else hull


def shape_wkt(arr: pa.Array) -> pa.Array:
    """The shapes as WKT texts (Socrata's CSV form); nulls stay null."""
    shapes = _geometries(arr)
    texts = [None if g is None else shapely.to_wkt(g, rounding_precision=-1) for g in shapes]
    return pa.array(texts, pa.string())


def shape_json(arr: pa.Array) -> pa.Array:
    """The shapes as GeoJSON geometry texts (Socrata's JSON form); nulls stay null."""
    shapes = _geometries(arr)
    texts = [None if g is None else shapely.to_geojson(g).replace(" ", "") for g in shapes]
    return pa.array(texts, pa.string())
