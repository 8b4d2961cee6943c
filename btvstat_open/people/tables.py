"""The people tables in the store: accounts, sessions, tokens, submissions, locks, audit.

They sit in the store's database beside the datasets (``btvstat_*`` tables, never ``ds_*``), so
no SoQL query, download or export can reach them, and a submission and the value it publishes
change in one transaction.

Example:
    >>> import tempfile
    >>> from btvstat_open.store import Store
    >>> store = Store(tempfile.mkdtemp())
    >>> ensure_tables(store)
    >>> store.cursor().execute("SELECT count(*) FROM btvstat_audit").fetchone()
    (0,)
"""

from __future__ import annotations

import weakref
from datetime import UTC, datetime

from btvstat_open.store import Store

__all__ = ["ensure_tables", "utc_now"]

_DDL = (
    """CREATE TABLE IF NOT EXISTS btvstat_accounts (
        email TEXT PRIMARY KEY, name TEXT NOT NULL, password_hash TEXT NOT NULL,
        totp_secret TEXT, groups TEXT NOT NULL DEFAULT '[]', created_at TIMESTAMPTZ NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS btvstat_sessions (
        id_hash TEXT PRIMARY KEY, email TEXT NOT NULL, name TEXT NOT NULL, groups TEXT NOT NULL,
        via TEXT NOT NULL, csrf TEXT NOT NULL, created_at TIMESTAMPTZ NOT NULL,
        seen_at TIMESTAMPTZ NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS btvstat_tokens (
        id TEXT PRIMARY KEY, token_hash TEXT NOT NULL UNIQUE, email TEXT NOT NULL, label TEXT NOT NULL,
        departments TEXT NOT NULL, created_at TIMESTAMPTZ NOT NULL, revoked_at TIMESTAMPTZ,
        groups TEXT NOT NULL DEFAULT '[]')""",
    """CREATE TABLE IF NOT EXISTS btvstat_submissions (
        id BIGINT PRIMARY KEY, kind TEXT NOT NULL, kpi_id TEXT NOT NULL, department TEXT NOT NULL,
        period_start DATE, period_end DATE, action_id TEXT, value DOUBLE, numerator DOUBLE,
        denominator DOUBLE, text TEXT NOT NULL DEFAULT '', action_status TEXT,
        state TEXT NOT NULL, submitted_by TEXT NOT NULL, submitted_at TIMESTAMPTZ NOT NULL,
        decided_by TEXT, decided_at TIMESTAMPTZ, reason TEXT NOT NULL DEFAULT '')""",
    """CREATE TABLE IF NOT EXISTS btvstat_locks (
        kpi_id TEXT NOT NULL, period_start DATE NOT NULL, meeting TEXT NOT NULL,
        locked_by TEXT NOT NULL, locked_at TIMESTAMPTZ NOT NULL, PRIMARY KEY (kpi_id, period_start))""",
    """CREATE TABLE IF NOT EXISTS btvstat_audit (
        seq BIGINT PRIMARY KEY, recorded_at TIMESTAMPTZ NOT NULL, who TEXT NOT NULL,
        event TEXT NOT NULL, subject TEXT NOT NULL DEFAULT '', detail TEXT NOT NULL DEFAULT '',
        address TEXT NOT NULL DEFAULT '')""",
)


_READY: weakref.WeakSet[Store] = weakref.WeakSet()


def ensure_tables(store: Store) -> None:
    """Create the people tables that do not exist yet (idempotent, once per open store)."""
    if store in _READY:
        return
    with store.transaction() as con:
        for statement in _DDL:
            con.execute(statement)
    _READY.add(store)


def utc_now() -> datetime:
    """Now, in UTC (the tables' timestamps).

    Example:
        >>> utc_now().tzinfo is UTC
        True
    """
    return datetime.now(UTC)
