"""Reporting periods: weeks, months, quarters, years and fiscal years.

* ``week``: ISO weeks, Monday to Sunday. 2020-12-31 (a Thursday) is in the week starting
  2020-12-28; 2021-01-03 (a Sunday) is in that same week, ISO week 53 of 2020.
* ``month``, ``quarter`` (Jan-Mar, Apr-Jun, ...), ``year``: calendar periods.
* ``fiscal_year``: twelve months starting in ``fiscal_year_start`` (a month number). A fiscal year
  is **labelled by the calendar year it ends in**: with ``fiscal_year_start: 7``, FY2013 runs from
  2012-07-01 to 2013-06-30. With ``fiscal_year_start: 1`` fiscal years are calendar years.

Date columns that hold **year numbers** (e.g. ``Fiscal Year`` = 2013) are read as "the period
labelled by this year": with ``period.size: fiscal_year`` the number is the fiscal year's label
(2013 -> 2012-07-01 .. 2013-06-30 when fiscal years start in July), with ``period.size: year`` it is
the calendar year (2013 -> 2013-01-01 .. 2013-12-31). Internally the number N becomes the date
N-01-01, which lies inside both of those periods. Finer period sizes need real dates.

Example:
    >>> from datetime import date
    >>> period_start(date(2021, 1, 3), "week", 7)
    datetime.date(2020, 12, 28)
    >>> period_start(date(2013, 6, 30), "fiscal_year", 7), fiscal_year_label(date(2013, 6, 30), 7)
    (datetime.date(2012, 7, 1), 2013)
    >>> period_end(date(2012, 7, 1), "fiscal_year", 7)
    datetime.date(2013, 6, 30)
"""

from __future__ import annotations

from datetime import date, timedelta

__all__ = [
    "add_months",
    "fiscal_year_label",
    "fiscal_year_start_of",
    "next_period",
    "period_end",
    "period_range",
    "period_start",
    "period_start_sql",
]


def add_months(day: date, months: int) -> date:
    """The first day of the month ``months`` after ``day``'s month (``day`` should be a 1st).

    Example:
        >>> add_months(date(2020, 11, 1), 3)
        datetime.date(2021, 2, 1)
    """
    index = day.year * 12 + (day.month - 1) + months
    return date(index // 12, index % 12 + 1, 1)


def fiscal_year_start_of(day: date, fiscal_year_start: int) -> date:
    """The first day of the fiscal year containing ``day``.

    Example:
        >>> fiscal_year_start_of(date(2013, 1, 15), 7)
        datetime.date(2012, 7, 1)
    """
    year = day.year if day.month >= fiscal_year_start else day.year - 1
    return date(year, fiscal_year_start, 1)


def fiscal_year_label(day: date, fiscal_year_start: int) -> int:
    """The fiscal year containing ``day``, labelled by the calendar year it ends in.

    Example:
        >>> fiscal_year_label(date(2012, 7, 1), 7), fiscal_year_label(date(2012, 7, 1), 1)
        (2013, 2012)
    """
    start = fiscal_year_start_of(day, fiscal_year_start)
    return start.year if fiscal_year_start == 1 else start.year + 1


def period_start(day: date, size: str, fiscal_year_start: int) -> date:
    """The first day of the period of ``size`` that contains ``day``.

    Example:
        >>> period_start(date(2020, 5, 17), "quarter", 7)
        datetime.date(2020, 4, 1)
    """
    if size == "week":
        return day - timedelta(days=day.weekday())
    if size == "month":
        return day.replace(day=1)
    if size == "quarter":
        return date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    if size == "year":
        return date(day.year, 1, 1)
    if size == "fiscal_year":
        return fiscal_year_start_of(day, fiscal_year_start)
    raise ValueError(f"unknown period size {size!r}")


def next_period(start: date, size: str) -> date:
    """The first day of the period after the one starting on ``start``.

    Example:
        >>> next_period(date(2020, 12, 28), "week")
        datetime.date(2021, 1, 4)
    """
    if size == "week":
        return start + timedelta(days=7)
    months = {"month": 1, "quarter": 3, "year": 12, "fiscal_year": 12}[size]
    return add_months(start, months)


def period_end(start: date, size: str, fiscal_year_start: int = 1) -> date:
    """The last day of the period starting on ``start``.

    Example:
        >>> period_end(date(2020, 2, 1), "month")
        datetime.date(2020, 2, 29)
    """
    return next_period(start, size) - timedelta(days=1)


def period_range(first: date, last: date, size: str) -> list[date]:
    """Every period start from ``first`` through ``last`` (both period starts), in order.

    Example:
        >>> period_range(date(2020, 1, 1), date(2020, 3, 1), "month")
        [datetime.date(2020, 1, 1), datetime.date(2020, 2, 1), datetime.date(2020, 3, 1)]
    """
    out = []
    current = first
    while current <= last:
        out.append(current)
        current = next_period(current, size)
    return out


def period_start_sql(day_expr: str, size: str, fiscal_year_start: int) -> str:
    """A DuckDB expression for the period start of the DATE expression ``day_expr``.

    ``fiscal_year_start`` is validated to 1-12 by the catalog model, so formatting it into the SQL
    is safe.

    Example:
        >>> period_start_sql("d", "month", 7)
        "CAST(date_trunc('month', d) AS DATE)"
    """
    if size in ("week", "month", "quarter", "year"):
        return f"CAST(date_trunc('{size}', {day_expr}) AS DATE)"
    if size == "fiscal_year":
        shift = int(fiscal_year_start) - 1
        if not 0 <= shift <= 11:
            raise ValueError("fiscal_year_start must be 1-12")
        # Shift the date back to a calendar year, truncate, and shift the year start forward again.
        return (
            f"CAST(date_trunc('year', {day_expr} - INTERVAL '{shift} months') "
            f"+ INTERVAL '{shift} months' AS DATE)"
        )
    raise ValueError(f"unknown period size {size!r}")
