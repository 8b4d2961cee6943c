"""One HTTP exchange with a portal the city may not control: secrets kept to their origin, every wait bounded.

* **Credentials bound to their origin.** A :class:`Secrets` (headers, HTTP Basic auth, query
  parameters such as ArcGIS's ``token``) belongs to one scheme, host and port. It goes with a
  request only when the URL has that origin; a URL on any other origin is sent without it.
* **Redirects followed by hand.** A redirect to the same origin keeps the secrets; one to another
  origin drops every one of them, and a write (any method but GET and HEAD) redirected to another
  origin is refused. A redirect to anything but ``http(s)://`` (``file://``) is refused.
* **A total deadline.** ``timeout`` bounds each socket read *and* the whole exchange: the status
  line and headers must arrive within ``timeout`` seconds of the start (redirects included; plus
  one second per :data:`MIN_RATE` bytes of a request body), the whole answer within ``timeout``
  seconds plus one second per :data:`MIN_RATE` bytes received, so an answer trickled a byte at a
  time ends (a :class:`DeadlineExceeded`, a ``requests.Timeout`` retried like one). The head is
  bounded by a watchdog that shuts the socket down at the deadline (:mod:`connectors.deadline`
  says why), on sessions with a :class:`~connectors.deadline.DeadlineAdapter` mounted, as the
  connectors' own sessions are; the body by a check after each read (:func:`body_chunks`).
* **A cap on the body.** A body read into memory stops at ``BTVSTAT_MAX_BODY_MB`` after
  decompression (:mod:`btvstat_open.limits`), a :class:`PortalResponseError` naming the setting.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import orjson
import requests
import urllib3

from btvstat_open.errors import PortalResponseError
from btvstat_open.limits import limit, too_large
from connectors import deadline

__all__ = [
    "MIN_RATE",
    "DeadlineExceeded",
    "Secrets",
    "body_chunks",
    "join_url",
    "loads",
    "new_session",
    "origin_of",
    "send",
]

#: Bytes per second an answer must at least keep up (beyond its first ``timeout`` seconds).
MIN_RATE = 64 * 1024
_MAX_REDIRECTS = 10
_REDIRECTS = (301, 302, 303, 307, 308)
_SAFE_METHODS = ("GET", "HEAD")


class DeadlineExceeded(requests.exceptions.ReadTimeout):
    """An answer that did not arrive within the total deadline; the message names ``timeout``.

    Example:
        >>> str(DeadlineExceeded.of_head(2))[:60]
        'no status line and headers within timeout=2 s (they came too'
    """

    @classmethod
    def of_head(cls, timeout: float) -> DeadlineExceeded:
        """The head (status line and headers) was too slow."""
        return cls(
            f"no status line and headers within timeout={timeout:g} s (they came too slowly); "
            "raise the timeout setting if the portal is only slow"
        )


def new_session(pool_size: int = 10) -> requests.Session:
    """A new session whose answers are read under the total deadline (a :class:`DeadlineAdapter`
    for ``http`` and ``https``, ``pool_size`` connections kept per host).

    Example:
        >>> type(new_session().get_adapter("https://data.example.gov")).__name__
        'DeadlineAdapter'
    """
    made = requests.Session()
    adapter = deadline.DeadlineAdapter(pool_connections=4, pool_maxsize=max(4, pool_size))
    made.mount("http://", adapter)
    made.mount("https://", adapter)
    return made


def origin_of(url: str) -> tuple[str, str, int]:
    """The scheme, host and port a URL names (the port filled in from the scheme).

    Example:
        >>> origin_of("https://Data.Example.gov/resource/x.json")
        ('https', 'data.example.gov', 443)
        >>> origin_of("http://127.0.0.1:8000") == origin_of("http://127.0.0.1:8001")
        False
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    return scheme, (parts.hostname or "").lower(), port or {"http": 80, "https": 443}.get(scheme, 0)


def join_url(base: str, path: str) -> str:
    """``path`` under ``base``: a full ``http(s)://`` URL as it is, ``/x`` after ``base``'s own path,
    anything else resolved the way a browser resolves a link (never pasted onto the host name).

    Example:
        >>> join_url("https://ckan.city.gov", "/api/3/action/x")
        'https://ckan.city.gov/api/3/action/x'
        >>> join_url("https://ckan.city.gov", ".evil.example/x")  # not https://ckan.city.gov.evil.example
        'https://ckan.city.gov/.evil.example/x'
        >>> join_url("https://ckan.city.gov/ckan", "1/steal.csv")
        'https://ckan.city.gov/ckan/1/steal.csv'
    """
    if path.startswith(("http://", "https://")):
        return path
    base = base.rstrip("/")
    if path.startswith("/") and not path.startswith("//"):
        return base + path
    return urljoin(base + "/", path)


@dataclass(frozen=True)
class Secrets:
    """Credentials and the one origin they may be sent to; ``repr`` never shows them.

    Example:
        >>> s = Secrets("https://data.example.gov", headers={"X-App-Token": "t0ken"})
        >>> s.allowed("https://data.example.gov/x"), s.allowed("https://evil.example/x")
        (True, False)
        >>> "t0ken" in repr(s)
        False
    """

    url: str
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    auth: tuple[str, str] | requests.auth.AuthBase | None = field(default=None, repr=False)
    params: Mapping[str, str] = field(default_factory=dict, repr=False)

    def allowed(self, url: str) -> bool:
        """Whether these secrets may go to ``url``: its origin is theirs, or the same host upgraded
        from ``http://`` to ``https://`` (as portals redirect plain requests).

        Example:
            >>> Secrets("http://data.example.gov").allowed("https://data.example.gov/x")
            True
            >>> Secrets("https://data.example.gov").allowed("http://data.example.gov/x")
            False
        """
        mine, theirs = origin_of(self.url), origin_of(url)
        upgraded = mine == ("http", theirs[1], 80) and theirs == ("https", mine[1], 443)
        return theirs == mine or upgraded


def _deadline_passed(start: float, timeout: float, received: int) -> bool:
    return time.monotonic() > start + timeout + received / MIN_RATE


def body_chunks(
    resp: requests.Response,
    *,
    timeout: float,
    start: float | None = None,
    cap: str | None = None,
    size: int = 1 << 20,
) -> Iterator[bytes]:
    """The decompressed body in chunks of at most ``size`` bytes, within the total deadline (and ``cap``,
    the name of a :mod:`btvstat_open.limits` setting, when given).

    Failures are the ``requests`` exceptions a retry loop knows: a dropped or garbled body is
    ``ChunkedEncodingError`` or ``ContentDecodingError``, a body too slow ``requests.Timeout``.
    """
    begun = time.monotonic() if start is None else start
    most = limit(cap) if cap else None
    received = 0
    raw: Any = resp.raw
    # urllib3's read1 returns after one socket read, so the deadline is checked while a body
    # trickles; a caller's session that answers from elsewhere (a cache) is read its own way.
    pieces = (
        iter(lambda: raw.read1(size, decode_content=True), b"")
        if hasattr(raw, "read1") and isinstance(raw, urllib3.response.BaseHTTPResponse)
        else resp.iter_content(size)
    )
    try:
        for chunk in pieces:
            if not chunk:
                continue
            received += len(chunk)
            if most is not None and received > most:
                resp.close()
                raise PortalResponseError(
                    too_large(cap or "", f"The answer of {_where(resp.url)}"), code="response.too-large"
                )
            if _deadline_passed(begun, timeout, received):
                resp.close()
                raise DeadlineExceeded(
                    f"the answer kept coming too slowly ({received:,} bytes in "
                    f"{time.monotonic() - begun:.0f} s; the deadline is timeout={timeout:g} s plus "
                    "1 s per 64 KiB); raise the timeout setting if the portal is only slow"
                )
            yield chunk
    except requests.exceptions.RequestException:  # an OSError too: keep its own kind
        raise
    except urllib3.exceptions.DecodeError as exc:
        raise requests.exceptions.ContentDecodingError(exc) from exc
    except urllib3.exceptions.ReadTimeoutError as exc:
        raise requests.exceptions.ConnectionError(exc) from exc
    except (urllib3.exceptions.ProtocolError, urllib3.exceptions.SSLError, OSError) as exc:
        raise requests.exceptions.ChunkedEncodingError(exc) from exc


def loads(data: bytes, what: str = "A JSON answer") -> Any:
    """``orjson.loads(data)``, once a count of its items shows it cannot take memory far past its size.

    Each value, array and object decodes to a Python object of 30 to 60 bytes, so ``[{},{},...]``
    takes about 30 times its size; more than ``BTVSTAT_MAX_JSON_ITEMS`` separators and brackets
    (counted at C speed, before decoding) is a :class:`PortalResponseError` naming the setting.

    Example:
        >>> loads(b'[{"a": 1}, {"a": 2}]')
        [{'a': 1}, {'a': 2}]
    """
    items = data.count(b",") + data.count(b"[") + data.count(b"{")
    if items > limit("BTVSTAT_MAX_JSON_ITEMS"):
        raise PortalResponseError(
            too_large("BTVSTAT_MAX_JSON_ITEMS", f"{what} ({items:,} items)"), code="response.too-large"
        )
    return orjson.loads(data)


def _where(url: str | None) -> str:
    """A URL without its query (where a secret parameter may sit)."""
    return (url or "").split("?")[0]


def _read_whole(resp: requests.Response, timeout: float, start: float) -> None:
    """Read the body into ``resp.content``, within the deadline and ``BTVSTAT_MAX_BODY_MB``."""
    body = bytearray()
    for chunk in body_chunks(resp, timeout=timeout, start=start, cap="BTVSTAT_MAX_BODY_MB"):
        body += chunk
    resp._content = bytes(body)
    resp._content_consumed = True  # type: ignore[attr-defined]


def _redirect_target(
    resp: requests.Response, method: str, url: str, location: str, sent: Secrets | None
) -> str:
    """Where a redirect leads; refused when it leaves http(s), or takes a write that carried
    credentials (``sent``) to an origin they are not for."""
    target = urljoin(resp.url, location)
    if urlsplit(target).scheme.lower() not in ("http", "https"):
        raise PortalResponseError(
            f"{method} {_where(url)}: the portal redirected to {_where(target)[:100]!r}, which is not an "
            "http(s) address; check the portal URL",
            status=resp.status_code,
            code="redirect.scheme",
        )
    if sent is not None and not sent.allowed(target) and method not in _SAFE_METHODS:
        raise PortalResponseError(
            f"{method} {_where(url)}: the portal redirected a write to another host "
            f"({origin_of(target)[1]}); refused, so the credentials stay with {origin_of(url)[1]}. "
            "Use the portal's own address",
            status=resp.status_code,
            code="redirect.cross-origin",
        )
    return target


def send(
    session: requests.Session,
    method: str,
    url: str,
    *,
    secrets: Secrets | None = None,
    params: Mapping[str, str | int] | None = None,
    data: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = 60.0,
    stream: bool = False,
) -> requests.Response:
    """Send one request, following redirects by hand (see the module doc); the body is read into
    memory (capped) unless ``stream``, in which case read it with :func:`body_chunks`."""
    start = time.monotonic()
    # The head is read after the request body is sent: an upload gets the body's allowance too.
    head_due = start + timeout + len(data or b"") / MIN_RATE
    plain = dict(headers or {})
    for _hop in range(_MAX_REDIRECTS + 1):
        trusted = secrets is not None and secrets.allowed(url)
        query = {**(params or {}), **(secrets.params if trusted and secrets else {})}
        with deadline.bounded(head_due) as fired:
            try:
                resp = session.request(
                    method,
                    url,
                    params=query or None,
                    data=data,
                    headers={**plain, **(secrets.headers if trusted and secrets else {})},
                    auth=secrets.auth if trusted and secrets else None,
                    timeout=(min(10.0, timeout), timeout),
                    allow_redirects=False,
                    stream=True,
                )
            except requests.exceptions.RequestException as exc:
                if deadline.expired(fired):
                    raise DeadlineExceeded.of_head(timeout) from exc
                raise
        if deadline.expired(fired):  # http.client takes an end of file as the end of the headers
            resp.close()
            raise DeadlineExceeded.of_head(timeout)
        location = resp.headers.get("Location")
        if resp.status_code not in _REDIRECTS or not location:
            if not stream:
                _read_whole(resp, timeout, start)
            return resp
        resp.close()
        target = _redirect_target(resp, method, url, location, secrets if trusted else None)
        if resp.status_code == 303 or (resp.status_code in (301, 302) and method == "POST"):
            method, data = "GET", None
        url, params = target, None  # the Location carries its own query
    raise PortalResponseError(
        f"{method} {_where(url)}: more than {_MAX_REDIRECTS} redirects; check the portal URL",
        code="redirect.loop",
    )
