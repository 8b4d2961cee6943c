"""DataStore field types as Socrata types, and DataStore records as typed Arrow batches.

The DataStore is PostgreSQL, and ``datastore_search`` reports each field's PostgreSQL type.
Values arrive as JSON, but not always as the JSON type one would guess: ``numeric`` values
are strings (``"0.000384"``, exact decimals in Python's ``str`` form), timestamps are ISO
text without a zone, arrays and ``json`` fields are JSON values. Types are therefore read
from ``fields``, never from the values.

Field names starting with ``_`` (``_id``, ``_full_text``) are the DataStore's own and are left out.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from btvstat_open.errors import PortalError
from btvstat_open.types import Column, arrow_type

__all__ = [
    "CSV_TYPES",
    "SOCRATA_TYPE",
    "columns_from_fields",
    "csv_records_to_batch",
    "records_to_batch",
    "socrata_type",
]

#: PostgreSQL (DataStore) type -> Socrata type; anything else is text.
SOCRATA_TYPE = {
    **dict.fromkeys(("int", "int2", "int4", "int8", "integer", "bigint", "smallint"), "number"),
    **dict.fromkeys(("float4", "float8", "real", "double precision", "numeric", "decimal"), "number"),
    **dict.fromkeys(("bool", "boolean"), "checkbox"),
    **dict.fromkeys(("timestamp", "timestamp without time zone", "date"), "floating_timestamp"),
    **dict.fromkeys(("timestamptz", "timestamp with time zone"), "fixed_timestamp"),
}


def socrata_type(datastore_type: str) -> str:
    """The Socrata type for a DataStore field type (``time``, ``json``, arrays ... are text).

    Example:
        >>> [socrata_type(t) for t in ("int4", "numeric", "timestamp", "bool", "_text", "time")]
        ['number', 'number', 'floating_timestamp', 'checkbox', 'text', 'text']
    """
    return SOCRATA_TYPE.get(datastore_type.strip().lower(), "text")


def columns_from_fields(fields: Sequence[dict[str, Any]]) -> tuple[Column, ...]:
    """The dataset's columns from ``datastore_search``'s ``fields`` (the DataStore's own left out).

    A data dictionary label (``info.label``) becomes the display name, ``info.notes`` the description.

    Example:
        >>> columns_from_fields([{"id": "_id", "type": "int4"}, {"id": "quarter", "type": "text"}])
        (Column(field_name='quarter', name='quarter', data_type='text', description=''),)
    """
    out = []
    for field in fields:
        name = str(field["id"])
        if name.startswith("_"):
            continue
        raw_info = field.get("info")
        info: dict[str, Any] = raw_info if isinstance(raw_info, dict) else {}
        label = str(info.get("label") or name)
        out.append(
            Column(name, label, socrata_type(str(field.get("type", "text"))), str(info.get("notes") or ""))
        )
    return tuple(out)


def _number(value: Any) -> float | None:
    if value is None or value == "":
        return None
    return float(value)  # "0.000384" (numeric) or 12 (int4): both are numbers


def _checkbox(value: Any) -> bool | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value.strip().lower() in ("true", "t", "1", "yes")
    return bool(value)


def _floating(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    parsed = datetime.fromisoformat(str(value))
    if parsed.tzinfo is not None:  # written with a zone: the moment, in UTC
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


def _fixed(value: Any) -> datetime | None:
    parsed = _floating(value)  # naive UTC: a value with a zone was converted, one without is UTC
    return None if parsed is None else parsed.replace(tzinfo=UTC)


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return str(value).lower() if isinstance(value, bool) else str(value)
    return orjson.dumps(value).decode()  # arrays and json fields keep their JSON


_CONVERT: dict[str, Callable[[Any], Any]] = {
    "number": _number,
    "checkbox": _checkbox,
    "floating_timestamp": _floating,
    "fixed_timestamp": _fixed,
}


def records_to_batch(records: Sequence[dict[str, Any]], columns: Sequence[Column]) -> pa.RecordBatch:
    """DataStore records as one record batch typed by ``columns`` (missing keys are nulls).

    Example:
        >>> cols = (Column("q", "q", "text"), Column("v", "v", "number"))
        >>> records_to_batch([{"q": "2004-Q3", "v": "0.000384", "_id": 1}], cols).to_pylist()
        [{'q': '2004-Q3', 'v': 0.000384}]
        >>> cols = columns_from_fields([{"id": "at", "type": "timestamptz"}, {"id": "ok", "type": "bool"},
        ...                             {"id": "tags", "type": "_text"}])
        >>> row = {"at": "2024-01-01T05:00:00-05:00", "ok": True, "tags": ["a", "b"]}
        >>> records_to_batch([row], cols).to_pylist()
        [{'at': datetime.datetime(2024, 1, 1, 10, 0, tzinfo=...'UTC')), 'ok': True, 'tags': '["a","b"]'}]
    """
    arrays = []
    for col in columns:
        convert: Callable[[Any], Any] = _CONVERT.get(col.data_type) or _text
        try:
            values = [convert(r.get(col.field_name)) for r in records]
            arrays.append(pa.array(values, arrow_type(col.data_type)))
        except (ValueError, TypeError, pa.ArrowException) as exc:
            raise PortalError(
                f"The DataStore sent a value of {col.field_name!r} that is not a {col.data_type} ({exc}). "
                "Report it to the portal, or pull the resource's CSV file instead.",
                code="ckan.bad-value",
            ) from exc
    schema = pa.schema([c.arrow_field for c in columns])
    batch: pa.RecordBatch = pa.RecordBatch.from_arrays(arrays, schema=schema)
    return batch


#: PostgreSQL types whose text in the DataStore's CSV pages (``records_format=csv``, PostgreSQL's
#: ``COPY ... csv``) reads back to the same value as their JSON in ``objects`` pages.
CSV_TYPES = frozenset(
    {"text", "varchar", "character varying", *SOCRATA_TYPE}
    - {"timestamptz", "timestamp with time zone"}  # written in the server session's zone
)


def csv_records_to_batch(
    text: str, fields: Sequence[dict[str, Any]], columns: Sequence[Column]
) -> pa.RecordBatch:
    """A ``records_format=csv`` page (PostgreSQL CSV, no header, ``fields`` in order) typed by ``columns``.

    An unquoted empty cell is null, a quoted one an empty text; booleans are ``t``/``f``.

    Example:
        >>> fields = [{"id": "_id", "type": "int4"}, {"id": "q", "type": "text"},
        ...           {"id": "v", "type": "numeric"}, {"id": "ok", "type": "bool"},
        ...           {"id": "at", "type": "timestamp"}]
        >>> cols = columns_from_fields(fields)
        >>> csv_records_to_batch('1,"",0.5,t,2024-01-02 03:04:05\\n2,a,,f,\\n', fields, cols).to_pylist()[0]
        {'q': '', 'v': 0.5, 'ok': True, 'at': datetime.datetime(2024, 1, 2, 3, 4, 5)}
    """
    names = [str(f["id"]) for f in fields]
    table = pcsv.read_csv(
        io.BytesIO(text.encode()),
        read_options=pcsv.ReadOptions(column_names=names, block_size=1 << 24),
        parse_options=pcsv.ParseOptions(newlines_in_values=True),
        convert_options=pcsv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.string()),
            include_columns=[c.field_name for c in columns],
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
        ),
    )
    arrays = []
    for col in columns:
        values = table.column(col.field_name).combine_chunks()
        try:
            arrays.append(_csv_column(values, col.data_type))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):  # a value Arrow cannot read: as JSON pages are
            convert = _CONVERT.get(col.data_type) or _text
            arrays.append(pa.array([convert(v) for v in values.to_pylist()], arrow_type(col.data_type)))
    return pa.RecordBatch.from_arrays(arrays, schema=pa.schema([c.arrow_field for c in columns]))


def _csv_column(values: pa.Array, data_type: str) -> pa.Array:
    if data_type == "checkbox":
        return pc.equal(values, "t")
    if data_type == "text":
        return values
    return values.cast(arrow_type(data_type))
