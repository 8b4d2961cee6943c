"""The latest period of a series and how it changed: from the previous period and from a year earlier.

"A year earlier" is the period that starts one year before the latest one (for weeks, the ISO week
52 weeks before, so the same weekday); it counts only when the series has a value there.

Example:
    >>> import pyarrow as pa
    >>> series = pa.table({"period_start": [date(2019, 3, 1), date(2020, 2, 1), date(2020, 3, 1)],
    ...                    "value": [10.0, 14.0, 12.0], "status": ["on_track"] * 3})
    >>> change = latest_change(series, "month")
    >>> (change.value, change.from_previous, change.from_year_ago)
    (12.0, -2.0, 2.0)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pyarrow as pa

from catalog.periods import add_months

__all__ = ["LatestChange", "latest_change", "year_before"]


@dataclass(frozen=True)
class LatestChange:
    """The latest period with a value, and its changes (``None`` where there is nothing to compare)."""

    period_start: date | None
    value: float | None
    target: float | None
    status: str
    previous_start: date | None
    from_previous: float | None
    year_ago_start: date | None
    from_year_ago: float | None


def year_before(start: date, size: str) -> date:
    """The start of the period one year before the period starting ``start``.

    Example:
        >>> year_before(date(2020, 3, 2), "week"), year_before(date(2020, 4, 1), "quarter")
        (datetime.date(2019, 3, 4), datetime.date(2019, 4, 1))
    """
    if size == "week":
        return start - timedelta(weeks=52)
    return add_months(start.replace(day=1), -12)


def _number(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return None if number != number else number


def latest_change(series: pa.Table, size: str) -> LatestChange:
    """The latest period with a value in ``series`` (a measure table) and its two changes."""
    records = sorted(series.to_pylist(), key=lambda r: r["period_start"])
    with_value = [r for r in records if _number(r.get("value")) is not None]
    if not with_value:
        return LatestChange(None, None, None, "no_data", None, None, None, None)
    latest = with_value[-1]
    value = _number(latest["value"])
    assert value is not None
    previous = with_value[-2] if len(with_value) > 1 else None
    from_previous = value - _number(previous["value"]) if previous else None  # type: ignore[operator]
    year_start = year_before(latest["period_start"], size)
    year_ago = next((r for r in with_value if r["period_start"] == year_start), None)
    from_year_ago = value - _number(year_ago["value"]) if year_ago else None  # type: ignore[operator]
    return LatestChange(
        period_start=latest["period_start"],
        value=value,
        target=_number(latest.get("target")),
        status=str(latest.get("status") or "no_target"),
        previous_start=previous["period_start"] if previous else None,
        from_previous=from_previous,
        year_ago_start=year_ago["period_start"] if year_ago else None,
        from_year_ago=from_year_ago,
    )
