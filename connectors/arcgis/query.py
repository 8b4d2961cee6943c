"""Pull options (select, where, order, since) as ArcGIS ``/query`` parameters.

``select`` names columns (API names, ArcGIS names, or ``:id``/``:updated_at``/``:created_at``) and
becomes ``outFields``; ``order`` (``name [ASC|DESC], ...``) becomes ``orderByFields`` with the object
id appended, so the order is total; ``where`` goes to the server as written (ArcGIS SQL: simple
SoQL comparisons read the same); ``since`` keeps rows whose edit date is at or after a moment.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

from btvstat_open.errors import UsageError
from btvstat_open.instants import parse_instant
from connectors.arcgis.metadata import GEOMETRY_COLUMN, LayerInfo

__all__ = ["iso_z", "moment", "order_fields", "select_names", "timestamp_literal", "whole_seconds"]

_FRACTIONAL = re.compile(r"(>=|<) timestamp '(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\.(\d{3})'")


def select_names(info: LayerInfo, select: str | None) -> list[str]:
    """The output column names a ``select`` asks for (every column when None).

    Example:
        >>> from connectors.arcgis.metadata import parse_layer
        >>> info = parse_layer({"fields": [{"name": "OBJECTID", "type": "esriFieldTypeOID"},
        ...     {"name": "Ward", "type": "esriFieldTypeString"}]}, "0")
        >>> select_names(info, "WARD, :id")
        ['ward', ':id']
    """
    if not select or select.strip() == "*":
        return [c.field_name for c in info.columns]
    names = []
    for part in select.split(","):
        name = part.strip()
        if name == GEOMETRY_COLUMN and info.geometry_type:
            names.append(name)
            continue
        source = info.source_name(name)
        if source is None:
            known = ", ".join(c.field_name for c in info.columns)
            raise UsageError(f"No column {name!r} in layer {info.name!r}. Select from: {known}.")
        names.append(name if name.startswith(":") else _api_name(info, source))
    return names


def _api_name(info: LayerInfo, source: str) -> str:
    return next(f.column.field_name for f in info.fields if f.source == source)


def order_fields(info: LayerInfo, order: str | None) -> tuple[str, list[tuple[str, str]]]:
    """``orderByFields`` for an ``order`` (object id appended), and the sort as output names.

    Example:
        >>> from connectors.arcgis.metadata import parse_layer
        >>> info = parse_layer({"objectIdField": "FID", "fields": [
        ...     {"name": "Ward", "type": "esriFieldTypeString"}]}, "0")
        >>> order_fields(info, "ward DESC")
        ('Ward DESC,FID ASC', [('ward', 'descending')])
    """
    parts: list[str] = []
    sort: list[tuple[str, str]] = []
    for item in (order or "").split(","):
        words = item.split()
        if not words:
            continue
        direction = "DESC" if len(words) > 1 and words[1].upper() == "DESC" else "ASC"
        source = info.source_name(words[0])
        if source is None:
            raise UsageError(f"Cannot order by {words[0]!r}: layer {info.name!r} has no such column.")
        parts.append(f"{source} {direction}")
        out = words[0] if words[0].startswith(":") else _api_name(info, source)
        sort.append((out, "descending" if direction == "DESC" else "ascending"))
    if info.oid_field and info.oid_field not in {p.split()[0] for p in parts}:
        parts.append(f"{info.oid_field} ASC")
    return ",".join(parts), sort


def moment(value: str | date | datetime) -> datetime:
    """A moment as a naive UTC datetime (text without a zone, and dates, are UTC).

    Example:
        >>> moment("2024-01-31T12:00:00.5-05:00"), moment(date(2024, 1, 31))
        (datetime.datetime(2024, 1, 31, 17, 0, 0, 500000), datetime.datetime(2024, 1, 31, 0, 0))
    """
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime.combine(value, time())
    else:
        found = parse_instant(value)
        if found is None:
            raise UsageError(f"Cannot read {value!r} as a moment: write it as ISO 8601.")
        parsed = found
    return parsed.astimezone(UTC).replace(tzinfo=None) if parsed.tzinfo else parsed


def timestamp_literal(value: datetime) -> str:
    """An ArcGIS SQL timestamp literal (milliseconds only when there are some).

    Example:
        >>> timestamp_literal(datetime(2024, 1, 31, 12, 0, 0, 250000))
        "timestamp '2024-01-31 12:00:00.250'"
    """
    text = value.strftime("%Y-%m-%d %H:%M:%S")
    if value.microsecond:
        text += f".{value.microsecond // 1000:03d}"
    return f"timestamp '{text}'"


def iso_z(value: datetime) -> str:
    """ISO text in UTC with milliseconds and ``Z``, as the sync state stores ``:updated_at``.

    Example:
        >>> iso_z(datetime(2024, 1, 31, 12, 0, 0, 250000))
        '2024-01-31T12:00:00.250Z'
    """
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def whole_seconds(where: str) -> str | None:
    """``where`` with its millisecond timestamp literals widened to whole seconds, or None if it has none.

    ArcGIS documents only ``timestamp 'yyyy-mm-dd hh:mm:ss'``, and some servers reject fractions.
    A lower bound (``>=``) is rounded down and an upper bound (``<``) up, so the window holds at
    least the rows it held (on layers whose dates have no milliseconds, exactly those rows).

    Example:
        >>> whole_seconds("EditDate >= timestamp '2024-01-31 12:00:00.250' AND EditDate < "
        ...               "timestamp '2024-01-31 12:00:59.001'")
        "EditDate >= timestamp '2024-01-31 12:00:00' AND EditDate < timestamp '2024-01-31 12:01:00'"
        >>> whole_seconds("1=1") is None
        True
    """

    def widen(match: re.Match[str]) -> str:
        moment_ = datetime.fromisoformat(match[2])
        if match[1] == "<":
            moment_ += timedelta(seconds=1)
        return f"{match[1]} timestamp '{moment_:%Y-%m-%d %H:%M:%S}'"

    widened = _FRACTIONAL.sub(widen, where)
    return None if widened == where else widened
