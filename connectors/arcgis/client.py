"""HTTP for ArcGIS REST: one ``requests.Session``, retries, and errors that arrive with HTTP 200.

ArcGIS answers most failures with ``200 OK`` and a body ``{"error": {"code": 400, "message": ...,
"details": [...]}}``; :func:`error_from_body` turns that into the typed
:class:`~btvstat_open.errors.PortalError` subclass its code means, and codes 429 and 5xx in the
body are retried like the same HTTP statuses. Bodies are parsed whole inside the retry loop, so a
body cut off mid-way is fetched again instead of being taken for a short page. Old servers write
bare ``NaN`` into geometry JSON, which strict parsers reject: :func:`loads` accepts it.

The layer is thin on purpose (one session, a caller's ``session=``, :class:`RetryPolicy`), so a
shared retrying client can replace it.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import orjson
import requests

from btvstat_open.errors import (
    PortalAuthError,
    PortalError,
    PortalNotFound,
    PortalRequestError,
    PortalUnavailable,
)
from connectors import transport
from connectors.socrata.retry import RetryPolicy, is_retryable_status, parse_retry_after

__all__ = ["ArcgisHttp", "error_from_body", "loads"]

log = logging.getLogger("btvstat_open.connectors.arcgis")

_TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)


def loads(data: bytes) -> Any:
    """Parse a JSON body, accepting the bare ``NaN`` old ArcGIS servers write into geometries.

    Example:
        >>> loads(b'{"x": NaN, "y": 1}')["y"]
        1
    """
    try:
        return transport.loads(data, "An ArcGIS answer")  # bounded: see transport.loads
    except orjson.JSONDecodeError:
        # Python's json reads NaN/Infinity; anything else that fails is a broken body.
        return json.loads(data)


def error_from_body(error: Any, what: str, status: int = 200) -> PortalError:
    """The typed error for an ArcGIS ``{"error": {...}}`` value (``error`` is its inner object).

    Example:
        >>> err = error_from_body({"code": 499, "message": "Token Required", "details": []}, "GET /0")
        >>> type(err).__name__, err.code, err.status
        ('PortalAuthError', 'arcgis.499', 499)
    """
    inner = error if isinstance(error, dict) else {}
    raw_code = inner.get("code", status)
    try:
        code = int(raw_code)
    except (TypeError, ValueError):
        code = status
    message = str(inner.get("message") or "the server reported an error")
    details = [str(d) for d in inner.get("details") or [] if d]
    if details:
        message += " (" + "; ".join(details) + ")"
    cls: type[PortalError]
    if code in (401, 403, 498, 499):
        cls = PortalAuthError
        message += ". The layer is secured: ask its owner for public access or a token"
    elif code == 404:
        cls = PortalNotFound
    elif is_retryable_status(code):
        cls = PortalUnavailable
    else:
        cls = PortalRequestError
    return cls(f"{what}: {message}", status=code, code=f"arcgis.{code}", data=inner.get("details") or None)


def _answer(resp: requests.Response, what: str) -> dict[str, Any] | PortalError:
    """The JSON object a response carries, or the error it carries (in its status or its body).

    A 2xx body that does not parse raises ValueError (it is retried: it was cut short).
    """
    failed = resp.status_code >= 400 or resp.status_code == 202
    try:
        body: Any = loads(resp.content) if resp.content else None
    except ValueError:
        if not failed:
            raise
        body = None
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return error_from_body(body["error"], what, resp.status_code)
    if failed:
        text = (resp.text or "").strip()[:200] or resp.reason
        return error_from_body({"code": resp.status_code, "message": text}, what, resp.status_code)
    if not isinstance(body, dict):
        return PortalRequestError(f"{what}: the answer is not a JSON object", code="arcgis.shape")
    return body


class ArcgisHttp:
    """GET JSON from ArcGIS REST URLs with retries; one session for the connector.

    ``token`` (an ArcGIS token for a secured layer) goes as the ``token`` parameter with every
    request to the origin of ``token_url`` (the connector's URL), and to no other host; error
    messages name the URL without its parameters, so it never shows.

    Example:
        >>> http = ArcgisHttp(retry=RetryPolicy(retries=0))
        >>> http.get_json(arcgis_url + "/1")["name"]  # arcgis_url: a stand-in FeatureServer
        'Cases'
    """

    def __init__(
        self,
        *,
        session: requests.Session | None = None,
        timeout: float = 60.0,
        retry: RetryPolicy | None = None,
        user_agent: str = "btvstat-open",
        token: str | None = None,
        token_url: str | None = None,
    ) -> None:
        self.session = session or transport.new_session()  # heads under the deadline too
        self._owns_session = session is None
        if self._owns_session:
            self.session.headers["User-Agent"] = user_agent
            # gzip as GDAL and the other connectors ask: brotli, which requests offers when the
            # brotli package is present, costs a server that compresses on the fly (Koop) more.
            self.session.headers["Accept-Encoding"] = "gzip, deflate"
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.requests_made = 0
        # Sent as a parameter to ``token_url``'s origin only; never part of a message or a log line.
        self._secrets = (
            transport.Secrets(token_url or "", params={"token": token}) if token and token_url else None
        )

    def close(self) -> None:
        """Close the session, unless the caller gave it."""
        if self._owns_session:
            self.session.close()

    def get_json(
        self, url: str, params: Mapping[str, str | int] | None = None, *, post: bool = False
    ) -> dict[str, Any]:
        """The JSON object at ``url`` (``f=json`` is added), retrying what can be retried.

        ``post`` sends the parameters as a form (ArcGIS takes every query either way; a long
        ``objectIds`` list does not fit in a URL).
        """
        query = {"f": "json", **(params or {})}
        what = f"{'POST' if post else 'GET'} {url}"
        attempt = 0
        while True:
            self.requests_made += 1
            retry_after: float | None = None
            try:
                if post:  # the token still rides in the URL, only to its own origin (transport)
                    resp = transport.send(
                        self.session,
                        "POST",
                        url,
                        secrets=self._secrets,
                        data=urlencode(query).encode(),
                        headers={"Content-Type": "application/x-www-form-urlencoded"},
                        timeout=self.timeout,
                    )
                else:
                    resp = transport.send(
                        self.session, "GET", url, secrets=self._secrets, params=query, timeout=self.timeout
                    )
                answer = _answer(resp, what)
                if isinstance(answer, dict):
                    return answer
                failure: PortalError = answer
                if not isinstance(failure, PortalUnavailable):
                    raise failure
                retry_after = parse_retry_after(resp.headers.get("Retry-After"))
            except _TRANSPORT_ERRORS as exc:
                # A deadline's message names the setting and holds no URL (so no token).
                said = f": {exc}" if isinstance(exc, transport.DeadlineExceeded) else ""
                failure = PortalUnavailable(
                    f"{what}: the connection failed ({type(exc).__name__}{said})", code="connection.failed"
                )
            except ValueError as exc:  # a body cut short or garbled: ask again
                failure = PortalUnavailable(
                    f"{what}: the response body was incomplete or unreadable ({exc})",
                    code="response.truncated",
                )
            if attempt >= self.retry.retries:
                if attempt:
                    failure.add_note(f"gave up after {attempt + 1} attempts")
                raise failure
            wait = self.retry.delay(attempt, retry_after)
            log.info("retrying %s in %.2fs after: %s", what, wait, failure)
            time.sleep(wait)
            attempt += 1
