"""The locale of each request: ``/{locale}/...`` prefixes, ``?lang=`` and a first-visit hint.

:class:`LocaleMiddleware` (pure ASGI, outermost) reads a path's locale prefix (``/es/kpi/x``),
moves it to the scope's ``root_path`` so one route table answers every locale (``/kpi/{id}``), and
runs the request in that locale (:func:`btvstat_open.i18n.use_locale`). The default locale's pages
have no prefix. An embed, image or feed is in a locale at its prefixed address too
(``/es/kpi/x.svg``, what pages link: a static copy has it as a file), or with ``?lang=es``.
A visitor picks a language with the selector's links (``/locale/{locale}?next=/path``: a
cookie, then a redirect to that page in it);
``Accept-Language`` is only a hint for a first visit (no cookie) to an unprefixed page, answered by a
redirect; such answers carry ``Vary: Accept-Language, Cookie`` and are never cached by the server.

Example:
    >>> locale_of_request("/es/kpi/x", b"", ["en", "es"])
    ('es', '/es')
    >>> locale_of_request("/embed/x", b"lang=fr&theme=dark", ["en", "es", "fr"])
    ('fr', '')
    >>> locale_of_request("/kpi/x", b"", ["en", "es"])
    (None, '')
"""

from __future__ import annotations

import contextvars
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

import orjson
from babel import Locale

from btvstat_open.i18n import PSEUDO_LOCALE, current_locale, locale_prefix, split_locale, use_locale
from btvstat_open.i18n.selection import choose

__all__ = [
    "COOKIE",
    "SELECTOR_TEMPLATES",
    "LanguageLink",
    "LocaleMiddleware",
    "bare_path",
    "in_request_locale",
    "is_page",
    "language_links",
    "locale_of_request",
    "localize_links",
    "request_locales",
    "with_lang",
]

#: The folder of ``language_selector.html``: the one selector the public and the staff pages include.
SELECTOR_TEMPLATES = Path(__file__).parent / "templates"

#: the cookie a visitor's chosen locale is kept in (set by ``/locale/{locale}``)
COOKIE = "locale"
# Addresses that are not pages in a language: data, images, feeds, scripts, APIs, documentation.
_NOT_PAGES = re.compile(
    r"^/(api|docs|redoc|openapi\.json|resource|static|assets|datasets|views|healthz|auth|locale|embed)(/|$)"
)
_VARY = (b"vary", b"Accept-Language, Cookie")
_bare_path: contextvars.ContextVar[str] = contextvars.ContextVar("bare_path", default="/")
_locales: contextvars.ContextVar[tuple[str, ...]] = contextvars.ContextVar("locales", default=("en",))
_LINK = re.compile(r"<(?:a|link|form|img)\b[^>]*>")
_TARGET = re.compile(r'\b(href|action|src)="(/[^"]*)"')
# Addresses in a language by ``?lang=``: images, feeds, calendars, PDFs and embeds.
_BY_LANG = re.compile(r"(\.(svg|png|atom|ics|pdf)$|^/embed/)")
# The site's own files (a logo, a font, a script) are the same in every language.
_ASSETS = re.compile(r"^/(static|theme|assets)/")


def bare_path() -> str:
    """The request's path without its locale prefix (``/kpi/x`` for ``/es/kpi/x``)."""
    return _bare_path.get()


def request_locales() -> list[str]:
    """The locales of the site answering the request in hand (the default first)."""
    return list(_locales.get())


def in_request_locale(path: str) -> str:
    """A same-site page path in the request's locale (``/updates`` is ``/es/updates`` in a Spanish
    request); a path that already names a locale, or is not a page, stays.

    Example:
        >>> from btvstat_open.i18n import use_locale
        >>> with use_locale("es"):
        ...     [in_request_locale(path) for path in ("/updates", "/es/updates", "/kpi/x.csv")]
        ['/updates', '/es/updates', '/kpi/x.csv']
    """
    locales = list(_locales.get())
    locale = current_locale()
    bare = path.split("?", 1)[0]
    if (locale not in locales[1:] and locale != PSEUDO_LOCALE) or not is_page(bare):
        return path
    if split_locale(path, [*locales, PSEUDO_LOCALE])[0] is not None:
        return path
    return locale_prefix(locale, locales[0]) + path


def is_page(path: str) -> bool:
    """Whether ``path`` is a page in a language (no file extension, not an API, data or asset).

    Example:
        >>> is_page("/kpi/x"), is_page("/kpi/x.svg"), is_page("/api/kpis"), is_page("/")
        (True, False, False, True)
    """
    last = path.rsplit("/", 1)[-1]
    return "." not in last and not _NOT_PAGES.match(path)


def locale_of_request(path: str, query: bytes, locales: Sequence[str]) -> tuple[str | None, str]:
    """The locale a request names (its path prefix, else a known ``?lang=``) and the prefix to route past.

    The pseudo-locale counts only where ``locales`` lists it (:class:`LocaleMiddleware` with ``pseudo``).
    """
    prefixed, _rest = split_locale(path, locales)
    if prefixed is not None:
        return prefixed, f"/{prefixed}"
    if b"lang=" in query:
        lang = dict(parse_qsl(query.decode("latin-1"))).get("lang", "")
        if lang in locales:
            return lang, ""
    return None, ""


def _without_pseudo_lang(query: bytes) -> bytes:
    """A query string without ``lang=en-XA`` (the pseudo-locale is ignored where it is off)."""
    pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
    kept = [(k, v) for k, v in pairs if not (k == "lang" and v == PSEUDO_LOCALE)]
    return query if len(kept) == len(pairs) else urlencode(kept).encode("latin-1")


class LocaleMiddleware:
    """Run each request in its locale; send first visits and chosen locales to their prefixed pages.

    ``pseudo`` turns the pseudo-locale ``en-XA`` on (``/en-XA/`` pages and ``?lang=en-XA``): tests
    do, with the ``pseudo_locale`` setting; on a live server it is off, ``/en-XA/`` is a 404 and
    ``?lang=en-XA`` is ignored. It is never in the selector.
    """

    def __init__(self, app: Any, locales: Sequence[str], pseudo: bool = False) -> None:
        self.app = app
        self.locales = list(locales) or ["en"]
        self.named = [*self.locales, PSEUDO_LOCALE] if pseudo else self.locales

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path.startswith("/locale/"):
            await self._choose(scope, send)
            return
        if self.named is self.locales and b"lang=" in scope["query_string"]:
            scope = {**scope, "query_string": _without_pseudo_lang(scope["query_string"])}
        named, prefix = locale_of_request(path, scope["query_string"], self.named)
        if named is None and b"lang=" in scope["query_string"]:
            await _bad_lang(send, self.locales)
            return
        if prefix and path == prefix:  # /es -> /es/
            await _redirect(send, prefix + "/", vary=False)
            return
        if prefix:
            scope = {**scope, "root_path": scope.get("root_path", "") + prefix}
        hinted = False
        locale = named
        if named is None and scope["method"] in ("GET", "HEAD") and is_page(path) and len(self.locales) > 1:
            locale, hinted = choose(None, _cookie(scope), _header(scope, b"accept-language"), self.locales)
            if locale != self.locales[0]:
                target = locale_prefix(locale, self.locales[0]) + path
                query = scope["query_string"].decode("latin-1")
                await _redirect(send, target + (f"?{query}" if query else ""), vary=True)
                return
            hinted = True  # the default page: it would have been a redirect with another header
        token = _bare_path.set(path[len(prefix) :] or "/")
        sites = _locales.set(tuple(self.locales))
        try:
            with use_locale(locale or self.locales[0]):
                await self.app(scope, receive, _with_vary(send) if hinted else send)
        finally:
            _bare_path.reset(token)
            _locales.reset(sites)

    async def _choose(self, scope: dict[str, Any], send: Any) -> None:
        """``/locale/{locale}?next=/path``: remember the choice, go to ``/path`` in that locale."""
        locale = scope["path"].removeprefix("/locale/").strip("/")
        if locale not in self.locales:
            locale = self.locales[0]
        query = dict(parse_qsl(scope["query_string"].decode("latin-1")))
        next_path = query.get("next", "/")
        if not next_path.startswith("/") or next_path.startswith("//") or "\\" in next_path:
            next_path = "/"
        _, bare = split_locale(next_path, self.locales)
        target = locale_prefix(locale, self.locales[0]) + bare
        cookie = f"{COOKIE}={locale}; Path=/; Max-Age=31536000; SameSite=Lax"
        await _redirect(send, target, vary=False, extra=[(b"set-cookie", cookie.encode("latin-1"))])


async def _bad_lang(send: Any, locales: Sequence[str]) -> None:
    """A ``?lang=`` this site does not speak: a 400 saying which it does."""
    message = f"Query option lang is not a language of this site: use one of {', '.join(locales)}."
    body = orjson.dumps({"error": True, "code": "query.bad-option", "message": message})
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 400, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _header(scope: dict[str, Any], name: bytes) -> str:
    return next((v.decode("latin-1") for n, v in scope["headers"] if n == name), "")


def _cookie(scope: dict[str, Any]) -> str | None:
    raw = _header(scope, b"cookie")
    if not raw:
        return None
    try:
        morsel = SimpleCookie(raw).get(COOKIE)
    except Exception:  # a malformed Cookie header is no choice
        return None
    return morsel.value if morsel else None


def _with_vary(send: Any) -> Any:
    async def send_vary(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", []))
            vary = [v for n, v in headers if n.lower() == b"vary"]
            headers = [(n, v) for n, v in headers if n.lower() != b"vary"]
            message = {**message, "headers": [*headers, (b"vary", b", ".join([*vary, _VARY[1]]))]}
        await send(message)

    return send_vary


async def _redirect(
    send: Any, location: str, *, vary: bool, extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    headers = [
        (b"location", quote(location, safe="/?=&%:").encode("latin-1")),
        (b"cache-control", b"no-store" if vary or extra else b"public, max-age=3600"),
        (b"content-length", b"0"),
        *(extra or []),
    ]
    if vary:
        headers.append(_VARY)
    await send({"type": "http.response.start", "status": 303 if extra else 302, "headers": headers})
    await send({"type": "http.response.body", "body": b""})


def with_lang(path: str, locale: str, default: str) -> str:
    """An image or embed address in ``locale`` (``?lang=``; nothing for the default).

    Example:
        >>> with_lang("/kpi/x.svg?theme=dark", "es", "en"), with_lang("/kpi/x.svg", "en", "en")
        ('/kpi/x.svg?theme=dark&lang=es', '/kpi/x.svg')
    """
    if locale == default:
        return path
    return path + ("&" if "?" in path else "?") + urlencode({"lang": locale})


@dataclass(frozen=True)
class LanguageLink:
    """One language of a page: its code, its name in itself, its address, the selector's address."""

    code: str
    name: str
    href: str
    choose: str
    current: bool
    dir: str


@lru_cache(maxsize=64)
def _native_name(code: str) -> str:
    try:
        name = Locale.parse(code.replace("-", "_")).get_display_name(code.replace("-", "_")) or code
    except (ValueError, TypeError):
        return code
    return name[:1].upper() + name[1:]


def language_links(
    locales: Sequence[str], current: str, path: str, site_url: str | None = None
) -> list[LanguageLink]:
    """The page at ``path`` in each of ``locales`` (for ``hreflang`` alternates and the selector).

    Example:
        >>> [(l.code, l.name, l.href, l.current) for l in language_links(["en", "es"], "es", "/kpi/x")]
        [('en', 'English', '/kpi/x', False), ('es', 'Español', '/es/kpi/x', True)]
    """
    from btvstat_open.i18n import direction

    base = (site_url or "").rstrip("/")
    return [
        LanguageLink(
            code,
            _native_name(code),
            base + locale_prefix(code, locales[0]) + path,
            f"/locale/{code}?{urlencode({'next': path})}",
            code == current,
            direction(code),
        )
        for code in locales
    ]


def localize_links(html: str, locale: str, locales: Sequence[str]) -> str:
    """Point a page's same-site page links (``href``, ``action``) at ``locale``'s pages.

    Images, feeds, calendars, PDFs and embeds get the prefix too (``/es/kpi/x.svg``, not
    ``?lang=es``, which a static host ignores); links that name their language (``hreflang``)
    or a ``lang=`` of their own, and links to data and APIs, stay.

    Example:
        >>> localize_links('<a href="/kpi/x">x</a> <a href="/kpi/x.csv">csv</a>', "es", ["en", "es"])
        '<a href="/es/kpi/x">x</a> <a href="/kpi/x.csv">csv</a>'
        >>> localize_links('<img src="/kpi/x.svg?theme=light" alt="">', "es", ["en", "es"])
        '<img src="/es/kpi/x.svg?theme=light" alt="">'
    """
    prefix = locale_prefix(locale, locales[0]) if locale in locales or locale == PSEUDO_LOCALE else ""
    if not prefix:
        return html

    def tag(match: re.Match[str]) -> str:
        text = match.group()
        if "hreflang=" in text:
            return text
        return _TARGET.sub(lambda m: _prefixed(m, prefix, locale), text)

    return _LINK.sub(tag, html)


def _prefixed(match: re.Match[str], prefix: str, locale: str) -> str:
    target = match.group(2)
    path = target.split("?", 1)[0].split("#", 1)[0]
    if target.startswith("//"):
        return match.group()
    if _BY_LANG.search(path) and "lang=" not in target and not _ASSETS.match(path):
        return f'{match.group(1)}="{prefix}{target}"'  # a file of its own on a static host
    if not is_page(path):
        return match.group()
    return f'{match.group(1)}="{prefix}{target}"'
