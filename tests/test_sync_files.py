"""Syncing from the file connector: a file has no changed rows to list, so a sync pulls it whole,
and only when its validators (size and modification time on disk, or an fsspec store's own) moved."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import fsspec
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from btvstat_open.errors import DatasetNotFound
from btvstat_open.store import Store
from btvstat_open.sync import sync_dataset
from btvstat_open.sync.state import load_state
from connectors import connect
from connectors.testing import source_table


def _write(path: Path, table: pa.Table, mtime: float) -> None:
    pacsv.write_csv(table, path)
    os.utime(path, (mtime, mtime))  # a distinct stamp whatever the filesystem's clock resolution


def test_unchanged_file_is_not_read_again_and_a_changed_one_is_pulled_whole(tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    _write(folder / "cases.csv", source_table(300), 1_700_000_000)
    files = connect(str(folder))
    with Store(tmp_path / "store") as store:
        first = sync_dataset(files, "cases.csv", store, dataset_id="cases", progress=False)
        assert (first.mode, first.reason, first.row_count, first.created) == ("full", "first sync", 300, 300)
        state = load_state(store.root)["cases"]
        assert state.etag and state.last_modified and state.source == files.url
        version = store.info("cases").version

        again = connect(str(folder))  # a new connector: nothing cached, only the validators decide
        second = sync_dataset(again, "cases.csv", store, dataset_id="cases", progress=False)
        assert (second.mode, second.reason, second.row_count) == ("unchanged", "metadata not modified", 300)
        assert again._last is None  # the file itself was not read
        assert store.info("cases").version == version

        _write(folder / "cases.csv", source_table(320).slice(20), 1_700_000_100)  # 20 gone, 20 new
        third = sync_dataset(again, "cases.csv", store, dataset_id="cases", progress=False)
        assert (third.mode, third.row_count) == ("full", 300)
        assert third.reason == "the source changed and cannot list changed rows"
        local = store.arrow("cases").sort_by("case_id")
        assert (
            local.column("case_id").to_pylist() == source_table(320).slice(20).column("case_id").to_pylist()
        )
        assert load_state(store.root)["cases"].etag != state.etag


def test_a_file_in_an_fsspec_store_syncs_by_its_validators(tmp_path: Path) -> None:
    root = f"memory://sync-{uuid.uuid4().hex}"
    fs = fsspec.filesystem("memory")
    fs.pipe_file(f"{root}/cases.csv", b"case_id,amount\n0001,1.5\n0002,2\n")
    try:
        with Store(tmp_path / "store") as store:
            first = sync_dataset(connect(root), "cases", store, progress=False)
            assert (first.mode, first.row_count) == ("full", 2)
            assert sync_dataset(connect(root), "cases", store, progress=False).mode == "unchanged"
            fs.pipe_file(f"{root}/cases.csv", b"case_id,amount\n0001,1.5\n0002,2\n0003,4.25\n")
            third = sync_dataset(connect(root), "cases", store, progress=False)
            assert (third.mode, third.row_count) == ("full", 3)
            assert store.arrow("cases").column("case_id").to_pylist() == ["0001", "0002", "0003"]
    finally:
        fs.rm(root, recursive=True)


@pytest.mark.parametrize("name", ["cases.csv", "cases"])
def test_a_missing_file_stops_the_sync_and_keeps_the_copy(tmp_path: Path, name: str) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    _write(folder / "cases.csv", source_table(10), 1_700_000_000)
    with Store(tmp_path / "store") as store:
        sync_dataset(connect(str(folder)), name, store, dataset_id="cases", progress=False)
        (folder / "cases.csv").unlink()
        with pytest.raises(DatasetNotFound, match="No file") as err:
            sync_dataset(connect(str(folder)), name, store, dataset_id="cases", progress=False)
        assert any("the local copy is unchanged" in note for note in err.value.__notes__)
        assert store.info("cases").row_count == 10


def test_the_sync_command_syncs_one_file_dataset(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from btvstat_open.cli import main

    folder = tmp_path / "exports"
    folder.mkdir()
    _write(folder / "Cases.csv", source_table(25), 1_700_000_000)
    args = ["sync", str(folder), "Cases.csv", "--kind", "file", "--store", str(tmp_path / "s")]
    assert main(args) == 0
    assert main(args) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "Cases.csv -> cases: full (first sync); 25 rows",
        "Cases.csv -> cases: unchanged (metadata not modified); 25 rows",
    ]
    assert main(["sync", "--store", str(tmp_path / "s")]) == 2
    assert "Say what to sync" in capsys.readouterr().err
    assert main(["sync", "--catalog", str(tmp_path), "--kind", "file", "--store", str(tmp_path / "s")]) == 2
    assert "each portal's kind comes from `kind:`" in capsys.readouterr().err
