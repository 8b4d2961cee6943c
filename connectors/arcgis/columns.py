"""Whole columns of a ``/query`` page at once: the fast path of ``decode_features``.

A page's values for one field are gathered in one pass and handed to Arrow, which types them in C
(numbers, epoch-millisecond dates, object ids, text trimmed of CHAR padding, points as WKT). A
column whose values are not all of the plain JSON kind its field expects (a number sent as text,
a ``true`` in a number field, a float object id, a geometry that is not a point ...) answers
None, and the caller reads that column cell by cell, the careful way, so both paths give the
same values.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["ColumnRead", "column_reader", "points_wkt"]

#: A page's features and their ``attributes`` objects to one Arrow column, or None (read per cell).
ColumnRead = Callable[[Sequence[dict[str, Any]], Sequence[dict[str, Any]]], pa.Array | None]

_NUMERIC = (pa.int64(), pa.float64(), pa.null())
_UNREADABLE = (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, TypeError)


def _inferred(values: list[Any], accept: Sequence[pa.DataType]) -> pa.Array | None:
    """``values`` as Arrow infers them (NaN as null), if the inferred type is one of ``accept``."""
    try:
        array = pa.array(values, from_pandas=True)
    except _UNREADABLE:
        return None
    return array if array.type in accept else None


def _numbers(values: list[Any]) -> pa.Array | None:
    array = _inferred(values, _NUMERIC)
    return None if array is None else array.cast(pa.float64())


def _text(values: list[Any]) -> pa.Array | None:
    array = _inferred(values, (pa.string(), pa.null()))
    if array is None:
        return None
    trimmed = pc.utf8_rtrim_whitespace(array.cast(pa.string()))  # CHAR columns are space-padded
    return pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, pa.string()), trimmed)


def _epoch_ms(target: pa.DataType) -> Callable[[list[Any]], pa.Array | None]:
    def read(values: list[Any]) -> pa.Array | None:
        array = _inferred(values, (pa.int64(), pa.null()))
        if array is None:
            return None
        try:
            return array.cast(pa.int64()).cast(pa.timestamp("ms")).cast(target)
        except _UNREADABLE:
            return None

    return read


def _oid_text(values: list[Any]) -> pa.Array | None:
    array = _inferred(values, (pa.int64(), pa.null()))
    return None if array is None else array.cast(pa.int64()).cast(pa.string())


def _checkbox(values: list[Any]) -> pa.Array | None:
    numbers = _numbers(values)
    return None if numbers is None else pc.not_equal(numbers, 0.0)


def column_reader(kind: str, source: str, arrow: pa.DataType) -> ColumnRead | None:
    """The whole-column reader of attribute ``source`` for a field ``kind``, or None (per cell only).

    ``kind`` is a layer field's kind (``number``, ``checkbox``, ``date``, ``text``) or ``:id``
    (the object id as text).

    Example:
        >>> read = column_reader("number", "N", pa.float64())
        >>> read([], [{"N": 3}, {"N": None}]).to_pylist()
        [3.0, None]
        >>> read([], [{"N": "3"}]) is None  # text in a number field: read per cell
        True
    """
    convert: Callable[[list[Any]], pa.Array | None] | None
    if kind == ":id":
        convert = _oid_text
    elif kind == "date":
        convert = _epoch_ms(arrow)
    else:
        convert = {"number": _numbers, "checkbox": _checkbox}.get(kind)
        if convert is None and arrow == pa.string():
            convert = _text
    if convert is None:
        return None
    reader = convert

    def read(features: Sequence[dict[str, Any]], attrs: Sequence[dict[str, Any]]) -> pa.Array | None:
        return reader([a.get(source) for a in attrs])

    return read


def points_wkt(features: Sequence[dict[str, Any]], attrs: Sequence[dict[str, Any]]) -> pa.Array | None:
    """``POINT (x y)`` for a page whose every geometry is a finite point; else None (per cell).

    Example:
        >>> points_wkt([{"geometry": {"x": -73, "y": 44.5}}], []).to_pylist()
        ['POINT (-73.0 44.5)']
        >>> points_wkt([{"geometry": {"paths": []}}], []) is None
        True
    """
    try:
        text = [f"POINT ({float(g['x'])!r} {float(g['y'])!r})" for f in features if (g := f["geometry"])]
    except (TypeError, KeyError, ValueError):
        return None
    if len(text) != len(features):
        return None
    array = pa.array(text, type=pa.string())
    if len(array) and pc.any(pc.match_substring_regex(array, "nan|inf")).as_py():
        return None
    return array
