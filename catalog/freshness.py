"""How fresh a KPI's data is: when its dataset last changed, and whether it is stale or behind.

A KPI is **stale** when its dataset last changed more than ``freshness.expect`` (plus one day of
grace) before today, and **behind** when its latest period with data ended more than one
``expect`` before today. Without ``freshness:`` it is neither.

Example:
    >>> before(date(2020, 3, 31), "monthly"), before(date(2020, 3, 1), "P2W")
    (datetime.date(2020, 2, 29), datetime.date(2020, 2, 16))
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pyarrow as pa

from btvstat_open.store import Store
from catalog.models import Kpi
from catalog.periods import add_months

__all__ = ["KpiFreshness", "before", "freshness"]

_NAMED = {"daily": "P1D", "weekly": "P1W", "monthly": "P1M", "quarterly": "P3M", "yearly": "P1Y"}
_PARTS = re.compile(r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?$")


def before(day: date, expect: str) -> date:
    """``day`` minus one ``expect`` interval (a name or an ISO 8601 duration of days and up)."""
    match = _PARTS.match(_NAMED.get(expect, expect))
    if match is None:  # the model validates expect; this only guards direct calls
        raise ValueError(f"not an interval: {expect!r}")
    years, months, weeks, days = (int(part or 0) for part in match.groups())
    return add_months(day, -(12 * years + months)) - timedelta(weeks=weeks, days=days)


@dataclass(frozen=True)
class KpiFreshness:
    """When the KPI's dataset last changed, and the two flags."""

    data_updated_at: datetime | None
    stale: bool
    behind: bool
    expect: str | None


def freshness(kpi: Kpi, store: Store, series: pa.Table, today: date) -> KpiFreshness:
    """The KPI's freshness as of ``today``; ``series`` is its measure series.

    Example:
        >>> freshness(kpi, store, measure(kpi, store, settings), date(2020, 3, 1))  # doctest: +SKIP
        KpiFreshness(data_updated_at=datetime(...), stale=False, behind=True, expect='monthly')
    """
    updated = store.info(kpi.source.dataset).rows_updated_at if store.exists(kpi.source.dataset) else None
    expect = kpi.freshness.expect if kpi.freshness else None
    if expect is None:
        return KpiFreshness(updated, False, False, None)
    stale = updated is None or updated.date() < before(today, expect) - timedelta(days=1)
    ends = [
        end
        for end, value in zip(
            series.column("period_end").to_pylist(), series.column("value").to_pylist(), strict=True
        )
        if value is not None
    ]
    behind = not ends or max(ends) < before(today, expect)
    return KpiFreshness(updated, stale, behind, expect)
