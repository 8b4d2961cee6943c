"""The sync cursor over real HTTP: a bulk write is not read again by the next sync, a row written
at the cursor's moment is still read, and rows the local copy lacks are recovered."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest
from faults import CountingApp, serve_portal
from test_sync import COLUMNS, portal, rows, same_rows

from btvstat_open.store import Store
from btvstat_open.sync import sync_dataset
from btvstat_open.sync.state import STATE_FILE, load_state


@pytest.fixture
def synced(tmp_path: Path) -> Iterator[tuple[Store, Store, str, CountingApp]]:
    """A 3,000-row dataset loaded in one write at the source, and its first sync."""
    with Store(tmp_path / "source") as source, Store(tmp_path / "local") as local:
        source.load("cases", rows(0, 3_000), COLUMNS, row_identifier="case_id")
        with serve_portal(source) as (url, app):
            assert sync_dataset(portal(url), "cases", local, progress=False).mode == "full"
            yield source, local, url, app


def test_the_next_sync_after_a_bulk_write_reads_only_the_changes(
    synced: tuple[Store, Store, str, CountingApp],
) -> None:
    source, local, url, _ = synced
    assert len(load_state(local.root)["cases"].boundary_ids) == 3_000  # one write, one moment
    source.upsert("cases", rows(3_000, 3_010))  # added
    source.upsert("cases", rows(40, 45, status="CLOSED"))  # changed
    first = sync_dataset(portal(url), "cases", local, progress=False)
    assert (first.mode, first.rows_pulled, first.created, first.updated) == ("incremental", 15, 10, 5)
    assert same_rows(local, source, "cases", "case_id")
    source.upsert("cases", rows(3_010, 3_013))
    second = sync_dataset(portal(url), "cases", local, progress=False)
    assert (second.rows_pulled, second.created, second.updated) == (3, 3, 0)
    assert same_rows(local, source, "cases", "case_id")


def test_a_row_at_the_cursor_not_taken_before_is_read_again(
    synced: tuple[Store, Store, str, CountingApp],
) -> None:
    source, local, url, _ = synced
    # As if the last sync had not seen one row of the cursor's moment (a write in the same millisecond).
    path = local.root / STATE_FILE
    document = json.loads(path.read_text())
    document["datasets"]["cases"]["cursor"]["boundary_ids"].pop()
    path.write_text(json.dumps(document))
    source.upsert("cases", rows(3_000, 3_002))
    result = sync_dataset(portal(url), "cases", local, progress=False)
    # The whole moment is read again; rows taken before are dropped by id, the forgotten one is not.
    assert result.rows_pulled == 3_002 and (result.created, result.updated) == (2, 1)
    assert same_rows(local, source, "cases", "case_id")


def test_rows_the_local_copy_lacks_are_recovered(synced: tuple[Store, Store, str, CountingApp]) -> None:
    source, local, url, _ = synced
    lost = local.arrow("cases", system=True).column(":id")[17].as_py()
    assert local.delete_row("cases", lost) == 1  # a row the incremental reads can no longer see
    source.upsert("cases", rows(3_000, 3_004))
    result = sync_dataset(portal(url), "cases", local, progress=False)
    assert (result.mode, result.reason) == ("full", "rows missing from the incremental pull")
    assert result.row_count == 3_004
    assert same_rows(local, source, "cases", "case_id")
    assert pa.compute.any(pa.compute.equal(local.arrow("cases", system=True).column(":id"), lost)).as_py()
