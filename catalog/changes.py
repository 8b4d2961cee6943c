"""The latest period of a series and how it changed: from the previous period and from a year earlier.

Pages and meeting packets show, for each KPI, the latest value, target and status, the change from
the period before it, and the change from the same period a year earlier:

* the **latest** period is the last one with a value (else the last period);
* the **previous** period is the one just before it in the series (its value may be missing);
* the **same period a year earlier** is the one containing ``period_start`` minus one year
  (a week: the week holding that day; a month or quarter: the same month or quarter; a year or
  fiscal year: the previous one).

``change`` is ``value - earlier value``; ``percent`` is that relative to the earlier value (None when
it is 0); ``better`` says whether the change is good for the KPI's ``direction`` (None without a
direction or without a change).

Example:
    >>> from datetime import date
    >>> year_earlier(date(2020, 2, 24), "week"), year_earlier(date(2020, 4, 1), "quarter")
    (datetime.date(2019, 2, 18), datetime.date(2019, 4, 1))
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

import pyarrow as pa

from catalog.models import Kpi
from catalog.periods import period_start

__all__ = ["Comparison", "Latest", "latest_change", "year_earlier"]


def year_earlier(start: date, size: str) -> date:
    """The start of the period a year before the one starting on ``start``.

    Example:
        >>> year_earlier(date(2012, 7, 1), "fiscal_year")
        datetime.date(2011, 7, 1)
    """
    try:
        day = start.replace(year=start.year - 1)
    except ValueError:  # 29 February
        day = start.replace(year=start.year - 1, day=28)
    # A month, quarter, year or fiscal year a year back starts on that same day; a week does not.
    return period_start(day, "week", 1) if size == "week" else day


@dataclass(frozen=True)
class Comparison:
    """An earlier period and the latest period's change from it."""

    period_start: date
    period_end: date
    value: float | None
    change: float | None
    percent: float | None
    better: bool | None


@dataclass(frozen=True)
class Latest:
    """The latest period of a series with its comparisons (``None`` where there is no such period)."""

    period_start: date
    period_end: date
    value: float | None
    target: float | None
    status: str
    previous: Comparison | None
    year_ago: Comparison | None

    def record(self) -> dict[str, Any]:
        """JSON-ready: ISO dates, numbers and null.

        Example:
            >>> from catalog import measure
            >>> passengers = catalog.get("airport-passengers")  # fiscal years: a year ago is the one before
            >>> latest_change(passengers, measure(passengers, store, catalog.settings)).record()["year_ago"]
            {'period_start': '2011-07-01', 'period_end': '2012-06-30', 'value': 67.0, 'change': 2.0, ...}
        """
        record: dict[str, Any] = _iso(asdict(self))
        return record


def _iso(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _iso(v) for k, v in value.items()}
    return value.isoformat() if isinstance(value, date) else value


def _number(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return None if number != number else number


def latest_change(kpi: Kpi, series: pa.Table) -> Latest | None:
    """The latest period of ``kpi``'s measure series with its changes; None for an empty series.

    Example:
        >>> import datetime as dt
        >>> from catalog.models import Kpi
        >>> k = Kpi.model_validate({"id": "k", "title": "K", "department": "D", "direction":
        ...     "lower_is_better", "period": {"size": "year"}, "source": {"dataset": "d",
        ...     "date_column": "day"}, "measure": {"calculation": "count"}})
        >>> t = pa.table({"period_start": [dt.date(2019, 1, 1), dt.date(2020, 1, 1)],
        ...     "period_end": [dt.date(2019, 12, 31), dt.date(2020, 12, 31)], "value": [8.0, 6.0],
        ...     "target": [None, None], "status": ["no_target", "no_target"]})
        >>> got = latest_change(k, t)
        >>> got.value, got.previous.change, got.previous.percent, got.year_ago.better
        (6.0, -2.0, -25.0, True)
    """
    rows = series.to_pylist()
    if not rows:
        return None
    with_value = [i for i, r in enumerate(rows) if _number(r["value"]) is not None]
    at = with_value[-1] if with_value else len(rows) - 1
    row = rows[at]
    value = _number(row["value"])
    by_start = {r["period_start"]: r for r in rows}
    previous = rows[at - 1] if at > 0 else None
    year_ago = by_start.get(year_earlier(row["period_start"], kpi.period.size))
    return Latest(
        period_start=row["period_start"],
        period_end=row["period_end"],
        value=value,
        target=_number(row["target"]),
        status=row["status"],
        previous=_compare(kpi, value, previous),
        year_ago=_compare(kpi, value, year_ago),
    )


def _compare(kpi: Kpi, value: float | None, earlier: dict[str, Any] | None) -> Comparison | None:
    if earlier is None:
        return None
    before = _number(earlier["value"])
    change = None if value is None or before is None else value - before
    percent = None if change is None or not before else change / abs(before) * 100.0
    better = None
    if change and kpi.direction != "none":
        better = (change > 0) == (kpi.direction == "higher_is_better")
    return Comparison(earlier["period_start"], earlier["period_end"], before, change, percent, better)
