"""Write a stream of record batches to Parquet or CSV atomically (temp file + rename)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from btvstat_open.atomic import atomic_path
from btvstat_open.errors import UsageError

__all__ = ["csv_ready", "output_format", "write_batches_atomically"]


def output_format(path: Path) -> str:
    """``parquet`` or ``csv`` from the file name; anything else is a usage error.

    Example:
        >>> output_format(Path("out.parquet"))
        'parquet'
    """
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        return "parquet"
    if suffix == ".csv":
        return "csv"
    raise UsageError(f"Cannot write {path.name!r}: name the output file .parquet or .csv.")


def csv_ready(batch: pa.RecordBatch) -> pa.RecordBatch:
    """The batch with struct columns (locations) turned into JSON text, which CSV can hold."""
    if not any(pa.types.is_struct(f.type) for f in batch.schema):
        return batch
    arrays: list[pa.Array] = []
    for col, fld in zip(batch.columns, batch.schema, strict=True):
        if pa.types.is_struct(fld.type):
            arrays.append(
                pa.array([None if v is None else json.dumps(v) for v in col.to_pylist()], pa.string())
            )
        else:
            arrays.append(col)
    names = batch.schema.names
    return pa.RecordBatch.from_arrays(arrays, names=names)


def write_batches_atomically(
    batches: Iterable[pa.RecordBatch],
    path: Path,
    *,
    empty_schema: Callable[[], pa.Schema],
) -> int:
    """Write every batch to ``path``; returns the row count. ``path`` is replaced only at the end.

    Memory holds one Parquet row group (65,536 rows) at most. A failure (or a kill) leaves ``path``
    as it was.

    Example:
        >>> import tempfile
        >>> out = Path(tempfile.mkdtemp()) / "t.parquet"
        >>> b = pa.record_batch({"n": [1.0]})
        >>> write_batches_atomically([b], out, empty_schema=lambda: b.schema)
        1
    """
    fmt = output_format(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = 0
    writer: Any = None
    with atomic_path(path) as tmp, _closed_on_error(lambda: writer):
        for batch in batches:
            if fmt == "csv":
                batch = csv_ready(batch)
            if writer is None:
                writer = _open_writer(fmt, tmp, batch.schema)
            elif batch.schema != writer.schema:
                batch = batch.cast(writer.schema)
            writer.write_batch(batch)
            rows += batch.num_rows
        if writer is None:
            schema = empty_schema()
            if fmt == "csv":
                schema = pa.schema(
                    [pa.field(f.name, pa.string()) if pa.types.is_struct(f.type) else f for f in schema]
                )
            writer = _open_writer(fmt, tmp, schema)
        writer.close()
        writer = None
    return rows


@contextlib.contextmanager
def _closed_on_error(writer: Callable[[], Any]) -> Iterator[None]:
    """Close the writer (if one is open) when the write fails, so its temporary file can go."""
    try:
        yield
    except BaseException:
        if (open_writer := writer()) is not None:
            with contextlib.suppress(Exception):
                open_writer.close()
        raise


class _CsvWriter:
    """pyarrow's CSV writer with a ``schema`` attribute like the Parquet writer's."""

    def __init__(self, path: Path, schema: pa.Schema) -> None:
        self.schema = schema
        self._writer = pacsv.CSVWriter(str(path), schema)

    def write_batch(self, batch: pa.RecordBatch) -> None:
        self._writer.write_batch(batch)

    def close(self) -> None:
        self._writer.close()


class _ParquetWriter:
    """pyarrow's Parquet writer, gathering small batches into row groups of at least 65,536 rows.

    Pulls parse CSV in small blocks to keep memory flat; written one by one, those batches would
    make thousands of tiny row groups (slower to read, worse compression). Holding one row group's
    worth of rows costs a few MB. Row groups are encoded and compressed on a thread of their own,
    one at a time, so writing overlaps parsing the next one (pyarrow lets go of the GIL for both).

    Dictionary encoding is chosen per column from a sample of the first row group: repeated values
    (categories, statuses, zip codes) get it; near-unique ones (ids, timestamps, points) do not, which
    would only build a dictionary to throw away. That makes writing about a third faster and the
    file smaller than pyarrow's default of trying it everywhere.
    """

    ROW_GROUP_ROWS = 65_536
    SAMPLE_ROWS = 8_192
    MAX_DISTINCT_SHARE = 0.5

    def __init__(self, path: Path, schema: pa.Schema) -> None:
        self.schema = schema
        self._path = path
        self._writer: pq.ParquetWriter | None = None
        self._pending: list[pa.RecordBatch] = []
        self._pending_rows = 0
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="btvstat-parquet")
        self._writing: Future[None] | None = None

    def write_batch(self, batch: pa.RecordBatch) -> None:
        self._pending.append(batch)
        self._pending_rows += batch.num_rows
        if self._pending_rows >= self.ROW_GROUP_ROWS:
            self._flush()

    def _wait(self) -> None:
        """Wait for the row group being written (raising its error); at most one is ever in flight."""
        if self._writing is not None:
            writing, self._writing = self._writing, None
            writing.result()

    def _open(self, sample: pa.Table) -> pq.ParquetWriter:
        return pq.ParquetWriter(
            str(self._path),
            self.schema,
            compression="zstd",
            use_dictionary=dictionary_columns(sample.slice(0, self.SAMPLE_ROWS), self.MAX_DISTINCT_SHARE),
        )

    def _flush(self) -> None:
        self._wait()
        if self._pending:
            table = pa.Table.from_batches(self._pending, schema=self.schema)
            if self._writer is None:
                self._writer = self._open(table)
            self._writing = self._thread.submit(self._writer.write_table, table)
        self._pending = []
        self._pending_rows = 0

    def close(self) -> None:
        try:
            self._flush()
            self._wait()
        finally:
            self._thread.shutdown(wait=True)
            if self._writer is None:
                self._writer = self._open(self.schema.empty_table())
            self._writer.close()


def dictionary_columns(sample: pa.Table, max_distinct_share: float) -> list[str]:
    """Columns worth dictionary-encoding: at most ``max_distinct_share`` of the sample's values distinct.

    Nested columns (locations) are left out; an empty sample keeps every flat column.

    Example:
        >>> t = pa.table({"id": ["a", "b", "c", "d"], "status": ["Open", "Open", "Open", "Closed"]})
        >>> dictionary_columns(t, 0.5)
        ['status']
    """
    names: list[str] = []
    for name, column in zip(sample.column_names, sample.columns, strict=True):
        if pa.types.is_nested(column.type):
            continue
        if sample.num_rows == 0 or pc.count_distinct(column).as_py() <= max_distinct_share * sample.num_rows:
            names.append(name)
    return names


def _open_writer(fmt: str, path: Path, schema: pa.Schema) -> Any:
    if fmt == "csv":
        return _CsvWriter(path, schema)
    return _ParquetWriter(path, schema)
