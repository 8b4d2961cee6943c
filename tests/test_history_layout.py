"""A store whose history kept each version's end in place (``__to``) opens and reads as it did.

``data/history/store-in-place-ends.duckdb.gz`` was written by the store of the earlier layout
(commit fcfe4af), with the store's clock set to noon of each day of January 2020:

- day 1: ``load`` of "keyed" (row identifier ``k``: a=1, b=2, c=3) and of "plain" (no row
  identifier: x=10, y=20);
- day 2: ``upsert`` of "keyed" (b=20, d=4), ``replace`` of "plain" (x=10, z=30);
- day 3: ``delete_row`` of "keyed" c;
- day 4: ``load`` of "keyed" again (a=1, b=21, d=4).
"""

from __future__ import annotations

import gzip
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pytest

from btvstat_open.store import Store
from btvstat_open.store.history_layout import upgrade_history_layout
from btvstat_open.store.known import end_of_day

FIXTURE = Path(__file__).parent / "data" / "history" / "store-in-place-ends.duckdb.gz"

#: what each dataset held at the end of each day, as the earlier store read it
EXPECTED = {
    "keyed": {
        1: [("a", 1.0), ("b", 2.0), ("c", 3.0)],
        2: [("a", 1.0), ("b", 20.0), ("c", 3.0), ("d", 4.0)],
        3: [("a", 1.0), ("b", 20.0), ("d", 4.0)],
        4: [("a", 1.0), ("b", 21.0), ("d", 4.0)],
    },
    "plain": {1: [("x", 10.0), ("y", 20.0)], 2: [("x", 10.0), ("z", 30.0)], 4: [("x", 10.0), ("z", 30.0)]},
}


def _content(table: pa.Table) -> list[tuple[object, object]]:
    return sorted(zip(table["k"].to_pylist(), table["n"].to_pylist(), strict=True))


@pytest.fixture
def earlier_store(tmp_path: Path) -> Path:
    with gzip.open(FIXTURE, "rb") as src, (tmp_path / "store.duckdb").open("wb") as out:
        shutil.copyfileobj(src, out)
    return tmp_path


def _columns(store: Store, table: str) -> list[str]:
    rows = store.cursor().execute("SELECT column_name FROM duckdb_columns() WHERE table_name = ?", [table])
    return [str(r[0]) for r in rows.fetchall()]


def test_a_store_with_in_place_ends_reads_the_same_after_opening(earlier_store: Path) -> None:
    store = Store(earlier_store)
    for dataset_id, days in EXPECTED.items():
        for day, rows in days.items():
            at = end_of_day(date(2020, 1, day))
            assert _content(store.arrow(dataset_id, as_known=at)) == rows, (dataset_id, day)
            assert store.known(dataset_id, at).row_count == len(rows)
        assert _content(store.arrow(dataset_id)) == days[max(days)]
    # The versions are numbered and have an (empty) ends table; the ends set in place stay there.
    assert "__vid" in _columns(store, "dh_keyed") and "__to" in _columns(store, "dh_keyed")
    cur = store.cursor()
    assert cur.execute('SELECT count(*) FROM "de_keyed"').fetchall() == [(0,)]
    assert cur.execute('SELECT count(DISTINCT __vid), count(__to) FROM "dh_keyed"').fetchall() == [(6, 3)]
    store.close()


def test_an_upgraded_store_keeps_recording_and_upgrades_once(earlier_store: Path) -> None:
    store = Store(earlier_store)
    store.clock = lambda: datetime(2020, 1, 5, 12, tzinfo=UTC)
    store.upsert("keyed", pa.table({"k": ["a", "e"], "n": [100.0, 5.0]}))
    store.delete_row("keyed", "d")
    store.close()
    store = Store(earlier_store)
    with store.transaction() as con:
        assert upgrade_history_layout(con) == []
    day4 = end_of_day(date(2020, 1, 4))
    assert _content(store.arrow("keyed", as_known=day4)) == EXPECTED["keyed"][4]
    after = [("a", 100.0), ("b", 21.0), ("e", 5.0)]
    assert _content(store.arrow("keyed", as_known=end_of_day(date(2020, 1, 5)))) == after
    assert _content(store.arrow("keyed")) == after
    store.close()
