"""What is due: each manual KPI period a person enters, with its state.

A period is due ``entry.due_days`` after it ends (the KPI's own ``entry:``, else the catalog's);
it is **late** after that day without a submission. Its state is the newest submission's
(``pending``, ``sent_back``) or ``approved`` once its value is in the entries dataset. The list
covers the last twelve complete periods (from ``period.start`` when later).

Example:
    >>> item = DueItem("k", "Public Works", date(2020, 1, 1), date(2020, 1, 31), date(2020, 2, 10), "late")
    >>> item.key
    'k|2020-01-01'
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from btvstat_open.people.locks import locked_periods
from btvstat_open.people.submissions import Submission
from btvstat_open.store import Store
from catalog.entries import entry_dataset_id
from catalog.models import Catalog, Kpi
from catalog.periods import next_period, period_end, period_start

__all__ = ["DueItem", "due_items", "entry_periods"]

_SHOWN = 12


@dataclass(frozen=True)
class DueItem:
    """One KPI period to enter: when it is due and where it stands."""

    kpi_id: str
    department: str
    period_start: date
    period_end: date
    due: date
    state: str  # due | late | pending | sent_back | approved
    submission: Submission | None = None
    published: tuple[float | None, float | None, float | None] | None = field(default=None)
    locked: str | None = None  # the meeting that locked the period

    @property
    def key(self) -> str:
        """The item's id in forms and workbooks."""
        return f"{self.kpi_id}|{self.period_start.isoformat()}"


def entry_periods(kpi: Kpi, today: date, fsm: int) -> list[tuple[date, date]]:
    """The (start, end) of the periods of ``kpi`` open for entry on ``today``, oldest first."""
    size = kpi.period.size
    current = period_start(today, size, fsm)
    starts: list[date] = []
    start = current
    for _ in range(_SHOWN):
        start = period_start(start - timedelta(days=1), size, fsm)
        if kpi.period.start and start < kpi.period.start:
            break
        starts.append(start)
    return [(s, period_end(s, size, fsm)) for s in reversed(starts) if next_period(s, size) <= today]


def _published(store: Store, kpi_id: str) -> dict[date, tuple[float | None, float | None, float | None]]:
    dataset = entry_dataset_id(kpi_id)
    if not store.exists(dataset):
        return {}
    table = store.arrow(dataset).to_pylist()
    return {row["period_start"].date(): (row["value"], row["numerator"], row["denominator"]) for row in table}


def due_items(
    store: Store, catalog: Catalog, kpis: Iterable[Kpi], submissions: list[Submission], today: date
) -> list[DueItem]:
    """The due items of these manual KPIs as of ``today``, newest period first within each KPI."""
    fsm = catalog.settings.fiscal_year_start
    newest: dict[tuple[str, date], Submission] = {}
    for item in submissions:  # newest first
        if item.kind == "value" and item.period_start is not None:
            newest.setdefault((item.kpi_id, item.period_start), item)
    out: list[DueItem] = []
    for kpi in kpis:
        if kpi.source.entry != "manual":
            continue
        days = (kpi.entry or catalog.settings.entry).due_days
        published = _published(store, kpi.id)
        locks = locked_periods(store, kpi.id)
        for start, end in reversed(entry_periods(kpi, today, fsm)):
            due = end + timedelta(days=days)
            sub = newest.get((kpi.id, start))
            state: str
            if sub is not None and sub.state in ("pending", "sent_back"):
                state = sub.state
            elif start in published:
                state = "approved"
            else:
                state = "late" if today > due else "due"
            due_item = DueItem(
                kpi.id, kpi.department, start, end, due, state, sub, published.get(start), locks.get(start)
            )
            out.append(due_item)
    return out
