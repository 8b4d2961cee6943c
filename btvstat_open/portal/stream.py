"""Run a compiled query on its own DuckDB cursor and stream the result as JSON, CSV or GeoJSON.

The first batch is fetched before the response starts, so a query that fails at run time
is still a clean 400; a result that fits in one batch is sent with a Content-Length, larger
ones are streamed batch by batch (memory stays flat whatever the size).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import duckdb
import pyarrow as pa
from starlette.requests import Request

from btvstat_open.encode import csv_batch, geojson_batch, json_batch
from btvstat_open.store import DatasetInfo
from btvstat_open.store.engine_errors import engine_error
from btvstat_open.web.conditional import not_modified

__all__ = [
    "FORMATS",
    "BodyEncoder",
    "QueryStream",
    "conditional_headers",
    "not_modified",
    "open_query",
    "query_etag",
    "read_rows",
    "soda_headers",
]

FORMATS: dict[str, str] = {
    "json": "application/json; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "geojson": "application/vnd.geo+json; charset=utf-8",
}


#: at most this many rows come from DuckDB at a time; batches are gathered up to ``batch_size``
READ_ROWS = 8192
#: fewer rows come at a time when a row is wide, so one read is about this many bytes at most
READ_BYTES = 32 * 1024 * 1024
#: a gathered batch stops growing at this many bytes of Arrow data, however few rows it has
BATCH_BYTES = 8 * 1024 * 1024
_FIXED_WIDTH = {"number": 8, "checkbox": 1, "floating_timestamp": 8, "fixed_timestamp": 8}
_TEXT_WIDTH = 256


def read_rows(sql: str, data_types: Sequence[str], batch_size: int) -> int:
    """How many rows to read from DuckDB at a time, so a wide result comes in small reads.

    DuckDB fixes the size of a read when the query starts, before any width is known, so it is
    estimated: fixed-width types by their size, anything else as 256 bytes, and every ``||``
    in the SQL (only a SoQL concatenation writes one) as one more such text.

    Example:
        >>> read_rows('SELECT "n"', ["number"], 65536)
        8192
        >>> read_rows('SELECT "s" || "s"', ["text"] * 150, 65536)
        868
    """
    width = sum(_FIXED_WIDTH.get(t, _TEXT_WIDTH) for t in data_types) + _TEXT_WIDTH * sql.count("||")
    return max(256, min(batch_size, READ_ROWS, READ_BYTES // max(width, 1)))


@dataclass
class QueryStream:
    """A running query: its first batch, the rest to read, and the output columns' Socrata types."""

    cursor: duckdb.DuckDBPyConnection
    reader: pa.RecordBatchReader
    first: pa.RecordBatch
    exhausted: bool
    field_names: list[str]
    data_types: list[str]
    batch_size: int = 65_536

    def next_batch(self) -> pa.RecordBatch | None:
        """The next batch of at most ``batch_size`` rows (or ``BATCH_BYTES``), None at the end."""
        if self.exhausted:
            return None
        batch, self.exhausted = _gather(self.reader, self.batch_size)
        return batch if batch is not None and batch.num_rows else None


def _gather(reader: pa.RecordBatchReader, batch_size: int) -> tuple[pa.RecordBatch | None, bool]:
    """Read parts until ``batch_size`` rows or ``BATCH_BYTES`` bytes: the batch, and whether it ended.

    DuckDB may hand back batches shorter than asked for before the end (parallel and ordered
    scans do), so a short part does not mean the result is over: only the reader says so.
    """
    parts: list[pa.RecordBatch] = []
    rows = size = 0
    ended = False
    while rows < batch_size and size < BATCH_BYTES:
        try:
            part = reader.read_next_batch()
        except StopIteration:
            ended = True
            break
        parts.append(part)
        rows += part.num_rows
        size += part.nbytes
    if not parts:
        return None, True
    return (parts[0] if len(parts) == 1 else pa.concat_batches(parts)), ended


def open_query(
    cursor: duckdb.DuckDBPyConnection,
    sql: str,
    params: Sequence[Any],
    data_types: Sequence[str],
    batch_size: int,
) -> QueryStream:
    """Start ``sql`` on ``cursor`` (a connection of its own) and fetch its first batch.

    DuckDB errors raised by the query become the portal's own
    (:func:`~btvstat_open.store.engine_errors.engine_error`): a bad cast or a value out of range is
    a 400 :class:`SoqlError`, none carries DuckDB's text.
    An interrupted query raises ``duckdb.InterruptException`` (the caller knows why it interrupted it).
    """
    try:
        reader = cursor.sql(sql, params=list(params)).to_arrow_reader(read_rows(sql, data_types, batch_size))
        first, exhausted = _gather(reader, batch_size)
    except duckdb.InterruptException:
        raise
    except duckdb.Error as exc:
        raise engine_error(exc, "the query", sql) from exc
    if first is None:
        first = pa.RecordBatch.from_arrays(
            [pa.array([], f.type) for f in reader.schema], schema=reader.schema
        )
    return QueryStream(
        cursor=cursor,
        reader=reader,
        first=first,
        exhausted=exhausted,
        field_names=list(reader.schema.names),
        data_types=list(data_types),
        batch_size=batch_size,
    )


class BodyEncoder:
    """Turns a query's batches into the bytes of one JSON, CSV or GeoJSON document.

    ``csv_header`` heads a CSV with these names instead of the field names (exports use the
    columns' display names, as Socrata's do).

    Example:
        >>> encoder = BodyEncoder("json", ["number"])
        >>> encoder.closing
        b']\\n'
    """

    def __init__(
        self, fmt: str, data_types: Sequence[str], *, csv_header: Sequence[str] | None = None
    ) -> None:
        self.opening, self.separator, closing = _framing(fmt)
        self.closing: bytes | None = closing
        self._encode = _encoder(fmt, data_types, csv_header)
        self._wrote_rows = False

    def first(self, batch: pa.RecordBatch) -> bytes:
        """The opening and the first batch (CSV: with the header)."""
        self._wrote_rows = batch.num_rows > 0
        return self.opening + self._encode(batch, True)

    def next(self, batch: pa.RecordBatch | None) -> bytes | None:
        """A later batch (with its separator); the closing for None, then None."""
        if batch is None:
            if self.closing is None:
                return None
            closing, self.closing = self.closing, None
            return closing
        data = self._encode(batch, False)
        chunk = (self.separator + data) if self._wrote_rows and self.separator else data
        self._wrote_rows = True
        return chunk


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
