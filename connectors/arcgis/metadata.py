"""What an ArcGIS layer's ``?f=json`` metadata says: typed columns, object id, limits, edit dates.

Field types map onto the project's (Socrata) types:

==========================================================  ====================================
ArcGIS field type                                           column type
==========================================================  ====================================
esriFieldTypeOID                                            the row id ``:id`` (not a column)
esriFieldTypeInteger, SmallInteger, BigInteger, Double,     number
Single
SmallInteger/Integer with a coded-value domain of 0 and 1   checkbox
esriFieldTypeString, GlobalID, GUID, XML, TimeOnly          text
esriFieldTypeDate, TimestampOffset                          fixed_timestamp (epoch ms, UTC)
esriFieldTypeDate on a layer with datesInUnknownTimezone,   floating_timestamp
esriFieldTypeDateOnly
esriFieldTypeGeometry                                       the ``geometry`` column (see decode)
esriFieldTypeBlob, Raster                                   left out (not readable as JSON)
==========================================================  ====================================

The editor-tracking date fields (``editFieldsInfo``) are the row's ``:updated_at`` and
``:created_at``, not columns. Field names become API field names the Socrata way
(``SHAPE.STArea()`` -> ``shape_starea``); the alias is the display name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from btvstat_open.fieldnames import field_names
from btvstat_open.types import Column

__all__ = ["GEOMETRY_COLUMN", "LayerField", "LayerInfo", "parse_layer"]

GEOMETRY_COLUMN: Final = "geometry"
_DEFAULT_MAX_RECORDS: Final = 1000  # what ArcGIS Server uses when a layer does not say

_KINDS: Final = {
    "esriFieldTypeInteger": "number",
    "esriFieldTypeSmallInteger": "number",
    "esriFieldTypeBigInteger": "number",
    "esriFieldTypeBigInt": "number",
    "esriFieldTypeDouble": "number",
    "esriFieldTypeSingle": "number",
    "esriFieldTypeString": "text",
    "esriFieldTypeGlobalID": "text",
    "esriFieldTypeGUID": "text",
    "esriFieldTypeXML": "text",
    "esriFieldTypeTimeOnly": "text",
    "esriFieldTypeDate": "date",
    "esriFieldTypeTimestampOffset": "date",
    "esriFieldTypeDateOnly": "date",
}
_GEOMETRY_TYPES: Final = {
    "esriGeometryPoint": "point",
    "esriGeometryMultipoint": "text",
    "esriGeometryPolyline": "text",
    "esriGeometryPolygon": "text",
    "esriGeometryEnvelope": "text",
}


@dataclass(frozen=True)
class LayerField:
    """One attribute field: its ArcGIS name, how values decode (``kind``) and its column."""

    source: str
    kind: str  # number, text, date, checkbox
    column: Column


@dataclass(frozen=True)
class LayerInfo:
    """A layer's metadata, as the connector uses it.

    Example:
        >>> info = parse_layer({"name": "Stops", "objectIdField": "OBJECTID", "fields": [
        ...     {"name": "OBJECTID", "type": "esriFieldTypeOID"},
        ...     {"name": "ROUTE NAME", "type": "esriFieldTypeString", "alias": "Route"}]}, "0")
        >>> [(c.field_name, c.name, c.data_type) for c in info.columns], info.oid_field
        ([('route_name', 'Route', 'text')], 'OBJECTID')
    """

    layer_id: str
    name: str
    description: str
    fields: tuple[LayerField, ...]
    oid_field: str | None
    edit_date_field: str | None = None
    creation_date_field: str | None = None
    geometry_type: str | None = None
    max_record_count: int = _DEFAULT_MAX_RECORDS
    supports_pagination: bool = False
    supports_order_by: bool = False
    supports_statistics: bool = False
    last_edit_ms: int | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def columns(self) -> tuple[Column, ...]:
        """The dataset's columns: the attribute fields, then ``geometry`` when the layer has one."""
        cols = tuple(f.column for f in self.fields)
        if self.geometry_type in _GEOMETRY_TYPES:
            cols += (Column(GEOMETRY_COLUMN, "Geometry", _GEOMETRY_TYPES[self.geometry_type]),)
        return cols

    def source_name(self, name: str) -> str | None:
        """The ArcGIS field behind a column name (API name or ArcGIS name, any case), or None.

        ``:id``, ``:updated_at`` and ``:created_at`` name the object id and edit-date fields.
        """
        system = {":id": self.oid_field, ":updated_at": self.edit_date_field}
        system[":created_at"] = self.creation_date_field
        if name in system:
            return system[name]
        for f in self.fields:
            if name in (f.column.field_name, f.source) or name.lower() == f.source.lower():
                return f.source
        return None


def _kind(raw: dict[str, Any]) -> str | None:
    """How a field's values decode, or None for fields left out (geometry, blobs, rasters)."""
    kind = _KINDS.get(str(raw.get("type")))
    domain = raw.get("domain") or {}
    if kind == "number" and domain.get("type") == "codedValue":
        codes = {c.get("code") for c in domain.get("codedValues") or []}
        if codes == {0, 1}:  # a yes/no domain: ArcGIS has no boolean type
            kind = "checkbox"
    return kind


def _date_type(raw: dict[str, Any], floating: bool) -> str:
    if raw.get("type") == "esriFieldTypeDateOnly" or (floating and raw.get("type") == "esriFieldTypeDate"):
        return "floating_timestamp"
    return "fixed_timestamp"


def _int(value: Any, default: int | None) -> int | None:
    try:
        return int(float(value)) if value is not None else default
    except (TypeError, ValueError, OverflowError):
        return default


#: Epoch milliseconds of years 1 and 9999: an edit date outside them is no moment (1e20 is none).
_EDIT_RANGE = (-62_135_596_800_000, 253_402_300_799_000)


def _edit_ms(value: Any) -> int | None:
    ms = _int(value, None)
    return ms if ms is not None and _EDIT_RANGE[0] <= ms <= _EDIT_RANGE[1] else None


def parse_layer(raw: dict[str, Any], layer_id: str) -> LayerInfo:
    """Read a layer's ``?f=json`` answer (old servers omit most keys: defaults fill in)."""
    fields_raw = [f for f in raw.get("fields") or [] if isinstance(f, dict)]
    oid = raw.get("objectIdField") or next(
        (f["name"] for f in fields_raw if f.get("type") == "esriFieldTypeOID"), None
    )
    edit = raw.get("editFieldsInfo") or {}
    edit_date, created = edit.get("editDateField") or None, edit.get("creationDateField") or None
    floating = bool(raw.get("datesInUnknownTimezone"))
    system = {oid, edit_date, created}
    typed = [(f, k) for f in fields_raw if f.get("name") not in system and (k := _kind(f)) is not None]
    names = field_names(str(f["name"]) for f, _ in typed)
    fields = []
    for (f, kind), api_name in zip(typed, names, strict=True):
        data_type = _date_type(f, floating) if kind == "date" else kind
        column = Column(api_name, str(f.get("alias") or f["name"]), data_type)
        fields.append(LayerField(str(f["name"]), kind, column))
    advanced = raw.get("advancedQueryCapabilities") or {}
    editing = raw.get("editingInfo") or {}
    return LayerInfo(
        layer_id=layer_id,
        name=str(raw.get("name") or f"Layer {layer_id}"),
        description=str(raw.get("description") or ""),
        fields=tuple(fields),
        oid_field=str(oid) if oid else None,
        edit_date_field=edit_date,
        creation_date_field=created,
        geometry_type=raw.get("geometryType") or None,
        max_record_count=_int(raw.get("maxRecordCount"), _DEFAULT_MAX_RECORDS) or _DEFAULT_MAX_RECORDS,
        supports_pagination=bool(advanced.get("supportsPagination")),
        supports_order_by=bool(advanced.get("supportsOrderBy")),
        supports_statistics=bool(advanced.get("supportsStatistics", raw.get("supportsStatistics"))),
        last_edit_ms=_edit_ms(editing.get("dataLastEditDate", editing.get("lastEditDate"))),
        raw=raw,
    )
