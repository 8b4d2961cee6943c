"""Socrata data types, their Arrow and DuckDB types, and dataset columns.

Each Socrata type maps to exactly one Arrow type:

=====================  ==============================  =========================================
Socrata type           Arrow type                      notes
=====================  ==============================  =========================================
text                   string
number                 float64                         Socrata sends numbers as JSON strings
checkbox               bool
floating_timestamp     timestamp[us] (no zone)         ``2024-01-31T12:00:00.000``
fixed_timestamp        timestamp[us, tz=UTC]           ``2024-01-31T12:00:00.000Z``
point                  string, WKT ``POINT (lon lat)`` GeoJSON ``{"type": "Point", ...}`` in JSON
location               struct<latitude: float64,       Socrata's legacy location; CSV renders
                       longitude: float64,             ``address\\n(lat, lon)``
                       human_address: string>
url                    string                          JSON ``{"url": ...}`` objects keep the url
=====================  ==============================  =========================================

Legacy names (``calendar_date``, ``money``, ``double``, ``percent``, ``date``, ``html``, ...)
are accepted everywhere and mapped onto these with :func:`canonical_type`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import pyarrow as pa

from btvstat_open.errors import UsageError

__all__ = [
    "LOCATION_ARROW",
    "SOCRATA_TYPES",
    "SYSTEM_COLUMNS",
    "Column",
    "arrow_type",
    "canonical_type",
    "duckdb_type",
]

SOCRATA_TYPES: Final = (
    "text",
    "number",
    "checkbox",
    "floating_timestamp",
    "fixed_timestamp",
    "point",
    "location",
    "url",
)

LEGACY_TYPES: Final = {
    "calendar_date": "floating_timestamp",
    "date": "fixed_timestamp",
    "money": "number",
    "double": "number",
    "percent": "number",
    "stars": "number",
    "html": "text",
    "email": "text",
    "phone": "text",
    "photo": "text",
    "document": "text",
    "drop_down_list": "text",
    "flag": "text",
    "meta_data": "text",
    "blob": "text",
    "multiline": "text",
    "nested_table": "text",
    "boolean": "checkbox",
    "bool": "checkbox",
    "string": "text",
    "multipoint": "text",
    "line": "text",
    "multiline_string": "text",
    "polygon": "text",
    "multipolygon": "text",
}

LOCATION_ARROW: Final = pa.struct(
    [
        pa.field("latitude", pa.float64()),
        pa.field("longitude", pa.float64()),
        pa.field("human_address", pa.string()),
    ]
)

_ARROW: Final[dict[str, pa.DataType]] = {
    "text": pa.string(),
    "number": pa.float64(),
    "checkbox": pa.bool_(),
    "floating_timestamp": pa.timestamp("us"),
    "fixed_timestamp": pa.timestamp("us", tz="UTC"),
    "point": pa.string(),
    "location": LOCATION_ARROW,
    "url": pa.string(),
}

_DUCKDB: Final = {
    "text": "VARCHAR",
    "number": "DOUBLE",
    "checkbox": "BOOLEAN",
    "floating_timestamp": "TIMESTAMP",
    "fixed_timestamp": "TIMESTAMPTZ",
    "point": "VARCHAR",
    "location": "STRUCT(latitude DOUBLE, longitude DOUBLE, human_address VARCHAR)",
    "url": "VARCHAR",
}

# System fields every dataset has, as Socrata names and types them.
SYSTEM_COLUMNS: Final = (
    (":id", "text"),
    (":created_at", "fixed_timestamp"),
    (":updated_at", "fixed_timestamp"),
)


def canonical_type(name: str) -> str:
    """The canonical Socrata type for a type name, legacy names included.

    Example:
        >>> canonical_type("calendar_date")
        'floating_timestamp'
        >>> canonical_type("Number")
        'number'
    """
    key = name.strip().lower()
    if key in _ARROW:
        return key
    if key in LEGACY_TYPES:
        return LEGACY_TYPES[key]
    known = ", ".join(SOCRATA_TYPES)
    raise UsageError(f"Unknown data type {name!r}. Use one of: {known}.", code="type.unknown")


def arrow_type(socrata_type: str) -> pa.DataType:
    """The Arrow type that holds values of a Socrata type.

    Example:
        >>> arrow_type("fixed_timestamp")
        TimestampType(timestamp[us, tz=UTC])
    """
    return _ARROW[canonical_type(socrata_type)]


def duckdb_type(socrata_type: str) -> str:
    """The DuckDB column type the store uses for a Socrata type.

    Example:
        >>> duckdb_type("number")
        'DOUBLE'
    """
    return _DUCKDB[canonical_type(socrata_type)]


@dataclass(frozen=True)
class Column:
    """One column of a dataset: API field name, display name, Socrata type.

    Example:
        >>> Column("days_to_close", "DAYS TO CLOSE", "number").arrow_field
        pyarrow.Field<days_to_close: double>
    """

    field_name: str
    name: str
    data_type: str
    description: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "data_type", canonical_type(self.data_type))

    @property
    def arrow_field(self) -> pa.Field:
        """This column as an Arrow field named by its field name."""
        return pa.field(self.field_name, arrow_type(self.data_type))

    def to_json(self) -> dict[str, str]:
        """The column as stored in the store's metadata."""
        return {
            "fieldName": self.field_name,
            "name": self.name,
            "dataTypeName": self.data_type,
            "description": self.description,
        }

    @classmethod
    def from_json(cls, data: dict[str, str]) -> Column:
        """Read a column from :meth:`to_json`'s shape (or Socrata's ``/api/views`` column)."""
        return cls(
            field_name=data["fieldName"],
            name=data.get("name") or data["fieldName"],
            data_type=data["dataTypeName"],
            description=data.get("description") or "",
        )
