"""The department cycle's events for notifications (:mod:`catalog.notify`), and the run after each
change.

:class:`CycleSource` observes, for every manual KPI and submission (keys and states):

* ``due:KPI:PERIOD:DUE``: ``yes`` from ``days`` business days before the period's due date (the
  largest ``days`` of the rules naming ``due``; default 3) while nothing is submitted: ``due``.
* ``late:KPI:PERIOD:DUE``: ``yes`` once past the due date with nothing submitted, ``yes+N`` from
  N business days late (each ``after:`` of the rules naming ``late``): ``late``.
* ``pending:ID``: a submission waiting for an approver: ``pending`` (to the approvers).
* ``sent_back:ID``: a submission an approver sent back in the last week: ``sent_back``, to the
  updater who submitted it (the event's ``owner``).

None of these events is public (no named address, no webhook, no feed), and none carries a
submitted value: a pending value stays on ``/approvals``, for approvers and its department.

:class:`AfterChange` runs :func:`catalog.notify.run.notify_after_change` after a submission, a
decision or a lock, in a background thread (runs asked for while one is going make one more run
after it), so the change never waits for nor fails on a delivery.

Example:
    >>> from catalog.notify.events import SOURCE_MODULES, load_sources
    >>> "btvstat_open.people.notices" in SOURCE_MODULES
    True
    >>> any(isinstance(s, CycleSource) for s in load_sources())
    True
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from datetime import date, timedelta

from btvstat_open.people.due import DueItem, due_items
from btvstat_open.people.published import record_published
from btvstat_open.people.submissions import Submission, Submissions
from btvstat_open.store import Store
from catalog.models import Catalog, Kpi
from catalog.notify.business_days import add_business_days
from catalog.notify.events import Event, Observation, register_source
from catalog.notify.sources import action_due_days, late_state, reminder_days

__all__ = ["AfterChange", "CycleSource"]

SENT_BACK_WINDOW = timedelta(days=7)
_WHAT = {"value": "value", "comment": "comment", "action": "action update"}


class CycleSource:
    """Observations of the manual KPIs' due items and of the submissions (module docstring)."""

    def observe(self, catalog: Catalog, store: Store, today: date) -> Iterator[Observation]:
        """The department cycle as of ``today``."""
        manual = [k for k in catalog.kpis.values() if k.source.entry == "manual"]
        if not manual and not catalog.settings.access:
            return
        submissions = Submissions(store, catalog).latest(None)
        yield from _due_observations(catalog, store, manual, submissions, today)
        for item in submissions:
            kpi = catalog.kpis.get(item.kpi_id)
            if kpi is None:
                continue
            if item.state == "pending":
                yield Observation(f"pending:{item.id}", "yes", _submission_event(kpi, item, "pending", today))
            elif item.state == "sent_back" and item.decided_at is not None:
                recent = today - item.decided_at.date() <= SENT_BACK_WINDOW
                event = _submission_event(kpi, item, "sent_back", today) if recent else None
                yield Observation(f"sent_back:{item.id}", "yes", event)


def _due_observations(
    catalog: Catalog, store: Store, kpis: list[Kpi], submissions: list[Submission], today: date
) -> Iterator[Observation]:
    days = action_due_days(catalog, "due")
    reminders = reminder_days(catalog, "late")
    holidays = catalog.settings.holidays
    for item in due_items(store, catalog, kpis, submissions, today):
        kpi = catalog.kpis[item.kpi_id]
        key = f"{item.kpi_id}:{item.period_start.isoformat()}:{item.due.isoformat()}"
        late = item.state == "late"
        state = late_state(item.due, today, reminders, holidays) if late else "no"
        yield Observation(f"late:{key}", state, _due_event(kpi, item, "late", today) if late else None)
        soon = item.state == "due" and add_business_days(item.due, -days, holidays) <= today
        yield Observation(
            f"due:{key}", "yes" if soon else "no", _due_event(kpi, item, "due", today) if soon else None
        )


def _due_event(kpi: Kpi, item: DueItem, kind: str, today: date) -> Event:
    period = f"{item.period_start.isoformat()} to {item.period_end.isoformat()}"
    verb = "was due" if kind == "late" else "is due"
    return Event(
        kind,
        item.key,
        kpi.title,
        (kpi.department,),
        f"the value for {period} {verb} {item.due.isoformat()}",
        "/updates",
        today,
        public=False,
        kpi_id=kpi.id,
    )


def _submission_event(kpi: Kpi, item: Submission, kind: str, today: date) -> Event:
    what = _WHAT.get(item.kind, item.kind)
    period = f" for the period from {item.period_start.isoformat()}" if item.period_start else ""
    if kind == "pending":
        summary = f"{what}{period} submitted by {item.submitted_by} waits for approval (#{item.id})"
        path = "/approvals"
    else:
        reason = " ".join(item.reason.split())[:300]
        summary = f"your {what}{period} was sent back by {item.decided_by}: {reason}"
        path = "/updates"
    return Event(
        kind,
        f"submission-{item.id}",
        kpi.title,
        (kpi.department,),
        summary,
        path,
        today,
        owner=item.submitted_by if kind == "sent_back" else None,
        public=False,
        kpi_id=kpi.id,
    )


class AfterChange:
    """After a change: record in the ledger the published values of the KPI an approval changed
    (at once, so its pages and feeds know the revision), then, in the background, run the
    notifications of ``catalog`` over ``store``.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> from catalog.models import CatalogSettings
        >>> after = AfterChange(Catalog(Path("."), CatalogSettings(), {}), Store(tempfile.mkdtemp()))
        >>> after()
        >>> after.wait()
        True
    """

    def __init__(self, catalog: Catalog, store: Store) -> None:
        self.catalog, self.store = catalog, store
        self._lock = threading.Lock()
        self._again = False
        self._thread: threading.Thread | None = None

    def __call__(self, kpi_id: str | None = None) -> None:
        """Ask for a run (one more after the current one, if one is going); ``kpi_id``: a KPI whose
        published value changed."""
        if kpi_id is not None:
            try:
                record_published(self.catalog, self.store, kpi_id)
            except Exception as exc:  # the approval is done: the next computation records it
                print(f"note: the ledger was not updated: {type(exc).__name__}", file=sys.stderr)
        with self._lock:
            self._again = True
            if self._thread is not None:
                return
            self._thread = threading.Thread(target=self._loop, name="notify-after-change", daemon=True)
            self._thread.start()

    def _loop(self) -> None:
        from catalog.notify.run import notify_after_change

        while True:
            with self._lock:
                if not self._again:
                    self._thread = None
                    return
                self._again = False
            try:
                notify_after_change(self.catalog, self.store)  # a problem there is a note on stderr
            except Exception as exc:  # the change is done: tell, never stop asking for runs
                print(f"note: notifications were not evaluated: {type(exc).__name__}", file=sys.stderr)

    def wait(self, timeout: float = 60.0) -> bool:
        """Wait until no run is going or asked for; False after ``timeout`` seconds."""
        with self._lock:
            thread = self._thread
        if thread is not None:
            thread.join(timeout)
        with self._lock:
            return self._thread is None


register_source(CycleSource())
