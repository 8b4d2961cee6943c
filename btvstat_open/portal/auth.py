"""The write token: who may change data in the local portal.

Writes carry the token as the password of HTTP Basic auth (any user name, so that
``sodapy.Socrata(domain, None, username="any", password=token)`` works), or as
``Authorization: Bearer <token>`` (``OAuth <token>`` too, as sodapy sends access tokens).
Tokens are compared in constant time.

Writes are also guarded against cross-site requests from browsers: a body must say it is JSON
or CSV (``Content-Type``), which a page on another site cannot send without a CORS preflight
this server never grants; and no 401 carries ``WWW-Authenticate``, so a browser never asks for,
caches or replays Basic credentials. A body without a ``Content-Type`` (sodapy sends JSON so)
is read only from clients that are not browsers: no ``Origin`` and no cross-site
``Sec-Fetch-Site``, which browsers always send on such writes.
"""

from __future__ import annotations

import base64
import binascii
import hmac

from starlette.requests import Request

from btvstat_open.errors import AuthenticationRequired, UnsupportedMediaType
from btvstat_open.web.settings import Settings

__all__ = [
    "JSON_ONLY",
    "JSON_OR_CSV",
    "has_write_token",
    "presented_token",
    "require_media_type",
    "require_write_token",
    "token_matches",
]

JSON_OR_CSV = ("application/json", "text/csv", "application/csv")
JSON_ONLY = ("application/json",)


def presented_token(authorization: str | None) -> str | None:
    """The token in an ``Authorization`` header (Basic password, Bearer or OAuth), if any.

    Example:
        >>> presented_token("Bearer abc")
        'abc'
        >>> presented_token("Basic " + base64.b64encode(b"any:abc").decode())
        'abc'
    """
    if not authorization:
        return None
    scheme, _, value = authorization.strip().partition(" ")
    scheme = scheme.lower()
    value = value.strip()
    if scheme in ("bearer", "oauth"):
        return value or None
    if scheme == "basic":
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        _, sep, password = decoded.partition(":")
        return password if sep else None
    return None


def token_matches(presented: str, expected: str) -> bool:
    """Constant-time comparison of two tokens.

    Example:
        >>> token_matches("a", "a"), token_matches("a", "b")
        (True, False)
    """
    return hmac.compare_digest(presented.encode("utf-8"), expected.encode("utf-8"))


def require_write_token(
    request: Request, settings: Settings, media_types: tuple[str, ...] = JSON_OR_CSV
) -> None:
    """Raise :class:`AuthenticationRequired` unless the request carries the write token, then
    :class:`UnsupportedMediaType` unless its body (if any) is one of ``media_types``."""
    if not settings.write_token:
        raise AuthenticationRequired(
            "Writes are disabled: no write token is configured. Set BTVSTAT_WRITE_TOKEN on the server "
            "and send it as the HTTP Basic password or as 'Authorization: Bearer <token>'."
        )
    presented = presented_token(request.headers.get("authorization"))
    if presented is None:
        raise AuthenticationRequired(
            "This write needs the write token: send it as the HTTP Basic password (any user name) "
            "or as 'Authorization: Bearer <token>'."
        )
    if not token_matches(presented, settings.write_token):
        raise AuthenticationRequired("The write token is wrong; check BTVSTAT_WRITE_TOKEN.")
    require_media_type(request, media_types)


def _has_body(request: Request) -> bool:
    length = request.headers.get("content-length")
    return "transfer-encoding" in request.headers or (length is not None and length.strip() not in ("", "0"))


def _from_a_browser(request: Request) -> bool:
    site = request.headers.get("sec-fetch-site")
    return "origin" in request.headers or (site is not None and site != "none")


def require_media_type(request: Request, media_types: tuple[str, ...]) -> None:
    """Refuse (415) a body whose ``Content-Type`` is not one of ``media_types`` (charset allowed).

    Example:
        >>> from starlette.requests import Request
        >>> form = [(b"content-type", b"application/x-www-form-urlencoded"), (b"content-length", b"3")]
        >>> require_media_type(Request({"type": "http", "headers": form}), JSON_ONLY)
        Traceback (most recent call last):
        ...
        btvstat_open.errors.UnsupportedMediaType: ...
    """
    if not _has_body(request):
        return
    declared = request.headers.get("content-type")
    kind = (declared or "").split(";")[0].strip().lower()
    if kind in media_types or (declared is None and not _from_a_browser(request)):
        return
    wanted = " or ".join(media_types[:2])
    raise UnsupportedMediaType(
        f"This write needs a body of type {wanted}, but it was sent as {declared or 'no type'!r}. "
        f"Send it with 'Content-Type: {media_types[0]}'"
        + (" (or 'text/csv' for CSV)." if "text/csv" in media_types else "."),
        data={"content_type": declared, "accepted": list(media_types)},
    )


def has_write_token(request: Request, settings: Settings) -> bool:
    """Whether the request carries the write token (reads of private datasets need it).

    Example:
        >>> from starlette.requests import Request
        >>> request = Request({"type": "http", "headers": [(b"authorization", b"Bearer t")]})
        >>> has_write_token(request, Settings(write_token="t")), has_write_token(request, Settings())
        (True, False)
    """
    if not settings.write_token:
        return False
    presented = presented_token(request.headers.get("authorization"))
    return presented is not None and token_matches(presented, settings.write_token)
