"""The ArcGIS stand-in (``tests/arcgis_standin.py``) paged fast enough for a benchmark's big layers.

A pull asks for pages the same two ways over and over: ``where=1=1`` with offsets in object-id
order, or ``(1=1) AND OBJECTID > a AND OBJECTID <= b`` (object-id ranges). Filtering every row
with the where clause and encoding every feature again for every page would make a 200,000-row
pull mostly time the stand-in (quadratic in the layer's size). :class:`PageIndex` answers those
two shapes by bisecting the sorted object ids, and keeps each feature's JSON once encoded, so a
page costs about its own size. Any other where clause or order still goes through the full
filter (:func:`arcgis_standin.where_rows`), so answers are the same either way.
:class:`PagedArcgisStandin` is the stand-in answering through one index per layer (the benchmark's
``arcgis`` kind row, :mod:`bench.rows_kinds`); the tests' layers are small and use the stand-in as is.

Example:
    >>> rows = [{"OBJECTID": i, "v": i * 2} for i in range(1, 6)]
    >>> index = PageIndex()
    >>> [r["OBJECTID"] for r in index.matching(rows, "(1=1) AND OBJECTID > 1 AND OBJECTID <= 3")]
    [2, 3]
    >>> index.matching(rows, "v > 2") is None  # not an object-id range: the caller filters
    True
    >>> index.features(rows[:2], ["v"], None)
    b'{"attributes":{"v":2}},{"attributes":{"v":4}}'
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from itertools import pairwise
from typing import Any

from arcgis_standin import OID, ArcgisStandin, Layer, Service, dumps

Row = dict[str, Any]
# 1=1, optionally parenthesised, then any number of "AND OBJECTID <op> <integer>".
# The field name is matched as written: the where filter reads rows by their exact keys too.
_RANGE = re.compile(
    r"\s*(?:\(\s*1\s*=\s*1\s*\)|1\s*=\s*1)?((?:\s*(?:^|(?i:\bAND\b))\s*OBJECTID\s*(?:>=|<=|>|<|=)\s*-?\d+)*)\s*"
)
_BOUND = re.compile(r"OBJECTID\s*(>=|<=|>|<|=)\s*(-?\d+)")


def oid_bounds(where: str | None) -> tuple[float, float] | None:
    """The inclusive object-id range a where clause of only ``1=1`` and id bounds selects, or None.

    Example:
        >>> oid_bounds("(1=1) AND OBJECTID > 10 AND OBJECTID <= 20"), oid_bounds("1=1")
        ((11, 20), (-inf, inf))
        >>> oid_bounds("amount > 3") is None
        True
    """
    text = (where or "1=1").strip()
    match = _RANGE.fullmatch(text)
    if not match:
        return None
    low, high = float("-inf"), float("inf")
    for op, number in _BOUND.findall(match.group(1) or ""):
        value = int(number)
        if op in (">", ">=", "="):
            low = max(low, value + 1 if op == ">" else value)
        if op in ("<", "<=", "="):
            high = min(high, value - 1 if op == "<" else value)
    return low, high


class PageIndex:
    """A layer's sorted object ids and encoded features, rebuilt when its rows change.

    The layer calls :meth:`clear` on every edit; a new or resized ``rows`` list is noticed too.
    """

    def __init__(self) -> None:
        self._key: tuple[int, int] | None = None
        self._oids: list[int] | None = None  # None: rows not in object-id order
        self._encoded: dict[tuple[tuple[str, ...] | None, bool], dict[int, bytes]] = {}

    def clear(self) -> None:
        """Forget everything (rows were edited)."""
        self._key, self._oids, self._encoded = None, None, {}

    def _fresh(self, rows: list[Row]) -> None:
        key = (id(rows), len(rows))
        if key != self._key:
            self.clear()
            oids = [r[OID] for r in rows]
            self._oids = oids if all(a < b for a, b in pairwise(oids)) else None
            self._key = key

    def in_oid_order(self, rows: list[Row]) -> bool:
        """Whether ``rows`` are in ascending object-id order (so ``OBJECTID ASC`` needs no sort)."""
        self._fresh(rows)
        return self._oids is not None

    def matching(self, rows: list[Row], where: str | None) -> list[Row] | None:
        """The rows ``where`` selects when it is an object-id range (by bisection), else None."""
        bounds = oid_bounds(where)
        if bounds is None or not self.in_oid_order(rows):
            return None
        assert self._oids is not None
        low, high = bounds
        start = 0 if low == float("-inf") else bisect_left(self._oids, low)
        stop = len(rows) if high == float("inf") else bisect_right(self._oids, high)
        # Every row (``1=1``, offset pages): the list itself; callers slice it, never change it.
        return rows if start == 0 and stop == len(rows) else rows[start:stop]

    def features(
        self,
        page: Sequence[Row],
        names: Sequence[str] | None,
        geometry: Callable[[int], dict[str, Any] | None] | None,
    ) -> bytes:
        """The page's features as the inside of a JSON array, each encoded once per field list."""
        cache = self._encoded.setdefault(
            (tuple(names) if names is not None else None, geometry is not None), {}
        )
        parts = []
        for row in page:
            oid = row[OID]
            encoded = cache.get(oid)
            if encoded is None:
                feature: dict[str, Any] = {
                    "attributes": row if names is None else {n: row.get(n) for n in names}
                }
                if geometry is not None:
                    feature["geometry"] = geometry(oid)
                encoded = cache[oid] = dumps(feature)
            parts.append(encoded)
        return b",".join(parts)

    def warm(
        self,
        rows: list[Row],
        names: Sequence[str] | None,
        geometry: Callable[[int], dict[str, Any] | None] | None,
    ) -> None:
        """Encode every feature for this field list now (a benchmark's setup, outside the timing)."""
        self._fresh(rows)
        self.features(rows, names, geometry)


class PagedArcgisStandin(ArcgisStandin):
    """The stand-in, its pages found and encoded through a :class:`PageIndex` per layer.

    Example:
        >>> from arcgis_standin import layer_from_table
        >>> from connectors.testing import source_table
        >>> layer = layer_from_table(0, "Cases", source_table(30))
        >>> app = PagedArcgisStandin({"Cases": Service({0: layer})})
        >>> [r["OBJECTID"] for r in app.matching(layer, "(1=1) AND OBJECTID > 27")]
        [28, 29, 30]
    """

    def __init__(self, services: dict[str, Service]) -> None:
        super().__init__(services)
        self._indexes: dict[int, PageIndex] = {}

    def index(self, layer: Layer) -> PageIndex:
        """The layer's index (made on first use); :meth:`PageIndex.warm` it before a timing."""
        return self._indexes.setdefault(id(layer), PageIndex())

    def edit(self, service: str, layer_id: int, **changes: Any) -> None:
        """As the stand-in's edit; the layer's encoded features are forgotten (rows changed in place)."""
        super().edit(service, layer_id, **changes)
        self.index(self.services[service].layers[layer_id]).clear()

    def matching(self, layer: Layer, where: str | None) -> list[Row]:
        rows = self.index(layer).matching(layer.rows, where)
        return super().matching(layer, where) if rows is None else rows

    def ordered(self, layer: Layer, rows: list[Row], order: str | None) -> list[Row]:
        if order in (None, "", f"{OID} ASC") and self.index(layer).in_oid_order(layer.rows):
            return rows  # a subset of rows already in object-id order
        return super().ordered(layer, rows, order)

    def features(self, layer: Layer, page: list[Row], names: list[str] | None, shapes: bool) -> bytes:
        return self.index(layer).features(page, names, layer.geometry_of if shapes else None)
