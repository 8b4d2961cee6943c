"""Whole-dataset downloads as CSV or Parquet, written from the store batch by batch.

Each download is written once per dataset version, on the query pool, on its own DuckDB cursor,
within the export time limit; it reads Arrow batches and encodes each as it comes, so memory
stays flat whatever the dataset's size. Requests are answered from the written file
(:mod:`btvstat_open.web.files`): ``Content-Length``, ``Range`` (206, 416), ``If-Range``. The
ETag is the dataset's version and ``Last-Modified`` its last change: a repeat request gets a 304.

Example:
    >>> import requests  # portal_url: a widget server (create_app) on 127.0.0.1
    >>> first = requests.get(f"{portal_url}/datasets/kc-311-potholes.csv", timeout=60)
    >>> first.status_code, first.text.splitlines()[0].startswith('"case_id"')
    (200, True)
    >>> etag = {"If-None-Match": first.headers["etag"]}
    >>> requests.get(f"{portal_url}/datasets/kc-311-potholes.csv", headers=etag, timeout=60).status_code
    304
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from starlette.requests import Request
from starlette.responses import Response

from btvstat_open.encode import csv_batch
from btvstat_open.errors import DatasetNotFound
from btvstat_open.store import DatasetInfo, Store, check_dataset_id, quote_ident
from btvstat_open.web.budget import WorkPool
from btvstat_open.web.conditional import last_modified, not_modified
from btvstat_open.web.files import DownloadFiles, file_response
from btvstat_open.web.replies import Reply
from widgets.security import security_headers

__all__ = ["dataset_response"]

BATCH_ROWS = 65_536
_MEDIA = {"csv": "text/csv; charset=utf-8", "parquet": "application/vnd.apache.parquet"}


class _Chunks:
    """A write-only file object whose written bytes are collected and handed out as chunks."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.closed = False

    def write(self, data: Any) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        out, self.parts = b"".join(self.parts), []
        return out


def _csv(reader: pa.RecordBatchReader, data_types: list[str]) -> Iterator[bytes]:
    header = True
    for batch in reader:
        yield csv_batch(batch, data_types, header=header)
        header = False
    if header:  # no rows: still send the header
        yield (",".join(quote_ident(name) for name in reader.schema.names) + "\n").encode()


def _parquet(reader: pa.RecordBatchReader) -> Iterator[bytes]:
    sink = _Chunks()
    with pq.ParquetWriter(sink, reader.schema, compression="zstd") as writer:
        for batch in reader:
            writer.write_batch(batch)
            yield sink.take()
    yield sink.take()


def _start(info: DatasetInfo, fmt: str) -> Callable[[duckdb.DuckDBPyConnection], Reply]:
    """The first step of a download on a query worker: start the scan, make the first chunk."""

    def start(cursor: duckdb.DuckDBPyConnection) -> Reply:
        select = ", ".join(quote_ident(c.field_name) for c in info.columns)
        reader = cursor.sql(f'SELECT {select} FROM {info.table} ORDER BY ":id"').to_arrow_reader(BATCH_ROWS)
        chunks = _csv(reader, [c.data_type for c in info.columns]) if fmt == "csv" else _parquet(reader)
        return Reply(next(chunks, b""), lambda: next(chunks, None), _MEDIA[fmt])

    return start


async def dataset_response(
    store: Store,
    dataset_id: str,
    fmt: str,
    request: Request,
    pool: WorkPool,
    seconds: float,
    files: DownloadFiles,
) -> Response:
    """A whole dataset (its own columns, ordered by row id) as ``csv`` or ``parquet``, from ``files``.

    A download not yet written is written on the query ``pool`` (a 503 when it is full) within
    ``seconds`` of worker time (the ``export_timeout_seconds`` setting).

    Example:
        >>> import io, pyarrow.parquet as pq, requests  # the widget server's /datasets/{id}.parquet
        >>> body = requests.get(f"{portal_url}/datasets/la-library-monthly.parquet", timeout=60).content
        >>> pq.read_table(io.BytesIO(body)).num_rows == store.info("la-library-monthly").row_count
        True
    """
    check_dataset_id(dataset_id)
    # By its readable id or its 4x4; DatasetNotFound (404) before the response starts.
    info = store.info(store.resolve(dataset_id) or dataset_id)
    if not info.public:
        # A private dataset (setPermission private) is not downloadable from the public site.
        raise DatasetNotFound(dataset_id)
    etag = f'"{info.id}-v{info.version}-{fmt}"'
    modified, modified_epoch = last_modified(info)
    headers = dict(security_headers("data"))
    headers.update(
        {
            "etag": etag,
            "last-modified": modified,
            "cache-control": "public, max-age=60",
            "content-disposition": f'attachment; filename="{info.id}.{fmt}"',
        }
    )
    if not_modified(request, etag, modified_epoch):
        headers.pop("content-disposition")
        return Response(status_code=304, headers=headers)
    path = await files.ensure(
        files.path(info, f"download.{fmt}"),
        pool,
        request,
        lambda: store.cursor().cursor(),
        _start(info, fmt),
        seconds=seconds,
        limit="export_timeout_seconds",
    )
    return file_response(path, _MEDIA[fmt], headers)
