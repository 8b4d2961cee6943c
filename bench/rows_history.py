"""Rows for the store's history: what recording every write costs, and reading the past.

- A sync's write of 1% changed rows into a dataset of N rows (the upsert a sync makes), with history
  against the same write into a store opened without it, and how much the store grew with each.
- A measure-shaped aggregate (count and median by month) over a dataset with ten recorded versions,
  read as known at a past version against the same query today.

Example:
    >>> history_rows(rows=20_000, reps=2)  # doctest: +SKIP
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from bench.generate import COLUMNS, ROW_ID, batches
from bench.harness import Goal, Result, median, timed

__all__ = ["history_rows"]


def _table(rows: int) -> pa.Table:
    return pa.Table.from_batches(list(batches(rows)))


def _changed(table: pa.Table, version: int) -> pa.Table:
    """Every 100th row with a new ``days_to_close`` (1% of the rows)."""
    picked = table.take(pa.array(range(version % 100, table.num_rows, 100)))
    index = picked.schema.get_field_index("days_to_close")
    values = pc.add(pc.fill_null(picked["days_to_close"], 0.0), float(version))
    return picked.set_column(index, "days_to_close", values)


def _size(root: Path) -> int:
    return sum(f.stat().st_size for f in root.iterdir() if f.is_file())


def _write_once(table: pa.Table, history: bool) -> tuple[float, int]:
    """Seconds of a 1% upsert into a fresh store, and the bytes the store grew by."""
    from btvstat_open.store import Store

    with tempfile.TemporaryDirectory() as tmp:
        store = Store(tmp, history=history)
        store.load("d", table, COLUMNS, row_identifier=ROW_ID)
        store.close()
        store = Store(tmp, history=history)
        before = _size(Path(tmp))
        seconds = timed(lambda: store.upsert("d", _changed(table, 1)))
        store.close()
        return seconds, _size(Path(tmp)) - before


def history_rows(*, rows: int, reps: int) -> list[Result]:
    """The two rows (see the module docstring)."""
    from btvstat_open.store import Store

    table = _table(rows)
    with_history, without, grown, plain = [], [], [], []
    for _ in range(reps):
        seconds, growth = _write_once(table, True)
        with_history.append(seconds)
        grown.append(growth)
        seconds, growth = _write_once(table, False)
        without.append(seconds)
        plain.append(growth)
    write = Result(
        "history",
        f"write 1% changed of {rows:,} rows (a sync's upsert)",
        "s",
        ours=median(with_history),
        peer=median(without),
        peer_name="the same write without history",
        higher_is_better=False,
        goal=Goal("ratio", 0.8),
        samples={"with history": with_history, "without": without},
        notes=f"store grew {median(grown) / 1e6:.1f} MB with history, {median(plain) / 1e6:.1f} MB without",
    )
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(tmp)
        moments = []
        for version in range(10):
            store.clock = lambda v=version: datetime(2020, 1, 1 + v, tzinfo=UTC)  # type: ignore[misc]
            if version == 0:
                store.load("d", table, COLUMNS, row_identifier=ROW_ID)
            else:
                store.upsert("d", _changed(table, version))
            moments.append(store.clock())
        sql = (
            "SELECT date_trunc('month', created_date) AS m, count(*), quantile_cont(days_to_close, 0.5) "
            "FROM {table} GROUP BY 1 ORDER BY 1"
        )

        def timed_read(table: Callable[[], str]) -> float:  # finding the table is part of the read
            return timed(lambda: store.cursor().sql(sql.format(table=table())).fetchall())

        today: list[float] = []
        past: list[float] = []
        for _ in range(reps * 2 + 1):  # alternated, so a busy moment weighs on both alike
            today.append(timed_read(lambda: store.info("d").table))
            past.append(timed_read(lambda: store.known("d", moments[4]).table))
        store.close()
    read = Result(
        "history",
        f"measure as known at a past version (10 versions of {rows:,} rows)",
        "s",
        ours=median(past),
        peer=median(today),
        peer_name="the same measure today",
        higher_is_better=False,
        goal=Goal("ratio", 1 / 1.5),
        samples={"as known": past, "today": today},
    )
    return [write, read]
