"""How fresh a KPI's data is: when its dataset last changed, and whether it is stale or behind.

A KPI is **stale** when its dataset last changed more than ``freshness.expect`` (plus one day of
grace) before today, and **behind** when its latest period with data ended more than one
``expect`` before today. Without ``freshness:`` it is neither.

Example:
    >>> before(date(2020, 3, 31), "monthly"), before(date(2020, 3, 1), "P2W")
    (datetime.date(2020, 2, 29), datetime.date(2020, 2, 16))
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pyarrow as pa

from btvstat_open.store import Store
from catalog.models import Kpi

__all__ = ["KpiFreshness", "before", "freshness"]

_NAMED = {"daily": "P1D", "weekly": "P1W", "monthly": "P1M", "quarterly": "P3M", "yearly": "P1Y"}
_PARTS = re.compile(r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?$")


def before(day: date, expect: str) -> date:
    """``day`` minus one ``expect`` interval (months clamp to the month's last day)."""
    match = _PARTS.match(_NAMED.get(expect, expect))
    if match is None:
        raise ValueError(f"not an interval: {expect!r}")
    years, months, weeks, days = (int(part or 0) for part in match.groups())
    index = day.year * 12 + day.month - 1 - (12 * years + months)
    year, month = index // 12, index % 12 + 1
    shifted = date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
    return shifted - timedelta(weeks=weeks, days=days)


@dataclass(frozen=True)
class KpiFreshness:
    """When the KPI's dataset last changed, and the two flags."""

    data_updated_at: datetime | None
    stale: bool
    behind: bool
    expect: str | None


def freshness(kpi: Kpi, store: Store, series: pa.Table, today: date) -> KpiFreshness:
    """The KPI's freshness as of ``today``; ``series`` is its measure series."""
    updated = store.info(kpi.source.dataset).rows_updated_at if store.exists(kpi.source.dataset) else None
    expect = kpi.freshness.expect if kpi.freshness else None
    if expect is None:
        return KpiFreshness(updated, False, False, None)
    stale = updated is None or updated.date() < before(today, expect) - timedelta(days=1)
    ends = [
        e
        for e, v in zip(
            series.column("period_end").to_pylist(), series.column("value").to_pylist(), strict=True
        )
        if v is not None
    ]
    return KpiFreshness(updated, stale, not ends or max(ends) < before(today, expect), expect)
