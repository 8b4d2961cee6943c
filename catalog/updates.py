"""Commentary and action updates: what departments write beside what the catalog's YAML declares.

Approved commentary ("what happened, what we are doing", per KPI period), action progress
(a new status and a note) and actions the program office adds live in one store dataset,
``program-updates``, made at the first approval. Only approved text reaches it (pending text
waits in the people tables), so every page, download and packet may show it. The KPI page and
the packet show it beside the YAML's analysis and actions.

Example:
    >>> import tempfile
    >>> from datetime import date
    >>> from btvstat_open.store import Store
    >>> store = Store(tempfile.mkdtemp())
    >>> commentary(store, "potholes")
    []
    >>> ensure_updates_dataset(store)
    >>> with store.transaction() as con:
    ...     publish_update(con, store, Update("comment", "potholes", date(2020, 1, 1), text="Crews doubled."))
    >>> [(u.kind, u.text) for u in commentary(store, "potholes")]
    [('comment', 'Crews doubled.')]
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pyarrow as pa

from btvstat_open.store import Store
from btvstat_open.store.writes import apply_upsert, prepare_upsert
from btvstat_open.types import Column

__all__ = [
    "UPDATES_DATASET",
    "Update",
    "action_updates",
    "commentary",
    "ensure_updates_dataset",
    "publish_update",
]

UPDATES_DATASET = "program-updates"
_COLUMNS = (
    Column("key", "Key", "text"),
    Column("kind", "Kind", "text"),  # comment | action_update | action_added
    Column("kpi_id", "KPI", "text"),
    Column("period_start", "Period start", "floating_timestamp"),
    Column("action_id", "Action", "text"),
    Column("status", "Action status", "text"),
    Column("title", "Action title", "text"),
    Column("due", "Action due", "floating_timestamp"),
    Column("text", "Text", "text"),
    Column("approved_at", "Approved at", "fixed_timestamp"),
)


@dataclass(frozen=True)
class Update:
    """One approved comment, action update or added action."""

    kind: str
    kpi_id: str
    period_start: date | None = None
    action_id: str | None = None
    status: str | None = None
    title: str | None = None
    due: date | None = None
    text: str = ""
    approved_at: datetime | None = None


def _stamp(day: date | None) -> datetime | None:
    return None if day is None else datetime(day.year, day.month, day.day)


def ensure_updates_dataset(store: Store) -> None:
    """Make the (empty) updates dataset if the store has none (before a transaction publishes)."""
    if store.exists(UPDATES_DATASET):
        return
    store.create(
        UPDATES_DATASET,
        "Program updates: commentary and action progress",
        _COLUMNS,
        description="Approved department commentary per KPI period, action progress and actions added by "
        "the program office.",
        row_identifier="key",
    )


def publish_update(con: Any, store: Store, update: Update) -> None:
    """Add an approved update on an open transaction ``con``."""
    ensure_updates_dataset(store)
    if update.kind == "comment" and update.period_start is not None:
        key = f"comment|{update.kpi_id}|{update.period_start.isoformat()}"  # a newer comment replaces
    else:
        key = f"{update.kind}|{update.kpi_id}|{secrets.token_hex(6)}"
    table = pa.table(
        {
            "key": [key],
            "kind": [update.kind],
            "kpi_id": [update.kpi_id],
            "period_start": pa.array([_stamp(update.period_start)], pa.timestamp("ms")),
            "action_id": [update.action_id],
            "status": [update.status],
            "title": [update.title],
            "due": pa.array([_stamp(update.due)], pa.timestamp("ms")),
            "text": [update.text],
            "approved_at": pa.array([datetime.now(UTC)], pa.timestamp("us", tz="UTC")),
        }
    )
    info = store.info(UPDATES_DATASET)
    apply_upsert(con, info, prepare_upsert(info, table, None))


def _read(store: Store, kpi_id: str, kinds: tuple[str, ...]) -> list[Update]:
    if not store.exists(UPDATES_DATASET):
        return []
    info = store.info(UPDATES_DATASET)
    marks = ", ".join("?" for _ in kinds)
    rows = (
        store.cursor()
        .execute(
            f"SELECT kind, kpi_id, period_start, action_id, status, title, due, text, approved_at "
            f"FROM {info.table} WHERE kpi_id = ? AND kind IN ({marks}) ORDER BY approved_at DESC",
            [kpi_id, *kinds],
        )
        .fetchall()
    )
    return [
        Update(
            r[0],
            r[1],
            r[2].date() if r[2] else None,
            r[3],
            r[4],
            r[5],
            r[6].date() if r[6] else None,
            r[7],
            r[8],
        )
        for r in rows
    ]


def commentary(store: Store, kpi_id: str) -> list[Update]:
    """A KPI's approved commentary, newest first."""
    return _read(store, kpi_id, ("comment",))


def action_updates(store: Store, kpi_id: str) -> list[Update]:
    """A KPI's approved action updates and added actions, newest first."""
    return _read(store, kpi_id, ("action_update", "action_added"))
