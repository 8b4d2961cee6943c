r"""Numbers, percentages, currency and dates in the current locale's conventions (Babel).

Example:
    >>> from btvstat_open.i18n import use_locale
    >>> with use_locale("fr"):
    ...     format_decimal(12345.678, 1), format_percent(0.25), format_currency(1500, "USD")
    ('12\u202f345,7', '25\xa0%', '1\u202f500,00\xa0$US')
    >>> format_decimal(12345.678, 1), format_date(date(2020, 3, 4))
    ('12,345.7', 'Mar 4, 2020')

Each locale writes its own digits (its numbering system): Arabic ``١٬٢٣٤٫٥`` and ``٤‏/٣‏/٢٠٢٠``.

    >>> with use_locale("ar"):
    ...     format_decimal(1234.5, 1), format_percent(0.25), format_iso_date(date(2020, 3, 4))
    ('١٬٢٣٤٫٥', '٢٥٪\u061c', '٢٠٢٠-٠٣-٠٤')
"""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache

from babel import Locale, dates, numbers
from markupsafe import Markup, escape

from btvstat_open.i18n.catalogs import babel_locale, current_locale

__all__ = [
    "format_currency",
    "format_date",
    "format_decimal",
    "format_integer",
    "format_iso_date",
    "format_month",
    "format_percent",
    "in_digits",
    "isolate",
    "numbering_system",
    "percent_sign",
    "strftime_pattern",
]

#: Languages that write their native digits when no region is named: CLDR's default for ``ar`` is
#: Latin digits, but Arabic pages (as in Egypt, Saudi Arabia or the Gulf) use Arabic-Indic ones;
#: a site that wants Latin digits names a region that uses them (``ar-MA``, ``ar-DZ``, ``ar-TN``).
NATIVE_DIGITS = frozenset({"ar"})


def _locale(locale: str | None) -> Locale:
    return babel_locale(locale or current_locale())


def numbering_system(locale: str | None = None) -> str:
    """The numbering system (digits, separators) numbers, percentages and dates are written in.

    The locale's default (CLDR), but its native one for a language of :data:`NATIVE_DIGITS`
    named without a region.

    Example:
        >>> [numbering_system(code) for code in ("ar", "ar-MA", "ar-EG", "fr")]
        ['arab', 'latn', 'arab', 'latn']
    """
    found = _locale(locale)
    if found.language in NATIVE_DIGITS and not found.territory:
        return str(found.other_numbering_systems.get("native", found.default_numbering_system))
    return str(found.default_numbering_system)


# The zero of each decimal numbering system a locale may default to (CLDR's numberingSystems: the
# other nine digits follow it in Unicode). Babel writes their symbols, not their digits.
_ZEROS = {"arab": 0x660, "arabext": 0x6F0, "deva": 0x966, "beng": 0x9E6, "mymr": 0x1040, "olck": 0x1C50}


@lru_cache(maxsize=16)
def _digits(system: str) -> dict[int, int]:
    """``str.translate``'s table from Latin digits to ``system``'s (none for an unknown system)."""
    zero = _ZEROS.get(system)
    return {} if zero is None else {ord("0") + d: zero + d for d in range(10)}


def in_digits(text: str, locale: str | None = None) -> str:
    """``text`` with its Latin digits written in the locale's numbering system.

    Example:
        >>> in_digits("2020-03", "ar"), in_digits("2020-03", "es")
        ('٢٠٢٠-٠٣', '2020-03')
    """
    system = numbering_system(locale)
    return text if system == "latn" else text.translate(_digits(system))


def format_decimal(value: float, decimals: int = 0, locale: str | None = None) -> str:
    """``value`` with exactly ``decimals`` decimals, grouped as the locale groups digits."""
    pattern = "#,##0" + ("." + "0" * decimals if decimals > 0 else "")
    system = numbering_system(locale)
    found = _locale(locale)
    text = numbers.format_decimal(
        value, format=pattern, locale=found, decimal_quantization=True, numbering_system=system
    )
    return in_digits(text, locale)


def format_integer(value: int, locale: str | None = None) -> str:
    """A count, grouped as the locale groups digits."""
    text = numbers.format_decimal(
        value, format="#,##0", locale=_locale(locale), numbering_system=numbering_system(locale)
    )
    return in_digits(text, locale)


def percent_sign(locale: str | None = None) -> str:
    """The percent sign of the locale's numbering system, as CLDR gives it (Babel's locale data).

    Babel's ``format_percent`` writes the pattern's ``%`` as it is; CLDR's sign for Arabic digits is
    the Arabic percent sign (with an Arabic letter mark), and Latin digits in Arabic keep ``%``
    between left-to-right marks.

    Example:
        >>> [percent_sign(code) for code in ("ar", "ar-MA", "fr")]
        ['٪\u061c', '\u200e%\u200e', '%']
    """
    symbols = _locale(locale).number_symbols.get(numbering_system(locale), {})
    return str(symbols.get("percentSign", "%"))


def format_percent(value: float, decimals: int = 0, locale: str | None = None) -> str:
    """A fraction as a percentage (0.25 is 25 %), the sign where the locale puts it and as it
    writes it (:func:`percent_sign`)."""
    found = _locale(locale)
    pattern = found.percent_formats[None].pattern
    if decimals > 0:  # the locale's own pattern (where the sign goes, its space), with decimals
        at = pattern.rfind("0") + 1
        pattern = pattern[:at] + "." + "0" * decimals + pattern[at:]
    text = numbers.format_percent(
        value, format=pattern, locale=found, numbering_system=numbering_system(locale)
    )
    return in_digits(text.replace("%", percent_sign(locale)), locale)


def format_currency(value: float, currency: str = "USD", locale: str | None = None) -> str:
    """An amount of ``currency`` (ISO 4217 code)."""
    text = numbers.format_currency(
        value, currency, locale=_locale(locale), numbering_system=numbering_system(locale)
    )
    return in_digits(text, locale)


def format_date(day: date, style: str = "medium", locale: str | None = None) -> str:
    """A day in the locale's ``short``, ``medium``, ``long`` or ``full`` style."""
    return in_digits(dates.format_date(day, format=style, locale=_locale(locale)), locale)


def format_month(day: date, locale: str | None = None) -> str:
    """A day's month and year (``Mar 2020``, ``mars 2020``)."""
    return in_digits(dates.format_skeleton("yMMM", day, locale=_locale(locale)), locale)


def format_iso_date(day: date | str, locale: str | None = None) -> str:
    """A day as ISO 8601 (``2020-03-04``, as tables and notes show it) in the locale's digits;
    machine-readable copies (``datetime=`` attributes, downloads) keep ``day.isoformat()``.

    Example:
        >>> format_iso_date(date(2020, 3, 4), "ar"), format_iso_date("2020-03-04", "fr")
        ('٢٠٢٠-٠٣-٠٤', '2020-03-04')
    """
    return in_digits(day if isinstance(day, str) else day.isoformat(), locale)


def isolate(text: object) -> Markup:
    """``text`` (escaped) in a ``<bdi>`` element: a run of another direction (an id, a code, a URL,
    a unit, a date) inside a sentence is laid out on its own, and moves none of the words around it.

    Example:
        >>> isolate("kc-311-potholes"), isolate("<b>")
        (Markup('<bdi>kc-311-potholes</bdi>'), Markup('<bdi>&lt;b&gt;</bdi>'))
    """
    return Markup("<bdi>%s</bdi>") % escape(text)


# CLDR date fields and the strftime codes (as d3-time-format, Vega's, reads them) that write them.
_FIELDS = {"d": "%-d", "dd": "%d", "M": "%-m", "MM": "%m", "MMM": "%b", "MMMM": "%B", "y": "%Y",
           "yyyy": "%Y", "yy": "%y", "LLL": "%b", "LLLL": "%B"}  # fmt: skip
_PATTERN_PART = re.compile(r"'((?:[^']|'')*)'|([A-Za-z])\2*|([^A-Za-z']+)")


def strftime_pattern(skeleton: str, locale: str | None = None) -> str:
    """The locale's pattern for a CLDR date ``skeleton`` (``yMMMd``, ``yMMM``) as strftime codes,
    for formatters that take them (Vega's axes): the order, words and punctuation the locale uses.

    Example:
        >>> [strftime_pattern("yMMMd", code) for code in ("en", "fr", "ar")]
        ['%b %-d, %Y', '%-d %b %Y', '%-d %b %Y']
    """
    return _strftime_pattern(skeleton, locale or current_locale())


@lru_cache(maxsize=64)
def _strftime_pattern(skeleton: str, locale: str) -> str:
    pattern = _locale(locale).datetime_skeletons[skeleton].pattern
    out = []
    for match in _PATTERN_PART.finditer(pattern):
        quoted, field, literal = match.group(1), match.group(0), match.group(3)
        if quoted is not None or literal is not None:
            out.append((literal if quoted is None else quoted.replace("''", "'")).replace("%", "%%"))
        else:
            out.append(_FIELDS.get(field, ""))  # days, months and years (an era, say, is left out)
    return "".join(out)
