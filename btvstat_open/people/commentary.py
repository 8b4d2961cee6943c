"""Commentary and action progress from departments, and actions the program office adds.

An updater writes the analysis of a KPI period ("what happened, what we are doing") and
changes the status of their department's actions with a progress note; both wait for approval
like values do, then appear on the KPI page and in packets (:mod:`catalog.updates`). Commentary
is due for an off-track KPI before its department's next meeting. Approvers add actions (during
the meeting): published at once, audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from btvstat_open.errors import UsageError
from btvstat_open.i18n import _
from btvstat_open.people.access import Grants
from btvstat_open.people.audit import record_on
from btvstat_open.people.submissions import Forbidden, Submissions, insert_submission
from btvstat_open.store import Store
from catalog.models import Catalog, Kpi
from catalog.updates import Update, action_updates, ensure_updates_dataset, publish_update

__all__ = [
    "ActionItem",
    "CommentItem",
    "action_items",
    "add_action",
    "comment_items",
    "submit_action",
    "submit_comment",
]

_STATUSES = ("open", "done", "dropped")


@dataclass(frozen=True)
class CommentItem:
    """A KPI whose latest period can take the department's analysis."""

    kpi: Kpi
    period_start: date
    status: str
    due: date | None  # the department's next meeting, when the KPI is off track


@dataclass(frozen=True)
class ActionItem:
    """An action of a KPI, with its status as last approved."""

    kpi: Kpi
    action_id: str
    title: str
    status: str
    due: date | None


def comment_items(store: Store, catalog: Catalog, kpis: list[Kpi], today: date) -> list[CommentItem]:
    """The latest period of each KPI, off-track ones first (their commentary is due)."""
    from catalog.measure import measure

    items = []
    for kpi in kpis:
        series = measure(kpi, store, catalog.settings, today=today).to_pylist()
        latest = next((row for row in reversed(series) if row["value"] is not None), None)
        if latest is None:
            continue
        meetings = sorted(
            m.date for m in catalog.meetings.values() if m.date >= today and kpi.department in m.departments
        )
        due = meetings[0] if meetings and latest["status"] == "off_track" else None
        items.append(CommentItem(kpi, latest["period_start"], latest["status"], due))
    return sorted(items, key=lambda i: (i.status != "off_track", i.kpi.id))


def action_items(store: Store, kpis: list[Kpi]) -> list[ActionItem]:
    """Every action of these KPIs (the YAML's and those added), with its latest approved status."""
    items = []
    for kpi in kpis:
        updates = action_updates(store, kpi.id)  # newest first
        latest = {u.action_id: u.status or "open" for u in reversed(updates) if u.kind == "action_update"}
        for action in kpi.actions:
            items.append(
                ActionItem(kpi, action.id, action.title, latest.get(action.id, action.status), action.due)
            )
        for added in updates:
            if added.kind != "action_added" or not added.action_id:
                continue
            status = latest.get(added.action_id, added.status or "open")
            items.append(ActionItem(kpi, added.action_id, added.title or added.action_id, status, added.due))
    return items


def submit_comment(
    submissions: Submissions, grants: Grants, kpi_id: str, period_start: date, text: str, *, address: str = ""
) -> int:
    """Submit the analysis of a KPI period for approval."""
    kpi = submissions.catalog.get(kpi_id)
    _may_update(grants, kpi)
    if not text.strip():
        raise UsageError(_("Write the commentary: what happened, and what the department is doing."))
    row = {"kind": "comment", "period_start": period_start, "text": text.strip()[:4000]}
    with submissions.store.transaction() as con:
        new_id: int = insert_submission(con, grants, kpi, row, address=address, via="form")
    submissions.changed()
    return new_id


def submit_action(
    submissions: Submissions,
    grants: Grants,
    kpi_id: str,
    action_id: str,
    status: str,
    note: str,
    *,
    address: str = "",
) -> int:
    """Submit an action's new status and progress note for approval."""
    kpi = submissions.catalog.get(kpi_id)
    _may_update(grants, kpi)
    if status not in _STATUSES:
        raise UsageError(_("status: choose %(choices)s.") % {"choices": ", ".join(_STATUSES)})
    known = {a.action_id for a in action_items(submissions.store, [kpi])}
    if action_id not in known:
        raise UsageError(
            _("%(kpi)s has no action %(action)s.") % {"kpi": kpi.id, "action": repr(action_id[:64])}
        )
    row = {"kind": "action", "action_id": action_id, "action_status": status, "text": note.strip()[:4000]}
    with submissions.store.transaction() as con:
        new_id: int = insert_submission(con, grants, kpi, row, address=address, via="form")
    submissions.changed()
    return new_id


def add_action(
    store: Store,
    catalog: Catalog,
    grants: Grants,
    kpi_id: str,
    title: str,
    due: date | None,
    *,
    address: str = "",
) -> str:
    """An approver adds an action to a KPI (published at once, audited); returns its id."""
    kpi = catalog.get(kpi_id)
    if not grants.can("approver", kpi.department):
        raise Forbidden(
            _("Adding actions to %(department)s's KPIs takes an approver.") % {"department": kpi.department}
        )
    if not title.strip():
        raise UsageError(_("Give the action a title: what will be done."))
    import secrets

    action_id = "added-" + secrets.token_hex(4)
    ensure_updates_dataset(store)
    with store.transaction() as con:
        publish_update(con, store, Update("action_added", kpi.id, action_id=action_id, status="open",
                                          title=title.strip()[:200], due=due))  # fmt: skip
        record_on(
            con,
            grants.person.email,
            "action_added",
            subject=kpi.id,
            detail=title.strip()[:200],
            address=address,
        )
    return action_id


def _may_update(grants: Grants, kpi: Kpi) -> None:
    if not grants.can("updater", kpi.department):
        raise Forbidden(_("You do not write for %(department)s.") % {"department": kpi.department})
