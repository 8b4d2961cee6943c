"""Pending values written in batches: the set-based statements of one group commit.

A batch of jobs (each a person's values: one from a form, many from a workbook) is checked
against the locks in one query, then written with three statements whatever its size: earlier
pending values of the same periods become ``replaced``, the new submissions and their audit
entries are inserted from Arrow tables. A job refused by a lock fails alone; the rest commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import pyarrow as pa

from btvstat_open.errors import BtvstatError, UsageError
from btvstat_open.i18n import _, format_date
from btvstat_open.people.access import Grants
from btvstat_open.people.tables import utc_now
from btvstat_open.store.writes import unregister
from catalog.models import Kpi

__all__ = ["ValueJob", "commit_values"]


@dataclass(frozen=True)
class ValueJob:
    """One person's values to submit together (all or none)."""

    grants: Grants
    items: tuple[tuple[Kpi, Any], ...]  # (KPI, ValueEntry)
    address: str
    via: str


def _lock_rule(grants: Grants, kpi: Kpi, entry: Any, meeting: str | None) -> None:
    from btvstat_open.people.submissions import Forbidden

    if meeting and not grants.can("approver", kpi.department):
        raise Forbidden(
            _(
                "The period %(day)s of %(kpi)s was locked after the meeting %(meeting)s; "
                "ask the program office to change it (it takes an approver and a reason)."
            )
            % {"day": format_date(entry.period_start), "kpi": kpi.id, "meeting": meeting}
        )
    if meeting and not entry.reason.strip():
        raise UsageError(_("This period is locked: give the reason for the change."))


def _locks(con: Any, jobs: Sequence[ValueJob]) -> dict[tuple[str, date], str]:
    kpi_ids = sorted({kpi.id for job in jobs for kpi, _ in job.items})
    rows = con.execute(
        "SELECT kpi_id, period_start, meeting FROM btvstat_locks WHERE list_contains(?, kpi_id)", [kpi_ids]
    ).fetchall()
    return {(r[0], r[1]): r[2] for r in rows}


def commit_values(con: Any, jobs: Sequence[ValueJob]) -> list[list[int] | BaseException]:
    """Write a batch on the open transaction ``con``; each job's new ids, or its error."""
    locks = _locks(con, jobs)
    results: list[list[int] | BaseException] = []
    for job in jobs:
        try:
            for kpi, entry in job.items:
                _lock_rule(job.grants, kpi, entry, locks.get((kpi.id, entry.period_start)))
            results.append([])
        except BtvstatError as exc:
            results.append(exc)
    [(first_id, first_seq)] = con.execute(
        "SELECT (SELECT coalesce(max(id), 0) + 1 FROM btvstat_submissions), "
        "(SELECT coalesce(max(seq), 0) + 1 FROM btvstat_audit)"
    ).fetchall()
    next_id, next_seq = int(first_id), int(first_seq)
    rows: list[dict[str, Any]] = []
    audits: list[dict[str, Any]] = []
    newest: dict[tuple[str, date], int] = {}
    now = utc_now()
    for job, result in zip(jobs, results, strict=True):
        if isinstance(result, BaseException):
            continue
        for kpi, entry in job.items:
            key = (kpi.id, entry.period_start)
            if key in newest:  # the same period twice in one batch: the later one stands
                rows[newest[key]]["state"] = "replaced"
            newest[key] = len(rows)
            rows.append(_row(next_id, job, kpi, entry, now))
            locked = locks.get(key)
            detail = f"period {entry.period_start}" + (f"; locked, reason: {entry.reason}" if locked else "")
            audits.append(
                {"seq": next_seq, "recorded_at": now, "who": job.grants.person.email, "event": "submitted",
                 "subject": f"{kpi.id} #{next_id}", "detail": f"{detail} ({job.via})"[:2000],
                 "address": job.address}
            )  # fmt: skip
            result.append(next_id)
            next_id, next_seq = next_id + 1, next_seq + 1
    if rows:
        _write(con, rows, audits)
    return results


def _row(new_id: int, job: ValueJob, kpi: Kpi, entry: Any, now: Any) -> dict[str, Any]:
    return {
        "id": new_id, "kind": "value", "kpi_id": kpi.id, "department": kpi.department,
        "period_start": entry.period_start, "period_end": entry.period_end, "action_id": None,
        "value": entry.value, "numerator": entry.numerator, "denominator": entry.denominator,
        "text": entry.comment, "action_status": None, "state": "pending",
        "submitted_by": job.grants.person.email, "submitted_at": now, "decided_by": None,
        "decided_at": None, "reason": entry.reason,
    }  # fmt: skip


_SUBMISSION_SCHEMA = pa.schema(
    [
        ("id", pa.int64()), ("kind", pa.string()), ("kpi_id", pa.string()), ("department", pa.string()),
        ("period_start", pa.date32()), ("period_end", pa.date32()), ("action_id", pa.string()),
        ("value", pa.float64()), ("numerator", pa.float64()), ("denominator", pa.float64()),
        ("text", pa.string()), ("action_status", pa.string()), ("state", pa.string()),
        ("submitted_by", pa.string()), ("submitted_at", pa.timestamp("us", tz="UTC")),
        ("decided_by", pa.string()), ("decided_at", pa.timestamp("us", tz="UTC")), ("reason", pa.string()),
    ]
)  # fmt: skip
_AUDIT_SCHEMA = pa.schema(
    [
        ("seq", pa.int64()), ("recorded_at", pa.timestamp("us", tz="UTC")), ("who", pa.string()),
        ("event", pa.string()), ("subject", pa.string()), ("detail", pa.string()), ("address", pa.string()),
    ]
)  # fmt: skip


def _write(con: Any, rows: list[dict[str, Any]], audits: list[dict[str, Any]]) -> None:
    batch = pa.Table.from_pylist(rows, schema=_SUBMISSION_SCHEMA)
    audit = pa.Table.from_pylist(audits, schema=_AUDIT_SCHEMA)
    con.register("people_value_batch", batch)
    con.register("people_audit_batch", audit)
    try:
        con.execute(
            "UPDATE btvstat_submissions AS s SET state = 'replaced' "
            "WHERE s.kind = 'value' AND s.state = 'pending' AND EXISTS (SELECT 1 FROM people_value_batch b "
            "WHERE b.kpi_id = s.kpi_id AND b.period_start = s.period_start)"
        ).fetchall()
        names = ", ".join(_SUBMISSION_SCHEMA.names)
        con.execute(
            f"INSERT INTO btvstat_submissions ({names}) SELECT {names} FROM people_value_batch"
        ).fetchall()
        audit_names = ", ".join(_AUDIT_SCHEMA.names)
        con.execute(
            f"INSERT INTO btvstat_audit ({audit_names}) SELECT {audit_names} FROM people_audit_batch"
        ).fetchall()
    finally:
        unregister(con, "people_value_batch")
        unregister(con, "people_audit_batch")
