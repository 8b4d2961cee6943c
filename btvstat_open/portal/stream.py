"""Run a compiled query on its own DuckDB cursor and stream the result as JSON, CSV or GeoJSON.

The first batch is fetched before the response starts, so a query that fails at run time
is still a clean 400; a result that fits in one batch is sent with a Content-Length, larger
ones are streamed batch by batch (memory stays flat whatever the size).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import duckdb
import pyarrow as pa
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from btvstat_open.errors import SoqlError, StoreError
from btvstat_open.portal.encode import csv_batch, geojson_batch, json_batch
from btvstat_open.store import DatasetInfo, Store

__all__ = [
    "FORMATS",
    "QueryStream",
    "conditional_headers",
    "not_modified",
    "open_query",
    "query_etag",
    "query_response",
    "soda_headers",
]

FORMATS: dict[str, str] = {
    "json": "application/json; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "geojson": "application/vnd.geo+json; charset=utf-8",
}


@dataclass
class QueryStream:
    """A running query: its first batch, the rest to read, and the output columns' Socrata types."""

    cursor: duckdb.DuckDBPyConnection
    reader: pa.RecordBatchReader
    first: pa.RecordBatch
    exhausted: bool
    field_names: list[str]
    data_types: list[str]

    def batches(self) -> Iterator[pa.RecordBatch]:
        """Every batch after the first; closes the cursor at the end."""
        try:
            while not self.exhausted:
                try:
                    batch = self.reader.read_next_batch()
                except StopIteration:
                    break
                if batch.num_rows:
                    yield batch
        finally:
            self.close()

    def close(self) -> None:
        """Release the cursor (safe to call twice)."""
        self.exhausted = True
        with contextlib.suppress(duckdb.Error):
            self.cursor.close()


def open_query(
    store: Store, sql: str, params: Sequence[Any], data_types: Sequence[str], batch_size: int
) -> QueryStream:
    """Start ``sql`` on a new cursor and fetch its first batch.

    DuckDB errors raised by the query (a bad cast, a value out of range) become a 400
    :class:`SoqlError`; others a :class:`StoreError`.
    """
    cursor = store.cursor().cursor()
    try:
        reader = cursor.sql(sql, params=list(params)).to_arrow_reader(batch_size)
        try:
            # DuckDB may hand back batches shorter than ``batch_size`` before the end (parallel and
            # ordered scans do), so a short batch does not mean the result is over: read on until
            # the first batch is full or the reader says it has nothing more.
            parts = [reader.read_next_batch()]
            filled = parts[0].num_rows
            exhausted = False
            while filled < batch_size:
                try:
                    parts.append(reader.read_next_batch())
                except StopIteration:
                    exhausted = True
                    break
                filled += parts[-1].num_rows
            first = parts[0] if len(parts) == 1 else pa.concat_batches(parts)
        except StopIteration:
            first = pa.RecordBatch.from_arrays(
                [pa.array([], f.type) for f in reader.schema], schema=reader.schema
            )
            exhausted = True
    except (duckdb.ConversionException, duckdb.InvalidInputException, duckdb.OutOfRangeException) as exc:
        cursor.close()
        raise SoqlError(
            f"The query could not run on this data: {str(exc).splitlines()[0]}",
            code="query.soql.type-mismatch",
        ) from None
    except duckdb.Error as exc:
        cursor.close()
        raise StoreError(f"The query failed in the store: {str(exc).splitlines()[0]}") from exc
    return QueryStream(
        cursor=cursor,
        reader=reader,
        first=first,
        exhausted=exhausted,
        field_names=list(reader.schema.names),
        data_types=list(data_types),
    )


def _framing(fmt: str) -> tuple[bytes, bytes, bytes]:
    """Opening, separator between batches, and closing bytes of a format."""
    if fmt == "json":
        return b"[", b",\n", b"]\n"
    if fmt == "geojson":
        return b'{"type":"FeatureCollection","features":[', b",\n", b"]}\n"
    return b"", b"", b""


def _encoder(
    fmt: str, data_types: Sequence[str], csv_header: Sequence[str] | None
) -> Callable[[pa.RecordBatch, bool], bytes]:
    if fmt == "csv":
        return lambda batch, first: csv_batch(batch, data_types, header=first, names=csv_header)
    if fmt == "geojson":
        return lambda batch, first: geojson_batch(batch, data_types)
    return lambda batch, first: json_batch(batch, data_types)


def query_response(
    stream: QueryStream, fmt: str, headers: dict[str, str], *, csv_header: Sequence[str] | None = None
) -> Response:
    """The HTTP response for a query: one body if it fit in a batch, else a stream.

    ``csv_header`` heads a CSV with these names instead of the field names (exports use the
    columns' display names, as Socrata's do).
    """
    opening, separator, closing = _framing(fmt)
    encode = _encoder(fmt, stream.data_types, csv_header)
    media_type = FORMATS[fmt]
    first_bytes = encode(stream.first, True)
    if stream.exhausted:
        stream.close()
        return Response(opening + first_bytes + closing, media_type=media_type, headers=headers)

    def chunks() -> Iterator[bytes]:
        yield opening + first_bytes
        wrote_rows = stream.first.num_rows > 0
        for batch in stream.batches():
            data = encode(batch, False)
            yield (separator + data) if wrote_rows and separator else data
            wrote_rows = True
        yield closing

    return StreamingResponse(chunks(), media_type=media_type, headers=headers)


def query_etag(info: DatasetInfo, request: Request, kind: str) -> str:
    """An ETag for a read: the dataset's version plus a hash of what was asked."""
    digest = hashlib.sha1(f"{kind}?{request.url.query}".encode(), usedforsecurity=False).hexdigest()[:16]
    return f'"{info.id}-v{info.version}-{digest}"'


def conditional_headers(info: DatasetInfo, etag: str, last_modified: str, max_age: int) -> dict[str, str]:
    """Caching headers every read carries.

    A private dataset's answers (read with the write token) are ``private``: a shared cache
    must never keep them, since ``public`` would let it hand them to anonymous readers.
    """
    if not info.public:
        cache_control = "private, no-store"
    else:
        cache_control = f"public, max-age={max_age}" if max_age else "no-cache"
    return {"ETag": etag, "Last-Modified": last_modified, "Cache-Control": cache_control}


def soda_headers(field_names: Sequence[str], data_types: Sequence[str]) -> dict[str, str]:
    """``X-SODA2-Fields``, ``X-SODA2-Types`` (JSON arrays, ASCII-escaped) and ``X-SODA2-Legacy-Types``.

    Socrata sends ``X-SODA2-Legacy-Types: true`` on SODA 2.0 endpoints, whose types carry the
    legacy names (``calendar_date``, ``meta_data``); these endpoints are SODA 2.1 and name
    their types the 2.1 way (``floating_timestamp``), hence ``false``.

    Example:
        >>> soda_headers(["n"], ["number"])["X-SODA2-Legacy-Types"]
        'false'
    """
    return {
        "X-SODA2-Fields": json.dumps(list(field_names)),
        "X-SODA2-Types": json.dumps(list(data_types)),
        "X-SODA2-Legacy-Types": "false",
    }


def not_modified(request: Request, etag: str, last_modified_epoch: int) -> bool:
    """Whether the client's copy is current (``If-None-Match``, else ``If-Modified-Since``)."""
    match = request.headers.get("if-none-match")
    if match is not None:
        tags = [t.strip().removeprefix("W/") for t in match.split(",")]
        return "*" in tags or etag in tags
    since = request.headers.get("if-modified-since")
    if since:
        try:
            moment = parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False
        return moment.tzinfo is not None and last_modified_epoch <= int(moment.timestamp())
    return False
