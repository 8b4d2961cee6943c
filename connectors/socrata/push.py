"""Publishing rows to a Socrata dataset: upsert or replace, in batches, JSON or CSV bodies.

``replace`` sends the first batch with ``PUT`` (which replaces every row) and the rest as
upserts, so a re-run after any failure starts again from a clean replace. ``upsert``
sends every batch with ``POST``; rows with a true ``:deleted`` field are deleted. Counts
from every batch are summed into one :class:`PushResult`; a batch reporting ``Errors``
stops the push with a :class:`PushError` naming it.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import orjson
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from btvstat_open.errors import PushError, UsageError
from btvstat_open.fieldnames import field_names
from connectors.base import PushResult
from connectors.output import csv_ready
from connectors.socrata.decode.from_csv import csv_header

__all__ = ["BodyFormat", "encode_csv", "encode_json", "iter_push_batches", "push_table", "read_push_data"]

BodyFormat = Literal["json", "csv"]


def read_push_data(data: Any) -> pa.Table:
    """The rows to push as an Arrow table, from a table, a pandas DataFrame or a file path.

    CSV files are read with every column as text (the portal types values by its own
    schema, and ``00501`` stays ``00501``); headers become API field names.

    Example:
        >>> read_push_data(pa.table({"a": [1]})).num_rows
        1
    """
    if isinstance(data, pa.Table):
        return data
    if isinstance(data, pa.RecordBatch):
        return pa.Table.from_batches([data])
    if isinstance(data, str | Path):
        path = Path(data)
        if not path.is_file():
            raise UsageError(f"No file {str(path)!r} to push; give a .csv or .parquet file that exists.")
        suffix = path.suffix.lower()
        if suffix in (".parquet", ".pq"):
            return pq.read_table(path)
        if suffix == ".csv":
            with open(path, "rb") as fh:
                header = fh.read(64 * 1024)
            raw = csv_header(header)
            names = [h if h.startswith(":") else n for h, n in zip(raw, field_names(raw), strict=True)]
            table = pacsv.read_csv(
                path,
                read_options=pacsv.ReadOptions(column_names=names, skip_rows=1),
                parse_options=pacsv.ParseOptions(newlines_in_values=True),
                convert_options=pacsv.ConvertOptions(
                    column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=True
                ),
            )
            if ":deleted" in table.column_names:
                flags = table.column(":deleted").to_pylist()
                table = table.set_column(
                    table.schema.get_field_index(":deleted"),
                    ":deleted",
                    pa.array([str(v).lower() in ("true", "1") for v in flags], pa.bool_()),
                )
            return table
        raise UsageError(f"Cannot push {path.name!r}: give a .csv or .parquet file.")
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        return pa.Table.from_pandas(data, preserve_index=False)
    raise UsageError(
        f"Cannot push a {type(data).__name__}: give a pyarrow Table, a DataFrame or a file path."
    )


def encode_json(batch: pa.RecordBatch) -> bytes:
    """A batch as a JSON array of row objects.

    Nulls are sent (an upsert sets them); ``:deleted`` only where it is true.

    Example:
        >>> encode_json(pa.record_batch({"a": [1, None], ":deleted": [False, True]}))
        b'[{"a":1},{"a":null,":deleted":true}]'
    """
    rows = batch.to_pylist()
    if ":deleted" in batch.schema.names:
        for row in rows:
            if not row.get(":deleted"):
                row.pop(":deleted", None)
    return orjson.dumps(rows, option=orjson.OPT_UTC_Z, default=str)


def encode_csv(batch: pa.RecordBatch) -> bytes:
    """A batch as CSV with a header of field names (locations as JSON texts)."""
    sink = io.BytesIO()
    pacsv.write_csv(csv_ready(batch), sink)
    return sink.getvalue()


def iter_push_batches(table: pa.Table, batch_size: int) -> Iterator[pa.RecordBatch]:
    """The table cut into batches of at most ``batch_size`` rows (one empty batch for no rows)."""
    if table.num_rows == 0:
        yield pa.RecordBatch.from_pylist([], schema=table.schema)
        return
    for offset in range(0, table.num_rows, batch_size):
        yield from table.slice(offset, batch_size).combine_chunks().to_batches(max_chunksize=batch_size)


def push_table(
    send: Any,
    table: pa.Table,
    dataset_id: str,
    *,
    mode: Literal["upsert", "replace"],
    batch_size: int,
    body: BodyFormat,
    keyed: bool,
) -> PushResult:
    """Send the batches through ``send(method, path, body, content_type, idempotent) -> dict``.

    ``keyed`` says whether every row carries its key (row identifier or ``:id``): only
    then may a batch whose fate is unknown (5xx, dropped connection) be sent again.
    """
    if mode not in ("upsert", "replace"):
        raise UsageError(f"Unknown push mode {mode!r}; use 'upsert' or 'replace'.")
    if batch_size < 1:
        raise UsageError("batch_size must be at least 1.")
    result = PushResult(dataset_id=dataset_id)
    extension = "csv" if body == "csv" else "json"
    content_type = "text/csv" if body == "csv" else "application/json"
    for number, batch in enumerate(iter_push_batches(table, batch_size)):
        method = "PUT" if mode == "replace" and number == 0 else "POST"
        payload = encode_csv(batch) if body == "csv" else encode_json(batch)
        answer = send(
            method,
            f"/resource/{dataset_id}.{extension}",
            payload,
            content_type,
            method == "PUT" or keyed,
        )
        if not isinstance(answer, dict):
            raise PushError(
                f"Batch {number} of the push to {dataset_id!r} got an unreadable answer: {answer!r}",
                batch=number,
            )
        before = result.errors
        result.add(answer)
        if result.errors > before:
            raise PushError(
                f"Batch {number} (rows {number * batch_size + 1}-{number * batch_size + batch.num_rows}) "
                f"of the push to {dataset_id!r} reported {result.errors - before} errors; earlier batches "
                "were applied. Fix the rows and push again (a re-run is safe).",
                batch=number,
                result=answer,
                code="push.errors",
            )
    return result
