"""Rows for the store's history: what recording every write costs, and reading the past.

- A sync's write of 1% changed rows into a dataset of N rows (the upsert a sync makes), with history
  against the same write into a store opened without it. Both stores take the same writes in rounds
  that alternate which store goes first; a round is as many writes into a fresh copy of the loaded
  store as make one fold of the ends of versions (see ``btvstat_open.store.history``), and its
  number is the mean of its writes, so the fold counts at the rate it happens. The notes give the
  process's CPU time beside the wall time, the spread over the rounds, the ratio over every write,
  and what the store grew by.
- A measure-shaped aggregate (count and median by month) over a dataset with ten recorded versions,
  read as known at a past version against the same query today: with the ends folded in, and with
  the most unfolded ends the fold threshold lets a store hold.

Example:
    >>> history_rows(rows=20_000, reps=2)  # doctest: +SKIP
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from bench.generate import COLUMNS, ROW_ID, batches
from bench.harness import Goal, Result, alternate, median

__all__ = ["history_rows"]

#: the version read as known, of the ten recorded (counted from 0: the load)
PAST = 4


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


def _clocked(work: Callable[[], object], cpu: list[float]) -> float:
    """Wall seconds of ``work()``; its CPU seconds (every thread of the process) go to ``cpu``."""
    start, start_cpu = time.perf_counter(), time.process_time()
    work()
    cpu.append(time.process_time() - start_cpu)
    return time.perf_counter() - start


def _spread(values: list[float]) -> str:
    return f"{min(values):.3f}-{max(values):.3f}" if values else "-"


def _fold_period(rows: int) -> int:
    """How many 1% writes into a freshly loaded store of ``rows`` rows make one fold of the ends:
    the write whose ends outnumber 1/FOLD_RATIO of the versions folds them."""
    from btvstat_open.store.history import FOLD_RATIO

    per_write = max(rows // 100, 1)
    return rows // (per_write * (FOLD_RATIO - 1)) + 1


def _write_row(table: pa.Table, rows: int, reps: int) -> Result:
    """The write row: ``reps`` rounds, each one fold period of writes into a fresh copy of each
    store (so every round folds the ends once, at its real rate)."""
    from btvstat_open.store import Store
    from btvstat_open.store.history import ends_table

    period, ends = _fold_period(rows), ends_table("d")
    changes = [_changed(table, version) for version in range(1, period + 1)]
    with tempfile.TemporaryDirectory() as tmp:
        for name, history in (("h", True), ("n", False)):
            with Store(Path(tmp, "loaded", name), history=history) as store:
                store.load("d", table, COLUMNS, row_identifier=ROW_ID)
        sides = {"with history": "h", "without": "n"}
        cpu: dict[str, list[float]] = {name: [] for name in sides}
        wall: dict[str, list[float]] = {name: [] for name in sides}
        folds: list[int] = []
        grown: dict[str, list[float]] = {name: [] for name in sides}
        merge: list[float] = []

        def round_of(name: str) -> float:
            """One round of writes into a fresh copy of one store; the mean wall seconds of a write."""
            folder = Path(tmp, "round", sides[name])
            shutil.rmtree(folder, ignore_errors=True)
            shutil.copytree(Path(tmp, "loaded", sides[name]), folder)
            before = _size(folder)
            seconds: list[float] = []
            cpus: list[float] = []
            # opened anew, as a sync's process opens the store a load wrote before
            with Store(folder, history=name == "with history") as store:
                for change in changes:
                    seconds.append(_clocked(lambda c=change: store.upsert("d", c), cpus))  # type: ignore[misc]
                    if store.history and not store.cursor().sql(f"SELECT 1 FROM {ends}").fetchall():
                        folds.append(len(seconds))
                grown[name].append((_size(folder) - before) / len(changes))
                if store.history and not merge:
                    _clocked(lambda: store.compact_history(timedelta(days=365_000)), merge)
            wall[name] += seconds
            cpu[name].append(sum(cpus) / len(cpus))
            return sum(seconds) / len(seconds)

        samples = alternate({name: lambda n=name: round_of(n) for name in sides}, reps)  # type: ignore[misc]
    return Result(
        "history",
        f"write 1% changed of {rows:,} rows (a sync's upsert; mean of {period} writes, one fold)",
        "s",
        ours=median(samples["with history"]),
        peer=median(samples["without"]),
        peer_name="the same writes without history",
        higher_is_better=False,
        goal=Goal("ratio", 0.8),
        samples=samples,
        notes=_write_notes(reps, period, sorted(set(folds)), samples, cpu, wall, merge, grown),
    )


def _write_notes(
    reps: int,
    period: int,
    folds: list[int],
    samples: dict[str, list[float]],
    cpu: dict[str, list[float]],
    wall: dict[str, list[float]],
    merge: list[float],
    grown: dict[str, list[float]],
) -> str:
    """The write row's notes: CPU beside wall, spreads, all the writes, compaction, growth."""
    h, n = cpu["with history"], cpu["without"]
    return (
        f"{reps} rounds each way, alternated, each {period} writes into a fresh copy of the loaded "
        f"store (the write that folded the ends: {folds}); a round's mean, medians "
        f"(spread {_spread(samples['with history'])} s with, {_spread(samples['without'])} s without); "
        f"CPU a write {median(h):.3f} s with history, {median(n):.3f} s without = "
        f"{median(h) / median(n):.2f}x (spread {_spread(h)} / {_spread(n)}); over all the writes: "
        f"wall {sum(wall['with history']) / sum(wall['without']):.2f}x, CPU {sum(h) / sum(n):.2f}x; "
        f"a compaction after the first round (forgetting nothing, merging the row groups the writes "
        f"left) took {merge[0] if merge else 0:.2f} s of CPU; the store grew "
        f"{median(grown['with history']) / 1e6:.2f} MB a write with history, "
        f"{median(grown['without']) / 1e6:.2f} MB without"
    )


@contextmanager
def _folds_held() -> Iterator[None]:
    """No fold of the ends while building the read's store (folded later, by ``compact``)."""
    from btvstat_open.store import history

    ratio = history.FOLD_RATIO
    history.FOLD_RATIO = 1 << 62
    try:
        yield
    finally:
        history.FOLD_RATIO = ratio


def _read_row(work: str, measured: tuple[dict[str, list[float]], list[float], float]) -> Result:
    """A read row from its wall samples, the CPU seconds as known and the median CPU today."""
    samples, cpu_known, today = measured
    known = median(cpu_known)
    return Result(
        "history",
        work,
        "s",
        ours=median(samples["as known"]),
        peer=median(samples["today"]),
        peer_name="the same measure today",
        higher_is_better=False,
        goal=Goal("ratio", 1 / 1.5),
        samples=samples,
        notes=f"CPU {known:.3f} s as known, {today:.3f} s today = {known / today:.2f}x",
    )


def _read_rows(table: pa.Table, rows: int, reps: int) -> list[Result]:
    """The read rows: ten versions, folded, read as known at the fifth; then more writes, none
    folded, read as known at the last moment whose unfolded ends are the most
    :data:`~btvstat_open.store.history.FOLD_RATIO` lets a store hold."""
    from btvstat_open.store import Store
    from btvstat_open.store.history import FOLD_RATIO

    sql = (
        "SELECT date_trunc('month', created_date) AS m, count(*), quantile_cont(days_to_close, 0.5) "
        "FROM {table} GROUP BY 1 ORDER BY 1"
    )
    with tempfile.TemporaryDirectory() as tmp, _folds_held():
        store = Store(tmp)
        moments: list[datetime] = []

        def write(version: int) -> None:
            store.clock = lambda: datetime(2020, 1, 1, tzinfo=UTC) + timedelta(days=version)
            if version == 0:
                store.load("d", table, COLUMNS, row_identifier=ROW_ID)
            else:
                store.upsert("d", _changed(table, version))
            moments.append(store.clock())

        def runner(at: datetime | None, cpu: list[float]) -> Callable[[], float]:
            def read() -> object:  # finding the table is part of the read
                info = store.info("d") if at is None else store.known("d", at)
                return store.cursor().sql(sql.format(table=info.table)).fetchall()

            return lambda: _clocked(read, cpu)

        def reads(at: datetime) -> tuple[dict[str, list[float]], list[float], float]:
            cpu: dict[str, list[float]] = {"today": [], "as known": []}
            samples = alternate(
                {"today": runner(None, cpu["today"]), "as known": runner(at, cpu["as known"])}, reps * 2 + 1
            )
            return samples, cpu["as known"], median(cpu["today"])

        for version in range(10):
            write(version)
        store.compact_history(timedelta(days=365_000))  # folds the ends, forgets nothing
        folded = reads(moments[PAST])
        # Then writes until the ends, none folded, are as many as 1/FOLD_RATIO of the versions allow:
        # the read at the last of them anti-joins the most ends a store holds unfolded.
        per_write = max(table.num_rows // 100, 1)
        versions = int(store.cursor().sql('SELECT count(*) FROM "dh_d"').fetchall()[0][0])
        most = max(versions // (per_write * (FOLD_RATIO - 1)), 1)
        for version in range(10, 10 + most + 1):
            write(version)
        unfolded = reads(moments[9 + most])
        store.close()

    return [
        _read_row(
            f"measure as known at the {PAST + 1}th of 10 versions of {rows:,} rows (ends folded)", folded
        ),
        _read_row(
            f"the same read with {most * per_write:,} ends unfolded, the most 1/{FOLD_RATIO} of the "
            f"{versions + most * per_write:,} versions allows ({10 + most} versions)",
            unfolded,
        ),
    ]


def history_rows(*, rows: int, reps: int) -> list[Result]:
    """The rows (see the module docstring)."""
    table = _table(rows)
    return [_write_row(table, rows, reps), *_read_rows(table, rows, reps)]
