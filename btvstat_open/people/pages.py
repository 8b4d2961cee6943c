"""The internal pages' HTML: Jinja templates (autoescaped) and the headers every internal
response carries: never cached (``no-store``), never framed, only this server's scripts.

Example:
    >>> dict(INTERNAL_HEADERS)["cache-control"]
    'no-store, private'
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from starlette.responses import HTMLResponse, RedirectResponse, Response

from btvstat_open.i18n.jinja import install as install_i18n

__all__ = ["INTERNAL_HEADERS", "internal", "page", "redirect", "redirect_to"]

INTERNAL_HEADERS = (
    ("cache-control", "no-store, private"),
    ("pragma", "no-cache"),
    ("vary", "Cookie, Authorization"),
    (
        "content-security-policy",
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    ),
    ("x-frame-options", "DENY"),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "same-origin"),
    ("cross-origin-opener-policy", "same-origin"),
)


@lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    loader = jinja2.FileSystemLoader(str(Path(__file__).parent / "templates"))
    return install_i18n(jinja2.Environment(loader=loader, autoescape=True, undefined=jinja2.StrictUndefined))


def internal(response: Response) -> Response:
    """Add the internal headers to a response."""
    for name, value in INTERNAL_HEADERS:
        response.headers[name] = value
    return response


def page(template: str, status: int = 200, **values: Any) -> Response:
    """An internal page rendered from ``template``."""
    html = _env().get_template(template).render(**values)
    return internal(HTMLResponse(html, status_code=status))


def redirect(to: str) -> Response:
    """A 303 to a same-site path (anything else goes to /updates: no open redirect).

    Example:
        >>> redirect("https://evil.example/").headers["location"], redirect("/approvals").headers["location"]
        ('/updates', '/approvals')
    """
    safe = to if to.startswith("/") and not to.startswith("//") and "\\" not in to else "/updates"
    return internal(RedirectResponse(safe, status_code=303))


def redirect_to(url: str) -> Response:
    """A 303 to an address the server chose (the identity provider's), never to one from a request."""
    return internal(RedirectResponse(url, status_code=303))
