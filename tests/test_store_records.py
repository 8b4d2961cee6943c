"""The store keeps dataset records (current, and as known at a moment) per DataVersion: a record
is read again after every kind of write (rows, metadata, drop and re-create, history compaction),
and never kept when a write slipped in between its version and its read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from btvstat_open.errors import DatasetNotFound
from btvstat_open.store import DatasetInfo, MetadataChange, Store
from btvstat_open.store.known import KnownDatasetInfo, VersionMemo
from btvstat_open.types import Column

COLUMNS = [Column("n", "N", "number")]
MARCH = [datetime(2020, 3, day, tzinfo=UTC) for day in range(1, 32)]


def test_info_follows_every_write(tmp_path: Path) -> None:
    with Store(tmp_path) as store:
        store.load("d", pa.table({"n": [1.0]}), COLUMNS, name="First")
        assert store.info("d") is store.info("d")  # kept while nothing is written
        store.upsert("d", pa.table({"n": [2.0, 3.0]}))
        assert store.info("d").row_count == 3
        store.update_metadata("d", MetadataChange(name="Renamed"))
        assert store.info("d").name == "Renamed"
        store.drop("d")
        with pytest.raises(DatasetNotFound):
            store.info("d")
        store.load("d", pa.table({"n": [9.0]}), COLUMNS, name="Again")
        assert (store.info("d").name, store.info("d").row_count) == ("Again", 1)


def test_known_follows_writes_and_compaction(tmp_path: Path) -> None:
    with Store(tmp_path) as store:
        store.clock = lambda: MARCH[0]
        store.load("d", pa.table({"n": [1.0]}), COLUMNS)
        store.clock = lambda: MARCH[9]
        store.upsert("d", pa.table({"n": [2.0]}))
        assert store.known("d", MARCH[4]).row_count == 1
        assert store.known("d", MARCH[4]) is store.known("d", MARCH[4])
        store.clock = lambda: MARCH[19]
        store.upsert("d", pa.table({"n": [3.0]}))
        assert store.known("d", MARCH[4]).row_count == 1  # read again: still one row then
        assert store.known("d", MARCH[14]).row_count == 2
        assert store.known("d", MARCH[25]).row_count == 3
        before = store.known("d", MARCH[4])
        store.clock = lambda: MARCH[30]
        store.compact_history(timedelta(days=15))  # history now runs from March 16
        after = store.known("d", MARCH[4])
        assert isinstance(before, KnownDatasetInfo) and isinstance(after, KnownDatasetInfo)
        assert before.history_since == MARCH[0]
        assert after.history_since is not None and after.history_since > MARCH[0]


def test_a_record_read_after_a_write_slipped_in_is_not_kept(tmp_path: Path) -> None:
    with Store(tmp_path) as store:
        store.load("d", pa.table({"n": [1.0]}), COLUMNS)
        old = store.info("d").data_version
        memo, reads = VersionMemo(), []

        def read() -> DatasetInfo:
            reads.append(1)
            return store.info("d")

        store.upsert("d", pa.table({"n": [2.0]}))  # the version moved after `old` was looked up
        assert memo.get(("info", "d"), old, read).row_count == 2
        memo.get(("info", "d"), old, read)
        assert len(reads) == 2  # not kept under the older version: read again
        now = store.info("d").data_version
        memo.get(("info", "d"), now, read)
        memo.get(("info", "d"), now, read)
        assert len(reads) == 3


def test_pinned_versions_are_looked_up_once_and_a_write_ends_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Store(tmp_path) as store:
        store.load("d", pa.table({"n": [1.0]}), COLUMNS)
        store.load("e", pa.table({"n": [1.0]}), COLUMNS)
        cursors: list[int] = []
        cursor = store.cursor

        def counted() -> duckdb.DuckDBPyConnection:
            cursors.append(1)
            return cursor()

        monkeypatch.setattr(store, "cursor", counted)
        with store.pinned_versions():
            store.info("d"), store.known("d", MARCH[0])  # read once, then kept
            looked_up = len(cursors)
            with store.pinned_versions():  # pins nest, and threads may share one
                for _ in range(5):
                    assert store.info("d").row_count == 1 and store.known("d", MARCH[0]).row_count == 1
            assert len(cursors) == looked_up  # no lookup at all
            store.upsert("d", pa.table({"n": [2.0]}))
            assert store.info("d").row_count == 2  # the write ended the pin's versions
            assert store.info("e").row_count == 1
        assert store._pinned is None
        store.info("d")
        assert len(cursors) > looked_up + 1
