"""The ledger of published values: each KPI period's value, target and status as first published,
and every revision after it (when, the old and new value, and why where it is known).

The ledger is a dataset of the store, ``published-values`` (one row per entry, its row identifier
``entry`` = ``<kpi>|<period start>|<revision>``), so researchers read it through the portal like
any other dataset. :func:`record` compares a KPI's series as published today with the ledger's
latest entry of each period: a new period is entry 0, a changed one the next revision, with the
reason ``definition changed`` when the KPI's definition (source, measure, period, target) moved
since the entry before, else ``data changed``; a caller that knows why a period changed (an
approver's reason for changing a locked period) gives it in ``reasons``.

Example:
    >>> definition_hash(kpi) == definition_hash(kpi)
    True
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pyarrow as pa

from btvstat_open.store import Store
from btvstat_open.types import Column
from catalog.definitions import append_records, definition_hash, record_definition
from catalog.models import Kpi

__all__ = [
    "LEDGER_DATASET",
    "Published",
    "definition_hash",
    "published",
    "record",
    "revised_between",
    "revision_lines",
    "with_published",
]

#: the store dataset holding the ledger
LEDGER_DATASET = "published-values"
COLUMNS = (
    Column("entry", "Entry", "text"),
    Column("kpi", "KPI", "text"),
    Column("period_start", "Period start", "floating_timestamp"),
    Column("period_end", "Period end", "floating_timestamp"),
    Column("revision", "Revision", "number"),
    Column("value", "Value", "number"),
    Column("target", "Target", "number"),
    Column("status", "Status", "text"),
    Column("previous_value", "Previous value", "number"),
    Column("recorded_at", "Recorded at", "fixed_timestamp"),
    Column("reason", "Reason", "text"),
    Column("definition", "Definition", "text"),
)
_LOCK = threading.Lock()  # one KPI's entries are read, compared and written at a time


@dataclass(frozen=True)
class Published:
    """A period's publication history: first value and when, and the latest revision (if any)."""

    period_start: date
    first_value: float | None
    first_at: datetime
    value: float | None
    revised_at: datetime | None
    revisions: int
    reason: str | None = None  # why the latest revision was made


def _same(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return round(a, 9) == round(b, 9)


def _latest(store: Store, kpi_id: str) -> dict[date, dict[str, Any]]:
    """The latest entry of each period of a KPI."""
    if not store.exists(LEDGER_DATASET):
        return {}
    cursor = store.cursor().execute(
        f"SELECT * FROM {store.info(LEDGER_DATASET).table} WHERE kpi = ? "
        "QUALIFY row_number() OVER (PARTITION BY period_start ORDER BY revision DESC) = 1",
        [kpi_id],
    )
    names = [d[0] for d in cursor.description or []]
    rows = [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
    return {r["period_start"].date(): r for r in rows}


def record(
    store: Store,
    kpi: Kpi,
    series: pa.Table,
    *,
    now: datetime | None = None,
    reasons: Mapping[date, str] | None = None,
) -> list[dict[str, Any]]:
    """Add to the ledger what ``series`` (published today) shows that the ledger does not; returns
    the new entries. Periods without a value are not published; ``reasons`` gives the reason of a
    revision of the periods it names (by period start)."""
    now = now or datetime.now(UTC)
    definition = definition_hash(kpi)
    with _LOCK:
        record_definition(store, kpi, now)
        known = _latest(store, kpi.id)
        entries = []
        for row in series.to_pylist():
            if row["value"] is None:
                continue
            start = row["period_start"]
            before = known.get(start)
            if before is not None and (
                _same(before["value"], row["value"])
                and _same(before["target"], row.get("target"))
                and before["status"] == row["status"]
            ):
                continue
            revision = 0 if before is None else int(before["revision"]) + 1
            reason = None
            if before is not None:
                reason = "definition changed" if before["definition"] != definition else "data changed"
                reason = (reasons or {}).get(start, reason)
            entries.append(
                {
                    "entry": f"{kpi.id}|{start.isoformat()}|{revision}",
                    "kpi": kpi.id,
                    "period_start": datetime.combine(start, datetime.min.time()),
                    "period_end": datetime.combine(row["period_end"], datetime.min.time()),
                    "revision": float(revision),
                    "value": row["value"],
                    "target": row.get("target"),
                    "status": row["status"],
                    "previous_value": None if before is None else before["value"],
                    "recorded_at": now,
                    "reason": reason,
                    "definition": definition,
                }
            )
        if entries:
            about = (
                "Published KPI values and their revisions",
                "Each KPI period's value, target and status as first published, and every revision.",
            )
            append_records(store, LEDGER_DATASET, about, COLUMNS, entries)
    return entries


def published(store: Store, kpi_id: str) -> dict[date, Published]:
    """The publication history of each period of a KPI that the ledger holds."""
    if not store.exists(LEDGER_DATASET):
        return {}
    rows = (
        store.cursor()
        .execute(
            "SELECT period_start, revision, value, recorded_at, reason "
            f"FROM {store.info(LEDGER_DATASET).table} WHERE kpi = ? ORDER BY period_start, revision",
            [kpi_id],
        )
        .fetchall()
    )
    out: dict[date, Published] = {}
    for start, revision, value, at, reason in rows:
        day = start.date()
        first = out.get(day)
        if first is None:
            out[day] = Published(day, value, at, value, None, 0)
        else:
            out[day] = Published(day, first.first_value, first.first_at, value, at, int(revision), reason)
    return out


def with_published(series: pa.Table, history: dict[date, Published]) -> pa.Table:
    """The series with ``first_published_value``, ``first_published_at`` and ``revised_at`` columns."""
    starts = series.column("period_start").to_pylist()
    first = [history[s].first_value if s in history else None for s in starts]
    first_at = [history[s].first_at if s in history else None for s in starts]
    revised = [history[s].revised_at if s in history else None for s in starts]
    stamp = pa.timestamp("us", "UTC")
    return (
        series.append_column("first_published_value", pa.array(first, pa.float64()))
        .append_column("first_published_at", pa.array(first_at, stamp))
        .append_column("revised_at", pa.array(revised, stamp))
    )


def revision_lines(kpi: Kpi, history: dict[date, Published]) -> list[str]:
    """One sentence per revised period, newest first: "first reported 11.0 on 2020-02-12, now 13.0",
    with the reason when one was given beyond "data changed".

    Example:
        >>> at = datetime(2020, 2, 12, tzinfo=UTC)
        >>> p = Published(date(2020, 2, 3), 11.0, at, 13.0, datetime(2020, 3, 1, tzinfo=UTC), 1)
        >>> revision_lines(kpi, {p.period_start: p})
        ['Period from 2020-02-03: first reported 11.0 on 2020-02-12, now 13.0 (revised 2020-03-01).']
        >>> why = Published(p.period_start, 11.0, at, 12.0, p.revised_at, 1, "crew log corrected")
        >>> revision_lines(kpi, {p.period_start: why})[0].split(', ')[1]
        'now 12.0 (revised 2020-03-01: crew log corrected).'
    """
    lines = []
    for start in sorted(history, reverse=True):
        item = history[start]
        if item.revised_at is None:
            continue
        lines.append(
            f"Period from {start.isoformat()}: first reported {_number(kpi, item.first_value)} on "
            f"{item.first_at.date().isoformat()}, now {_number(kpi, item.value)} "
            f"(revised {item.revised_at.date().isoformat()}{_why(item.reason)})."
        )
    return lines


def _why(reason: str | None) -> str:
    return f": {reason}" if reason and reason not in ("data changed", "definition changed") else ""


def _number(kpi: Kpi, value: float | None) -> str:
    return "no value" if value is None else f"{value:,.{kpi.decimals}f}"


def revised_between(store: Store, kpis: list[Kpi], reviewed: date, until: date) -> list[str]:
    """Values revised after the meeting of ``reviewed`` (up to the end of ``until``) for periods that
    meeting reviewed (ended by then), one sentence each, as a packet lists them."""
    if not store.exists(LEDGER_DATASET) or not kpis:
        return []
    titles = {k.id: k for k in kpis}
    rows = store.cursor().execute(
        f"SELECT kpi, period_start, previous_value, value, recorded_at, reason "
        f"FROM {store.info(LEDGER_DATASET).table} WHERE list_contains(?, kpi) AND revision > 0 "
        "AND CAST(period_end AS DATE) <= ? AND CAST(timezone('UTC', recorded_at) AS DATE) > ? "
        "AND CAST(timezone('UTC', recorded_at) AS DATE) <= ? ORDER BY kpi, period_start, revision",
        [list(titles), reviewed, reviewed, until],
    )
    lines = []
    for kpi_id, start, old, new, at, reason in rows.fetchall():
        kpi = titles[kpi_id]
        lines.append(
            f"{kpi.title}, period from {start.date().isoformat()}: {_number(kpi, old)} then, "
            f"{_number(kpi, new)} since {at.date().isoformat()} ({reason})."
        )
    return lines
