"""The events the program computes today: a KPI's status, freshness and attention, its actions'
due dates, and new meeting packets (see :mod:`catalog.notify.events` for how they fire).

Keys and states:

* ``status:KPI``: the latest period's status; ``off_track`` and ``near_target`` fire when the
  status becomes one, ``back_on_track`` when ``on_track`` follows either of them.
* ``stale:KPI``, ``behind:KPI``, ``unattended:KPI``: ``yes`` or ``no``; fire on ``yes``.
* ``overdue:KPI:ACTION:DUE``: fires when the open action passes its due date (state ``yes``), and
  again at each ``after:`` reminder (``yes+5`` from 5 business days late).
* ``action_due:KPI:ACTION:DUE``: fires when the due date is ``days`` business days away (the
  largest ``days`` of the rules naming ``action_due``; default 3). A new due date re-arms both.
* ``packet:MEETING``: fires on the meeting's date, when its packet is computed; a meeting more than
  a week past on the first run is recorded without a message.

Example:
    >>> from catalog.demo import DEMO_DIR, demo_store
    >>> from catalog.loader import load_catalog
    >>> catalog = load_catalog(DEMO_DIR)
    >>> with demo_store() as store:
    ...     seen = list(ProgramSource().observe(catalog, store, date(2020, 3, 2)))
    >>> sorted(o.key for o in seen if o.event and o.event.kind in ("overdue", "unattended"))
    ['overdue:pothole-days-to-close:second-crew:2020-02-28', 'unattended:pothole-closed-within-7-days']
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import pyarrow as pa

from btvstat_open.i18n import _, lazy
from btvstat_open.store import Store
from catalog.actions import is_overdue, is_unattended, state_on
from catalog.changes import latest_change
from catalog.freshness import freshness
from catalog.measure import measure
from catalog.models import Action, Catalog, Kpi
from catalog.notify.business_days import add_business_days, business_days_between
from catalog.notify.events import Event, Observation, register_source

__all__ = ["ProgramSource", "action_due_days", "late_state", "reminder_days"]

_STATUS_WORDS = {
    "off_track": lazy("turned off track"),
    "near_target": lazy("is near its target"),
    "on_track": lazy("is back on track"),
}
PACKET_WINDOW = timedelta(days=7)
MEASURE_THREADS = 4


def action_due_days(catalog: Catalog, kind: str = "action_due") -> int:
    """Business days before a due date that ``kind`` (``action_due``, ``due``) fires: the largest
    ``days`` of the rules naming it (default 3).

    Example:
        >>> from pathlib import Path
        >>> from catalog.models import CatalogSettings
        >>> action_due_days(Catalog(Path("."), CatalogSettings(), {}))
        3
    """
    days = [r.days for r in catalog.settings.notify or () if kind in r.events]
    return max(days, default=3)


class ProgramSource:
    """Observations of every KPI, action and meeting of the catalog (see the module docstring)."""

    def observe(self, catalog: Catalog, store: Store, today: date) -> Iterator[Observation]:
        """The state of the program as of ``today`` (the KPIs measured a few at a time: DuckDB
        answers each thread's cursor in parallel)."""
        present = {info.id for info in store.datasets()}
        kpis = list(catalog.kpis.values())

        def series_of(kpi: Kpi) -> pa.Table | None:
            if kpi.source.dataset not in present:
                return None
            return measure(kpi, store, catalog.settings, today=today)

        with ThreadPoolExecutor(max_workers=MEASURE_THREADS, thread_name_prefix="notify") as pool:
            measured = list(pool.map(series_of, kpis))
        for kpi, series in zip(kpis, measured, strict=True):
            yield from kpi_observations(kpi, store, series, today)
            yield from action_observations(catalog, kpi, today)
        for meeting in catalog.meetings.values():
            if meeting.date > today:
                continue
            recent = today - meeting.date <= PACKET_WINDOW
            event = Event(
                "new_packet",
                meeting.id,
                meeting.title,
                tuple(meeting.departments),
                _("packet for the meeting of %(day)s") % {"day": meeting.date.isoformat()},
                f"/meetings/{meeting.id}",
                meeting.date,
            )
            yield Observation(f"packet:{meeting.id}", "yes", event if recent else None)


def _event(kpi: Kpi, kind: str, summary: str, today: date, **more: object) -> Event:
    return Event(
        kind,
        kpi.id,
        kpi.title,
        (kpi.department,),
        summary,
        f"/kpi/{kpi.id}",
        today,
        public=kpi.public,
        kpi_id=kpi.id,
        **more,  # type: ignore[arg-type]
    )


def kpi_observations(kpi: Kpi, store: Store, series: pa.Table | None, today: date) -> Iterator[Observation]:
    """Status, staleness, lag and attention of one KPI (nothing for a KPI without data)."""
    if series is None:
        return
    latest = latest_change(kpi, series)
    if latest is not None:
        status = latest.status
        kind = {"on_track": "back_on_track"}.get(status, status)
        words = _STATUS_WORDS.get(status)
        event = None
        if words:
            value = _("no value") if latest.value is None else f"{latest.value:.{kpi.decimals}f}"
            day = latest.period_start.isoformat()
            facts = {"words": _(words), "value": value, "day": day}
            if latest.target is None:
                summary = _("%(words)s: %(value)s for %(day)s") % facts
            else:
                target = f"{latest.target:g}"
                summary = _("%(words)s: %(value)s against a target of %(target)s for %(day)s") % {
                    **facts,
                    "target": target,
                }
            event = _event(kpi, kind, summary, today)
        after = frozenset({"off_track", "near_target"}) if status == "on_track" else None
        yield Observation(f"status:{kpi.id}", status, event, after)
    # Without freshness.expect a KPI is never stale or behind: no need to ask the store.
    report = freshness(kpi, store, series, today=today) if kpi.freshness else None
    flags = {
        "stale": (bool(report and report.stale), _("data is stale: not updated as often as expected")),
        "behind": (bool(report and report.behind), _("is behind: no value for the latest expected period")),
        "unattended": (
            is_unattended(kpi, series, today),
            _("is unattended: off track twice, no open action"),
        ),
    }
    for kind, (flag, summary) in flags.items():
        yield Observation(
            f"{kind}:{kpi.id}", "yes" if flag else "no", _event(kpi, kind, summary, today) if flag else None
        )


def reminder_days(catalog: Catalog, kind: str) -> tuple[int, ...]:
    """Business days after a due date when ``kind`` (``overdue``, ``late``) reminds again: the
    ``after:`` of every rule naming it.

    Example:
        >>> from pathlib import Path
        >>> from catalog.models import CatalogSettings
        >>> s = CatalogSettings.model_validate({"notify": [{"on": ["overdue"], "after": [10, 5]}]})
        >>> reminder_days(Catalog(Path("."), s, {}), "overdue")
        (5, 10)
    """
    found = {d for r in catalog.settings.notify or () if kind in r.events for d in r.after}
    return tuple(sorted(found))


def late_state(due: date, today: date, reminders: tuple[int, ...], holidays: list[date]) -> str:
    """``yes`` once past ``due``, then ``yes+N`` from N business days late (each reminder a new state).

    Example:
        >>> late_state(date(2021, 1, 4), date(2021, 1, 12), (5, 10), [])
        'yes+5'
    """
    late = business_days_between(due, today, holidays)
    passed = [n for n in reminders if late >= n]
    return f"yes+{passed[-1]}" if passed else "yes"


def action_observations(catalog: Catalog, kpi: Kpi, today: date) -> Iterator[Observation]:
    """Overdue (and reminder) and soon-due states of the KPI's actions."""
    days = action_due_days(catalog)
    holidays = catalog.settings.holidays
    reminders = reminder_days(catalog, "overdue")
    for action in kpi.actions:
        if action.due is None or state_on(action, today) is None:
            continue
        key = f"{kpi.id}:{action.id}:{action.due.isoformat()}"
        late = is_overdue(action, today)
        state = late_state(action.due, today, reminders, holidays) if late else "no"
        event = _action_event(kpi, action, "overdue", today) if late else None
        yield Observation(f"overdue:{key}", state, event)
        soon = (
            state_on(action, today) == "open"
            and add_business_days(action.due, -days, holidays) <= today <= action.due
        )
        event = _action_event(kpi, action, "action_due", today) if soon else None
        yield Observation(f"action_due:{key}", "yes" if soon else "no", event)


def _action_event(kpi: Kpi, action: Action, kind: str, today: date) -> Event:
    due = action.due.isoformat() if action.due else ""
    words = (
        _("action %(action)r was due %(day)s") if kind == "overdue" else _("action %(action)r is due %(day)s")
    )
    summary = words % {"action": action.title, "day": due}
    return Event(
        kind,
        action.id,
        kpi.title,
        (kpi.department,),
        summary,
        f"/kpi/{kpi.id}#kpi-actions-heading",
        today,
        owner=action.owner,
        public=kpi.public,
        kpi_id=kpi.id,
    )


register_source(ProgramSource())
