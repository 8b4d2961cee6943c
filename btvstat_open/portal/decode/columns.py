"""The fast path for write bodies: whole columns typed by Arrow kernels instead of value by value.

Most writes are regular: every value already has its column's plain form (numbers as JSON numbers
or number texts, ISO timestamps, booleans, WKT points as Socrata writes them). Those are typed a
column at a time here. Anything else (a display name, ``:deleted``, a GeoJSON point, a number in a
text column, a value that does not fit) makes :func:`decode_columns` answer ``None``, and the
caller decodes the body row by row, which accepts every form and names each bad value. So this
path never changes what a write means, only how fast a plain one is read; a test checks both paths
give the same table.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from btvstat_open.store import DatasetInfo
from btvstat_open.types import arrow_type

__all__ = ["NUMBER_TEXT", "decode_columns"]

# A number as text (both decoders accept it; Arrow's cast then refuses the surrounding whitespace).
NUMBER_TEXT = r"^\s*[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\s*$"
# Timestamps without a zone that Python's fromisoformat and Arrow's cast read the same way.
_PLAIN_MOMENT = r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)?$"
_WKT_POINT = r"^POINT \((?P<lon>-?\d+(?:\.\d+)?) (?P<lat>-?\d+(?:\.\d+)?)\)$"
_SKIPPED = frozenset({":created_at", ":updated_at"})


class _NotPlain(Exception):
    """A column this path does not type; the row-by-row decoder takes the body."""


def _strings(values: list[Any]) -> pa.Array:
    try:
        return pa.array(values, pa.string())
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise _NotPlain from exc


def _all(mask: pa.Array) -> bool:
    return bool(pc.all(mask).as_py() is not False)


def _numbers(values: list[Any]) -> pa.Array:
    try:
        arr = pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError) as exc:
        raise _NotPlain from exc
    kind = arr.type
    if not any(test(kind) for test in (pa.types.is_string, pa.types.is_integer, pa.types.is_floating)):
        if not pa.types.is_null(kind):
            raise _NotPlain  # booleans, lists, objects
    elif pa.types.is_string(kind) and not _all(pc.match_substring_regex(arr, NUMBER_TEXT)):
        raise _NotPlain
    try:
        return arr.cast(pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise _NotPlain from exc


def _checkboxes(values: list[Any]) -> pa.Array:
    if any(v is not None and not isinstance(v, bool) for v in values):
        raise _NotPlain
    return pa.array(values, pa.bool_())


def _moments(values: list[Any], target: pa.DataType) -> pa.Array:
    text = _strings(values)
    if not _all(pc.match_substring_regex(text, _PLAIN_MOMENT)):
        raise _NotPlain
    try:
        # A fixed timestamp without a zone is UTC; Arrow keeps the same instant when the
        # zone is added, as the row-by-row path does.
        return text.cast(pa.timestamp("us")).cast(target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise _NotPlain from exc


def _points(values: list[Any]) -> pa.Array:
    """WKT points already in Socrata's form: the row-by-row path would write the same text back."""
    text = _strings(values)
    parts = pc.extract_regex(text, _WKT_POINT)
    if parts.null_count != text.null_count:
        raise _NotPlain
    for axis in ("lon", "lat"):
        digits = pc.struct_field(parts, axis)
        number = digits.cast(pa.float64())
        # Shortest round-trip text, as the row-by-row path writes it (``1.0`` would become ``1``);
        # below 1e-4 Python switches to an exponent and Arrow does not, and ``-0`` becomes ``0``.
        same_text = pc.equal(number.cast(pa.string()), digits)
        plain = pc.or_(pc.greater_equal(pc.abs(number), 1e-4), pc.equal(digits, "0"))
        if not (_all(same_text) and _all(plain)):
            raise _NotPlain
    return text


_TYPERS: dict[str, Callable[[list[Any]], pa.Array]] = {
    "text": _strings,
    "url": _strings,
    "number": _numbers,
    "checkbox": _checkboxes,
    "floating_timestamp": lambda v: _moments(v, pa.timestamp("us")),
    "fixed_timestamp": lambda v: _moments(v, pa.timestamp("us", tz="UTC")),
    "point": _points,
}


def decode_columns(rows: Sequence[dict[str, Any]], info: DatasetInfo) -> pa.Table | None:
    """The rows as a table of the dataset's types, or ``None`` when a value is not in its plain form.

    Columns come in the dataset's order, after ``:id`` when any row carries one; a column
    appears when any row names it, with nulls where rows leave it out.

    Example:
        >>> rows = [{"days_to_close": "36"}, {"days_to_close": "1.5"}]  # info: with that number column
        >>> decode_columns(rows, info).column("days_to_close").to_pylist()
        [36.0, 1.5]
        >>> decode_columns([{"days_to_close": "thirty"}], info) is None  # typed row by row instead
        True
    """
    by_field = {c.field_name: c for c in info.columns}
    keys: set[str] = set()
    for row in rows:
        keys.update(row)
    keys -= _SKIPPED
    if not keys <= by_field.keys() | {":id"}:
        return None  # display names, :deleted or unknown fields: the row-by-row path explains them
    arrays: dict[str, pa.Array] = {}
    try:
        if ":id" in keys:
            ids = _strings([row.get(":id") for row in rows])
            if ids.null_count < len(ids):
                arrays[":id"] = ids
        for column in info.columns:
            name = column.field_name
            if name not in keys:
                continue
            typer = _TYPERS.get(column.data_type)
            if typer is None:
                return None
            arr = typer([row.get(name) for row in rows])
            arrays[name] = (
                arr if arr.type == arrow_type(column.data_type) else arr.cast(arrow_type(column.data_type))
            )
    except _NotPlain:
        return None
    if not arrays:
        return None
    return pa.table(arrays)
