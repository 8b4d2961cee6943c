"""The DuckDB dataset store: create, load, replace, upsert, delete, all-or-nothing writes."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import TypeVar, cast

import pyarrow as pa
import pytest

from btvstat_open.errors import DatasetNotFound, InvalidDatasetId, UsageError
from btvstat_open.store import MetadataChange, Store
from btvstat_open.types import Column

T = TypeVar("T")
COLUMNS = [
    Column("case_id", "CASE ID", "number"),
    Column("status", "STATUS", "text"),
    Column("creation_date", "CREATION DATE", "floating_timestamp"),
]


def _rows(ids: list[float], status: list[str]) -> pa.Table:
    return pa.table(
        {
            "case_id": pa.array(ids, pa.float64()),
            "status": status,
            "creation_date": pa.array([datetime(2020, 1, 7)] * len(ids), pa.timestamp("us")),
        }
    )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "store") as s:
        yield s


def _by_key(store: Store, dataset_id: str) -> dict[float, str]:
    rows = store.arrow(dataset_id).to_pylist()
    return {r["case_id"]: r["status"] for r in rows}


def test_create_then_load_and_read_back(store: Store) -> None:
    info = store.create("potholes", "Potholes", COLUMNS, description="KC 311")
    assert (info.row_count, info.version, info.name, info.description) == (0, 1, "Potholes", "KC 311")
    assert store.exists("potholes") and not store.exists("other")
    with pytest.raises(UsageError):
        store.create("potholes", "Again", COLUMNS)
    info = store.load("potholes", _rows([1, 2], ["OPEN", "RESOL"]), COLUMNS, row_identifier="case_id")
    assert info.row_count == 2 and info.row_identifier == "case_id"
    assert info.version == 2, "a reload must not reuse an earlier version (ETags would repeat)"
    table = store.arrow("potholes", system=True)
    assert table.column_names[:3] == [":id", ":created_at", ":updated_at"]
    assert all(i.startswith("row-") for i in table.column(":id").to_pylist())
    assert table.schema.field(":created_at").type == pa.timestamp("us", tz="UTC")
    assert _by_key(store, "potholes") == {1.0: "OPEN", 2.0: "RESOL"}
    assert [d.id for d in store.datasets()] == ["potholes"]


def test_replace_swaps_every_row(store: Store) -> None:
    store.load("p", _rows([1, 2, 3], ["a", "b", "c"]), COLUMNS)
    before = store.info("p").version
    result = store.replace("p", _rows([9], ["z"]))
    assert (result.created, result.deleted) == (1, 3)
    assert _by_key(store, "p") == {9.0: "z"}
    assert store.info("p").version == before + 1


def test_upsert_by_row_identifier_with_deletes(store: Store) -> None:
    store.load("p", _rows([1, 2, 3], ["OPEN", "OPEN", "OPEN"]), COLUMNS, row_identifier="case_id")
    version = store.info("p").version
    # Keys arrive as text (as from a CSV body): they are cast to the key's type.
    incoming = pa.table({"case_id": ["2", "3", "4", "4"], "status": ["RESOL", "x", "NEW", "NEWER"]})
    result = store.upsert("p", incoming, deleted=[False, True, False, False])
    assert result.to_socrata() == {
        "Errors": 0,
        "Rows Deleted": 1,
        "Rows Updated": 1,
        "By SID": 0,
        "Rows Created": 1,
        "By RowIdentifier": 2,
    }
    assert _by_key(store, "p") == {1.0: "OPEN", 2.0: "RESOL", 4.0: "NEWER"}
    # A column left out of the upsert keeps its values on updated rows.
    dates = {r["case_id"]: r["creation_date"] for r in store.arrow("p").to_pylist()}
    assert dates[2.0] == datetime(2020, 1, 7) and dates[4.0] is None
    assert store.info("p").version == version + 1
    with pytest.raises(UsageError, match="row identifier"):
        store.upsert("p", pa.table({"status": ["no key"]}))


def test_upsert_by_id_without_row_identifier(store: Store) -> None:
    store.load("p", _rows([1, 2], ["a", "b"]), COLUMNS)
    system = store.arrow("p", system=True).to_pylist()
    id_of = {r["case_id"]: r[":id"] for r in system}
    incoming = pa.table({":id": [id_of[1.0], id_of[2.0], None], "status": ["A", None, "new"]})
    result = store.upsert("p", incoming, deleted=[False, True, False])
    assert (result.updated, result.deleted, result.created, result.by_sid) == (1, 1, 1, 2)
    rows = store.arrow("p", system=True).to_pylist()
    assert {r["status"] for r in rows} == {"A", "new"}
    assert next(r for r in rows if r["status"] == "A")[":id"] == id_of[1.0]


def test_delete_row_by_identifier_value_and_by_id(store: Store) -> None:
    store.load("p", _rows([10, 20, 30], ["a", "b", "c"]), COLUMNS, row_identifier="case_id")
    version = store.info("p").version
    assert store.delete_row("p", "20") == 1
    assert store.delete_row("p", "99") == 0
    assert store.info("p").version == version + 1, "a delete that removes nothing changes nothing"
    row_id = store.arrow("p", system=True).to_pylist()[0][":id"]
    assert store.delete_row("p", row_id) == 1
    assert store.info("p").row_count == 1


def test_failed_writes_leave_the_store_unchanged(store: Store) -> None:
    store.load("p", _rows([1, 2], ["a", "b"]), COLUMNS, row_identifier="case_id")
    before = (store.info("p").version, store.arrow("p", system=True))
    bad = pa.table({"case_id": ["3", "not a number"], "status": ["c", "d"]})
    with pytest.raises(UsageError, match="case_id"):
        store.upsert("p", bad)
    with pytest.raises(UsageError):
        store.replace("p", bad)
    # A load that fails mid-write (the second column cannot be cast) keeps the old dataset.
    with pytest.raises(UsageError):
        store.load(
            "p", pa.table({"case_id": [5.0], "status": ["e"], "creation_date": ["not a date"]}), COLUMNS
        )
    assert (store.info("p").version, store.arrow("p", system=True)) == before
    # Duplicate :id values in one write are refused whole.
    ids = store.arrow("p", system=True).column(":id").to_pylist()
    with pytest.raises(UsageError, match=":id"):
        store.replace("p", pa.table({":id": [ids[0], ids[0]], "case_id": [7.0, 8.0]}))
    assert (store.info("p").version, store.arrow("p", system=True)) == before


def test_ids_and_missing_datasets(store: Store) -> None:
    with pytest.raises(InvalidDatasetId):
        store.create("Bad Id", "x", COLUMNS)
    with pytest.raises(DatasetNotFound):
        store.info("nope")
    with pytest.raises(UsageError, match="choose one of"):
        store.create("p", "x", COLUMNS, row_identifier="nope")
    store.create("p", "x", COLUMNS)
    store.drop("p")
    assert not store.exists("p")


def test_reads_after_info_on_the_same_cursor(store: Store) -> None:
    """info() must not leave a half-read result that makes cursor().sql() refuse work."""
    store.load("p", _rows([1], ["a"]), COLUMNS)
    store.info("p")
    store.exists("p")
    count = store.cursor().sql('SELECT count(*) AS n FROM "ds_p"').to_arrow_table()
    assert count.column("n").to_pylist() == [1]


def _read_mid_write(write: Callable[[], object], read: Callable[[], T]) -> T:
    """Run ``write`` on its own thread, paused when it stamps the dataset's version (its last step,
    inside the transaction) by a trace function on that thread; ``read`` meanwhile, then let it end."""
    mid_write, read_done = threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def pause_before_commit(frame: FrameType, event: str, arg: object) -> None:
        if event == "call" and frame.f_code.co_name == "touch":
            mid_write.set()
            read_done.wait(timeout=60)

    def run() -> None:
        sys.settrace(pause_before_commit)
        try:
            write()
        except BaseException as exc:  # reported below, on the test's thread
            failures.append(exc)
        finally:
            sys.settrace(None)
            mid_write.set()  # never leave the reader waiting

    writer = threading.Thread(target=run)
    writer.start()
    assert mid_write.wait(timeout=60)
    during = read()
    read_done.set()
    writer.join(timeout=60)
    assert failures == [] and not writer.is_alive()
    return during


def test_readers_see_each_write_whole_or_not_at_all(store: Store) -> None:
    """A reader on another thread, reading while a replace or an upsert is done but not committed,
    sees the dataset as it was before; after the commit, as it is after."""
    store.create("swap", "Swap", COLUMNS, row_identifier="case_id")
    small = _rows([float(i) for i in range(50)], ["small"] * 50)
    large = _rows([float(i) for i in range(5_000)], ["large"] * 5_000)
    store.replace("swap", small)
    cursor = store.cursor()

    def read() -> tuple[int, int, str]:
        row = cursor.execute('SELECT count(*), count(DISTINCT status), min(status) FROM "ds_swap"')
        return cast(tuple[int, int, str], row.fetchall()[0])

    writes = [
        (lambda: store.replace("swap", large), (5_000, 1, "large")),
        (lambda: store.replace("swap", small), (50, 1, "small")),
        (lambda: store.upsert("swap", large), (5_000, 1, "large")),
    ]
    for number, (write, after) in enumerate(writes):
        before = read()
        assert _read_mid_write(write, read) == before, number
        assert read() == after, number


def test_metadata_changes_are_kept_and_failed_ones_change_nothing(tmp_path: Path) -> None:
    with Store(tmp_path) as store:
        store.create("m", "M", [Column("n", "N", "number")], change=MetadataChange(published=False))
        version = store.info("m").version
        changed = store.update_metadata(
            "m",
            MetadataChange(
                name="Meters",
                tags=("a", "b"),
                category="Parks",
                public=False,
                column_descriptions={"n": "Count"},
            ),
        )
        assert changed.version == version + 1
        with pytest.raises(UsageError):  # an unknown column: nothing of the change is written
            store.update_metadata("m", MetadataChange(name="Other", column_descriptions={"nope": "x"}))
        with pytest.raises(DatasetNotFound):
            store.update_metadata("absent", MetadataChange(name="x"))
    with Store(tmp_path) as reopened:  # persisted in the store's file
        info = reopened.info("m")
        assert (info.name, info.tags, info.category, info.public, info.published) == (
            "Meters",
            ("a", "b"),
            "Parks",
            False,
            False,
        )
        assert info.column("n").description == "Count" and info.version == version + 1


def test_a_store_written_before_attributes_opens_with_defaults(tmp_path: Path) -> None:
    with Store(tmp_path) as store:
        store.load("old", pa.table({"n": [1.0]}), [Column("n", "N", "number")])
        # The metadata table as older versions wrote it: no attributes column.
        store.cursor().execute("ALTER TABLE btvstat_datasets DROP COLUMN attributes")
    with Store(tmp_path) as reopened:
        info = reopened.info("old")
        assert (info.tags, info.category, info.public, info.published) == ((), None, True, True)
        assert reopened.update_metadata("old", MetadataChange(tags=("x",))).tags == ("x",)
