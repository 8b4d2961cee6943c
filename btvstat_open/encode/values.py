"""One Arrow column to Socrata's value encodings: JSON fragments, CSV texts, GeoJSON geometries.

Socrata's JSON encoding: numbers as strings (``"36"``, ``"0.1"``), floating timestamps
``2020-01-07T00:00:00.000`` and fixed ones with ``Z``, checkboxes as JSON booleans, points as
GeoJSON, locations as ``{"latitude", "longitude", "human_address"}`` and urls as
``{"url": ...}``. CSV uses the same texts. Everything runs as pyarrow compute kernels over
whole columns; :mod:`btvstat_open.encode` joins the columns into rows.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from btvstat_open.encode.shapes import SHAPE_TYPES, shape_json, shape_wkt

__all__ = ["json_fragment", "location_geometry", "point_geometry", "socrata_json_values", "socrata_text"]

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
    values = arr.cast(pa.float64())
    text = values.cast(pa.string())
    if _all_print_plainly(values):
        return text
    odd = pc.match_substring_regex(text, "[eEna]")
    if pc.any(odd).as_py():
        values = arr.to_pylist()
        flags = odd.to_pylist()
        fixed = [_plain_number(v) if f else None for v, f in zip(values, flags, strict=True)]
        text = pc.if_else(odd, pa.array(fixed, pa.string()), text)
    return text


def _all_print_plainly(values: pa.Array) -> bool:
    """Whether Arrow writes every value without an exponent: zero, or 1e-5 <= |v| < 1e7, all finite.

    Arrow's shortest round-trip text uses exponents only outside that range (checked over
    millions of random doubles), so the common case skips a regex over every value's text.
    """
    magnitude = pc.abs(values)
    in_range = pc.and_(pc.greater_equal(magnitude, 1e-5), pc.less(magnitude, 1e7))
    plain = pc.or_(pc.equal(magnitude, 0.0), in_range)
    return bool(pc.all(plain).as_py() is not False)


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
    return _date_time_separator(text)


def _date_time_separator(text: pa.Array) -> pa.Array:
    """``2020-01-07 00:00:00.000`` -> ``2020-01-07T00:00:00.000``, byte 10 of every value.

    Setting that byte in a copy of the data buffer costs a third of a substring replace, which
    matters for exports of millions of rows; years outside 0000-9999 take the general path.
    """
    if len(text) == 0 or text.null_count == len(text):
        return text
    offsets = np.frombuffer(text.buffers()[1], np.int32, len(text) + 1, text.offset * 4)
    data = text.buffers()[2]
    starts = offsets[:-1][np.diff(offsets) > 10]
    chars = np.frombuffer(data, np.uint8).copy()
    if len(starts) == 0 or not bool((chars[starts + 10] == ord(" ")).all()):
        return pc.replace_substring(text, " ", "T", max_replacements=1)
    chars[starts + 10] = ord("T")
    buffers = text.buffers()
    return pa.Array.from_buffers(
        pa.string(), len(text), [buffers[0], buffers[1], pa.py_buffer(chars)], text.null_count, text.offset
    )


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


def point_geometry(arr: pa.Array) -> pa.Array:
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


def location_geometry(arr: pa.Array) -> pa.Array:
    """A location struct as a GeoJSON point (null when it has no coordinates)."""
    lon = _number_text(pc.struct_field(arr, "longitude"))
    lat = _number_text(pc.struct_field(arr, "latitude"))
    return pc.binary_join_element_wise('{"type":"Point","coordinates":[', lon, ",", lat, "]}", "")


def _human_address(address: pa.Array) -> pa.Array:
    """``human_address`` as Socrata sends it: a JSON *text* of ``{"address", "city", "state", "zip"}``.

    An address kept as a JSON object text (from Socrata, or written so) goes out as it is; a
    plain address (a loaded CSV's ``4900 E 63rd St\\n(39.0, -94.5)`` cell keeps
    ``4900 E 63rd St``) becomes that object's ``address``, with the other parts empty.
    """
    if len(address) == 0:
        return pc.cast(address, pa.string())
    as_object = pc.binary_join_element_wise(
        '{"address": ', _json_string(address), ', "city": "", "state": "", "zip": ""}', ""
    )
    is_object = pc.fill_null(pc.starts_with(pc.utf8_trim_whitespace(address), "{"), False)
    return _json_string(pc.if_else(is_object, address, as_object))


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
            ',"human_address":', _human_address(pc.struct_field(arr, "human_address")), ""
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
    if data_type in SHAPE_TYPES:  # extent(), convex_hull(): GeoJSON geometries
        return shape_json(arr), False
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
            return point_geometry(arr), False
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


def json_fragment(arr: pa.Array, data_type: str, prefix: str) -> pa.Array:
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
    if data_type in SHAPE_TYPES:  # extent(), convex_hull(): WKT
        return shape_wkt(arr)
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
