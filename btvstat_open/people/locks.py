"""Locks: after a meeting, the periods it reviewed are locked.

A meeting reviews the manual KPIs of its departments and its ``kpis``; locking it locks every
period of those KPIs that ended before the meeting's date and has a published value. Changing
a locked period takes an approver and a reason (:mod:`btvstat_open.people.submissions`), and
its approval is audited as a revision.
"""

from __future__ import annotations

from datetime import date

from btvstat_open.errors import UsageError
from btvstat_open.i18n import _
from btvstat_open.people.access import Grants
from btvstat_open.people.audit import record_on
from btvstat_open.people.submissions import Forbidden
from btvstat_open.people.tables import ensure_tables, utc_now
from btvstat_open.store import Store
from catalog.entries import entry_dataset_id
from catalog.models import Catalog, Kpi, Meeting

__all__ = ["lock_meeting", "locked_periods", "reviewed_kpis"]


def reviewed_kpis(catalog: Catalog, meeting: Meeting) -> list[Kpi]:
    """The manual KPIs a meeting reviews (its departments' and its named KPIs)."""
    named = set(meeting.kpis) | {item.kpi for item in meeting.new_items}
    return [
        k
        for k in catalog.kpis.values()
        if k.source.entry == "manual" and (k.department in meeting.departments or k.id in named)
    ]


def lock_meeting(
    store: Store, catalog: Catalog, grants: Grants, meeting_id: str, *, address: str = ""
) -> int:
    """Lock the periods a meeting reviewed; returns how many periods were newly locked."""
    meeting = catalog.meetings.get(meeting_id)
    if meeting is None:
        raise UsageError(_("There is no meeting %(meeting)s.") % {"meeting": repr(meeting_id[:64])})
    kpis = reviewed_kpis(catalog, meeting)
    for kpi in kpis:
        if not grants.can("approver", kpi.department):
            raise Forbidden(
                _("Locking %(meeting)s takes an approver for %(department)s.")
                % {"meeting": meeting.id, "department": kpi.department}
            )
    if not grants.can("approver"):
        raise Forbidden(_("Locking a meeting's periods takes an approver."))
    made = 0
    with store.transaction() as con:
        for kpi in kpis:
            dataset = entry_dataset_id(kpi.id)
            if not store.exists(dataset):
                continue
            table = store.info(dataset).table
            sql = f"SELECT CAST(period_start AS DATE) FROM {table} WHERE period_end < ?"
            starts = [row[0] for row in con.execute(sql, [meeting.date]).fetchall()]
            for start in starts:
                inserted = con.execute(
                    "INSERT INTO btvstat_locks VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING 1",
                    [kpi.id, start, meeting.id, grants.person.email, utc_now()],
                ).fetchall()
                made += len(inserted)
        record_on(
            con, grants.person.email, "locked", subject=meeting.id, detail=f"{made} periods", address=address
        )
    return made


def locked_periods(store: Store, kpi_id: str) -> dict[date, str]:
    """The locked periods of a KPI: period start -> the meeting that locked it."""
    ensure_tables(store)
    rows = store.cursor().execute(
        "SELECT period_start, meeting FROM btvstat_locks WHERE kpi_id = ?", [kpi_id]
    )
    return {row[0]: row[1] for row in rows.fetchall()}
