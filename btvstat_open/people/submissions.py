"""Submissions: a value, a comment or an action update, ``pending`` until an approver decides.

A submission waits in the store's submissions table: no public page, download, SODA answer or
packet reads that table, so a pending value is never published. Approving a value writes it
into the KPI's entries dataset (:mod:`catalog.entries`) in the same transaction as the decision
and its audit entry; sending back keeps the reason for the updater. A newer submission for the
same item replaces a pending one (``replaced``). A period locked after its meeting
(:mod:`btvstat_open.people.locks`) takes an approver and a reason to change, and the change is
audited as a revision.

Every function checks the role itself (the routes check it too): an updater submits only for
their departments; only an approver decides.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from btvstat_open.errors import BtvstatError, UsageError
from btvstat_open.i18n import _, format_date
from btvstat_open.people.access import Grants
from btvstat_open.people.audit import record_on
from btvstat_open.people.batching import GroupCommit
from btvstat_open.people.published import locked_reason, record_published
from btvstat_open.people.tables import ensure_tables, utc_now
from btvstat_open.people.value_batch import ValueJob, commit_values
from btvstat_open.store import Store
from catalog.entries import write_entries
from catalog.models import Catalog, Kpi
from catalog.updates import Update, ensure_updates_dataset, publish_update

__all__ = ["Forbidden", "Submission", "Submissions", "ValueEntry"]

Kind = Literal["value", "comment", "action"]
State = Literal["pending", "approved", "sent_back", "replaced"]
_COLUMNS = (
    "id, kind, kpi_id, department, period_start, period_end, action_id, value, numerator, denominator, "
    "text, action_status, state, submitted_by, submitted_at, decided_by, decided_at, reason"
)


class Forbidden(BtvstatError):
    """The signed-in person's role does not allow this (HTTP 403)."""

    http_status = 403
    exit_code = 2
    default_code = "forbidden"


@dataclass(frozen=True)
class ValueEntry:
    """What an updater enters for one KPI period (a rate: numerator and denominator)."""

    kpi_id: str
    period_start: date
    period_end: date
    value: float | None = None
    numerator: float | None = None
    denominator: float | None = None
    comment: str = ""
    reason: str = ""  # needed to change a locked period


@dataclass(frozen=True)
class Submission:
    """One row of the submissions table."""

    id: int
    kind: Kind
    kpi_id: str
    department: str
    period_start: date | None
    period_end: date | None
    action_id: str | None
    value: float | None
    numerator: float | None
    denominator: float | None
    text: str
    action_status: str | None
    state: State
    submitted_by: str
    submitted_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    reason: str


class Submissions:
    """The submissions of one store, checked against one catalog's KPIs and rules."""

    def __init__(self, store: Store, catalog: Catalog) -> None:
        self.store = store
        self.catalog = catalog
        ensure_tables(store)
        self._values: GroupCommit[ValueJob, list[int]] = GroupCommit(store, commit_values)
        #: Called after each change (with the KPI whose published value changed, if any): the
        #: server runs the notifications there (:class:`btvstat_open.people.notices.AfterChange`).
        self.on_change: Callable[[str | None], None] | None = None

    def changed(self, kpi_id: str | None = None) -> None:
        """Tell :attr:`on_change` (if set) that a submission, decision or lock happened."""
        if self.on_change is not None:
            self.on_change(kpi_id)

    def _kpi(self, kpi_id: str) -> Kpi:
        return self.catalog.get(kpi_id)

    def check_value(self, grants: Grants, entry: ValueEntry) -> Kpi:
        """Refuse an entry the person may not make or whose numbers do not fit its KPI."""
        kpi = self._kpi(entry.kpi_id)
        _require(grants, "updater", kpi.department)
        if kpi.source.entry != "manual":
            raise UsageError(
                _("The KPI %(kpi)s takes its values from a dataset, not from entries.") % {"kpi": kpi.id}
            )
        _check_numbers(kpi, entry)
        return kpi

    def submit_value(self, grants: Grants, entry: ValueEntry, *, address: str = "", via: str = "form") -> int:
        """Record a pending value for a manual KPI's period; returns the submission id."""
        return self.submit_values(grants, [entry], address=address, via=via)[0]

    def submit_values(
        self, grants: Grants, entries: list[ValueEntry], *, address: str = "", via: str = "form"
    ) -> list[int]:
        """Record pending values, all or none; returns their ids. Concurrent submissions share
        one transaction (:mod:`btvstat_open.people.batching`): each answer comes after its commit."""
        kpis = [self.check_value(grants, entry) for entry in entries]
        job = ValueJob(grants, tuple(zip(kpis, entries, strict=True)), address, via)
        ids = self._values.run(job)
        self.changed()
        return ids

    async def submit_values_async(
        self, grants: Grants, entries: list[ValueEntry], *, address: str = "", via: str = "form"
    ) -> list[int]:
        """:meth:`submit_values` for a coroutine: it waits for the commit on the event loop."""
        kpis = [self.check_value(grants, entry) for entry in entries]
        job = ValueJob(grants, tuple(zip(kpis, entries, strict=True)), address, via)
        ids = await self._values.run_async(job)
        self.changed()
        return ids

    def approve(self, grants: Grants, submission_id: int, *, address: str = "") -> Submission:
        """Accept a pending submission; a value is published into the KPI's entries dataset, a
        comment or action update into the program's updates dataset."""
        ensure_updates_dataset(self.store)
        if self._changes_locked(grants, submission_id):  # the ledger first knows what it changes
            record_published(self.catalog, self.store, self.get(submission_id).kpi_id)
        with self.store.transaction() as con:
            item = _pending(con, submission_id)
            _require(grants, "approver", item.department)
            con.execute(
                "UPDATE btvstat_submissions SET state = 'approved', decided_by = ?, decided_at = ? "
                "WHERE id = ?",
                [grants.person.email, utc_now(), submission_id],
            )
            _publish(con, self.store, item)
            revision = _locked(con, item.kpi_id, item.period_start) if item.period_start else None
            event = "revised" if revision else "approved"
            record_on(
                con,
                grants.person.email,
                event,
                subject=f"{item.kpi_id} #{item.id}",
                detail=item.reason,
                address=address,
            )
        if revision and item.kind == "value" and item.period_start:
            why = {item.period_start: locked_reason(revision, item.reason)}
            try:
                record_published(self.catalog, self.store, item.kpi_id, reasons=why)
            except Exception as exc:  # the approval is done: the next publication records it
                print(f"note: the ledger was not updated: {type(exc).__name__}", file=sys.stderr)
        self.changed(item.kpi_id if item.kind == "value" else None)
        return self.get(submission_id)

    def _changes_locked(self, grants: Grants, submission_id: int) -> bool:
        """Whether approving this submission (by this person) would change a locked period."""
        item = self.get(submission_id)
        if item.kind != "value" or item.state != "pending" or item.period_start is None:
            return False
        if not grants.can("approver", item.department):
            return False
        return _locked(self.store.cursor(), item.kpi_id, item.period_start) is not None

    def send_back(self, grants: Grants, submission_id: int, reason: str, *, address: str = "") -> Submission:
        """Return a pending submission to its updater with a reason they will see."""
        if not reason.strip():
            raise UsageError(_("Say why the submission goes back: the updater sees the reason."))
        with self.store.transaction() as con:
            item = _pending(con, submission_id)
            _require(grants, "approver", item.department)
            con.execute(
                "UPDATE btvstat_submissions SET state = 'sent_back', decided_by = ?, decided_at = ?, "
                "reason = ? WHERE id = ?",
                [grants.person.email, utc_now(), reason.strip()[:2000], submission_id],
            )
            record_on(
                con,
                grants.person.email,
                "sent_back",
                subject=f"{item.kpi_id} #{item.id}",
                detail=reason,
                address=address,
            )
        self.changed()
        return self.get(submission_id)

    def get(self, submission_id: int) -> Submission:
        """One submission by id."""
        row = (
            self.store.cursor()
            .execute(f"SELECT {_COLUMNS} FROM btvstat_submissions WHERE id = ?", [submission_id])
            .fetchone()
        )
        if row is None:
            raise UsageError(_("There is no submission #%(number)s.") % {"number": submission_id})
        return Submission(*row)

    def latest(
        self,
        departments: frozenset[str] | None,
        *,
        states: tuple[State, ...] = ("pending", "approved", "sent_back"),
    ) -> list[Submission]:
        """The newest submissions in ``states`` of these departments (None: every one), newest first."""
        marks = ", ".join("?" for _ in states)
        rows = (
            self.store.cursor()
            .execute(
                f"SELECT {_COLUMNS} FROM btvstat_submissions WHERE state IN ({marks}) "
                "ORDER BY id DESC LIMIT 5000",
                list(states),
            )
            .fetchall()
        )
        found = [Submission(*row) for row in rows]
        return [s for s in found if departments is None or s.department in departments]


def _publish(con: Any, store: Store, item: Submission) -> None:
    """Publish an approved submission where the public pages read it."""
    if item.kind == "value" and item.period_start and item.period_end:
        parts = (item.value, item.numerator, item.denominator, item.text)
        write_entries(con, store, item.kpi_id, [(item.period_start, item.period_end, *parts)])
    elif item.kind == "comment":
        publish_update(con, store, Update("comment", item.kpi_id, item.period_start, text=item.text))
    elif item.kind == "action":
        update = Update(
            "action_update", item.kpi_id, action_id=item.action_id, status=item.action_status, text=item.text
        )
        publish_update(con, store, update)


def insert_submission(
    con: Any, grants: Grants, kpi: Kpi, row: dict[str, Any], *, address: str, via: str
) -> int:
    """Insert a pending comment or action update (``row``: kind, period_start, action_id,
    action_status, text) and its audit entry on an open transaction; returns its id."""
    con.execute(
        "UPDATE btvstat_submissions SET state = 'replaced' "
        "WHERE kind = ? AND kpi_id = ? AND state = 'pending' "
        "AND period_start IS NOT DISTINCT FROM ? AND action_id IS NOT DISTINCT FROM ?",
        [row["kind"], kpi.id, row.get("period_start"), row.get("action_id")],
    )
    new_id = _next_id(con)
    con.execute(
        f"INSERT INTO btvstat_submissions ({_COLUMNS}) VALUES "
        "(?, ?, ?, ?, ?, NULL, ?, NULL, NULL, NULL, ?, ?, 'pending', ?, ?, NULL, NULL, '')",
        [
            new_id, row["kind"], kpi.id, kpi.department, row.get("period_start"), row.get("action_id"),
            row.get("text", ""), row.get("action_status"), grants.person.email, utc_now(),
        ],
    )  # fmt: skip
    detail = f"{row['kind']} ({via})"
    record_on(
        con, grants.person.email, "submitted", subject=f"{kpi.id} #{new_id}", detail=detail, address=address
    )
    return new_id


def _require(grants: Grants, role: Literal["updater", "approver"], department: str) -> None:
    if not grants.can(role, department):
        raise Forbidden(
            _(
                "You are not an %(role)s for %(department)s; the program office can add you to the "
                "catalog's access: rules."
            )
            % {"role": role, "department": department}
        )


def _check_numbers(kpi: Kpi, entry: ValueEntry) -> None:
    if kpi.measure.calculation == "rate":
        if entry.numerator is None or entry.denominator is None:
            raise UsageError(
                _("%(kpi)s is a rate: enter both the numerator and the denominator.") % {"kpi": kpi.id}
            )
        if entry.denominator <= 0 or entry.numerator < 0:
            raise UsageError(_("The denominator must be above 0 and the numerator 0 or more."))
    elif entry.value is None:
        raise UsageError(
            _("Enter the value of %(kpi)s for the period starting %(day)s.")
            % {"kpi": kpi.id, "day": format_date(entry.period_start)}
        )


def _next_id(con: Any) -> int:
    row = con.execute("SELECT coalesce(max(id), 0) + 1 FROM btvstat_submissions").fetchone()
    return int(row[0])


def _locked(con: Any, kpi_id: str, period_start: date) -> str | None:
    row = con.execute(
        "SELECT meeting FROM btvstat_locks WHERE kpi_id = ? AND period_start = ?", [kpi_id, period_start]
    ).fetchone()
    return None if row is None else str(row[0])


def _pending(con: Any, submission_id: int) -> Submission:
    row = con.execute(f"SELECT {_COLUMNS} FROM btvstat_submissions WHERE id = ?", [submission_id]).fetchone()
    if row is None:
        raise UsageError(_("There is no submission #%(number)s.") % {"number": submission_id})
    item = Submission(*row)
    if item.state != "pending":
        raise UsageError(
            _("Submission #%(number)s is already %(state)s.")
            % {"number": submission_id, "state": _(item.state.replace("_", " "))}
        )
    return item
