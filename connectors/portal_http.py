"""A thin retrying HTTP layer for portal kinds that only read JSON and download files (CKAN, Opendatasoft).

One ``requests.Session`` (the caller's, when given), retries by :class:`RetryPolicy` (429, 5xx,
202, dropped or cut-off connections; never other 4xx), and every body read whole inside the
retry loop, so a body cut off mid-way is asked for again instead of being taken for a short
page. Errors are typed :class:`~btvstat_open.errors.PortalError` subclasses; ``error_message``
reads the portal's own message out of its error body.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import orjson
import requests

from btvstat_open.errors import (
    PortalAuthError,
    PortalError,
    PortalNotFound,
    PortalRequestError,
    PortalUnavailable,
)
from connectors.socrata.retry import RetryPolicy, is_retryable_status, parse_retry_after

__all__ = ["PortalHttp"]

log = logging.getLogger("btvstat_open.connectors.http")
T = TypeVar("T")
Params = Mapping[str, str | int]

_TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)


def _default_message(body: Any) -> str | None:
    if isinstance(body, dict):
        for key in ("message", "error_message", "error"):
            value = body.get(key)
            if isinstance(value, str) and value:
                return value
    return None


class PortalHttp:
    """One portal's HTTP: GET JSON and download files, with retries and typed errors.

    ``error_message(body)`` picks the portal's message out of a parsed error body; ``headers``
    (an API key) go to the portal's own host only, never to a file URL on another host.

    Example:
        >>> http = PortalHttp("http://127.0.0.1:9", retry=RetryPolicy(retries=0))
        >>> http.get_json("/api/3/action/status_show")
        Traceback (most recent call last):
        btvstat_open.errors.PortalUnavailable: GET /api/3/action/status_show: the connection failed ...
    """

    def __init__(
        self,
        url: str,
        *,
        session: requests.Session | None = None,
        retry: RetryPolicy | None = None,
        timeout: float = 60.0,
        error_message: Callable[[Any], str | None] = _default_message,
        user_agent: str = "btvstat-open",
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.retry = retry or RetryPolicy()
        self.timeout = timeout
        self.error_message = error_message
        self.session = session or requests.Session()
        self._owns_session = session is None
        # Sent with each request, so a caller's session is never changed.
        self.headers: dict[str, str] = {"User-Agent": user_agent, **(headers or {})}
        self.requests_made = 0

    def close(self) -> None:
        """Close the session, unless the caller gave it (then it is the caller's to close)."""
        if self._owns_session:
            self.session.close()

    def error(self, resp: requests.Response, what: str) -> PortalError:
        """The typed error for a failed response."""
        try:
            body = orjson.loads(resp.content) if resp.content else None
        except orjson.JSONDecodeError:
            body = None
        message = self.error_message(body) or (resp.text or "").strip()[:200] or resp.reason
        status = resp.status_code
        cls: type[PortalError] = PortalRequestError
        if status in (401, 403):
            cls, message = PortalAuthError, f"{message}. Check that the dataset is public or the key's rights"
        elif status == 404:
            cls = PortalNotFound
        elif is_retryable_status(status):
            cls = PortalUnavailable
        code = body.get("error_code") if isinstance(body, dict) else None
        return cls(f"{what}: {message}", status=status, code=str(code or f"http.{status}"))

    def request(
        self,
        path: str,
        parse: Callable[[requests.Response], T],
        params: Params | None = None,
        *,
        stream: bool = False,
    ) -> T:
        """GET ``path`` (or an absolute URL) and return ``parse(response)``, retrying what can be retried.

        With ``stream=True`` ``parse`` reads the body itself; a connection dropped meanwhile
        is retried whole.
        """
        url = path if path.startswith(("http://", "https://")) else self.url + path
        what = f"GET {path.split('?')[0]}"
        # A file on another host (a CKAN resource's URL) must not receive the portal's key.
        foreign = urlsplit(url).netloc != urlsplit(self.url).netloc
        headers: dict[str, str | None] = (
            {"User-Agent": self.headers["User-Agent"], "Authorization": None} if foreign else {**self.headers}
        )
        attempt = 0
        while True:
            self.requests_made += 1
            retry_after: float | None = None
            try:
                resp = self.session.get(
                    url,
                    params=params,
                    headers=headers,
                    timeout=(min(10.0, self.timeout), self.timeout),
                    stream=stream,
                )
                if is_retryable_status(resp.status_code):
                    failure = self.error(resp, what)
                    retry_after = parse_retry_after(resp.headers.get("Retry-After"))
                elif resp.status_code >= 400:
                    raise self.error(resp, what)
                else:
                    try:
                        return parse(resp)
                    except (orjson.JSONDecodeError, ValueError, UnicodeDecodeError) as exc:
                        failure = PortalUnavailable(
                            f"{what}: the response body was incomplete or unreadable ({exc})",
                            status=resp.status_code,
                            code="response.truncated",
                        )
            except _TRANSPORT_ERRORS as exc:
                failure = PortalUnavailable(
                    f"{what}: the connection failed ({type(exc).__name__})", code="connection.failed"
                )
            if attempt >= self.retry.retries:
                if attempt:
                    failure.add_note(f"gave up after {attempt + 1} attempts")
                raise failure
            wait = self.retry.delay(attempt, retry_after)
            log.info("retrying %s in %.2fs after: %s", what, wait, failure)
            time.sleep(wait)
            attempt += 1

    def get_json(self, path: str, params: Params | None = None) -> Any:
        """GET a JSON body (parsed whole; a body that does not parse is fetched again)."""
        return self.request(path, lambda r: orjson.loads(r.content), params)

    def download(self, path: str, params: Params | None = None, suffix: str = "") -> Path:
        """GET a body into a new temporary file (the caller deletes it); retried whole on any failure.

        The body streams to disk (memory stays flat) and is complete before the file is handed
        back (``requests`` checks it against ``Content-Length``), so a parser never meets a body
        cut off by a dropped connection.
        """

        def save(resp: requests.Response) -> Path:
            fd, name = tempfile.mkstemp(prefix="btvstat-", suffix=suffix)
            try:
                with resp, os.fdopen(fd, "wb") as fh:
                    for chunk in resp.iter_content(chunk_size=1 << 20):
                        fh.write(chunk)
            except BaseException:
                os.unlink(name)
                raise
            return Path(name)

        return self.request(path, save, params, stream=True)
