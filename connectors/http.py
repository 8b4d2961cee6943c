"""HTTP for any portal kind: one session, retries with jittered backoff, typed errors, whole bodies.

Every request goes through :meth:`HttpClient.request`, which reads the whole body and hands
it to a ``parse`` function inside the retry loop: a body cut off mid-way (the connection
dropped, fewer bytes than ``Content-Length``, JSON or CSV that does not parse) is retried
like a 5xx instead of being taken for a short page. 429, 5xx and 202 are retried, honouring
``Retry-After`` (see :class:`~connectors.retry.RetryPolicy`); other 4xx never are. Failures
end as :class:`~btvstat_open.errors.PortalError` subclasses. A caller may hand in its own
``requests.Session`` (proxies, certificates, a cache): it is used as it is, never changed,
and left open on :meth:`HttpClient.close`.

Portal kinds differ only in how an error body reads (``read_error``) and which header
carries a request id (``request_id_header``); credentials are per-request ``headers`` and ``auth``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import orjson
import pyarrow as pa
import requests

from btvstat_open.atomic import atomic_file
from btvstat_open.errors import PortalError, PortalResponseError, PortalUnavailable, TruncatedBody
from connectors import transport
from connectors.http_errors import ErrorBody, error_from_response, parse_json, read_error_body
from connectors.retry import RetryPolicy, is_retryable_status, parse_retry_after
from connectors.transport import join_url

if TYPE_CHECKING:
    from connectors.http_body import ResumableBody

__all__ = [
    "TRANSPORT_ERRORS",
    "ErrorBody",
    "HttpClient",
    "RetryPolicy",
    "error_from_response",
    "parse_json",
    "read_error_body",
]

T = TypeVar("T")
Auth = tuple[str, str] | requests.auth.AuthBase | None

#: Failures of the transport, or of a body that arrived incomplete: worth another try.
TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)
# What a parse function raises for a body that is incomplete: retried like a dropped connection.
_PARSE_FAILURES: tuple[type[BaseException], ...] = (
    TruncatedBody,
    orjson.JSONDecodeError,
    ValueError,
    pa.ArrowInvalid,
    UnicodeDecodeError,
)


@dataclass(frozen=True)
class _Failure:
    """A failed attempt: the error to raise if it is the last, the server's wait, and whether
    the portal may have applied the request anyway (a 5xx or a dropped connection)."""

    error: PortalError
    retry_after: float | None
    ambiguous: bool


def _gave_up(failure: PortalError, attempts: int) -> PortalError:
    """The last failure, saying how many attempts were made (the same class, a new message)."""
    return type(failure)(
        f"{failure.message} (gave up after {attempts} attempts)",
        status=failure.status,
        code=failure.code,
        request_id=failure.request_id,
        data=failure.data,
    )


class HttpClient:
    """One portal's HTTP: a single ``requests.Session`` shared by every thread of a connector.

    ``session``: the caller's own (used as given, left open by :meth:`close`); otherwise one
    is made with a connection pool of ``pool_size``. ``headers`` and ``auth`` go with every
    request (credentials); ``scrub`` hides secrets in messages; ``read_error`` and
    ``request_id_header`` say how the portal reports errors; ``refuse_html``: a 2xx HTML page
    where data was expected is a :class:`PortalResponseError` (a wrong URL), not retried.

    Example:
        >>> client = HttpClient("http://127.0.0.1:8000/", retry=RetryPolicy(retries=2))
        >>> client.url, client.retry.retries
        ('http://127.0.0.1:8000', 2)
        >>> demo = HttpClient(portal_url)  # portal_url: the demo served on 127.0.0.1
        >>> demo.get_json("/api/views/kc-311-potholes.json")["id"]
        'kc-311-potholes'
    """

    def __init__(
        self,
        url: str,
        *,
        session: requests.Session | None = None,
        timeout: float = 60.0,
        retry: RetryPolicy | None = None,
        pool_size: int = 16,
        headers: Mapping[str, str] | None = None,
        auth: Auth = None,
        user_agent: str = "btvstat-open",
        scrub: Callable[[str], str] = str,
        read_error: Callable[[requests.Response], ErrorBody] = read_error_body,
        request_id_header: str = "X-Request-Id",
        refuse_html: bool = True,
        logger: str = "btvstat_open.connectors.http",
    ) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.headers = dict(headers or {})
        self.auth = auth
        #: The credentials, sent only to this client's own origin (see :mod:`connectors.transport`).
        self.secrets = transport.Secrets(self.url, headers=self.headers, auth=auth)
        self.scrub = scrub
        self.read_error = read_error
        self.request_id_header = request_id_header
        self.refuse_html = refuse_html
        self.log = logging.getLogger(logger)
        self.owns_session = session is None
        if session is None:
            session = transport.new_session(pool_size)  # the answer's head under the deadline too
            session.headers["User-Agent"] = user_agent
            session.headers["Accept-Encoding"] = "gzip, deflate"
        self.session = session
        self._count_lock = threading.Lock()
        #: Requests sent (retries included) and retries among them, over the client's life.
        self.requests_made = 0
        self.retries_made = 0

    def close(self) -> None:
        """Close the session's connections (a session the caller gave stays open: it is theirs)."""
        if self.owns_session:
            self.session.close()

    def _count(self, retry: bool) -> None:
        with self._count_lock:
            self.requests_made += 1
            if retry:
                self.retries_made += 1

    def error(self, resp: requests.Response, what: str) -> PortalError:
        """The typed error for a failed response, read the way this portal writes errors."""
        return error_from_response(
            resp, what, read_error=self.read_error, request_id_header=self.request_id_header
        )

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

        ``path`` is joined to the client's URL (a full ``http(s)://`` URL is taken as it is).
        ``ok_statuses`` lists non-2xx statuses handed back instead of raised (304, or 404 to
        detect a missing route); ``parse`` is not called for them. ``parse`` may raise
        :class:`TruncatedBody` (retried) or any :class:`PortalError` (raised at once). With
        ``idempotent=False`` a 5xx or dropped connection is not retried, because the portal
        may already have applied the request. With ``stream=True`` the body is left for
        ``parse`` to read chunk by chunk (a connection dropped meanwhile is retried whole).
        """
        what = f"{method} {path.split('?')[0]}"
        url = join_url(self.url, path)
        send_headers = dict(headers or {})  # the credentials go apart, to their own origin only
        if json_body is not None:
            send_headers["Content-Type"] = "application/json"
        body = orjson.dumps(json_body) if json_body is not None else data
        send = {"params": params, "data": body, "headers": send_headers, "stream": stream}
        attempt = 0
        while True:
            self._count(attempt > 0)
            outcome = self._send(method, url, what, parse, send, ok_statuses)
            if not isinstance(outcome, _Failure):
                return outcome
            failure = outcome.error
            if attempt >= self.retry.retries or (outcome.ambiguous and not idempotent):
                raise _gave_up(failure, attempt + 1) if attempt else failure
            wait = self.retry.delay(attempt, outcome.retry_after)
            self.log.info("retrying %s in %.2fs after: %s", what, wait, failure)
            time.sleep(wait)
            attempt += 1

    def _send(
        self,
        method: str,
        url: str,
        what: str,
        parse: Callable[[requests.Response], T],
        send: dict[str, Any],
        ok_statuses: tuple[int, ...],
    ) -> tuple[requests.Response, T | None] | _Failure:
        """One attempt: the response and its parsed body, or what failed (raised when final)."""
        try:
            resp = transport.send(
                self.session, method, url, secrets=self.secrets, timeout=self.timeout, **send
            )
            if resp.status_code in ok_statuses:
                return resp, None
            if is_retryable_status(resp.status_code):
                retry_after = parse_retry_after(resp.headers.get("Retry-After"))
                return _Failure(self.error(resp, what), retry_after, ambiguous=resp.status_code >= 500)
            if resp.status_code >= 400:
                raise self.error(resp, what)
            self._refuse_html(resp, what)
            try:
                return resp, parse(resp)
            except _PARSE_FAILURES as exc:
                resp.close()
                failure = PortalUnavailable(
                    f"{what}: the response body was incomplete or unreadable ({exc})",
                    status=resp.status_code,
                    code="response.truncated",
                    request_id=resp.headers.get(self.request_id_header),
                )
                return _Failure(failure, None, ambiguous=True)
        except TRANSPORT_ERRORS as exc:  # sending, or reading a streamed body in ``parse``
            failure = PortalUnavailable(
                f"{what}: the connection failed ({type(exc).__name__}: {self.scrub(str(exc))})",
                code="connection.failed",
            )
            return _Failure(failure, None, ambiguous=True)

    def _refuse_html(self, resp: requests.Response, what: str) -> None:
        """A web page where data was expected: the URL is not the API (a deterministic answer)."""
        kind = resp.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if self.refuse_html and kind in ("text/html", "application/xhtml+xml"):
            resp.close()
            raise PortalResponseError(
                f"{what}: {self.url} answered a web page (HTML), not data; check that the URL "
                "is the portal's API address, and the portal kind",
                status=resp.status_code,
                code="response.html",
                request_id=resp.headers.get(self.request_id_header),
            )

    def get_json(self, path: str, params: Mapping[str, str | int] | None = None) -> Any:
        """GET a JSON body."""
        _, value = self.request("GET", path, params=params, parse=parse_json)
        return value

    def download(self, path: str, dest: Path, *, params: Mapping[str, str | int] | None = None) -> int:
        """Stream a (large) body to ``dest`` chunk by chunk, retrying whole on any failure.

        ``dest`` appears only once the whole body arrived (an interrupted body leaves no file).
        Returns the byte count. Raises :class:`PortalNotFound` for a 404 so callers can fall back.
        """

        def save(resp: requests.Response) -> int:
            size = 0
            # Not durable: a download is an intermediate file its caller reads at once.
            with resp, atomic_file(dest, durable=False) as fh:
                for chunk in transport.body_chunks(resp, timeout=self.timeout):
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
            >>> client = HttpClient(portal_url)  # portal_url: the demo served on 127.0.0.1
            >>> with client.open_body("/api/views/kc-311-potholes/rows.csv") as body:
            ...     body.start().read(10)
            b'"CASE ID",'
        """
        from connectors.http_body import ResumableBody

        return ResumableBody(self, path, params)
