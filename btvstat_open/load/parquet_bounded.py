"""Reading a Parquet file in small batches, each checked before it expands (dictionary bombs).

A few hundred bytes of Parquet can describe gigabytes: one long value in a dictionary page and
millions of run-length-encoded indices to it. So text and binary columns are read as Arrow
dictionaries (cheap: the indices and the distinct values), and each batch's expanded size is
computed from the value lengths before anything is expanded. A value longer than
``BTVSTAT_MAX_CELL_MB``, a batch larger than ``BTVSTAT_MAX_BODY_MB``, or a file larger than
``total_cap`` (``BTVSTAT_MAX_FILE_MB`` for a file read whole) is a :class:`LoadError` naming the
setting. The sizes the file's own metadata declares are checked first.

Example:
    >>> import io, pyarrow.parquet as pq
    >>> buffer = io.BytesIO(); pq.write_table(pa.table({"a": ["x", "y"], "n": [1, 2]}), buffer)
    >>> [b.num_rows for b in checked_batches(pa.BufferReader(buffer.getvalue()), "t.parquet")]
    [2]
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from btvstat_open.errors import LoadError
from btvstat_open.limits import limit, too_large

__all__ = ["checked_batches", "open_parquet"]

_CELL, _BATCH = "BTVSTAT_MAX_CELL_MB", "BTVSTAT_MAX_BODY_MB"


def _texty(kind: pa.DataType) -> bool:
    return bool(
        pa.types.is_string(kind)
        or pa.types.is_large_string(kind)
        or pa.types.is_binary(kind)
        or pa.types.is_large_binary(kind)
    )


def open_parquet(source: str | Path | Any, name: str) -> pq.ParquetFile:
    """The file, with text and binary columns to be read as dictionaries; unreadable: LoadError."""
    try:
        plain = pq.ParquetFile(source)
        texts = [f.name for f in plain.schema_arrow if _texty(f.type)]
        if isinstance(source, pa.NativeFile):
            source.seek(0)
        return pq.ParquetFile(source, read_dictionary=texts) if texts else plain
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise LoadError(
            f"{name} is not a readable Parquet file ({exc}). Write it again or export it as CSV."
        ) from exc


def _declared(parquet: pq.ParquetFile, name: str, total_cap: str | None) -> None:
    """Refuse a file whose metadata already declares more than the caps allow."""
    meta = parquet.metadata
    total = 0
    for g in range(meta.num_row_groups):
        group = meta.row_group(g)
        size = sum(group.column(c).total_uncompressed_size for c in range(group.num_columns))
        total += size
        if size > limit(_BATCH) * 4:
            raise LoadError(too_large(_BATCH, f"A row group of {name} ({size:,} bytes uncompressed)"))
    if total_cap and total > limit(total_cap):
        raise LoadError(too_large(total_cap, f"{name} ({total:,} bytes uncompressed)"))


def _expanded(batch: pa.RecordBatch, name: str) -> int:
    """The bytes ``batch`` takes once its dictionaries are expanded (checked value by value)."""
    size = 0
    for column, field in zip(batch.columns, batch.schema, strict=True):
        if pa.types.is_dictionary(field.type) and _texty(field.type.value_type):
            lengths = pc.binary_length(column.dictionary)
            longest = pc.max(lengths).as_py() or 0
            if longest > limit(_CELL):
                raise LoadError(too_large(_CELL, f"A value of column {field.name!r} of {name}"))
            used = pc.take(lengths, column.indices)
            size += int(pc.sum(used).as_py() or 0) + 8 * len(column)
        else:
            size += column.nbytes
    return size


def checked_batches(
    source: str | Path | Any, name: str, *, batch_rows: int = 16_384, total_cap: str | None = None
) -> Iterator[pa.RecordBatch]:
    """The file's batches (text columns as dictionaries), each checked before it is expanded."""
    parquet = source if isinstance(source, pq.ParquetFile) else open_parquet(source, name)
    _declared(parquet, name, total_cap)
    total = 0
    try:
        for batch in parquet.iter_batches(batch_size=batch_rows):
            size = _expanded(batch, name)
            if size > limit(_BATCH):
                raise LoadError(too_large(_BATCH, f"A batch of {batch.num_rows:,} rows of {name}"))
            total += size
            if total_cap and total > limit(total_cap):
                raise LoadError(too_large(total_cap, f"{name} (expanded)"))
            yield batch
    except (pa.ArrowException, OSError) as exc:
        raise LoadError(
            f"{name} is not a readable Parquet file ({exc}). Write it again or export it as CSV."
        ) from exc
