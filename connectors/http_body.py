"""A large response body read as a file while a thread downloads it, resumed after a drop."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

import requests

from btvstat_open.errors import PortalUnavailable
from connectors.http import TRANSPORT_ERRORS
from connectors.transport import body_chunks

if TYPE_CHECKING:
    from connectors.http import HttpClient

__all__ = ["ResumableBody"]


class ResumableBody:
    """A large response body read as a file while a thread downloads it, resumed after a drop.

    The download runs ahead of the reader (at most ``ahead`` chunks of 1 MB, so memory stays
    flat), so parsing overlaps the transfer. A body cut off mid-way is requested again and
    the bytes already handed out are skipped, which is only sound for a byte-identical
    representation: the retry must carry the same strong ``ETag`` as the first answer, else
    reading fails with :class:`PortalUnavailable`. Create one with :meth:`HttpClient.open_body`.

    Example:
        >>> from connectors.http import HttpClient
        >>> client = HttpClient(portal_url)  # portal_url: the demo served on 127.0.0.1
        >>> with client.open_body("/api/views/kc-311-potholes/rows.csv") as body:
        ...     body.start().read(10)
        b'"CASE ID",'
    """

    def __init__(self, http: HttpClient, path: str, params: Mapping[str, str | int] | None) -> None:
        self._http = http
        self._path = path
        self._params = params
        self._queue: queue.Queue[bytes | BaseException | None] = queue.Queue(maxsize=8)
        self._buffer = b""
        self._done = False
        self._error: BaseException | None = None
        self._stop = threading.Event()
        self.closed = False
        self._first, _ = http.request("GET", path, params=params, parse=lambda r: None, stream=True)
        self.etag = self._first.headers.get("ETag", "")
        self._thread = threading.Thread(target=self._download, name="btvstat-body", daemon=True)

    @property
    def resumable(self) -> bool:
        """Whether the answer has a strong ETag, which a resumed download can be checked against."""
        return bool(self.etag) and not self.etag.startswith("W/")

    def start(self) -> ResumableBody:
        """Start downloading in the background; returns self."""
        self._thread.start()
        return self

    def _put(self, item: bytes | BaseException | None) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _download(self) -> None:
        resp: requests.Response | None = self._first
        sent = 0
        restarts = 0
        try:
            while True:
                assert resp is not None
                skip = sent
                try:
                    with resp:
                        for chunk in body_chunks(resp, timeout=self._http.timeout):
                            if skip:
                                cut = min(skip, len(chunk))
                                chunk, skip = chunk[cut:], skip - cut
                            if chunk:
                                if not self._put(chunk):
                                    return
                                sent += len(chunk)
                    if skip:
                        raise requests.exceptions.ChunkedEncodingError("the body got shorter on a retry")
                    self._put(None)
                    return
                except TRANSPORT_ERRORS as exc:
                    restarts += 1
                    if restarts > self._http.retry.retries:
                        raise PortalUnavailable(
                            f"GET {self._path}: the download kept breaking off ({type(exc).__name__})",
                            code="connection.failed",
                        ) from exc
                    name = type(exc).__name__
                    self._http.log.info("resuming GET %s after %d bytes: %s", self._path, sent, name)
                    time.sleep(self._http.retry.delay(restarts - 1, None))
                    resp = None
                    resp, _ = self._http.request(
                        "GET", self._path, params=self._params, parse=lambda r: None, stream=True
                    )
                    if resp.headers.get("ETag", "") != self.etag:
                        resp.close()
                        raise PortalUnavailable(
                            f"GET {self._path}: the dataset changed while it was downloaded; pull again",
                            code="response.changed",
                        ) from exc
        except BaseException as exc:  # handed to the reader, which raises it
            if resp is not None:
                resp.close()
            self._put(exc)

    def read(self, size: int = -1) -> bytes:
        """Up to ``size`` bytes (all that is left for -1); ``b""`` at the end."""
        if self._error is not None:
            raise self._error
        while not self._done and (size < 0 or len(self._buffer) < size):
            item = self._queue.get()
            if item is None:
                self._done = True
            elif isinstance(item, BaseException):
                self._error = item
                raise item
            else:
                self._buffer = self._buffer + item if self._buffer else item
        if size < 0 or size >= len(self._buffer):
            out, self._buffer = self._buffer, b""
        else:
            out, self._buffer = self._buffer[:size], self._buffer[size:]
        return out

    def peek(self, size: int) -> bytes:
        """The next ``size`` bytes (fewer at the end), left to be read again."""
        head = self.read(size)
        self._buffer = head + self._buffer
        return head

    def close(self) -> None:
        """Stop the download (if still running) and drop the connection."""
        self.closed = True
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        else:
            self._first.close()

    def __enter__(self) -> ResumableBody:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
