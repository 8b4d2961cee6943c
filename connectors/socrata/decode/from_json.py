"""Rows from Socrata, typed by the dataset's metadata, as Arrow record batches.

Types come from metadata, never from how a value looks: numbers arrive as JSON strings,
nulls are left out of JSON rows, ``00501`` in a text column stays text, floating
timestamps have no zone and fixed ones are UTC, points arrive as GeoJSON, locations as
objects (or ``address\\n(lat, lon)`` texts in CSV), url columns as ``{"url": ...}``.
This module decodes values and JSON rows; :mod:`connectors.socrata.decode.from_csv` parses CSV.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
import pyarrow as pa

from btvstat_open.types import arrow_type

__all__ = [
    "guess_json_type",
    "json_rows_to_batch",
    "location_value",
    "point_wkt",
]

_LOCATION_TAIL = re.compile(r"\(\s*(-?[0-9.]+)\s*,\s*(-?[0-9.]+)\s*\)\s*$")


def _float(value: Any) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return float(value)
    return float(str(value).replace(",", "")) if isinstance(value, str) else None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, dict | list):
        return orjson.dumps(value).decode()
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _bool(value: Any) -> bool | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("true", "1", "t", "yes", "y")


def _timestamp(value: Any, *, fixed: bool) -> datetime | None:
    if value is None or value == "":
        return None
    text = str(value).strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    if fixed:
        return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    # A floating timestamp is wall-clock time: any zone given is dropped, not converted.
    return parsed.replace(tzinfo=None)


def _coord(value: float) -> str:
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def point_wkt(value: Any) -> str | None:
    """A point as WKT text ``POINT (lon lat)``, from GeoJSON, a location object or WKT.

    Example:
        >>> point_wkt({"type": "Point", "coordinates": [-94.5, 39.1]})
        'POINT (-94.5 39.1)'
    """
    if value is None or value == "":
        return None
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("{"):
            return point_wkt(orjson.loads(text))
        return text
    if isinstance(value, dict):
        coords = value.get("coordinates")
        if isinstance(coords, list) and len(coords) >= 2:
            return f"POINT ({_coord(coords[0])} {_coord(coords[1])})"
        lat, lon = _float(value.get("latitude")), _float(value.get("longitude"))
        if lat is not None and lon is not None:
            return f"POINT ({_coord(lon)} {_coord(lat)})"
        return None
    return _text(value)


def location_value(value: Any) -> dict[str, Any] | None:
    """A legacy location as ``{latitude, longitude, human_address}``.

    Accepts Socrata's JSON object (numbers as strings, ``human_address`` as a JSON text,
    ``needs_recoding`` ignored), GeoJSON, or the CSV rendering ``address\\n(lat, lon)``.

    Example:
        >>> location_value("4900 E 63rd St\\n(39.014495, -94.527365)")
        {'latitude': 39.014495, 'longitude': -94.527365, 'human_address': '4900 E 63rd St'}
    """
    if value is None or value == "":
        return None
    if isinstance(value, str):
        text = value.strip()
        match = _LOCATION_TAIL.search(text)
        if not match and text.startswith("{"):
            try:
                return location_value(orjson.loads(text))
            except orjson.JSONDecodeError:
                pass
        if match:
            address = text[: match.start()].strip()
            return {
                "latitude": float(match.group(1)),
                "longitude": float(match.group(2)),
                "human_address": address or None,
            }
        return {"latitude": None, "longitude": None, "human_address": text}
    if isinstance(value, dict):
        coords = value.get("coordinates")
        if isinstance(coords, list) and len(coords) >= 2:
            return {"latitude": _float(coords[1]), "longitude": _float(coords[0]), "human_address": None}
        human = value.get("human_address")
        return {
            "latitude": _float(value.get("latitude")),
            "longitude": _float(value.get("longitude")),
            "human_address": _text(human) if human not in (None, "") else None,
        }
    return None


def _url(value: Any) -> str | None:
    if isinstance(value, dict):
        return _text(value.get("url"))
    return _text(value)


def _converter(data_type: str) -> Callable[[Any], Any]:
    return {
        "number": _float,
        "checkbox": _bool,
        "floating_timestamp": lambda v: _timestamp(v, fixed=False),
        "fixed_timestamp": lambda v: _timestamp(v, fixed=True),
        "point": point_wkt,
        "location": location_value,
        "url": _url,
    }.get(data_type, _text)


def guess_json_type(rows: Sequence[Mapping[str, Any]], name: str) -> str:
    """A type for a field no metadata describes, from the shape of its JSON values only.

    Objects tell what they are (``{"url"}``, GeoJSON points, ``{"latitude", ...}``); texts stay
    text, because ``"00501"`` and ``"1982"`` look the same and only metadata can say which is a number.

    Example:
        >>> guess_json_type([{"u": {"url": "http://x"}}], "u"), guess_json_type([{"y": "1982"}], "y")
        ('url', 'text')
    """
    for row in rows:
        value = row.get(name)
        if value is None:
            continue
        if isinstance(value, bool):
            return "checkbox"
        if isinstance(value, dict):
            if "url" in value:
                return "url"
            if value.get("type") == "Point":
                return "point"
            if "latitude" in value or "human_address" in value:
                return "location"
        return "text"
    return "text"


def json_rows_to_batch(
    rows: Sequence[Mapping[str, Any]], fields: Sequence[tuple[str, str]]
) -> pa.RecordBatch:
    """JSON row objects as a record batch with one typed column per ``(field_name, type)``.

    Fields missing from a row are null; keys not asked for are ignored.

    Example:
        >>> b = json_rows_to_batch([{"n": "1.5", "z": "00501"}, {}], [("n", "number"), ("z", "text")])
        >>> b.to_pydict()
        {'n': [1.5, None], 'z': ['00501', None]}
    """
    arrays = []
    for name, data_type in fields:
        convert = _converter(data_type)
        values = [convert(row.get(name)) for row in rows]
        arrays.append(pa.array(values, arrow_type(data_type)))
    return pa.RecordBatch.from_arrays(
        arrays, schema=pa.schema([pa.field(n, arrow_type(t)) for n, t in fields])
    )
