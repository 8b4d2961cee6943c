"""Business days: Monday to Friday, except the city's holidays (``holidays:`` in ``catalog.yaml``).

Reminders count in business days: "due in 3 business days" on a Friday before a Monday holiday
is the Thursday after it.

Example:
    >>> from datetime import date
    >>> new_year = [date(2021, 1, 1)]
    >>> add_business_days(date(2020, 12, 31), 1, new_year)  # Friday 1st is a holiday
    datetime.date(2021, 1, 4)
    >>> business_days_between(date(2020, 12, 30), date(2021, 1, 5), new_year)
    3
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

__all__ = ["add_business_days", "business_days_between", "is_business_day"]


def is_business_day(day: date, holidays: Iterable[date] = ()) -> bool:
    """True from Monday to Friday unless ``day`` is a holiday.

    Example:
        >>> is_business_day(date(2021, 1, 2)), is_business_day(date(2021, 1, 4))
        (False, True)
    """
    return day.weekday() < 5 and day not in set(holidays)


def add_business_days(day: date, count: int, holidays: Iterable[date] = ()) -> date:
    """The business day ``count`` business days after ``day`` (before it when negative).

    ``count`` 0 is ``day`` itself moved forward to a business day.

    Example:
        >>> add_business_days(date(2021, 1, 4), -1, [date(2021, 1, 1)])  # back over New Year's Day
        datetime.date(2020, 12, 31)
    """
    off = set(holidays)
    step = 1 if count >= 0 else -1
    current = day
    if count == 0:
        while not is_business_day(current, off):
            current += timedelta(days=1)
        return current
    remaining = abs(count)
    while remaining:
        current += timedelta(days=step)
        if is_business_day(current, off):
            remaining -= 1
    return current


def business_days_between(start: date, end: date, holidays: Iterable[date] = ()) -> int:
    """Business days after ``start`` up to and including ``end`` (negative when ``end`` is earlier).

    Example:
        >>> business_days_between(date(2021, 1, 8), date(2021, 1, 11))  # Friday to Monday
        1
    """
    off = set(holidays)
    if end < start:
        return -business_days_between(end, start, off)
    days = (end - start).days
    return sum(is_business_day(start + timedelta(days=i), off) for i in range(1, days + 1))
