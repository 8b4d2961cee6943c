"""A DuckDB failure is translated where the store is entered: ``load``, ``measure`` and ``sync``
end in one line of ours (a :class:`BtvstatError`), never a traceback, and no HTTP body carries the
engine's text. The failure is a real one: a dataset's table dropped behind the store's back."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow as pa
import pytest
from demo_store import demo_store as demo_copy
from fastapi.testclient import TestClient
from faults import serve_portal
from test_portal_engine_errors import ENGINE_TEXT

from btvstat_open.cli import main
from btvstat_open.errors import BtvstatError
from btvstat_open.portal.app import create_portal_app
from btvstat_open.store import Store, table_name
from btvstat_open.sync import sync_dataset
from btvstat_open.types import Column
from btvstat_open.web.settings import Settings
from catalog.demo import DEMO_DIR
from connectors import connect

COLUMNS = [Column("case_id", "Case ID", "text"), Column("n", "N", "number")]
TOKEN = "engine-token"


def _damage(store: Store, dataset_id: str) -> None:
    store.cursor().execute(f"DROP TABLE {table_name(dataset_id)}")


def _one_clean_line(err: str) -> str:
    assert "Traceback" not in err and not ENGINE_TEXT.search(err), err
    lines = [line for line in err.splitlines() if line.startswith("error")]
    assert len(lines) == 1, err
    return lines[0]


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("engine-demo")
    demo_copy(root).close()
    return root


def test_measure_on_a_damaged_store_is_one_line(
    demo_store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "store"
    shutil.copytree(demo_store, root)
    with Store(root) as store:
        _damage(store, "kc-311-potholes")
    argv = ["measure", "pothole-days-to-close", "--catalog", str(DEMO_DIR), "--store", str(root)]
    assert main(argv) == 1
    assert "reference" in _one_clean_line(capsys.readouterr().err)


def test_load_over_a_damaged_dataset_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "store"
    with Store(root) as store:
        store.create("d", "D", COLUMNS)
        _damage(store, "d")
        store.cursor().execute(f"CREATE VIEW {table_name('d')} AS SELECT 1 AS n")  # not the store's own
    source = tmp_path / "d.csv"
    source.write_text("case_id,n\na,1\n", encoding="utf-8")
    assert main(["load", str(source), "--dataset", "d", "--store", str(root)]) == 1
    _one_clean_line(capsys.readouterr().err)


def test_sync_into_a_damaged_copy_is_our_error(tmp_path: Path) -> None:
    with Store(tmp_path / "source") as source, Store(tmp_path / "local") as local:
        source.load(
            "cases", pa.table({"case_id": ["a", "b"], "n": [1.0, 2.0]}), COLUMNS, row_identifier="case_id"
        )
        with serve_portal(source) as (url, _):
            sync_dataset(connect(url, retries=0), "cases", local, progress=False)
            source.upsert("cases", pa.table({"case_id": ["c"], "n": [3.0]}))
            _damage(local, "cases")
            with pytest.raises(BtvstatError) as caught:
                sync_dataset(connect(url, retries=0), "cases", local, progress=False)
    assert not ENGINE_TEXT.search(caught.value.message), caught.value.message


def test_portal_row_writes_put_no_engine_text_in_a_body(tmp_path: Path) -> None:
    with Store(tmp_path) as store:
        store.create("d", "D", COLUMNS, row_identifier="case_id")
        app = create_portal_app(store, Settings(write_token=TOKEN))
        _damage(store, "d")
        auth = {"Authorization": f"Bearer {TOKEN}"}
        with TestClient(app, raise_server_exceptions=False) as client:
            replies = [
                client.post("/resource/d/a.json", json={"n": 1}, headers=auth),
                client.delete("/resource/d.json", headers=auth),
                client.post("/resource/d.json", json=[{"case_id": "a", "n": 1}], headers=auth),
            ]
    for reply in replies:
        assert reply.status_code == 500, reply.text
        assert reply.json()["code"] == "store.error" and not ENGINE_TEXT.search(reply.text), reply.text
