"""Freshness: when a KPI's data last changed, and whether it is stale or behind.

* ``data_updated_at`` is when the KPI's dataset last changed in the store. For a dataset the
  store got from a portal by ``btvstat-open sync``, it is the source's own ``Last-Modified`` as
  the last sync recorded it (the portal's word for when the dataset changed, not when it was
  copied); if the dataset was written otherwise since (``btvstat-open load``, a push), the store's
  time of that write.
* A KPI is **stale** when ``data_updated_at`` is more than ``expect`` plus one day of grace before
  today: with ``expect: weekly`` and today 2020-03-10, data last changed on 2020-03-02 is fresh and
  on 2020-03-01 is stale.
* A KPI is **behind** when its latest period with data ended more than one ``expect`` before today
  (a series without any value is behind too): monthly data whose last value is January's is behind
  from March 1st on (January 31st is more than a month before March 1st).

``freshness.expect`` is ``daily`` (P1D), ``weekly`` (P1W), ``monthly`` (P1M), ``quarterly`` (P3M),
``yearly`` (P1Y) or an ISO 8601 duration of days and up (``P10D``, ``P2W``, ``P1Y6M``). Months and
years are calendar months and years: a month before March 31st is February 29th (or 28th), not
30 days earlier; years and months are counted back first, then weeks and days. A KPI without
``freshness`` is never stale or behind (it still has a ``data_updated_at``).

Judged as of a past day (``--as-of``, ``as_of:``), a dataset that changed after that day counts as
changed at the start of it: the rows after the day are left out of the measures, so the data shown
is the data as it stood then, and a frozen page or an archived packet stays the same however often
the data is reloaded.

Example:
    >>> subtract_interval(date(2020, 3, 31), "monthly"), subtract_interval(date(2020, 3, 10), "P1W2D")
    (datetime.date(2020, 2, 29), datetime.date(2020, 3, 1))
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from btvstat_open.store import Store
from btvstat_open.sync.state import load_state
from catalog.models import Kpi
from catalog.models.tracking import EXPECT_DURATION

__all__ = ["FreshnessReport", "data_updated_at", "freshness", "longest_interval", "subtract_interval"]

_NAMED = {"daily": "P1D", "weekly": "P1W", "monthly": "P1M", "quarterly": "P3M", "yearly": "P1Y"}
GRACE = timedelta(days=1)


@dataclass(frozen=True)
class FreshnessReport:
    """A KPI's freshness on one day (see the module docstring for the rules)."""

    expect: str | None
    data_updated_at: datetime | None  # an aware UTC time
    latest_period_end: date | None  # the end of the latest period with a value
    stale: bool
    behind: bool

    def days_since_update(self, today: date) -> int | None:
        """Whole days from the day the data changed (in UTC) to ``today``, for "updated 3 days ago".

        Example:
            >>> FreshnessReport(None, datetime(2020, 3, 1, 23, tzinfo=UTC), None, False, False
            ...                 ).days_since_update(date(2020, 3, 4))
            3
        """
        if self.data_updated_at is None:
            return None
        return (today - self.data_updated_at.date()).days

    def to_json(self) -> dict[str, Any]:
        """The report as JSON-ready values (ISO 8601 texts; the time with ``Z``).

        Example:
            >>> FreshnessReport("weekly", None, date(2020, 2, 29), False, True).to_json()["behind"]
            True
        """
        updated = self.data_updated_at
        return {
            "expect": self.expect,
            "data_updated_at": updated.isoformat().replace("+00:00", "Z") if updated else None,
            "latest_period_end": self.latest_period_end.isoformat() if self.latest_period_end else None,
            "stale": self.stale,
            "behind": self.behind,
        }


def subtract_interval(day: date, expect: str) -> date:
    """``day`` minus one ``expect`` interval (a name or an ISO 8601 duration), in calendar terms.

    Example:
        >>> subtract_interval(date(2021, 2, 28), "P1Y"), subtract_interval(date(2020, 5, 31), "quarterly")
        (datetime.date(2020, 2, 28), datetime.date(2020, 2, 29))
    """
    match = EXPECT_DURATION.match(_NAMED.get(expect, expect))
    if match is None:
        raise ValueError(f"not an interval: {expect!r}")
    years, months, weeks, days = (int(part[:-1]) if part else 0 for part in match.groups())
    index = day.year * 12 + (day.month - 1) - (years * 12 + months)
    year, month = divmod(index, 12)
    month += 1
    moved = date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
    return moved - timedelta(weeks=weeks, days=days)


def longest_interval(expect: str) -> timedelta:
    """The longest one ``expect`` interval can be (a month as 31 days, a year as 366), for schedulers
    that count in fixed durations.

    Example:
        >>> longest_interval("monthly").days, longest_interval("P1Y2W").days
        (31, 380)
    """
    match = EXPECT_DURATION.match(_NAMED.get(expect, expect))
    if match is None:
        raise ValueError(f"not an interval: {expect!r}")
    years, months, weeks, days = (int(part[:-1]) if part else 0 for part in match.groups())
    return timedelta(days=years * 366 + months * 31 + weeks * 7 + days)


def data_updated_at(store: Store, dataset_id: str) -> datetime:
    """When the dataset last changed: the day its source says it updated it (``source_updated``), the
    source's ``Last-Modified`` if a sync wrote it, else the store's.

    Example:
        >>> data_updated_at(store, "kc-311-potholes").tzinfo  # loaded here, not synced: the store's time
        datetime.timezone.utc
    """
    info = store.info(dataset_id)
    if info.source_updated:  # the source said when it last updated the data (`load --source-updated`)
        return datetime.combine(date.fromisoformat(info.source_updated), time(), UTC)
    written = info.rows_updated_at.replace(tzinfo=UTC)
    state = load_state(store.root).get(dataset_id)
    if state is None or not state.last_modified or not state.synced_at:
        return written
    synced = datetime.fromisoformat(state.synced_at)
    if written > synced:  # written after the last sync, by something else
        return written
    try:
        source = parsedate_to_datetime(state.last_modified)
    except (TypeError, ValueError):  # a portal sent a header that is not an HTTP date
        return written
    return (source if source.tzinfo else source.replace(tzinfo=UTC)).astimezone(UTC)


def freshness(kpi: Kpi, store: Store, series: pa.Table, *, today: date) -> FreshnessReport:
    """How fresh the KPI is on ``today``; ``series`` is its :func:`catalog.measure.measure` table.

    Example:
        >>> from catalog import measure
        >>> day = date(2020, 3, 2)
        >>> series = measure(kpi, store, settings, today=day)
        >>> report = freshness(kpi, store, series, today=day)
        >>> report.stale, report.behind
        (False, False)
    """
    updated = min(data_updated_at(store, kpi.source.dataset), datetime.combine(today, time(), UTC))
    with_value = series.filter(pc.is_valid(series.column("value")))
    latest = with_value.column("period_end")[-1].as_py() if with_value.num_rows else None
    expect = kpi.freshness.expect if kpi.freshness else None
    if expect is None:
        return FreshnessReport(None, updated, latest, stale=False, behind=False)
    cutoff = subtract_interval(today, expect)
    return FreshnessReport(
        expect,
        updated,
        latest,
        stale=updated.date() < cutoff - GRACE,
        behind=latest is None or latest < cutoff,
    )
