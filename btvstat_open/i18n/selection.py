"""Which locale a request is in: the URL's prefix, else a chosen one, else the browser's hint.

A public page's address carries its locale (``/es/kpi/x``; the default locale has none), so a
link, a cache and a search engine each see one language per URL. ``Accept-Language`` is only a
hint for a first visit to an unprefixed page; a chosen locale (the selector's cookie) wins over it.

Example:
    >>> split_locale("/es/kpi/x", ["en", "es", "fr"])
    ('es', '/kpi/x')
    >>> split_locale("/kpi/x", ["en", "es", "fr"])
    (None, '/kpi/x')
    >>> negotiate("fr-CA,fr;q=0.9,en;q=0.5", ["en", "es", "fr"])
    'fr'
    >>> locale_prefix("es", "en"), locale_prefix("en", "en")
    ('/es', '')
"""

from __future__ import annotations

from collections.abc import Sequence

from babel import Locale, UnknownLocaleError

__all__ = ["choose", "locale_prefix", "negotiate", "split_locale"]


def split_locale(path: str, locales: Sequence[str]) -> tuple[str | None, str]:
    """A path's locale prefix (one of ``locales`` but the first) and the rest.

    The pseudo-locale is a prefix only where ``locales`` lists it (a test server turns it on).

    Example:
        >>> split_locale("/en-XA/kpi/x", ["en", "es"]), split_locale("/en-XA/kpi/x", ["en", "en-XA"])
        ((None, '/en-XA/kpi/x'), ('en-XA', '/kpi/x'))
    """
    head, _, rest = path.lstrip("/").partition("/")
    if head and head in locales[1:]:
        return head, "/" + rest
    return None, path


def locale_prefix(locale: str, default: str) -> str:
    """The path prefix of ``locale``'s pages (none for the default)."""
    return "" if locale == default else f"/{locale}"


def negotiate(accept_language: str, locales: Sequence[str]) -> str | None:
    """The best of ``locales`` for an ``Accept-Language`` header, or None (quality order, then position).

    Example:
        >>> negotiate("de, es;q=0.8", ["en", "es"]), negotiate("de", ["en", "es"]), negotiate("*;q=x", ["en"])
        ('es', None, None)
    """
    wanted: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept_language.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        if tag and quality > 0:
            wanted.append((-quality, position, tag.strip()))
    for _q, _p, tag in sorted(wanted):
        for locale in locales:
            if _same_language(tag, locale):
                return locale
    return None


def _same_language(tag: str, locale: str) -> bool:
    if tag.lower() == locale.lower():
        return True
    try:
        return Locale.parse(tag.replace("-", "_")).language == Locale.parse(locale.replace("-", "_")).language
    except (UnknownLocaleError, ValueError, TypeError):
        return False


def choose(
    url_locale: str | None, chosen: str | None, accept_language: str, locales: Sequence[str]
) -> tuple[str, bool]:
    """The locale to answer in, and whether it came from the ``Accept-Language`` hint.

    The URL's locale wins, then a chosen one (a known locale), then the hint, then the default.

    Example:
        >>> choose("fr", "es", "es", ["en", "es", "fr"]), choose(None, "es", "fr", ["en", "es", "fr"])
        (('fr', False), ('es', False))
        >>> choose(None, None, "fr", ["en", "es", "fr"]), choose(None, "xx", "", ["en", "es"])
        (('fr', True), ('en', False))
    """
    if url_locale is not None:
        return url_locale, False
    if chosen is not None and chosen in locales:
        return chosen, False
    hinted = negotiate(accept_language, locales) if accept_language else None
    if hinted is not None:
        return hinted, True
    return locales[0], False
