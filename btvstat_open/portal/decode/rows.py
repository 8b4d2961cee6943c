"""Write bodies (JSON rows or CSV, in Socrata's encoding) to Arrow tables of the dataset's types.

Values arrive as Socrata sends them: numbers as strings or numbers, timestamps as ISO texts,
points as GeoJSON or WKT, locations as objects, urls as ``{"url": ...}``. Every value is
checked; a body with any bad value is refused whole, listing each bad row (0-based position
in the body) and field, so that nothing is written.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
import pyarrow as pa

from btvstat_open.errors import BadRequestBody
from btvstat_open.portal.bodies import MAX_LISTED_ERRORS
from btvstat_open.portal.decode.columns import NUMBER_TEXT, decode_columns
from btvstat_open.store import DatasetInfo
from btvstat_open.types import arrow_type

__all__ = ["DecodedRows", "decode_row_by_row", "decode_rows"]

_NUMBER = re.compile(NUMBER_TEXT)
_WKT_POINT = re.compile(r"^\s*POINT\s*\(\s*(\S+)\s+(\S+)\s*\)\s*$", re.IGNORECASE)
_LAT_LON = re.compile(r"\(\s*([-+]?[\d.]+)\s*,\s*([-+]?[\d.]+)\s*\)\s*$")
_US_DATETIME = ("%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %I:%M %p", "%m/%d/%Y")
_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f"}


class BadValue(ValueError):
    """A value that does not fit its column."""


@dataclass(frozen=True)
class DecodedRows:
    """Typed rows of a write: the Arrow table and which rows are ``:deleted``."""

    table: pa.Table
    deleted: list[bool]


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value) if isinstance(value, float) else str(value)
    if isinstance(value, dict) and isinstance(value.get("url"), str):
        return str(value["url"])
    raise BadValue(f"expected text, got {type(value).__name__}")


def _number(value: Any) -> float:
    if isinstance(value, bool):
        raise BadValue("expected a number, got a boolean")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str) and _NUMBER.match(value):
        try:
            return float(value)
        except ValueError:  # whitespace that ``\s`` matches but float() does not strip
            pass
    raise BadValue(f"expected a number, got {value!r}")


def _checkbox(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise BadValue(f"expected true or false, got {value!r}")


def _datetime(value: Any) -> datetime:
    if not isinstance(value, str):
        raise BadValue(f"expected a timestamp text, got {type(value).__name__}")
    text = value.strip()
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    for pattern in _US_DATETIME:
        try:
            return datetime.strptime(text, pattern)
        except ValueError:
            continue
    raise BadValue(f"expected an ISO 8601 timestamp such as 2024-01-31T12:00:00.000, got {value!r}")


def _floating(value: Any) -> datetime:
    moment = _datetime(value)
    return moment.replace(tzinfo=None)


def _fixed(value: Any) -> datetime:
    moment = _datetime(value)
    try:
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00:00+05:00 is before year 1 in UTC
        raise BadValue(f"{value!r} is outside the years 1 to 9999 once moved to UTC") from None


def _coordinate(value: Any) -> float:
    number = _number(value)
    if number != number or number in (float("inf"), float("-inf")):
        raise BadValue("coordinates must be finite numbers")
    return number


def _point(value: Any) -> str:
    if isinstance(value, str) and value.strip().startswith("{"):
        try:
            value = json.loads(value)
        except ValueError:
            raise BadValue(f"expected GeoJSON or WKT point, got {value!r}") from None
    if isinstance(value, dict):
        coords = value.get("coordinates")
        if value.get("type") != "Point" or not isinstance(coords, list) or len(coords) < 2:
            raise BadValue('expected {"type": "Point", "coordinates": [lon, lat]}')
        lon, lat = _coordinate(coords[0]), _coordinate(coords[1])
    elif isinstance(value, str) and (match := _WKT_POINT.match(value)):
        lon, lat = _coordinate(match.group(1)), _coordinate(match.group(2))
    else:
        raise BadValue(f"expected GeoJSON or WKT point, got {value!r}")
    return f"POINT ({_short(lon)} {_short(lat)})"


def _short(number: float) -> str:
    return str(int(number)) if number.is_integer() else repr(number)


def _location(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        address = value.get("human_address")
        if address is not None and not isinstance(address, str):
            address = orjson.dumps(address).decode()
        lat, lon = value.get("latitude"), value.get("longitude")
        return {
            "latitude": None if lat in (None, "") else _coordinate(lat),
            "longitude": None if lon in (None, "") else _coordinate(lon),
            "human_address": address,
        }
    if isinstance(value, str):
        match = _LAT_LON.search(value)
        if match:
            address = value[: match.start()].strip() or None
            return {
                "latitude": _coordinate(match.group(1)),
                "longitude": _coordinate(match.group(2)),
                "human_address": address,
            }
        return {"latitude": None, "longitude": None, "human_address": value}
    raise BadValue(f"expected a location object, got {type(value).__name__}")


_CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "text": _text,
    "url": _text,
    "number": _number,
    "checkbox": _checkbox,
    "floating_timestamp": _floating,
    "fixed_timestamp": _fixed,
    "point": _point,
    "location": _location,
}


def decode_rows(
    rows: Sequence[dict[str, Any]], info: DatasetInfo, *, allow_deleted: bool = True
) -> DecodedRows:
    """Type every value of the rows for the dataset; raise :class:`BadRequestBody` listing bad ones.

    Field names are matched exactly, then by display name. ``:id`` is kept, ``:deleted``
    marks rows to delete, ``:created_at``/``:updated_at`` are ignored (the store sets them).
    Bodies whose values are all in their plain form are typed a column at a time
    (:mod:`btvstat_open.portal.decode.columns`); others row by row.

    Example:
        >>> decode_rows([{"days_to_close": "36"}], info).table.column("days_to_close").to_pylist()
        [36.0]
    """
    plain = decode_columns(rows, info)
    if plain is not None:
        return DecodedRows(table=plain, deleted=[False] * len(rows))
    return decode_row_by_row(rows, info, allow_deleted=allow_deleted)


def decode_row_by_row(
    rows: Sequence[dict[str, Any]], info: DatasetInfo, *, allow_deleted: bool = True
) -> DecodedRows:
    """:func:`decode_rows` one value at a time: every accepted form, and every bad value named."""
    by_field = {c.field_name: c for c in info.columns}
    by_name = {c.name: c for c in info.columns if c.name not in by_field}
    errors: list[dict[str, Any]] = []
    values: dict[str, list[Any]] = {}
    ids: list[Any] = []
    deleted: list[bool] = []
    key = info.row_identifier or ":id"
    for index, row in enumerate(rows):
        row_id: Any = None
        is_deleted = False
        typed: dict[str, Any] = {}
        for name, raw in row.items():
            if name == ":id":
                if raw is not None and not isinstance(raw, str):
                    errors.append({"row": index, "field": name, "message": "expected a row id text"})
                row_id = raw
                continue
            if name == ":deleted":
                try:
                    is_deleted = raw is not None and _checkbox(raw)
                except BadValue as exc:
                    errors.append({"row": index, "field": name, "message": str(exc)})
                continue
            if name in (":created_at", ":updated_at"):
                continue
            column = by_field.get(name) or by_name.get(name)
            if column is None:
                errors.append({"row": index, "field": name, "message": "no such column in this dataset"})
                continue
            if raw is None:
                typed[column.field_name] = None
                continue
            try:
                typed[column.field_name] = _CONVERTERS[column.data_type](raw)
            except BadValue as exc:
                errors.append({"row": index, "field": name, "message": str(exc)})
        if is_deleted and not allow_deleted:
            errors.append(
                {"row": index, "field": ":deleted", "message": "deletes are not allowed in a replace"}
            )
        if is_deleted and (row_id if key == ":id" else typed.get(key)) is None:
            errors.append({"row": index, "field": key, "message": f"a deleted row needs its {key}"})
        for name, value in typed.items():
            # Not setdefault: its default list of ``index`` Nones would be built for every value,
            # which made decoding quadratic in the rows of a request.
            column_values = values.get(name)
            if column_values is None:
                column_values = values[name] = [None] * index
            column_values.append(value)
        for column_values in values.values():
            if len(column_values) < index + 1:
                column_values.append(None)
        ids.append(row_id)
        deleted.append(is_deleted)
    if errors:
        listed = "; ".join(f"row {e['row']} field {e['field']!r}: {e['message']}" for e in errors[:5])
        more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
        raise BadRequestBody(
            f"{len(errors)} value(s) do not fit the dataset, nothing was written: {listed}{more}.",
            code="write.bad-rows",
            data={"errors": errors[:MAX_LISTED_ERRORS], "error_count": len(errors)},
        )
    arrays: dict[str, pa.Array] = {}
    if any(i is not None for i in ids):
        arrays[":id"] = pa.array(ids, pa.string())
    for column in info.columns:
        if column.field_name in values:
            arrays[column.field_name] = pa.array(values[column.field_name], arrow_type(column.data_type))
    table = pa.table(arrays) if arrays else pa.table({":id": pa.array(ids, pa.string())})
    return DecodedRows(table=table, deleted=deleted)
