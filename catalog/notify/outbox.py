"""The notification tables in the store: the states each event was last seen in, and the outbox.

``btvstat_notify_state`` holds one row per observation key (``status:KPI`` ...) with the state the
last run recorded. ``btvstat_outbox`` holds every message a run decided to send, until it is
delivered: each row's ``status`` is

* ``pending``: to send (again, once ``next_attempt_at`` has come, after a failure). A delivery
  that dies before its point of no return (for SMTP, the final ``.`` of ``DATA``: a connection
  dropped before it makes the server discard the message) leaves it pending: nothing was
  delivered, so it is sent again;
* ``committing``: the point of no return was reached; a message left so by a process that died
  before hearing back may have been delivered: it is sent again with the same Message-ID /
  delivery id (receivers can tell the two apart), and the run reports it;
* ``delivered`` or ``failed`` (after :data:`MAX_ATTEMPTS`; ``notify`` reports it).

A run records the new states and its messages in one transaction: a crash before it loses
nothing (the next run sees the same changes), a crash after it leaves the messages in the outbox.

Example:
    >>> import tempfile
    >>> from btvstat_open.store import Store
    >>> with Store(tempfile.mkdtemp()) as store:
    ...     item = OutboxItem.new("email", "a@example.gov", {"subject": "s"})
    ...     record_run(store, {"status:k": "off_track"}, [item])
    ...     recorded_states(store), [i.target for i in due_items(store, datetime.now(UTC))]
    ({'status:k': 'off_track'}, ['a@example.gov'])
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa

from btvstat_open.store import Store

__all__ = [
    "MAX_ATTEMPTS",
    "OutboxItem",
    "backoff",
    "due_items",
    "mark",
    "outbox_counts",
    "record_run",
    "recorded_states",
]

STATE_TABLE = "btvstat_notify_state"
OUTBOX_TABLE = "btvstat_outbox"
MAX_ATTEMPTS = 8
_SCHEMA = (
    f"CREATE TABLE IF NOT EXISTS {STATE_TABLE} "
    "(key VARCHAR PRIMARY KEY, state VARCHAR, changed_at TIMESTAMPTZ)",
    f"CREATE TABLE IF NOT EXISTS {OUTBOX_TABLE} (id VARCHAR PRIMARY KEY, channel VARCHAR, target VARCHAR, "
    "payload VARCHAR, status VARCHAR, attempts INTEGER, next_attempt_at TIMESTAMPTZ, last_error VARCHAR, "
    "created_at TIMESTAMPTZ, delivered_at TIMESTAMPTZ)",
)


@dataclass(frozen=True)
class OutboxItem:
    """One message: its channel (``email`` or ``webhook``), target (an address or a webhook name),
    and payload (what the channel needs: subject and bodies, or the JSON to post)."""

    id: str
    channel: str
    target: str
    payload: dict[str, Any]
    status: str = "pending"
    attempts: int = 0

    @classmethod
    def new(cls, channel: str, target: str, payload: dict[str, Any]) -> OutboxItem:
        """A new message with a fresh id."""
        return cls(uuid.uuid4().hex, channel, target, payload)


def _ensure(store: Store) -> None:
    """Create the two tables (a run that records or delivers)."""
    with store.transaction() as con:
        for sql in _SCHEMA:
            con.execute(sql)


def _present(store: Store) -> bool:
    """True once a run has made the tables (reading never creates them: a dry run writes nothing)."""
    found = (
        store.cursor()
        .execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [OUTBOX_TABLE])
        .fetchone()
    )
    return bool(found and found[0])


def recorded_states(store: Store) -> dict[str, str]:
    """The state recorded for each key (empty on the first run)."""
    if not _present(store):
        return {}
    rows = store.cursor().execute(f"SELECT key, state FROM {STATE_TABLE}").fetchall()
    return {key: state for key, state in rows}


def record_run(
    store: Store, states: Mapping[str, str], items: Sequence[OutboxItem], *, now: datetime | None = None
) -> None:
    """Record changed ``states`` and queue ``items`` (due at ``now``), all in one transaction."""
    _ensure(store)
    now = now or datetime.now(UTC)
    # Arrow tables in one statement each: thousands of states cost one insert, not thousands.
    changed = pa.table(
        {"key": pa.array(list(states), pa.string()), "state": pa.array(list(states.values()), pa.string())}
    )
    queued = pa.table(
        {
            "id": pa.array([i.id for i in items], pa.string()),
            "channel": pa.array([i.channel for i in items], pa.string()),
            "target": pa.array([i.target for i in items], pa.string()),
            "payload": pa.array([json.dumps(i.payload) for i in items], pa.string()),
        }
    )
    with store.transaction() as con:
        con.register("notify_changed", changed)
        con.register("notify_queued", queued)
        try:
            con.execute(
                f"INSERT OR REPLACE INTO {STATE_TABLE} SELECT key, state, ? FROM notify_changed", [now]
            )
            con.execute(
                f"INSERT INTO {OUTBOX_TABLE} SELECT id, channel, target, payload, 'pending', 0, ?, NULL, ?, "
                "NULL FROM notify_queued",
                [now, now],
            )
        finally:
            con.unregister("notify_changed")
            con.unregister("notify_queued")


def due_items(store: Store, now: datetime) -> list[OutboxItem]:
    """Messages to deliver now: pending ones whose time has come, and any a dead run left mid-send."""
    if not _present(store):
        return []
    rows = (
        store.cursor()
        .execute(
            f"SELECT id, channel, target, payload, status, attempts FROM {OUTBOX_TABLE} "
            "WHERE status = 'committing' OR (status = 'pending' AND next_attempt_at <= ?) "
            "ORDER BY created_at, id",
            [now],
        )
        .fetchall()
    )
    return [OutboxItem(r[0], r[1], r[2], json.loads(r[3]), r[4], r[5]) for r in rows]


def backoff(attempts: int) -> timedelta:
    """How long to wait before the next attempt after ``attempts`` failed ones (doubling, capped).

    Example:
        >>> [int(backoff(n).total_seconds()) for n in (1, 2, 3, 10)]
        [60, 120, 240, 21600]
    """
    wait: timedelta = min(timedelta(minutes=1) * 2 ** max(attempts - 1, 0), timedelta(hours=6))
    return wait


def mark(
    store: Store, item_id: str, status: str, *, error: str | None = None, now: datetime | None = None
) -> None:
    """Move a message to ``status`` (one committed transaction).

    ``pending`` after a failure counts the attempt and schedules the next one by :func:`backoff`
    (or makes it ``failed`` after :data:`MAX_ATTEMPTS`).
    """
    now = now or datetime.now(UTC)
    with store.transaction() as con:
        if status == "delivered":
            con.execute(
                f"UPDATE {OUTBOX_TABLE} SET status = 'delivered', delivered_at = ? WHERE id = ?",
                [now, item_id],
            )
        elif status == "pending":
            found = con.execute(f"SELECT attempts FROM {OUTBOX_TABLE} WHERE id = ?", [item_id]).fetchone()
            attempts = int(found[0]) + 1 if found else MAX_ATTEMPTS
            final = "failed" if attempts >= MAX_ATTEMPTS else "pending"
            con.execute(
                f"UPDATE {OUTBOX_TABLE} SET status = ?, attempts = ?, next_attempt_at = ?, last_error = ? "
                "WHERE id = ?",
                [final, attempts, now + backoff(attempts), error, item_id],
            )
        else:
            con.execute(f"UPDATE {OUTBOX_TABLE} SET status = ? WHERE id = ?", [status, item_id])


def outbox_counts(store: Store) -> dict[str, int]:
    """How many messages are in each status (none before the first run).

    Example:
        >>> import tempfile
        >>> with Store(tempfile.mkdtemp()) as store:
        ...     outbox_counts(store)
        {}
    """
    if not _present(store):
        return {}
    rows = store.cursor().execute(f"SELECT status, count(*) FROM {OUTBOX_TABLE} GROUP BY status").fetchall()
    return {status: int(n) for status, n in rows}
