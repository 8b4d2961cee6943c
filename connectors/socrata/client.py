"""HTTP for one Socrata portal: one session, retries, typed errors, bodies checked whole.

Every request goes through :meth:`SocrataHttp.request`, which reads the whole body and
hands it to a ``parse`` function inside the retry loop: a body cut off mid-way (the
connection dropped, fewer bytes than ``Content-Length``, JSON or CSV that does not parse)
is retried like a 5xx instead of being taken for a short page.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import orjson
import pyarrow as pa
import requests
from requests.adapters import HTTPAdapter

from btvstat_open.errors import (
    PortalAuthError,
    PortalError,
    PortalNotFound,
    PortalRequestError,
    PortalUnavailable,
)
from connectors.socrata.auth import Credentials
from connectors.socrata.retry import RetryPolicy, is_retryable_status, parse_retry_after

__all__ = ["ResumableBody", "SocrataHttp", "TruncatedBody", "error_from_response", "parse_json"]

log = logging.getLogger("btvstat_open.connectors.socrata")
T = TypeVar("T")

# Failures of the transport, or of a body that arrived incomplete: worth another try.
_TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)


class TruncatedBody(Exception):
    """A response body that ended early or does not parse: the page is fetched again."""


def _parse_failures() -> tuple[type[BaseException], ...]:
    return (TruncatedBody, orjson.JSONDecodeError, ValueError, pa.ArrowInvalid, UnicodeDecodeError)


def parse_json(resp: requests.Response) -> Any:
    """A response's JSON body (a body that does not parse is retried by :meth:`SocrataHttp.request`)."""
    return orjson.loads(resp.content)


def error_from_response(resp: requests.Response, what: str) -> PortalError:
    """The typed error for a failed response, from either of Socrata's error shapes.

    SODA 2 answers ``{"code": ..., "error": true, "message": ..., "data": ...}``; SODA 3
    and newer services answer ``{"errorCode": ..., "message": ...}``; some old ones only
    ``{"error": true, "message": ..., "status": 500}``.

    Example:
        >>> r = requests.Response(); r.status_code = 404
        >>> r._content = b'{"code":"not_found","error":true,"message":"Cannot find view with id x"}'
        >>> str(error_from_response(r, "GET /api/views/x.json"))
        'GET /api/views/x.json: Cannot find view with id x (HTTP 404, not_found)'
    """
    status = resp.status_code
    request_id = resp.headers.get("X-Socrata-RequestId")
    code: str | None = None
    message: str | None = None
    data: Any = None
    try:
        body = orjson.loads(resp.content) if resp.content else None
    except orjson.JSONDecodeError:
        body = None
    if isinstance(body, dict):
        raw_code = body.get("code") or body.get("errorCode")
        code = str(raw_code) if raw_code else None
        raw_message = body.get("message") or body.get("error_message")
        message = str(raw_message) if raw_message else None
        data = body.get("data")
    if not message:
        message = resp.headers.get("X-Error-Message") or (resp.text or "").strip()[:200] or resp.reason
    cls: type[PortalError]
    if status in (401, 403):
        cls = PortalAuthError
        message = f"{message}. Check the credentials (app token, API key or user) and their rights"
    elif status == 404:
        cls = PortalNotFound
    elif is_retryable_status(status):
        cls = PortalUnavailable
    else:
        cls = PortalRequestError
    default = {401: "authentication_required", 403: "permission_denied", 404: "not_found"}
    return cls(
        f"{what}: {message}",
        status=status,
        code=code or default.get(status, f"http.{status}"),
        request_id=request_id,
        data=data,
    )


class SocrataHttp:
    """One portal's HTTP: a single ``requests.Session`` shared by every thread of the connector.

    Example:
        >>> http = SocrataHttp("http://127.0.0.1:8000", Credentials(), timeout=30)
        >>> http.request("GET", "/api/views/abcd-1234.json", parse=orjson.loads)  # doctest: +SKIP
    """

    def __init__(
        self,
        url: str,
        credentials: Credentials,
        *,
        timeout: float = 60.0,
        retry: RetryPolicy | None = None,
        pool_size: int = 16,
        user_agent: str = "btvstat-open",
    ) -> None:
        self.url = url.rstrip("/")
        self.credentials = credentials
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.session = requests.Session()
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=max(4, pool_size))
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers["User-Agent"] = user_agent
        self.session.headers["Accept-Encoding"] = "gzip, deflate"
        credentials.apply(self.session)
        self._count_lock = threading.Lock()
        self.requests_made = 0
        self.retries_made = 0

    def close(self) -> None:
        """Close the session's connections."""
        self.session.close()

    def _timeouts(self) -> tuple[float, float]:
        return (min(10.0, self.timeout), self.timeout)

    def _count(self, retry: bool) -> None:
        with self._count_lock:
            self.requests_made += 1
            if retry:
                self.retries_made += 1

    def request(
        self,
        method: str,
        path: str,
        *,
        parse: Callable[[requests.Response], T],
        params: Mapping[str, str | int] | None = None,
        json_body: Any = None,
        data: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        ok_statuses: tuple[int, ...] = (),
        idempotent: bool = True,
        stream: bool = False,
    ) -> tuple[requests.Response, T | None]:
        """Send a request, retrying what can be retried; returns the response and ``parse(response)``.

        ``ok_statuses`` lists non-2xx statuses handed back instead of raised (304, or 404 to
        detect a missing SODA 3 route); ``parse`` is not called for them. With
        ``idempotent=False`` a 5xx or dropped connection is not retried, because the
        portal may already have applied the request. With ``stream=True`` the body is left
        for ``parse`` to read chunk by chunk (a connection dropped meanwhile is retried whole).
        """
        what = f"{method} {path}"
        body = orjson.dumps(json_body) if json_body is not None else data
        send_headers = dict(headers or {})
        if json_body is not None:
            send_headers["Content-Type"] = "application/json"
        attempt = 0
        while True:
            self._count(attempt > 0)
            retry_after: float | None = None
            try:
                resp = self.session.request(
                    method,
                    self.url + path,
                    params=params,
                    data=body,
                    headers=send_headers,
                    timeout=self._timeouts(),
                    stream=stream,
                )
                if resp.status_code in ok_statuses:
                    return resp, None
                if is_retryable_status(resp.status_code):
                    failure: PortalError | None = error_from_response(resp, what)
                    retry_after = parse_retry_after(resp.headers.get("Retry-After"))
                    ambiguous = resp.status_code >= 500
                elif resp.status_code >= 400:
                    raise error_from_response(resp, what)
                else:
                    try:
                        return resp, parse(resp)
                    except _parse_failures() as exc:
                        resp.close()
                        failure = PortalUnavailable(
                            f"{what}: the response body was incomplete or unreadable ({exc})",
                            status=resp.status_code,
                            code="response.truncated",
                            request_id=resp.headers.get("X-Socrata-RequestId"),
                        )
                        ambiguous = True
            except _TRANSPORT_ERRORS as exc:
                failure = PortalUnavailable(
                    f"{what}: the connection failed "
                    f"({type(exc).__name__}: {self.credentials.scrub(str(exc))})",
                    code="connection.failed",
                )
                ambiguous = True
            if attempt >= self.retry.retries or (ambiguous and not idempotent):
                assert failure is not None
                if attempt:
                    failure.message += f" (gave up after {attempt + 1} attempts)"
                raise failure
            wait = self.retry.delay(attempt, retry_after)
            log.info("retrying %s in %.2fs after: %s", what, wait, failure)
            time.sleep(wait)
            attempt += 1

    def get_json(self, path: str, params: Mapping[str, str | int] | None = None) -> Any:
        """GET a JSON body."""
        _, value = self.request("GET", path, params=params, parse=parse_json)
        return value

    def download(self, path: str, dest: Path, *, params: Mapping[str, str | int] | None = None) -> int:
        """Stream a (large) body to ``dest`` chunk by chunk, retrying whole on any failure.

        Returns the byte count. Raises :class:`PortalNotFound` for a 404 so callers can fall back.
        """

        def save(resp: requests.Response) -> int:
            size = 0
            with resp, open(dest, "wb") as fh:
                for chunk in resp.iter_content(chunk_size=1 << 20):
                    fh.write(chunk)
                    size += len(chunk)
            return size

        _, size = self.request("GET", path, params=params, parse=save, stream=True)
        assert size is not None
        return size

    def open_body(self, path: str, *, params: Mapping[str, str | int] | None = None) -> ResumableBody:
        """GET a (large) body to read as a file while it downloads (see :class:`ResumableBody`).

        Raises :class:`PortalNotFound` for a 404 so callers can fall back. Call ``start()``
        to begin reading, or ``close()`` to drop it unread.

        Example:
            >>> with http.open_body("/api/views/abcd-1234/rows.csv") as body:  # doctest: +SKIP
            ...     head = body.start().read(100)
        """
        return ResumableBody(self, path, params)


class ResumableBody:
    """A large response body read as a file while a thread downloads it, resumed after a drop.

    The download runs ahead of the reader (at most ``ahead`` chunks of 1 MB, so memory stays
    flat), so parsing overlaps the transfer. A body cut off mid-way is requested again and
    the bytes already handed out are skipped, which is only sound for a byte-identical
    representation: the retry must carry the same strong ``ETag`` as the first answer, else
    reading fails with :class:`PortalUnavailable`. Create one with :meth:`SocrataHttp.open_body`.
    """

    def __init__(self, http: SocrataHttp, path: str, params: Mapping[str, str | int] | None) -> None:
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
                        for chunk in resp.iter_content(chunk_size=1 << 20):
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
                except _TRANSPORT_ERRORS as exc:
                    restarts += 1
                    if restarts > self._http.retry.retries:
                        raise PortalUnavailable(
                            f"GET {self._path}: the download kept breaking off ({type(exc).__name__})",
                            code="connection.failed",
                        ) from exc
                    log.info("resuming GET %s after %d bytes: %s", self._path, sent, type(exc).__name__)
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
