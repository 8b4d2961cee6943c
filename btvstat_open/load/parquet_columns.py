"""Socrata types for Parquet columns, and converting a column to its type.

A Parquet file's own types are kept: integers, floats and decimals are ``number`` (float64,
exact up to 2**53), booleans ``checkbox``, timestamps without a zone and dates
``floating_timestamp``, timestamps with a zone ``fixed_timestamp`` (UTC), structs with
latitude/longitude ``location``, strings ``text``, anything else text.
"""

from __future__ import annotations

from pathlib import PurePath

import pyarrow as pa
import pyarrow.compute as pc

from btvstat_open.errors import LoadError
from btvstat_open.load.csv_cells import FileBytes
from btvstat_open.load.inference import convert_column
from btvstat_open.types import LOCATION_ARROW, arrow_type

__all__ = ["convert_parquet_column", "parquet_type"]


def parquet_type(arrow: pa.DataType) -> str:
    """The Socrata type a Parquet column of this Arrow type loads as.

    Example:
        >>> parquet_type(pa.timestamp("us", tz="UTC"))
        'fixed_timestamp'
    """
    if pa.types.is_integer(arrow) or pa.types.is_floating(arrow) or pa.types.is_decimal(arrow):
        return "number"
    if pa.types.is_boolean(arrow):
        return "checkbox"
    if pa.types.is_timestamp(arrow):
        return "fixed_timestamp" if arrow.tz else "floating_timestamp"
    if pa.types.is_date(arrow):
        return "floating_timestamp"
    if pa.types.is_struct(arrow) and {"latitude", "longitude"} <= {f.name for f in arrow}:
        return "location"
    return "text"


def convert_parquet_column(
    arr: pa.ChunkedArray, kind: str, header: str, path: PurePath | FileBytes, date_format: str | None = None
) -> pa.ChunkedArray:
    """Convert one Parquet column to ``kind``, raising LoadError on the first value that does not fit.

    Text read as timestamps uses ``date_format`` (a strptime pattern) when one is given.
    """
    want = arrow_type(kind)
    if pa.types.is_dictionary(arr.type):
        arr = arr.cast(arr.type.value_type)
    if kind == "location" and pa.types.is_struct(arr.type):
        names = {f.name for f in arr.type}
        parts = [
            arr.combine_chunks().field(f.name).cast(f.type) if f.name in names else pa.nulls(len(arr), f.type)
            for f in LOCATION_ARROW
        ]
        return pa.chunked_array([pa.StructArray.from_arrays(parts, fields=list(LOCATION_ARROW))])
    if arr.type == want:
        return arr
    if kind != "text" and not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        try:
            return arr.cast(want, safe=False)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass  # fall back to converting the values' text
    try:
        text = arr.cast(pa.string())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise LoadError(
            f"{path.name}: column {header!r} has Parquet type {arr.type}, which the store cannot hold. "
            "Convert it to text, a number or a timestamp before loading.",
            column=header,
        ) from exc
    out = convert_column(text, kind, date_format)
    if kind not in ("text", "url"):
        bad = pc.and_(pc.is_valid(text), pc.is_null(out))
        index = pc.index(bad, True).as_py()
        if index >= 0:
            wrong = f"does not match the pattern {date_format!r}" if date_format else f"is not a {kind} value"
            raise LoadError(
                f"{path.name}: data row {index + 1}, column {header!r}: {text[index].as_py()!r} {wrong}. "
                "Fix the value, the pattern (date_formats=), or choose another type with column_types=.",
                row=index + 1,
                column=header,
                code="load.bad-value",
            )
    return out
