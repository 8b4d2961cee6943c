"""The message catalogs: ``locales/{locale}/LC_MESSAGES/messages.po`` read at start, compiled to
``.mo`` in memory, and the locale of the work in hand (a context variable).

Example:
    >>> with use_locale("fr"):
    ...     gettext("Target"), ngettext("%(num)d KPI", "%(num)d KPIs", 2) % {"num": 2}
    ('Cible', '2 indicateurs')
    >>> current_locale()
    'en'
"""

from __future__ import annotations

import contextvars
import functools
import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Literal, ParamSpec, TypeVar

from babel import Locale, UnknownLocaleError
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

P = ParamSpec("P")
T = TypeVar("T")

__all__ = [
    "DEFAULT_LOCALE",
    "LOCALES_DIR",
    "PSEUDO_LOCALE",
    "RTL_LANGUAGES",
    "_",
    "current_locale",
    "direction",
    "gettext",
    "known_locale",
    "lazy",
    "ngettext",
    "shipped_locales",
    "translations",
    "use_locale",
]

LOCALES_DIR = Path(__file__).parent / "locales"
DEFAULT_LOCALE = "en"
#: The pseudo-locale: every message accented and lengthened (tests find untranslated text with it).
PSEUDO_LOCALE = "en-XA"
RTL_LANGUAGES = frozenset({"ar", "he", "fa", "ur"})

_current: contextvars.ContextVar[str] = contextvars.ContextVar("locale", default=DEFAULT_LOCALE)


def shipped_locales() -> list[str]:
    """English, then every language with a catalog under ``locales/`` (sorted).

    Example:
        >>> shipped_locales()[:3]
        ['en', 'ar', 'es']
    """
    found = sorted(p.parent.parent.name for p in LOCALES_DIR.glob("*/LC_MESSAGES/messages.po"))
    return [DEFAULT_LOCALE, *found]


def known_locale(name: str) -> bool:
    """Whether ``name`` is a locale this server can speak (shipped, or the pseudo-locale).

    Example:
        >>> known_locale("fr"), known_locale("en-XA"), known_locale("xx")
        (True, True, False)
    """
    return name == PSEUDO_LOCALE or name in shipped_locales()


@lru_cache(maxsize=32)
def translations(locale: str) -> NullTranslations:
    """The compiled catalog of ``locale`` (English and unknown locales translate nothing).

    The ``.po`` file is read and compiled to ``.mo`` in memory, once per process.
    """
    if locale == PSEUDO_LOCALE:
        from btvstat_open.i18n.pseudo import pseudo_translations

        return pseudo_translations()
    path = LOCALES_DIR / locale / "LC_MESSAGES" / "messages.po"
    if locale == DEFAULT_LOCALE or not path.is_file():
        return NullTranslations()
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer, domain="messages")


def current_locale() -> str:
    """The locale of the work in hand (the default, English, outside :func:`use_locale`)."""
    return _current.get()


@contextmanager
def use_locale(locale: str) -> Iterator[str]:
    """Run a block in ``locale`` (restored afterwards)."""
    token = _current.set(locale)
    try:
        yield locale
    finally:
        _current.reset(token)


def in_current_locale(work: Callable[P, T]) -> Callable[P, T]:
    """``work`` wrapped to run in the caller's locale: threads of a pool start in the default one.

    The whole of the caller's context goes with it (a copy per call, so many threads can run it at
    once): whatever else the caller set for its work, such as the chart palettes of a branded
    catalog, reaches the thread too.

    Example:
        >>> from concurrent.futures import ThreadPoolExecutor
        >>> with use_locale("es"), ThreadPoolExecutor(1) as pool:
        ...     pool.submit(current_locale).result(), pool.submit(in_current_locale(current_locale)).result()
        ('en', 'es')
    """
    context = contextvars.copy_context()

    @functools.wraps(work)
    def run(*args: P.args, **kwargs: P.kwargs) -> T:
        return context.copy().run(work, *args, **kwargs)

    return run


def gettext(message: str) -> str:
    """``message`` in the current locale."""
    return translations(_current.get()).ugettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form for ``n`` in the current locale (not yet formatted)."""
    return translations(_current.get()).ungettext(singular, plural, n)


_ = gettext


def lazy(message: str) -> str:
    """Mark ``message`` for extraction without translating it now (translate it at render with ``_``).

    Example:
        >>> lazy("On track")
        'On track'
    """
    return message


def direction(locale: str | None = None) -> Literal["ltr", "rtl"]:
    """``rtl`` for right-to-left languages (Arabic, Hebrew, Persian, Urdu), else ``ltr``."""
    language = (locale or _current.get()).split("-")[0].split("_")[0]
    return "rtl" if language in RTL_LANGUAGES else "ltr"


@lru_cache(maxsize=32)
def babel_locale(locale: str) -> Locale:
    """The Babel locale for formats (the pseudo-locale formats as English)."""
    try:
        return Locale.parse(DEFAULT_LOCALE if locale == PSEUDO_LOCALE else locale.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return Locale.parse(DEFAULT_LOCALE)
