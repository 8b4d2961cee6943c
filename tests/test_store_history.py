"""The store remembers every write: reading a dataset as known on any day equals replaying the
writes recorded up to that day (a property test over random loads, replaces, upserts, deletes and
file syncs), history grows with the changed rows only, and compaction bounds it."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from btvstat_open.store import Store, as_utc
from btvstat_open.store.known import end_of_day
from btvstat_open.sync import sync_dataset
from btvstat_open.types import Column
from connectors import connect

COLUMNS = [Column("k", "K", "text"), Column("n", "N", "number")]
START = datetime(2020, 1, 1, 8, tzinfo=UTC)

keys = st.sampled_from([f"k{i}" for i in range(8)])
values = st.one_of(st.none(), st.integers(0, 5).map(float))
row_sets = st.dictionaries(keys, values, max_size=6)
op = st.one_of(
    st.tuples(st.just("load"), row_sets),
    st.tuples(st.just("replace"), row_sets),
    st.tuples(st.just("upsert"), row_sets, st.lists(keys, max_size=3)),
    st.tuples(st.just("delete"), keys),
    st.tuples(st.just("sync"), row_sets),
)
steps = st.lists(st.tuples(op, st.integers(1, 60)), min_size=1, max_size=12)


def _table(rows: dict[str, float | None]) -> pa.Table:
    return pa.table(
        {"k": pa.array(list(rows), pa.string()), "n": pa.array(list(rows.values()), pa.float64())}
    )


def _content(table: pa.Table) -> list[tuple[Any, ...]]:
    """The rows as a sorted multiset of (k, n): what a reader sees, ``:id`` aside."""
    return sorted(zip(table.column("k").to_pylist(), table.column("n").to_pylist(), strict=True), key=repr)


def _apply(store: Store, folder: Path, step: tuple[Any, ...], moment: datetime) -> None:
    kind = step[0]
    if kind == "load":
        store.load("d", _table(step[1]), COLUMNS, row_identifier="k")
    elif kind == "replace" and store.exists("d"):
        store.replace("d", _table(step[1]))
    elif kind == "upsert" and store.exists("d"):
        doomed = [k for k in dict.fromkeys(step[2]) if k not in step[1]]
        rows = pa.concat_tables([_table(step[1]), _table(dict.fromkeys(doomed))])
        store.upsert("d", rows, deleted=[False] * len(step[1]) + [True] * len(doomed))
    elif kind == "delete" and store.exists("d"):
        store.delete_row("d", step[1])
    elif kind == "sync":
        path = folder / "f.parquet"
        pq.write_table(_table(step[1]), path)
        stamp = moment.timestamp()
        os.utime(path, (stamp, stamp))  # the file's validators move with each write
        sync_dataset(connect(str(folder), kind="file"), "f.parquet", store, dataset_id="f", progress=False)


def _expected(snapshots: list[tuple[datetime, list[Any]]], at: datetime) -> list[Any] | None:
    """The replay up to ``at``; before the first version with rows, that version stands in."""
    since = next((t for t, rows in snapshots if rows), None)
    if since is None:
        return snapshots[-1][1] if snapshots else None
    moment = max(at, since)
    known = [rows for t, rows in snapshots if t <= moment]
    return known[-1]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=steps)
def test_reading_as_known_on_any_day_equals_replaying_the_writes_to_that_day(
    steps: list[tuple[tuple[Any, ...], int]],
) -> None:
    with TemporaryDirectory() as tmp:
        store, folder = Store(Path(tmp) / "store"), Path(tmp) / "files"
        folder.mkdir()
        moment, snapshots = START, {"d": [], "f": []}  # type: ignore[var-annotated]
        for step, hours in steps:
            moment = moment + timedelta(hours=hours)
            store.clock = lambda at=moment: at  # type: ignore[misc]
            _apply(store, folder, step, moment)
            for dataset_id, taken in snapshots.items():
                if store.exists(dataset_id):
                    current = _content(store.arrow(dataset_id))
                    if not taken or taken[-1][1] != current:
                        taken.append((moment, current))
        days = [START.date() + timedelta(days=d) for d in range(-1, (moment - START).days + 2)]
        for dataset_id, taken in snapshots.items():
            if not store.exists(dataset_id):
                continue
            for day in days:
                at = end_of_day(day)
                got = _content(store.arrow(dataset_id, as_known=at))
                assert got == _expected(taken, at), (dataset_id, day)
                assert store.known(dataset_id, at).row_count == len(got)
        store.close()


def test_history_grows_with_the_changed_rows_only(tmp_path: Path) -> None:
    store = Store(tmp_path)
    rows = {f"k{i}": float(i) for i in range(1000)}
    store.load("d", _table(rows), COLUMNS, row_identifier="k")
    store.load("d", _table({**rows, "k1": 99.0}), COLUMNS, row_identifier="k")  # a reload, one row changed
    store.upsert("d", _table({"k2": 2.0, "k3": 33.0}))  # one unchanged, one changed
    store.delete_row("d", "k4")
    count = store.cursor().sql('SELECT count(*) FROM "dh_d"').fetchall()[0][0]
    assert count == 1000 + 1 + 1  # the first version of every row, then one per changed row
    log = store.cursor().sql("SELECT operation, began, ended FROM btvstat_history_log ORDER BY recorded_at")
    assert log.fetchall() == [("load", 1000, 0), ("load", 1, 1), ("upsert", 1, 1), ("delete", 0, 1)]


def test_compaction_forgets_old_versions_and_history_then_runs_from_its_horizon(tmp_path: Path) -> None:
    store = Store(tmp_path)
    for day, value in ((1, 1.0), (5, 2.0), (9, 3.0)):
        store.clock = lambda d=day: datetime(2020, 1, d, 12, tzinfo=UTC)  # type: ignore[misc]
        store.load("d", _table({"a": value}), COLUMNS, row_identifier="k")
    store.clock = lambda: datetime(2020, 1, 10, 12, tzinfo=UTC)
    assert store.compact_history(timedelta(days=3)) == {"d": 1}  # the version that ended on the 5th
    info = store.known("d", end_of_day(date(2020, 1, 2)))
    assert info.history_since == datetime(2020, 1, 7, 12, tzinfo=UTC)  # type: ignore[attr-defined]
    assert store.arrow("d", as_known=end_of_day(date(2020, 1, 2)))["n"].to_pylist() == [2.0]
    assert store.arrow("d", as_known=end_of_day(date(2020, 1, 8)))["n"].to_pylist() == [2.0]
    assert store.arrow("d", as_known=end_of_day(date(2020, 1, 9)))["n"].to_pylist() == [3.0]


def test_a_store_written_before_history_existed_starts_its_history_from_its_rows(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.clock = lambda: datetime(2019, 1, 1, tzinfo=UTC)
    store.load("d", _table({"a": 1.0}), COLUMNS, row_identifier="k")
    for table in ('"dh_d"', "btvstat_history", "btvstat_history_log"):
        store.cursor().execute(f"DROP TABLE {table}")  # as a store from before history
    store.close()
    store = Store(tmp_path)
    seeded = as_utc(store.info("d").rows_updated_at)  # legacy rows are known from their last write
    store.upsert("d", _table({"a": 2.0}))
    for at in (seeded, seeded - timedelta(days=1)):
        assert store.arrow("d", as_known=at)["n"].to_pylist() == [1.0]
    assert store.known("d", seeded - timedelta(days=1)).history_since == seeded  # type: ignore[attr-defined]
    assert store.arrow("d")["n"].to_pylist() == [2.0]


def test_reads_as_known_are_the_same_before_and_after_the_ends_are_folded(tmp_path: Path) -> None:
    store = Store(tmp_path)
    rows = {f"k{i:02}": float(i) for i in range(40)}
    store.clock = lambda: datetime(2020, 1, 1, 12, tzinfo=UTC)
    store.load("d", _table(rows), COLUMNS, row_identifier="k")
    taken, unfolded = {1: dict(rows)}, []
    for day in range(2, 9):  # a row changed and one deleted a day: the ends outgrow 1/FOLD_RATIO of them
        store.clock = lambda d=day: datetime(2020, 1, d, 12, tzinfo=UTC)  # type: ignore[misc]
        store.upsert("d", _table({f"k{day:02}": 100.0 + day}))
        store.delete_row("d", f"k{day + 20:02}")
        rows = {**rows, f"k{day:02}": 100.0 + day}
        del rows[f"k{day + 20:02}"]
        taken[day] = dict(rows)
        unfolded.append(store.cursor().execute('SELECT count(*) FROM "de_d"').fetchall()[0][0])
        for seen, held in taken.items():
            got = store.arrow("d", as_known=end_of_day(date(2020, 1, seen)))
            assert dict(zip(got["k"].to_pylist(), got["n"].to_pylist(), strict=True)) == held, (day, seen)
    assert max(unfolded) > 0 and 0 in unfolded[1:]  # ends were read unfolded, then folded


def test_an_upsert_records_each_row_as_stored_its_key_twice_and_a_column_left_out(tmp_path: Path) -> None:
    store = Store(tmp_path)
    cols = [*COLUMNS, Column("note", "Note", "text")]
    first = pa.table({"k": ["a", "b"], "n": [1.0, 2.0], "note": ["kept", "also kept"]})
    store.clock = lambda: datetime(2020, 1, 1, 12, tzinfo=UTC)
    store.load("d", first, cols, row_identifier="k")
    store.clock = lambda: datetime(2020, 1, 2, 12, tzinfo=UTC)
    twice = pa.table({"k": ["a", "b", "a"], "n": [10.0, 20.0, 11.0]})  # no "note"; the last "a" wins
    store.upsert("d", twice)
    written = store.arrow("d", system=True)
    store.clock = lambda: datetime(2020, 1, 3, 12, tzinfo=UTC)
    store.upsert("d", pa.table({"k": ["a", "b"], "n": [0.0, 0.0]}))  # so the 2nd is read from history
    known = store.arrow("d", system=True, as_known=end_of_day(date(2020, 1, 2)))
    assert known.to_pylist() == written.to_pylist()
    seen = zip(known["k"].to_pylist(), known["n"].to_pylist(), known["note"].to_pylist(), strict=True)
    assert sorted(seen) == [("a", 11.0, "kept"), ("b", 20.0, "also kept")]


def test_a_write_of_many_versions_leaves_its_row_groups_unmerged_until_compaction(tmp_path: Path) -> None:
    from btvstat_open.store.history import DEFER_MERGE_ROWS

    store = Store(tmp_path)
    store.cursor().execute("SET GLOBAL checkpoint_threshold = '1KB'")  # every commit checkpoints
    rows = {f"k{i:05}": float(i) for i in range(DEFER_MERGE_ROWS * 2)}
    store.load("d", _table(rows), COLUMNS, row_identifier="k")

    def row_groups() -> int:
        sql = "SELECT count(DISTINCT row_group_id) FROM pragma_storage_info('dh_d')"
        return int(store.cursor().sql(sql).fetchall()[0][0])

    loaded = row_groups()
    for step in range(1, 4):  # each write changes every row: DEFER_MERGE_ROWS * 2 versions
        store.upsert("d", _table({k: v + step for k, v in rows.items()}))
    assert row_groups() == loaded + 3  # one row group a write, none merged
    assert store.cursor().sql("SELECT current_setting('max_vacuum_tasks')").fetchall() == [(100,)]
    store.compact_history(timedelta(days=365_000))  # forgets nothing; its checkpoint merges them
    assert row_groups() < loaded + 3
    now = store.arrow("d")
    held = dict(zip(now["k"].to_pylist(), now["n"].to_pylist(), strict=True))
    assert held == {k: v + 3 for k, v in rows.items()}
