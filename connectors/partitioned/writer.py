"""The output folder of a partitioned pull, on any fsspec filesystem, each file written atomically.

On a local disk a file is written under a hidden temporary name (``.part-00000.parquet.<random>.tmp``,
which no ``*.parquet`` glob and no hive reader picks up) and renamed into place once whole. On an
object store (``s3://``, ``gs://``, ``az://``) an object only exists once its upload completes (one
PUT, or a multipart upload completed at the end), so it is written in place, and an upload that
fails part-way is discarded rather than completed.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
from collections.abc import Iterable
from typing import Any

import fsspec
import pyarrow as pa
import pyarrow.parquet as pq
from fsspec.implementations.local import LocalFileSystem

from btvstat_open.atomic import atomic_file, is_temporary
from btvstat_open.errors import BtvstatError, UsageError
from connectors.output import dictionary_columns

__all__ = ["OutputError", "Target"]

# A full page (50,000 rows by default) is written as it comes: holding a second one per connection
# would only add memory.
ROW_GROUP_ROWS = 50_000


class OutputError(BtvstatError):
    """The output folder or bucket cannot be read or written (missing, no rights, full)."""

    default_code = "partitioned.output"


@contextlib.contextmanager
def storage_errors(url: str) -> Any:
    """Turn the filesystem's own errors into one :class:`OutputError` that says what to check."""
    try:
        yield
    except (OSError, PermissionError) as exc:
        raise OutputError(
            f"Cannot write the partitioned output at {url}: {exc}. Check that the folder or bucket "
            "exists and that the credentials (AWS_* variables for s3://) may write to it."
        ) from exc


class Target:
    """A folder or fsspec URL that a partitioned pull writes into.

    Example:
        >>> import tempfile
        >>> out = Target(tempfile.mkdtemp())
        >>> out.write_parquet("k=1/part-00000.parquet", [pa.record_batch({"n": [1.0, 2.0]})])
        2
        >>> out.list_parquet("k=1")
        ['k=1/part-00000.parquet']
    """

    def __init__(self, url: str, **storage_options: Any) -> None:
        try:
            fs, root = fsspec.core.url_to_fs(str(url), **storage_options)
        except (ImportError, ValueError) as exc:
            raise UsageError(
                f"Cannot write to {url!r}: {exc}. Give a folder or an fsspec URL whose filesystem is "
                'installed (s3:// needs pip install "btvstat-open[s3]").'
            ) from exc
        self.url = str(url)
        self.fs = fs
        self.root = str(root).rstrip("/")
        self.local = isinstance(fs, LocalFileSystem)

    def path(self, relative: str) -> str:
        """The full path of a file under the root."""
        return posixpath.join(self.root, relative) if relative else self.root

    def write_parquet(self, relative: str, batches: Iterable[pa.RecordBatch]) -> int:
        """Write the batches as one Parquet file (zstd, row groups of at least 50,000 rows); returns its rows.

        Nothing is written when there are no rows. The file appears whole or not at all.
        """
        rows = 0
        pending: list[pa.RecordBatch] = []
        pending_rows = 0
        with self._atomic(relative) as sink:
            writer: pq.ParquetWriter | None = None
            try:
                for batch in batches:
                    if batch.num_rows == 0:
                        continue
                    pending.append(batch)
                    pending_rows += batch.num_rows
                    if pending_rows >= ROW_GROUP_ROWS:
                        writer = _write_group(writer, sink, pending)
                        rows += pending_rows
                        pending, pending_rows = [], 0
                if pending:
                    writer = _write_group(writer, sink, pending)
                    rows += pending_rows
            except BaseException:
                if writer is not None:
                    with contextlib.suppress(Exception):
                        writer.close()  # the file itself is thrown away by _atomic
                raise
            if writer is None:
                raise _Empty
            writer.close()
        return rows

    def write_bytes(self, relative: str, data: bytes) -> None:
        """Write a small file (the manifest) whole or not at all."""
        with self._atomic(relative) as sink:
            sink.write(data)

    def read_bytes(self, relative: str) -> bytes | None:
        """A file's bytes, or None when it does not exist."""
        try:
            data: bytes = self.fs.cat_file(self.path(relative))
        except FileNotFoundError:
            return None
        return data

    def list_parquet(self, folder: str) -> list[str]:
        """The ``*.parquet`` files in one partition folder, relative to the root, sorted."""
        try:
            names = self.fs.ls(self.path(folder), detail=False)
        except FileNotFoundError:
            return []
        base = self.root + "/"
        found = [str(n)[len(base) :] if str(n).startswith(base) else str(n) for n in names]
        return sorted(
            f for f in found if f.endswith(".parquet") and not posixpath.basename(f).startswith(".")
        )

    def remove(self, relatives: Iterable[str]) -> None:
        """Delete files (missing ones are fine)."""
        for relative in relatives:
            with contextlib.suppress(FileNotFoundError):
                self.fs.rm_file(self.path(relative))

    def clean_temporaries(self) -> int:
        """Delete temporary files a killed run left behind (local disks only); returns how many."""
        if not self.local or not os.path.isdir(self.root):
            return 0
        removed = 0
        for folder, _, files in os.walk(self.root):
            for name in files:
                if is_temporary(name):
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(os.path.join(folder, name))
                        removed += 1
        return removed

    @contextlib.contextmanager
    def _atomic(self, relative: str) -> Any:
        final = self.path(relative)
        if self.local:
            with contextlib.suppress(_Empty), atomic_file(final) as sink:
                yield sink
            return
        sink = self.fs.open(final, "wb")
        try:
            yield sink
        except _Empty:
            sink.discard()
            return
        except BaseException:
            # Closing would complete the upload of a half-written file: throw it away instead.
            with contextlib.suppress(Exception):
                sink.discard()
            raise
        sink.close()


class _Empty(Exception):
    """No rows: the file is not written."""


def _write_group(
    writer: pq.ParquetWriter | None, sink: Any, batches: list[pa.RecordBatch]
) -> pq.ParquetWriter:
    table = pa.Table.from_batches(batches)
    if writer is None:
        columns = dictionary_columns(table.slice(0, 8_192), 0.5)
        writer = pq.ParquetWriter(sink, table.schema, compression="zstd", use_dictionary=columns)
    elif table.schema != writer.schema:
        table = table.cast(writer.schema)
    writer.write_table(table, row_group_size=max(ROW_GROUP_ROWS, table.num_rows))
    return writer
