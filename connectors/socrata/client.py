"""HTTP for one Socrata portal: one session, retries, typed errors, bodies checked whole.

Every request goes through :meth:`SocrataHttp.request`, which reads the whole body and
hands it to a ``parse`` function inside the retry loop: a body cut off mid-way (the
connection dropped, fewer bytes than ``Content-Length``, JSON or CSV that does not parse)
is retried like a 5xx instead of being taken for a short page.
"""

from __future__ import annotations

import logging
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

__all__ = ["SocrataHttp", "TruncatedBody", "error_from_response", "parse_json"]

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
