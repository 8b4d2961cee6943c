"""The write token: who may change data in the local portal.

Writes carry the token as the password of HTTP Basic auth (any user name, so that
``sodapy.Socrata(domain, None, username="any", password=token)`` works), or as
``Authorization: Bearer <token>`` (``OAuth <token>`` too, as sodapy sends access tokens).
Tokens are compared in constant time.
"""

from __future__ import annotations

import base64
import binascii
import hmac

from starlette.requests import Request

from btvstat_open.errors import AuthenticationRequired
from btvstat_open.settings import Settings

__all__ = ["has_write_token", "presented_token", "require_write_token", "token_matches"]


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


def require_write_token(request: Request, settings: Settings) -> None:
    """Raise :class:`AuthenticationRequired` unless the request carries the write token."""
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


def has_write_token(request: Request, settings: Settings) -> bool:
    """Whether the request carries the write token (reads of private datasets need it).

    Example:
        >>> has_write_token(request, Settings(write_token=None))  # doctest: +SKIP
        False
    """
    if not settings.write_token:
        return False
    presented = presented_token(request.headers.get("authorization"))
    return presented is not None and token_matches(presented, settings.write_token)
