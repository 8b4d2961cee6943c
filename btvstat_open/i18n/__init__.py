"""Languages: the locale of a request, gettext message catalogs and per-locale formats (Babel).

Every user-facing string of the product is marked for translation (``_()`` in Python, ``_()`` or
``{% trans %}`` in Jinja templates) and looked up in the catalogs under ``locales/`` (one
``messages.po`` per language, read at start and compiled in memory: no build step). English is the
source language; ``en-XA`` is a pseudo-locale made from the source strings (accented and lengthened)
that tests use to find text that escapes translation.

The locale of the work in hand is a context variable (:func:`use_locale`, :func:`current_locale`):
the server sets it per request, the command line per command; templates and Python strings read it.

Example:
    >>> with use_locale("es"):
    ...     _("Target"), format_decimal(1234.5, 1), direction()
    ('Objetivo', '1.234,5', 'ltr')
    >>> direction("ar")
    'rtl'
"""

from __future__ import annotations

from btvstat_open.i18n.catalogs import (
    DEFAULT_LOCALE,
    PSEUDO_LOCALE,
    _,
    current_locale,
    direction,
    gettext,
    known_locale,
    lazy,
    ngettext,
    shipped_locales,
    translations,
    use_locale,
)
from btvstat_open.i18n.formats import (
    format_currency,
    format_date,
    format_decimal,
    format_integer,
    format_month,
    format_percent,
)
from btvstat_open.i18n.selection import locale_prefix, negotiate, split_locale

__all__ = [
    "DEFAULT_LOCALE",
    "PSEUDO_LOCALE",
    "_",
    "current_locale",
    "direction",
    "format_currency",
    "format_date",
    "format_decimal",
    "format_integer",
    "format_month",
    "format_percent",
    "gettext",
    "known_locale",
    "lazy",
    "locale_prefix",
    "negotiate",
    "ngettext",
    "shipped_locales",
    "split_locale",
    "translations",
    "use_locale",
]
