"""The internal pages' HTML: Jinja templates (autoescaped) and the headers every internal
response carries: never cached (``no-store``), never framed, only this server's scripts.

Pages answer in the request's locale: their links and form actions point at that locale's pages
(``/es/updates``), as redirects do, and a notice after a redirect is a code (``?notice=submitted``)
shown in the page's language, never text from the address.

Example:
    >>> dict(INTERNAL_HEADERS)["cache-control"]
    'no-store, private'
    >>> from btvstat_open.i18n import use_locale
    >>> with use_locale("fr"):
    ...     notice_text("signed-out"), notice_text("values", "3"), notice_text("<b>made up</b>")
    ('Vous êtes déconnecté.', '3 valeurs soumises pour approbation.', '')
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from starlette.responses import HTMLResponse, RedirectResponse, Response

from btvstat_open.i18n import _, current_locale, format_integer, lazy, ngettext
from btvstat_open.i18n.jinja import install as install_i18n
from btvstat_open.web.locales import SELECTOR_TEMPLATES, in_request_locale, localize_links, request_locales

__all__ = [
    "INTERNAL_HEADERS",
    "NOTICES",
    "Look",
    "internal",
    "notice_text",
    "page",
    "redirect",
    "redirect_to",
]

INTERNAL_HEADERS = (
    ("cache-control", "no-store, private"),
    ("pragma", "no-cache"),
    ("vary", "Cookie, Authorization"),
    (
        "content-security-policy",
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
        "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    ),
    ("x-frame-options", "DENY"),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "same-origin"),
    ("cross-origin-opener-policy", "same-origin"),
)


@dataclass(frozen=True)
class Look:
    """The catalog's look on the internal pages: its theme stylesheet (colours, fonts) and logo."""

    theme_stylesheet: str | None = None
    logo_url: str | None = None
    logo_alt: str = ""


#: What a page says after a redirect (``?notice=code``; ``&n=`` counts for the counted ones).
NOTICES = {
    "signed-out": lazy("Signed out."),
    "submitted": lazy("Submitted for approval."),
    "done": lazy("Done."),
    "commentary": lazy("Commentary submitted for approval."),
    "action-update": lazy("Action update submitted for approval."),
    "action-added": lazy("Action added."),
}


def notice_text(code: str, count: str = "") -> str:
    """The notice ``code`` names, in the current locale ("" for an unknown code)."""
    if code in NOTICES:
        return _(NOTICES[code])
    if not (count.isascii() and count.isdigit() and len(count) < 10):
        return ""
    num = int(count)
    if code == "values":
        text = ngettext(
            "Submitted %(num)s value for approval.", "Submitted %(num)s values for approval.", num
        )
    elif code == "locked":
        text = ngettext("Locked %(num)s period.", "Locked %(num)s periods.", num)
    else:
        return ""
    return text % {"num": format_integer(num)}


@lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    loader = jinja2.ChoiceLoader(
        [
            jinja2.FileSystemLoader(str(Path(__file__).parent / "templates")),
            jinja2.FileSystemLoader(SELECTOR_TEMPLATES),
        ]
    )
    return install_i18n(jinja2.Environment(loader=loader, autoescape=True, undefined=jinja2.StrictUndefined))


def internal(response: Response) -> Response:
    """Add the internal headers to a response."""
    for name, value in INTERNAL_HEADERS:
        response.headers[name] = value
    return response


def page(template: str, status: int = 200, **values: Any) -> Response:
    """An internal page rendered from ``template``, its links in the request's locale."""
    html = _env().get_template(template).render(**values)
    html = localize_links(html, current_locale(), request_locales())
    return internal(HTMLResponse(html, status_code=status))


def redirect(to: str) -> Response:
    """A 303 to a same-site path (anything else goes to /updates: no open redirect).

    Example:
        >>> redirect("https://evil.example/").headers["location"], redirect("/approvals").headers["location"]
        ('/updates', '/approvals')
    """
    safe = to if to.startswith("/") and not to.startswith("//") and "\\" not in to else "/updates"
    return internal(RedirectResponse(in_request_locale(safe), status_code=303))


def redirect_to(url: str) -> Response:
    """A 303 to an address the server chose (the identity provider's), never to one from a request."""
    return internal(RedirectResponse(url, status_code=303))
