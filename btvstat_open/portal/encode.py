"""Arrow record batches to Socrata's JSON, CSV and GeoJSON encodings, vectorised.

Socrata's JSON encoding: numbers as strings (``"36"``, ``"0.1"``), nulls left out of row
objects, floating timestamps ``2020-01-07T00:00:00.000`` and fixed ones with ``Z``,
checkboxes as JSON booleans, points as GeoJSON, locations as
``{"latitude", "longitude", "human_address"}`` and urls as ``{"url": ...}``. CSV uses the same
texts, every value quoted, with a header of field names.

Every column is turned into an array of JSON fragments with pyarrow compute kernels, and
rows are joined column-wise, so a batch never goes through Python objects row by row
(except rare values, such as numbers Arrow would print in exponent form).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from decimal import Decimal

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

__all__ = ["csv_batch", "geojson_batch", "json_batch", "socrata_json_values", "socrata_text"]

_NUMBER = r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?"
_WKT_POINT = rf"^\s*POINT\s*\(\s*(?P<lon>{_NUMBER})\s+(?P<lat>{_NUMBER})\s*\)\s*$"
_NEEDS_ESCAPE = r'["\\\x00-\x1f]'
_CONTROL_LEFT = r"[\x00-\x08\x0b\x0c\x0e-\x1f]"


def _plain_number(value: float) -> str:
    """A float as Socrata writes it: shortest digits, no exponent, no trailing ``.0``."""
    if value != value or value in (float("inf"), float("-inf")):
        return "NaN" if value != value else ("Infinity" if value > 0 else "-Infinity")
    text = format(Decimal(repr(value)), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def _number_text(arr: pa.Array) -> pa.Array:
    """Numbers as Socrata's decimal strings (``36.0`` -> ``"36"``)."""
    kind = arr.type
    if pa.types.is_integer(kind):
        return arr.cast(pa.string())
    if pa.types.is_decimal(kind):
        text = arr.cast(pa.string())
        trimmed = pc.replace_substring_regex(text, r"(\.[0-9]*?)0+$", r"\1")
        return pc.replace_substring_regex(trimmed, r"\.$", "")
    if not pa.types.is_floating(kind):
        return arr.cast(pa.string())
    text = arr.cast(pa.float64()).cast(pa.string())
    odd = pc.match_substring_regex(text, "[eEna]")
    if pc.any(odd).as_py():
        values = arr.to_pylist()
        flags = odd.to_pylist()
        fixed = [_plain_number(v) if f else None for v, f in zip(values, flags, strict=True)]
        text = pc.if_else(odd, pa.array(fixed, pa.string()), text)
    return text


def _timestamp_text(arr: pa.Array) -> pa.Array:
    """Timestamps with milliseconds; zoned ones in UTC with ``Z`` (Socrata's fixed timestamps).

    Arrow's cast to text is several times faster than ``strftime`` and already writes
    ``2020-01-07 00:00:00.000`` (plus ``Z`` for UTC); only the ``T`` is missing.
    """
    kind = arr.type
    if pa.types.is_date(kind):
        arr = arr.cast(pa.timestamp("ms"))
        kind = arr.type
    target = pa.timestamp("ms") if kind.tz is None else pa.timestamp("ms", tz="UTC")
    text = pc.cast(arr, target, safe=False).cast(pa.string())
    return pc.replace_substring(text, " ", "T", max_replacements=1)


def _json_escaped(arr: pa.Array) -> tuple[pa.Array, bool]:
    """Strings escaped for JSON; the flag says whether quotes still have to be added."""
    text = arr if pa.types.is_string(arr.type) else arr.cast(pa.string())
    if pc.any(pc.match_substring_regex(text, _NEEDS_ESCAPE)).as_py():
        for raw, escaped in (("\\", "\\\\"), ('"', '\\"'), ("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t")):
            text = pc.replace_substring(text, raw, escaped)
        if pc.any(pc.match_substring_regex(text, _CONTROL_LEFT)).as_py():
            # Rare control characters: let orjson escape (and quote) those values.
            dumped = [None if v is None else orjson.dumps(v).decode() for v in arr.to_pylist()]
            return pa.array(dumped, pa.string()), False
    return text, True


def _json_string(arr: pa.Array) -> pa.Array:
    """Strings as JSON string literals (quoted, escaped)."""
    text, needs_quotes = _json_escaped(arr)
    return pc.binary_join_element_wise('"', text, '"', "") if needs_quotes else text


def _quoted(text: pa.Array) -> pa.Array:
    """Already-safe texts (digits, timestamps) wrapped in quotes."""
    return pc.binary_join_element_wise('"', text, '"', "")


def _point_geometry(arr: pa.Array) -> pa.Array:
    """WKT ``POINT (lon lat)`` as a GeoJSON geometry; other texts stay JSON strings."""
    text = arr if pa.types.is_string(arr.type) else arr.cast(pa.string())
    parts = pc.extract_regex(text, _WKT_POINT)
    geometry = pc.binary_join_element_wise(
        '{"type":"Point","coordinates":[',
        pc.struct_field(parts, "lon"),
        ",",
        pc.struct_field(parts, "lat"),
        "]}",
        "",
    )
    return pc.if_else(pc.is_valid(parts), geometry, _json_string(text))


def _location_geometry(arr: pa.Array) -> pa.Array:
    """A location struct as a GeoJSON point (null when it has no coordinates)."""
    lon = _number_text(pc.struct_field(arr, "longitude"))
    lat = _number_text(pc.struct_field(arr, "latitude"))
    return pc.binary_join_element_wise('{"type":"Point","coordinates":[', lon, ",", lat, "]}", "")


def _location_object(arr: pa.Array) -> pa.Array:
    """A location struct as Socrata's ``{"latitude", "longitude", "human_address"}`` object."""
    pieces = [
        pc.binary_join_element_wise(
            ',"latitude":', _quoted(_number_text(pc.struct_field(arr, "latitude"))), ""
        ),
        pc.binary_join_element_wise(
            ',"longitude":', _quoted(_number_text(pc.struct_field(arr, "longitude"))), ""
        ),
        pc.binary_join_element_wise(
            ',"human_address":', _json_string(pc.struct_field(arr, "human_address")), ""
        ),
    ]
    body = pc.utf8_slice_codeunits(pc.binary_join_element_wise(*[pc.fill_null(p, "") for p in pieces], ""), 1)
    obj = pc.binary_join_element_wise("{", body, "}", "")
    return pc.if_else(pc.is_valid(arr), obj, pa.nulls(len(arr), pa.string()))


def _generic_json(arr: pa.Array) -> pa.Array:
    """Anything else (lists, structs from functions): orjson per value."""
    return pa.array(
        [None if v is None else orjson.dumps(v, default=str).decode() for v in arr.to_pylist()],
        pa.string(),
    )


def _json_parts(arr: pa.Array, data_type: str) -> tuple[pa.Array, bool]:
    """One column as JSON texts; the flag says whether they still need surrounding quotes.

    Leaving the quotes to the caller lets it add key and quotes in one pass.
    """
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    kind = arr.type
    if pa.types.is_null(kind):
        return pa.nulls(len(arr), pa.string()), False
    if pa.types.is_boolean(kind):
        return pc.if_else(arr, "true", "false"), False
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        return _number_text(arr), True
    if pa.types.is_timestamp(kind) or pa.types.is_date(kind):
        return _timestamp_text(arr), True
    if pa.types.is_struct(kind) and {f.name for f in kind} >= {"latitude", "longitude"}:
        return _location_object(arr), False
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        if data_type == "point":
            return _point_geometry(arr), False
        if data_type == "url":
            return pc.binary_join_element_wise('{"url":', _json_string(arr), "}", ""), False
        return _json_escaped(arr)
    return _generic_json(arr), False


def socrata_json_values(arr: pa.Array, data_type: str) -> pa.Array:
    """One column as JSON value texts in Socrata's encoding; nulls stay null.

    Example:
        >>> socrata_json_values(pa.array([36.0, None, 0.5]), "number").to_pylist()
        ['"36"', None, '"0.5"']
    """
    text, needs_quotes = _json_parts(arr, data_type)
    return pc.binary_join_element_wise('"', text, '"', "") if needs_quotes else text


def _fragment(arr: pa.Array, data_type: str, prefix: str) -> pa.Array:
    """``prefix`` + the column's JSON values, built in one pass where possible; nulls stay null."""
    text, needs_quotes = _json_parts(arr, data_type)
    if needs_quotes:
        return pc.binary_join_element_wise(prefix + '"', text, '"', "")
    return pc.binary_join_element_wise(prefix, text, "")


def socrata_text(arr: pa.Array, data_type: str) -> pa.Array:
    """One column as Socrata's CSV texts (unquoted); nulls stay null.

    Example:
        >>> socrata_text(pa.array([True, None]), "checkbox").to_pylist()
        ['true', None]
    """
    kind = arr.type
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if pa.types.is_null(kind):
        return pa.nulls(len(arr), pa.string())
    if pa.types.is_boolean(kind):
        return pc.if_else(arr, "true", "false")
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        return _number_text(arr)
    if pa.types.is_timestamp(kind) or pa.types.is_date(kind):
        return _timestamp_text(arr)
    if pa.types.is_struct(kind) and {f.name for f in kind} >= {"latitude", "longitude"}:
        coords = pc.binary_join_element_wise(
            "(",
            _number_text(pc.struct_field(arr, "latitude")),
            ", ",
            _number_text(pc.struct_field(arr, "longitude")),
            ")",
            "",
        )
        address = pc.struct_field(arr, "human_address") if "human_address" in {f.name for f in kind} else None
        if address is not None:
            with_address = pc.binary_join_element_wise(address, "\n", pc.fill_null(coords, ""), "")
            coords = pc.if_else(pc.is_valid(address), with_address, coords)
        return pc.if_else(pc.is_valid(arr), coords, pa.nulls(len(arr), pa.string()))
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return arr
    try:
        return arr.cast(pa.string())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return pa.array([None if v is None else str(v) for v in arr.to_pylist()], pa.string())


def _join_rows(rows: pa.Array, separator: str) -> bytes:
    """All row texts joined by ``separator`` into one bytes object."""
    if len(rows) == 0:
        return b""
    lists = pa.ListArray.from_arrays(pa.array([0, len(rows)], pa.int32()), rows)
    joined = pc.binary_join(lists, separator)
    buffer = joined[0].as_buffer()
    return b"" if buffer is None else buffer.to_pybytes()


def _row_objects(fragments: Sequence[pa.Array], n: int, *, opened: bool = False) -> pa.Array:
    """Per-row ``{...}`` objects from per-column ``,"key":value`` fragments (nulls dropped).

    ``opened``: the first fragment has no nulls and starts with ``{`` instead of ``,`` (see
    :func:`_fragments`), so no leading comma has to be cut off.
    """
    if not fragments:
        return pa.array(["{}"] * n, pa.string())
    filled = [pc.fill_null(f, "") if f.null_count else f for f in fragments]
    if opened:
        return pc.binary_join_element_wise(*filled, "}", "")
    body = pc.binary_join_element_wise(*filled, "") if len(filled) > 1 else filled[0]
    return pc.binary_join_element_wise("{", pc.utf8_slice_codeunits(body, 1), "}", "")


def _fragments(batch: pa.RecordBatch, data_types: Sequence[str]) -> tuple[list[pa.Array], bool]:
    """``,"key":value`` fragments of every column, and whether the first opens with ``{``.

    The first column opens the object itself when none of its values is null (the common
    case: an id), which saves two passes over every row.
    """
    out: list[pa.Array] = []
    for i, name in enumerate(batch.schema.names):
        column = batch.column(i)
        opener = "{" if i == 0 and column.null_count == 0 else ","
        out.append(_fragment(column, data_types[i], opener + orjson.dumps(name).decode() + ":"))
    opened = bool(out) and batch.column(0).null_count == 0
    if opened and out[0].null_count:
        # A value that encodes to null would break the shortcut: build it the general way.
        out[0] = _fragment(batch.column(0), data_types[0], _key(batch.schema.names[0]))
        opened = False
    return out, opened


def _key(name: str) -> str:
    return "," + orjson.dumps(name).decode() + ":"


def json_batch(batch: pa.RecordBatch, data_types: Sequence[str]) -> bytes:
    """A batch as Socrata JSON row objects joined by ``",\\n"`` (no surrounding brackets).

    Example:
        >>> json_batch(pa.record_batch({"n": [36.0, None]}), ["number"])
        b'{"n":"36"},\\n{}'
    """
    fragments, opened = _fragments(batch, data_types)
    return _join_rows(_row_objects(fragments, batch.num_rows, opened=opened), ",\n")


def csv_batch(batch: pa.RecordBatch, data_types: Sequence[str], *, header: bool) -> bytes:
    """A batch as CSV, every value quoted, optionally with the header row of field names.

    Example:
        >>> csv_batch(pa.record_batch({"n": [36.0, None]}), ["number"], header=True)
        b'"n"\\n"36"\\n\\n'
    """
    texts = [socrata_text(batch.column(i), data_types[i]) for i in range(batch.num_columns)]
    table = pa.Table.from_arrays(texts, names=batch.schema.names)
    out = io.BytesIO()
    options = pacsv.WriteOptions(
        include_header=header, quoting_style="all_valid", batch_size=max(1, len(table))
    )
    pacsv.write_csv(table, out, options)
    return out.getvalue()


def geometry_column(data_types: Sequence[str]) -> int | None:
    """Index of the first point or location column, which GeoJSON uses as the geometry."""
    for i, kind in enumerate(data_types):
        if kind in ("point", "location"):
            return i
    return None


def geojson_batch(batch: pa.RecordBatch, data_types: Sequence[str]) -> bytes:
    """A batch as GeoJSON features joined by ``",\\n"``; the first point/location is the geometry.

    Example:
        >>> geojson_batch(pa.record_batch({"p": ["POINT (1 2)"]}), ["point"])
        b'{"type":"Feature","geometry":{"type":"Point","coordinates":[1,2]},"properties":{}}'
    """
    geo_index = geometry_column(data_types)
    n = batch.num_rows
    if geo_index is None:
        geometry = pa.array(["null"] * n, pa.string())
    else:
        column = batch.column(geo_index)
        if data_types[geo_index] == "location" and pa.types.is_struct(column.type):
            raw = _location_geometry(column)
        else:
            raw = _point_geometry(column)
            raw = pc.if_else(pc.starts_with(raw, "{"), raw, pa.nulls(n, pa.string()))
        geometry = pc.fill_null(raw, "null")
    fragments = [
        pc.fill_null(
            pc.binary_join_element_wise(_key(name), socrata_json_values(batch.column(i), data_types[i]), ""),
            _key(name) + "null",
        )
        for i, name in enumerate(batch.schema.names)
        if i != geo_index
    ]
    properties = _row_objects(fragments, n)
    features = pc.binary_join_element_wise(
        '{"type":"Feature","geometry":', geometry, ',"properties":', properties, "}", ""
    )
    return _join_rows(features, ",\n")
