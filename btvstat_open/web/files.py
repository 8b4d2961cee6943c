"""Whole-dataset downloads written once per dataset version, then served from disk with ranges.

Readers that probe first (DuckDB's httpfs, GDAL's ``/vsicurl/``, fsspec, polars) ask for the
size with ``HEAD`` and then for parts with ``Range``; a Parquet reader reads the footer and then
only the row groups it needs. A streamed body has neither a size nor parts, so a download
(``/datasets/{id}.csv|.parquet``, ``rows.csv``, SODA 3 ``export.csv``) is written to a file the
first time it is asked for (on the query pool, within the export time limit), named by the
dataset's version, and every request is answered from that file: ``Content-Length``,
``Accept-Ranges: bytes``, ``206`` with ``Content-Range`` for a range, ``416`` for one past the
end, ``If-Range`` honoured (Starlette's :class:`~starlette.responses.FileResponse`). A change to
the dataset bumps its version, so the next request writes a new file; the old one is removed.
The files live in a folder of the server's own (in the ``downloads_dir`` setting's folder, by
default the system's temporary folder), removed when the server stops.

Example:
    >>> files = DownloadFiles()
    >>> files.path(info, "csv").name.endswith(".csv")  # info: a dataset's DatasetInfo
    True
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import threading
import weakref
from collections.abc import Callable
from pathlib import Path

import duckdb
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from btvstat_open.atomic import atomic_file
from btvstat_open.store import DatasetInfo
from btvstat_open.web.budget import WorkPool
from btvstat_open.web.replies import Reply

__all__ = ["DownloadFiles", "file_response"]

Start = Callable[[duckdb.DuckDBPyConnection], Reply]


class DownloadFiles:
    """A folder of download files, one per (dataset, version, kind), each written once."""

    def __init__(self, parent: str | Path | None = None) -> None:
        # A folder of this server's own (in ``parent``, by default the system's temporary folder),
        # removed when it stops: no file outlives the store state it was written from.
        self.root = Path(tempfile.mkdtemp(prefix="btvstat-downloads-", dir=parent))
        weakref.finalize(self, shutil.rmtree, self.root, ignore_errors=True)
        self._locks: dict[Path, threading.Lock] = {}
        self._guard = threading.Lock()

    def path(self, info: DatasetInfo, kind: str) -> Path:
        """The file of one download of the dataset as ``info`` describes it.

        Named by the dataset's id (hashed: any id makes a plain file name), its version and its
        change times (a dataset dropped and made anew starts its versions again).
        """
        stamp = hashlib.sha256(f"{info.rows_updated_at}|{info.view_last_modified}".encode()).hexdigest()[:12]
        return self.root / f"{_stem(info.id)}-v{info.version}-{stamp}.{kind}"

    async def ensure(
        self,
        path: Path,
        pool: WorkPool,
        request: Request,
        cursor_of: Callable[[], duckdb.DuckDBPyConnection],
        start: Start,
        *,
        seconds: float,
        limit: str,
    ) -> Path:
        """``path``, written first (on ``pool``, within ``seconds``) from ``start``'s reply if missing.

        ``start(cursor)`` makes the first chunk and the way to the rest, as for a streamed answer
        (:func:`btvstat_open.web.replies.answer`). A full pool is a 503; a client that hangs up
        while the file is written stops it.
        """
        if path.exists():
            return path
        slot = pool.admit(seconds=seconds, limit=limit)
        try:
            cursor = cursor_of()
            slot.on_close(cursor.close)
            stop, gone = cursor.interrupt, request.receive
            await slot.run(self._write, path, start, cursor, interrupt=stop, receive=gone)
        finally:
            slot.close()
        return path

    def _write(self, path: Path, start: Start, cursor: duckdb.DuckDBPyConnection) -> None:
        """Write the whole reply to ``path`` (atomically: a temporary file, then a rename), once."""
        with self._guard:
            lock = self._locks.setdefault(path, threading.Lock())
        with lock:
            if path.exists():
                return  # another request wrote it meanwhile
            reply = start(cursor)
            with atomic_file(path, durable=False) as out:  # a cache: rebuilt if lost
                out.write(reply.first)
                while reply.rest is not None and (chunk := reply.rest()) is not None:
                    out.write(chunk)
            self._forget_older(path)
        with self._guard:
            self._locks.pop(path, None)

    def _forget_older(self, path: Path) -> None:
        """Remove the other versions of ``path``'s download (a reader that has one open keeps it)."""
        stem, _, rest = path.name.partition("-v")
        kind = rest.partition(".")[2]
        for old in self.root.glob(f"{stem}-v*.{kind}"):
            if old != path:
                old.unlink(missing_ok=True)


def _stem(dataset_id: str) -> str:
    return hashlib.sha256(dataset_id.encode()).hexdigest()[:24]


def file_response(path: Path, media_type: str, headers: dict[str, str]) -> Response:
    """``path`` with ``headers`` (ETag, Last-Modified, ...), answering ``Range`` and ``If-Range``.

    Example:
        >>> import tempfile
        >>> f = Path(tempfile.mkdtemp()) / "x.csv"
        >>> _ = f.write_bytes(b"a,b\\n1,2\\n")
        >>> response = file_response(f, "text/csv", {"etag": '"x-v1"'})
        >>> response.headers["content-length"], response.headers["accept-ranges"], response.headers["etag"]
        ('8', 'bytes', '"x-v1"')
    """
    return FileResponse(path, media_type=media_type, headers=headers, stat_result=os.stat(path))
