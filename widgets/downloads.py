"""Whole-dataset downloads as CSV or Parquet, streamed from the store batch by batch.

Each download runs on its own DuckDB cursor (a streaming response is iterated from several
threads), reads Arrow batches, and encodes each as it comes, so memory stays flat whatever the
dataset's size. The ETag is the dataset's version: a repeat request gets a 304.

Example:
    >>> dataset_response(store, "kc-311-potholes", "csv", request)  # doctest: +SKIP
    <starlette.responses.StreamingResponse ...>
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from btvstat_open.errors import DatasetNotFound
from btvstat_open.portal.encode import csv_batch
from btvstat_open.store import Store, check_dataset_id, quote_ident
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


def _reader(store: Store, dataset_id: str) -> Iterator[pa.RecordBatchReader]:
    """Yields one Arrow reader over the dataset, on a cursor of its own (closed afterwards)."""
    info = store.info(dataset_id)
    select = ", ".join(quote_ident(c.field_name) for c in info.columns)
    cursor = store.cursor().cursor()  # its own connection: a streamed body hops between threads
    try:
        yield cursor.sql(f'SELECT {select} FROM {info.table} ORDER BY ":id"').to_arrow_reader(BATCH_ROWS)
    finally:
        cursor.close()


def _csv(store: Store, dataset_id: str, data_types: list[str]) -> Iterator[bytes]:
    for reader in _reader(store, dataset_id):
        header = True
        for batch in reader:
            yield csv_batch(batch, data_types, header=header)
            header = False
        if header:  # no rows: still send the header
            yield (",".join(quote_ident(name) for name in reader.schema.names) + "\n").encode()


def _parquet(store: Store, dataset_id: str) -> Iterator[bytes]:
    sink = _Chunks()
    for reader in _reader(store, dataset_id):
        with pq.ParquetWriter(sink, reader.schema, compression="zstd") as writer:
            for batch in reader:
                writer.write_batch(batch)
                yield sink.take()
    yield sink.take()


def dataset_response(store: Store, dataset_id: str, fmt: str, request: Request) -> Response:
    """Stream a whole dataset (its own columns, ordered by row id) as ``csv`` or ``parquet``.

    Example:
        >>> dataset_response(store, "la-library-monthly", "parquet", request).media_type  # doctest: +SKIP
        'application/vnd.apache.parquet'
    """
    check_dataset_id(dataset_id)
    info = store.info(dataset_id)  # DatasetNotFound (404) before the response starts
    if not info.public:
        # A private dataset (setPermission private) is not downloadable from the public site.
        raise DatasetNotFound(dataset_id)
    etag = f'"{info.id}-v{info.version}-{fmt}"'
    headers = dict(security_headers("data"))
    headers.update(
        {
            "etag": etag,
            "cache-control": "public, max-age=60",
            "content-disposition": f'attachment; filename="{info.id}.{fmt}"',
        }
    )
    if request.headers.get("if-none-match") == etag:
        headers.pop("content-disposition")
        return Response(status_code=304, headers=headers)
    if fmt == "csv":
        body = _csv(store, dataset_id, [c.data_type for c in info.columns])
    else:
        body = _parquet(store, dataset_id)
    return StreamingResponse(body, media_type=_MEDIA[fmt], headers=headers)
