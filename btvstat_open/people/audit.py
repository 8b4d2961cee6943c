"""The audit: every sign-in (and failure), submission, decision, lock, account change and token use.

Each entry has who, when, what (``event``), on what (``subject``), the detail and the address.
Entries are only ever added. A step and its audit entry are written in one transaction
(pass its ``con``), so neither is kept without the other.

Example:
    >>> import tempfile
    >>> from btvstat_open.store import Store
    >>> from btvstat_open.people.tables import ensure_tables
    >>> store = Store(tempfile.mkdtemp())
    >>> ensure_tables(store)
    >>> record(store, "ops@example.gov", "sign_in", detail="password")
    >>> [e.event for e in entries(store)]
    ['sign_in']
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from btvstat_open.people.tables import utc_now
from btvstat_open.store import Store

__all__ = ["AuditEntry", "audit_csv", "entries", "record", "record_on"]


@dataclass(frozen=True)
class AuditEntry:
    """One line of the audit."""

    seq: int
    recorded_at: datetime
    who: str
    event: str
    subject: str
    detail: str
    address: str


def record_on(
    con: Any, who: str, event: str, *, subject: str = "", detail: str = "", address: str = ""
) -> None:
    """Add an entry on an open transaction ``con`` (the step it records commits with it)."""
    row = con.execute("SELECT coalesce(max(seq), 0) + 1 FROM btvstat_audit").fetchone()
    con.execute(
        "INSERT INTO btvstat_audit VALUES (?, ?, ?, ?, ?, ?, ?)",
        [row[0], utc_now(), who, event, subject, detail[:2000], address],
    )


def record(
    store: Store, who: str, event: str, *, subject: str = "", detail: str = "", address: str = ""
) -> None:
    """Add an entry in a transaction of its own."""
    with store.transaction() as con:
        record_on(con, who, event, subject=subject, detail=detail, address=address)


def entries(store: Store, *, limit: int = 1000, event: str | None = None) -> list[AuditEntry]:
    """The newest ``limit`` entries, newest first (optionally of one event)."""
    where, params = ("WHERE event = ?", [event]) if event else ("", [])
    rows = (
        store.cursor()
        .execute(f"SELECT * FROM btvstat_audit {where} ORDER BY seq DESC LIMIT ?", [*params, limit])
        .fetchall()
    )
    return [AuditEntry(*row) for row in rows]


def audit_csv(items: list[AuditEntry]) -> str:
    """The audit as CSV (the export of ``/audit.csv``); cells that look like formulas are quoted.

    Example:
        >>> from datetime import UTC
        >>> audit_csv([AuditEntry(1, datetime(2020, 1, 1, tzinfo=UTC), "a@x.gov", "sign_in", "", "=1", "")])
        ...     # doctest: +NORMALIZE_WHITESPACE
        "seq,recorded_at,who,event,subject,detail,address\\r\\n1,2020-01-01T00:00:00+00:00,a@x.gov,sign_in,,'=1,\\r\\n"
    """
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["seq", "recorded_at", "who", "event", "subject", "detail", "address"])
    for e in items:
        cells = [e.who, e.event, e.subject, e.detail, e.address]
        writer.writerow([e.seq, e.recorded_at.isoformat(), *(_inert(c) for c in cells)])
    return out.getvalue()


def _inert(cell: str) -> str:
    return "'" + cell if cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell


def record_roles(store: Store, rules: list[dict[str, object]]) -> bool:
    """Audit the catalog's ``access:`` rules when they differ from the last ones recorded (a role
    change, reviewed in git, also lands in the audit); returns whether they were recorded.

    Example:
        >>> import tempfile
        >>> from btvstat_open.people.tables import ensure_tables
        >>> store = Store(tempfile.mkdtemp()); ensure_tables(store)
        >>> rules = [{"who": "ops@example.gov", "role": "approver"}]
        >>> record_roles(store, rules), record_roles(store, rules)
        (True, False)
    """
    import json

    detail = json.dumps(rules, sort_keys=True, separators=(",", ":"))
    last = entries(store, limit=1, event="roles_changed")
    if last and last[0].detail == detail[:2000]:
        return False
    record(store, "catalog", "roles_changed", subject="access", detail=detail)
    return True
