"""Socrata data types, their Arrow and DuckDB types, dataset columns and dataset descriptions.

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
from datetime import datetime
from typing import Final

import pyarrow as pa

from btvstat_open.errors import UsageError

__all__ = [
    "LOCATION_ARROW",
    "SOCRATA_TYPES",
    "SYSTEM_COLUMNS",
    "Column",
    "DatasetColumns",
    "DatasetDescription",
    "DatasetSummary",
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


class DatasetColumns:
    """The column lookups every description of a dataset shares (store, connectors, sync).

    ``column(name)`` is the column with that field name, system fields (``:id``,
    ``:created_at``, ``:updated_at``) included, or **None**: one rule everywhere.
    ``require_column(name)`` is the same but raises :class:`UsageError` (``column.missing``)
    naming the dataset and its columns, for callers that cannot go on without it.

    Example:
        >>> d = DatasetDescription("abcd-1234", "Potholes", (Column("n", "N", "number"),))
        >>> d.column("n").data_type, d.column(":id").data_type, d.column("nope")
        ('number', 'text', None)
        >>> d.require_column("nope")
        Traceback (most recent call last):
        ...
        btvstat_open.errors.UsageError: Dataset 'abcd-1234' has no column 'nope'; its columns: n.
    """

    id: str
    columns: tuple[Column, ...]

    @property
    def all_columns(self) -> tuple[Column, ...]:
        """System columns followed by the dataset's own columns."""
        system = tuple(Column(name, name, kind) for name, kind in SYSTEM_COLUMNS)
        return system + self.columns

    @property
    def arrow_schema(self) -> pa.Schema:
        """Arrow schema of the dataset's own columns (no system columns)."""
        return pa.schema([c.arrow_field for c in self.columns])

    def column(self, field_name: str) -> Column | None:
        """The column with this field name (system fields included), or None."""
        for col in self.all_columns:
            if col.field_name == field_name:
                return col
        return None

    def require_column(self, field_name: str) -> Column:
        """The column with this field name (system fields included); raises when there is none."""
        col = self.column(field_name)
        if col is None:
            names = ", ".join(c.field_name for c in self.columns) or "none"
            message = f"Dataset {self.id!r} has no column {field_name!r}; its columns: {names}."
            raise UsageError(message, code="column.missing")
        return col


@dataclass(frozen=True)
class DatasetDescription(DatasetColumns):
    """What a portal (any kind) says about one dataset: what connectors answer and the sync reads.

    ``etag`` and ``last_modified_header`` are the validators of the metadata response (or of the
    dataset's rows where the portal gives them); ``last_modified`` is when the metadata last
    changed and ``rows_updated_at`` when rows did. The store's own record of a dataset is
    :class:`btvstat_open.store.DatasetInfo`, which shares the column lookups.

    Example:
        >>> DatasetDescription("abcd-1234", "Potholes", (Column("n", "N", "number"),)).arrow_schema
        n: double
    """

    id: str
    name: str
    columns: tuple[Column, ...]
    description: str = ""
    row_identifier: str | None = None
    row_count: int | None = None
    last_modified: datetime | None = None
    rows_updated_at: datetime | None = None
    etag: str | None = None
    last_modified_header: str | None = None


@dataclass(frozen=True)
class DatasetSummary:
    """One entry of a portal's dataset listing: less than a description (column names, no types).

    Example:
        >>> DatasetSummary("abcd-1234", "Potholes", columns=("status",)).columns
        ('status',)
    """

    id: str
    name: str
    description: str = ""
    domain: str | None = None
    updated_at: str | None = None
    columns: tuple[str, ...] = ()
    link: str | None = None
