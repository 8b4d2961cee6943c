r"""Numbers, percentages, currency and dates in the current locale's conventions (Babel).

Example:
    >>> from btvstat_open.i18n import use_locale
    >>> with use_locale("fr"):
    ...     format_decimal(12345.678, 1), format_percent(0.25), format_currency(1500, "USD")
    ('12\u202f345,7', '25\xa0%', '1\u202f500,00\xa0$US')
    >>> format_decimal(12345.678, 1), format_date(date(2020, 3, 4))
    ('12,345.7', 'Mar 4, 2020')
"""

from __future__ import annotations

from datetime import date

from babel import Locale, dates, numbers

from btvstat_open.i18n.catalogs import babel_locale, current_locale

__all__ = [
    "format_currency",
    "format_date",
    "format_decimal",
    "format_integer",
    "format_month",
    "format_percent",
]


def _locale(locale: str | None) -> Locale:
    return babel_locale(locale or current_locale())


def format_decimal(value: float, decimals: int = 0, locale: str | None = None) -> str:
    """``value`` with exactly ``decimals`` decimals, grouped as the locale groups digits."""
    pattern = "#,##0" + ("." + "0" * decimals if decimals > 0 else "")
    return numbers.format_decimal(value, format=pattern, locale=_locale(locale), decimal_quantization=True)


def format_integer(value: int, locale: str | None = None) -> str:
    """A count, grouped as the locale groups digits."""
    return numbers.format_decimal(value, format="#,##0", locale=_locale(locale))


def format_percent(value: float, decimals: int = 0, locale: str | None = None) -> str:
    """A fraction as a percentage (0.25 is 25 %), the sign where the locale puts it."""
    found = _locale(locale)
    pattern = found.percent_formats[None].pattern
    if decimals > 0:  # the locale's own pattern (where the sign goes, its space), with decimals
        at = pattern.rfind("0") + 1
        pattern = pattern[:at] + "." + "0" * decimals + pattern[at:]
    return numbers.format_percent(value, format=pattern, locale=found)


def format_currency(value: float, currency: str = "USD", locale: str | None = None) -> str:
    """An amount of ``currency`` (ISO 4217 code)."""
    return numbers.format_currency(value, currency, locale=_locale(locale))


def format_date(day: date, style: str = "medium", locale: str | None = None) -> str:
    """A day in the locale's ``short``, ``medium``, ``long`` or ``full`` style."""
    return dates.format_date(day, format=style, locale=_locale(locale))


def format_month(day: date, locale: str | None = None) -> str:
    """A day's month and year (``Mar 2020``, ``mars 2020``)."""
    return dates.format_skeleton("yMMM", day, locale=_locale(locale))
