"""The sync engine against the local portal over real HTTP: first, incremental, unchanged,
replaced, schema change, state versions. Requests are counted at the server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest
from faults import CountingApp, serve_portal

from btvstat_open.errors import SyncError
from btvstat_open.store import Store
from btvstat_open.sync import schema_change, sync_dataset
from btvstat_open.sync.state import STATE_FILE, STATE_VERSION, load_state
from btvstat_open.types import Column
from connectors import connect
from connectors.socrata import SocrataConnector

COLUMNS = [
    Column("case_id", "Case ID", "text"),
    Column("amount", "Amount", "number"),
    Column("opened", "Opened", "floating_timestamp"),
    Column("status", "Status", "text"),
]


Stores = tuple[Store, Store]
Served = tuple[str, CountingApp]


def rows(start: int, stop: int, status: str = "OPEN") -> pa.Table:
    base = datetime(2024, 1, 1)
    return pa.table(
        {
            "case_id": [f"{i:07d}" for i in range(start, stop)],
            "amount": [i * 0.5 for i in range(start, stop)],
            "opened": pa.array([base + timedelta(hours=i) for i in range(start, stop)], pa.timestamp("us")),
            "status": [status] * (stop - start),
        }
    )


def same_rows(local: Store, source: Store, dataset: str, key: str = ":id") -> bool:
    """Whether the local copy holds exactly the source's rows (system timestamps aside)."""
    cols = [key] + [c.field_name for c in COLUMNS if c.field_name != key]
    a = local.arrow(dataset, system=True).select(cols).sort_by(key)
    b = source.arrow(dataset, system=True).select(cols).sort_by(key)
    return a.equals(b)


@pytest.fixture
def stores(tmp_path: Path) -> Iterator[tuple[Store, Store]]:
    source = Store(tmp_path / "source")
    local = Store(tmp_path / "local")
    yield source, local
    source.close()
    local.close()


@pytest.fixture
def served(stores: tuple[Store, Store]) -> Iterator[tuple[str, CountingApp]]:
    with serve_portal(stores[0]) as (url, app):
        yield url, app


def portal(url: str) -> SocrataConnector:
    conn = connect(url, page_size=700, retries=2, backoff=0.01)
    assert isinstance(conn, SocrataConnector)
    return conn


def test_first_sync_then_nothing_new_costs_at_most_two_requests(stores: Stores, served: Served) -> None:
    source, local = stores
    url, app = served
    source.load("cases", rows(0, 2000), COLUMNS, row_identifier="case_id")
    first = sync_dataset(portal(url), "cases", local, progress=False)
    assert first.mode == "full" and first.row_count == 2000
    assert same_rows(local, source, "cases", "case_id")
    assert local.info("cases").row_identifier == "case_id"
    app.reset()
    again = sync_dataset(portal(url), "cases", local, progress=False)
    assert again.mode == "unchanged"
    assert app.total <= 2
    # The metadata changes (a write of no rows bumps the version) but no row does: still <= 2.
    source.upsert("cases", rows(0, 0))
    app.reset()
    third = sync_dataset(portal(url), "cases", local, progress=False)
    assert third.mode == "unchanged" and third.reason == "no rows changed"
    assert app.total <= 2


def test_added_changed_and_deleted_rows_arrive(stores: Stores, served: Served) -> None:
    source, local = stores
    url, app = served
    source.load("cases", rows(0, 1500), COLUMNS, row_identifier="case_id")
    sync_dataset(portal(url), "cases", local, progress=False)
    for round_number in range(2):
        shift = round_number * 1000
        source.upsert("cases", rows(1500 + shift, 1600 + shift))  # added
        source.upsert("cases", rows(10 + shift, 20 + shift, status="CLOSED"))  # changed
        gone = rows(100 + shift, 130 + shift).select(["case_id"])
        source.upsert("cases", gone, deleted=[True] * gone.num_rows)  # deleted
        result = sync_dataset(portal(url), "cases", local, progress=False)
        assert result.mode == "incremental"
        assert (result.created, result.updated, result.deleted) == (100, 10, 30)
        assert same_rows(local, source, "cases", "case_id")
    # Rows written in one go share an :updated_at; the sync skips that moment when nothing new is
    # in it, so only the 100 added and 10 changed rows are read.
    assert result.rows_pulled == 110
    statuses = dict(
        zip(*local.arrow("cases").select(["case_id", "status"]).to_pydict().values(), strict=True)
    )
    assert statuses["0000015"] == "CLOSED" and "0000110" not in statuses
    # And then nothing is new again.
    app.reset()
    assert sync_dataset(portal(url), "cases", local, progress=False).mode == "unchanged"
    assert app.total <= 2


def test_deletion_alone_is_detected(stores: Stores, served: Served) -> None:
    source, local = stores
    url, _ = served
    source.load("plain", rows(0, 300), COLUMNS)  # no row identifier: keyed by :id
    sync_dataset(portal(url), "plain", local, progress=False)
    victim = source.arrow("plain", system=True).column(":id")[5].as_py()
    assert source.delete_row("plain", victim) == 1
    result = sync_dataset(portal(url), "plain", local, progress=False)
    assert result.deleted == 1 and result.row_count == 299
    assert same_rows(local, source, "plain")


def test_replaced_dataset_is_pulled_whole(stores: Stores, served: Served) -> None:
    source, local = stores
    url, _ = served
    source.load("plain", rows(0, 400), COLUMNS)
    sync_dataset(portal(url), "plain", local, progress=False)
    source.replace("plain", rows(5000, 5250))
    result = sync_dataset(portal(url), "plain", local, progress=False)
    assert result.mode == "full" and result.reason == "dataset replaced"
    assert result.row_count == 250
    assert same_rows(local, source, "plain")


def test_schema_change_is_reported_and_pulled_whole(stores: Stores, served: Served) -> None:
    source, local = stores
    url, _ = served
    source.load("cases", rows(0, 100), COLUMNS, row_identifier="case_id")
    sync_dataset(portal(url), "cases", local, progress=False)
    wider = rows(0, 100).append_column("ward", pa.array([str(i % 7) for i in range(100)]))
    source.load("cases", wider, [*COLUMNS, Column("ward", "Ward", "text")], row_identifier="case_id")
    result = sync_dataset(portal(url), "cases", local, progress=False)
    assert result.mode == "full"
    assert result.schema_change == "added ward"
    assert [c.field_name for c in local.info("cases").columns][-1] == "ward"
    assert local.arrow("cases").column("ward").to_pylist() == source.arrow("cases").column("ward").to_pylist()


def test_schema_change_sentences() -> None:
    before = [["a", "text"], ["b", "number"]]
    assert schema_change(before, [Column("a", "A", "text"), Column("b", "B", "number")]) is None
    assert schema_change(before, [Column("a", "A", "text")]) == "removed b"
    assert schema_change(before, [Column("a", "A", "number"), Column("b", "B", "number")]) == (
        "retyped a (text -> number)"
    )


def test_state_file_is_versioned_and_migrated(stores: Stores, served: Served) -> None:
    source, local = stores
    url, _ = served
    source.load("cases", rows(0, 50), COLUMNS, row_identifier="case_id")
    sync_dataset(portal(url), "cases", local, progress=False)
    path = local.root / STATE_FILE
    document = json.loads(path.read_text())
    assert document["version"] == STATE_VERSION
    entry = document["datasets"]["cases"]
    assert entry["cursor"]["updated_at"].endswith("Z")
    assert entry["etag"] and entry["schema"][0] == ["case_id", "text"]
    # An older (version 1) file: the cursor was a bare text. It is read, and rewritten as version 2.
    old = {
        "version": 1,
        "datasets": {
            "cases": {
                "source": url,
                "remote_id": "cases",
                "cursor": entry["cursor"]["updated_at"],
                "etag": None,
                "row_identifier": "case_id",
            }
        },
    }
    path.write_text(json.dumps(old))
    source.upsert("cases", rows(50, 60))
    result = sync_dataset(portal(url), "cases", local, progress=False)
    assert result.mode == "incremental" and result.created == 10
    assert json.loads(path.read_text())["version"] == STATE_VERSION
    assert load_state(local.root)["cases"].schema == [[c.field_name, c.data_type] for c in COLUMNS]
    assert same_rows(local, source, "cases", "case_id")
    path.write_text(json.dumps({"version": STATE_VERSION + 1, "datasets": {}}))
    with pytest.raises(SyncError, match="newer btvstat-open"):
        sync_dataset(portal(url), "cases", local, progress=False)


def test_progress_is_quiet_when_piped(
    stores: Stores, served: Served, capsys: pytest.CaptureFixture[str]
) -> None:
    source, local = stores
    url, _ = served
    source.load("cases", rows(0, 100), COLUMNS)
    sync_dataset(portal(url), "cases", local)  # stderr is not a terminal here
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""
