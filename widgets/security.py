"""Security headers for every response: CSP, framing rules, nosniff, referrer policy.

Pages run only scripts and styles served by this server (``script-src 'self'``, no inline code,
no ``eval``: charts use Vega's expression interpreter). Embeds may be framed by the origins in
``embed.allowed_origins`` (CSP ``frame-ancestors``); every other page refuses to be framed, also
through ``X-Frame-Options: DENY`` for old browsers. Route handlers that cache their responses put
these headers into the cached copy; :class:`SecurityHeadersMiddleware` adds them to every other
response (portal routes, errors, API docs) without overriding what a route chose.

Example:
    >>> dict(security_headers("page"))["x-frame-options"]
    'DENY'
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any, Literal

from btvstat_open.errors import UsageError

__all__ = [
    "SecurityHeadersMiddleware",
    "frame_ancestors",
    "security_headers",
]

Kind = Literal["page", "packet", "embed", "image", "data", "script", "docs"]

_PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'"
)
# Swagger UI (/docs) runs from this server's own files, as every page does; it submits no forms.
_DOCS_CSP = _PAGE_CSP.replace("form-action 'self'", "form-action 'none'")
# A meeting packet is one self-contained page: no script at all, its one inline stylesheet allowed
# by its hash (see widgets.packets.render), its charts inline SVG.
_PACKET_CSP = "default-src 'none'; style-src {style}; img-src data:; base-uri 'none'; form-action 'none'"
# Images and data never run code, even when opened directly.
_INERT_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$|^https?://\*\.[A-Za-z0-9.-]+$")


def frame_ancestors(allowed_origins: Sequence[str]) -> str:
    """The CSP ``frame-ancestors`` source list for embeds.

    ``*`` allows any site; an empty list allows only this server ('self').

    Example:
        >>> frame_ancestors(["https://www.example.gov"])
        "'self' https://www.example.gov"
        >>> frame_ancestors([])
        "'self'"
    """
    if "*" in allowed_origins:
        return "*"
    for origin in allowed_origins:
        if not _ORIGIN.match(origin):
            raise UsageError(
                f"embed.allowed_origins holds {origin!r}, which is not an origin; write it as "
                "scheme://host[:port] with no path, e.g. https://www.example.gov."
            )
    return " ".join(["'self'", *allowed_origins])


def security_headers(
    kind: Kind, *, ancestors: str = "'none'", styles: Sequence[str] = ()
) -> list[tuple[str, str]]:
    """The security headers for one kind of response (lower-case names); ``styles`` are more CSP
    sources for a packet's inline stylesheet (a themed packet's, ``'sha256-...'``).

    Example:
        >>> dict(security_headers("embed", ancestors="'self'"))["content-security-policy"][-22:]
        "frame-ancestors 'self'"
    """
    if kind in ("page", "embed"):
        csp = _PAGE_CSP
    elif kind == "packet":
        from widgets.packets.render import style_hash

        csp = _PACKET_CSP.format(style=" ".join(dict.fromkeys((style_hash(), *styles))))
    elif kind == "docs":
        csp = _DOCS_CSP
    else:
        csp = _INERT_CSP
    if kind != "embed":
        ancestors = "'none'"
    headers = [
        ("content-security-policy", f"{csp}; frame-ancestors {ancestors}"),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "strict-origin-when-cross-origin"),
    ]
    if kind != "embed":
        headers.append(("x-frame-options", "DENY"))
    if kind in ("page", "packet", "docs"):
        headers.append(("cross-origin-opener-policy", "same-origin"))
    if kind in ("data", "image", "script"):
        # Public open data and charts: any site may fetch them (no cookies are involved).
        headers.append(("access-control-allow-origin", "*"))
    return headers


def _kind_for(path: str, content_type: bytes) -> Kind:
    if path in ("/docs", "/docs/oauth2-redirect", "/redoc"):
        return "docs"
    if content_type.startswith(b"text/html"):
        return "page"
    if content_type.startswith((b"image/", b"application/javascript", b"text/javascript")):
        return "image"
    return "data"


class SecurityHeadersMiddleware:
    """Pure-ASGI middleware adding :func:`security_headers` to responses that lack them."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]

        async def send_with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                raw: list[tuple[bytes, bytes]] = list(message.get("headers", []))
                present = {name.lower() for name, _ in raw}
                if b"content-security-policy" not in present:  # else the route chose its headers
                    content_type = next((v for n, v in raw if n.lower() == b"content-type"), b"")
                    raw.extend(_missing(security_headers(_kind_for(path, content_type)), present))
                    message = {**message, "headers": raw}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _missing(headers: Iterable[tuple[str, str]], present: set[bytes]) -> list[tuple[bytes, bytes]]:
    out = []
    for name, value in headers:
        key = name.encode("latin-1")
        if key not in present:
            out.append((key, value.encode("latin-1")))
    return out
