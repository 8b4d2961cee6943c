"""Which language a request asks the catalog's text in: the seam between locale routing and pages.

Whatever decides a request's locale (``?lang=es`` here; a ``/es/...`` prefix) puts it in the ASGI
scope under :data:`LOCALE_KEY`; the widget routes then answer from the catalog in that language
(:meth:`widgets.route_context.WidgetContext.in_locale`), and the response cache keys the answer by
it (:func:`with_locale`). :class:`LocaleMiddleware` takes ``lang`` out of the query string, so
routes that refuse unknown options never see it.

Example:
    >>> scope = {"query_string": b"theme=dark", LOCALE_KEY: "es"}
    >>> request_locale(scope), with_locale(scope)
    ('es', b'theme=dark&lang=es')
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode

__all__ = ["LOCALE_KEY", "LocaleMiddleware", "request_locale", "with_locale"]

#: The scope key holding the request's locale (absent: the catalog's default language).
LOCALE_KEY = "btvstat.locale"


def request_locale(scope: Mapping[str, Any]) -> str | None:
    """The locale the request asks for (None: the catalog's default language)."""
    locale = scope.get(LOCALE_KEY)
    return locale if isinstance(locale, str) else None


def with_locale(scope: Mapping[str, Any]) -> bytes:
    """The request's query string with its locale as ``lang=``, as the response cache keys it."""
    query: bytes = scope["query_string"]
    locale = request_locale(scope)
    if locale is None:
        return query
    extra = urlencode({"lang": locale}).encode("latin-1")
    return query + b"&" + extra if query else extra


class LocaleMiddleware:
    """Moves ``?lang=`` from the query string into the scope (:data:`LOCALE_KEY`)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and b"lang=" in scope["query_string"]:
            pairs = parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
            asked = [value for name, value in pairs if name == "lang"]
            if asked:
                rest = urlencode([(name, value) for name, value in pairs if name != "lang"])
                scope = {**scope, "query_string": rest.encode("latin-1"), LOCALE_KEY: asked[-1]}
        await self.app(scope, receive, send)
