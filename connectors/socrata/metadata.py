"""Read Socrata's metadata: ``/api/views`` JSON, ``X-SODA2-*`` headers, ``/api/catalog/v1`` results."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import orjson

from btvstat_open.errors import BtvstatError
from btvstat_open.instants import parse_instant
from btvstat_open.types import SYSTEM_COLUMNS, Column, canonical_type
from connectors.base import DatasetDescription, DatasetSummary

__all__ = [
    "SYSTEM_TYPES",
    "columns_from_headers",
    "description_from_view",
    "socrata_type",
    "summaries_from_catalog",
]

SYSTEM_TYPES: dict[str, str] = dict(SYSTEM_COLUMNS)


def socrata_type(name: str | None, field_name: str = "") -> str:
    """The canonical type for a metadata type name; unknown or odd types read as text.

    System fields keep their own types even where a portal calls them ``meta_data``.

    Example:
        >>> socrata_type("calendar_date"), socrata_type("meta_data", ":updated_at"), socrata_type("nope")
        ('floating_timestamp', 'fixed_timestamp', 'text')
    """
    if field_name in SYSTEM_TYPES:
        return SYSTEM_TYPES[field_name]
    try:
        return canonical_type(name or "text")
    except BtvstatError:
        return "text"


def _timestamp(value: Any) -> datetime | None:
    """Socrata's epoch seconds (or an ISO text) as an aware UTC datetime."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float):
        try:
            return datetime.fromtimestamp(float(value), UTC)
        except (OverflowError, OSError, ValueError):  # 1e20, NaN: no moment a portal can mean
            return None
    return parse_instant(str(value))


def _row_identifier(view: Mapping[str, Any], columns: list[Mapping[str, Any]]) -> str | None:
    """The row identifier's field name: ``rowIdentifier`` directly or via ``rowIdentifierColumnId``."""
    direct = view.get("rowIdentifier")
    if isinstance(direct, str) and direct:
        return direct
    col_id = view.get("rowIdentifierColumnId")
    if col_id is None:
        return None
    for col in columns:
        if col.get("id") == col_id:
            name = col.get("fieldName")
            return str(name) if name else None
    return None


def description_from_view(
    view: Mapping[str, Any],
    *,
    etag: str | None = None,
    last_modified_header: str | None = None,
) -> DatasetDescription:
    """A :class:`DatasetDescription` from an ``/api/views/{id}.json`` body.

    Hidden and system columns are left out; legacy type names map to canonical ones.

    Example:
        >>> view = {"id": "7ray-xvet", "name": "Permits", "columns": [
        ...     {"fieldName": "week", "name": "Week", "dataTypeName": "calendar_date"}]}
        >>> description_from_view(view).columns[0].data_type
        'floating_timestamp'
    """
    raw_columns = [c for c in view.get("columns") or [] if isinstance(c, Mapping)]
    columns: list[Column] = []
    for col in raw_columns:
        field = col.get("fieldName")
        if not field or str(field).startswith(":"):
            continue
        flags = col.get("flags") or []
        if "hidden" in flags:
            continue
        columns.append(
            Column(
                field_name=str(field),
                name=str(col.get("name") or field),
                data_type=socrata_type(col.get("dataTypeName") or col.get("renderTypeName")),
                description=str(col.get("description") or ""),
            )
        )
    count = view.get("rowCount", view.get("row_count"))
    return DatasetDescription(
        id=str(view.get("id") or ""),
        name=str(view.get("name") or view.get("id") or ""),
        columns=tuple(columns),
        description=str(view.get("description") or ""),
        row_identifier=_row_identifier(view, raw_columns),
        row_count=int(count) if isinstance(count, int | str) and str(count).isdigit() else None,
        last_modified=_timestamp(view.get("viewLastModified")),
        rows_updated_at=_timestamp(view.get("rowsUpdatedAt")),
        etag=etag,
        last_modified_header=last_modified_header,
    )


def columns_from_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Field name -> canonical type from ``X-SODA2-Fields`` and ``X-SODA2-Types``.

    Example:
        >>> columns_from_headers({"X-SODA2-Fields": '["a",":id"]', "X-SODA2-Types": '["money","meta_data"]'})
        {'a': 'number', ':id': 'text'}
    """
    fields_text = headers.get("X-SODA2-Fields")
    types_text = headers.get("X-SODA2-Types")
    if not fields_text or not types_text:
        return {}
    try:
        fields = orjson.loads(fields_text)
        types = orjson.loads(types_text)
    except orjson.JSONDecodeError:
        return {}
    if not isinstance(fields, list) or not isinstance(types, list) or len(fields) != len(types):
        return {}
    return {str(f): socrata_type(str(t), str(f)) for f, t in zip(fields, types, strict=True)}


def summaries_from_catalog(body: Any) -> list[DatasetSummary]:
    """Dataset summaries from an ``/api/catalog/v1`` body (``{"results": [{"resource": ...}]}``)."""
    results = body.get("results") if isinstance(body, Mapping) else None
    out: list[DatasetSummary] = []
    for entry in results or []:
        resource = entry.get("resource") or {}
        meta = entry.get("metadata") or {}
        out.append(
            DatasetSummary(
                id=str(resource.get("id") or ""),
                name=str(resource.get("name") or ""),
                description=str(resource.get("description") or ""),
                domain=meta.get("domain"),
                updated_at=resource.get("data_updated_at") or resource.get("updatedAt"),
                columns=tuple(str(c) for c in resource.get("columns_field_name") or ()),
                link=entry.get("link") or entry.get("permalink"),
            )
        )
    return out
