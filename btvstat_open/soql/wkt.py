"""Shapes given in geospatial SoQL: WKT read with shapely, and the edges the SQL tests.

A shape comes from the network, so it is bounded (:data:`MAX_VERTICES`, finite coordinates)
and becomes plain numbers: :func:`segments` lists its edges, :func:`bands` groups a polygon's
edges by horizontal band so that each row tests only the few edges at its latitude.

Example:
    >>> shape = read_shape("POLYGON ((0 0, 1 0, 1 1, 0 0))")
    >>> segments(shape)
    [[0.0, 0.0, 1.0, 0.0], [1.0, 0.0, 1.0, 1.0], [1.0, 1.0, 0.0, 0.0]]
    >>> bands(segments(shape), 0.0, 1.0)
    ([[[1.0, 0.0, 1.0, 1.0], [1.0, 1.0, 0.0, 0.0]], [[1.0, 0.0, 1.0, 1.0], [1.0, 1.0, 0.0, 0.0]]], 0.5)
"""

from __future__ import annotations

import math
from itertools import pairwise
from typing import Final

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

__all__ = ["BAND_CELLS", "MAX_BANDS", "MAX_VERTICES", "POLYGONS", "bands", "read_shape", "segments"]

#: the largest shape a query may give, in vertices (a city boundary has a few thousand)
MAX_VERTICES: Final = 20_000
#: polygons are cut into at most this many horizontal bands...
MAX_BANDS: Final = 2048
#: ...holding at most this many edges in all (fewer bands when long edges repeat)
BAND_CELLS: Final = 200_000
POLYGONS: Final = frozenset({"Polygon", "MultiPolygon"})


def read_shape(text: str) -> BaseGeometry:
    """A WKT text as a shapely geometry; ``ValueError`` (saying what is wrong) if it is not usable.

    Example:
        >>> read_shape("POINT (1 2)").geom_type
        'Point'
    """
    try:
        with np.errstate(all="ignore"):  # an overflowing coordinate is refused below, not warned about
            shape = shapely.from_wkt(text)
    except shapely.errors.ShapelyError as exc:
        raise ValueError(f"is not valid WKT ({str(exc).splitlines()[0][:120]})") from None
    if shape is None or shape.is_empty:
        raise ValueError("is an empty shape")
    count = shapely.get_num_coordinates(shape)
    if count > MAX_VERTICES:
        raise ValueError(f"has {count} vertices; at most {MAX_VERTICES} are accepted: simplify it")
    if not all(math.isfinite(float(v)) for v in shapely.get_coordinates(shape).ravel()):
        raise ValueError("has a coordinate that is not a finite number")
    return shape


def segments(shape: BaseGeometry) -> list[list[float]]:
    """Every edge of every ring (polygons) or line, as ``[x1, y1, x2, y2]``."""
    if shape.geom_type in POLYGONS:
        polygons = list(getattr(shape, "geoms", [shape]))
        rings = [ring for p in polygons for ring in (p.exterior, *p.interiors)]
    else:
        rings = list(getattr(shape, "geoms", [shape]))
    out: list[list[float]] = []
    for ring in rings:
        xy = [(float(x), float(y)) for x, y in ring.coords]
        out.extend([a[0], a[1], b[0], b[1]] for a, b in pairwise(xy))
    return out


def bands(segments: list[list[float]], south: float, north: float) -> tuple[list[list[list[float]]], float]:
    """The edges by horizontal band of the shape's height, and the band height.

    A point's band holds every edge whose latitude range meets it, so the ray test reads a few
    edges per row instead of all of them. Horizontal edges never cross a ray and are left out.
    Fewer bands are used when long edges would repeat too often (at most :data:`BAND_CELLS`).
    """
    edges = [e for e in segments if e[1] != e[3]]
    count = max(1, min(MAX_BANDS, len(edges)))
    while True:
        height = (north - south) / count or 1.0
        bands: list[list[list[float]]] = [[] for _ in range(count)]
        for edge in edges:
            low, high = sorted((edge[1], edge[3]))
            first = min(count - 1, int((low - south) / height))
            last = min(count - 1, int((high - south) / height))
            for band in range(first, last + 1):
                bands[band].append(edge)
        if count == 1 or sum(map(len, bands)) <= BAND_CELLS:
            return bands, height
        count //= 2
