"""Data checks run at ``btvstat-open load`` as at sync: a held load keeps the previous rows
published and flags the dataset; a load that passes publishes."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from test_data_checks import CATALOG, DATA, KPI_YAML

from btvstat_open.cli import main
from btvstat_open.store import Store
from catalog import load_catalog
from catalog.asof import known_dataset
from catalog.data_checks import load_checks
from catalog.measure import measure


def _load(path: Path, store: Path, *extra: str) -> int:
    args = ["load", str(path), "--dataset", "kc-311-potholes", "--store", str(store), "--row-id", "case_id"]
    return main([*args, *extra])


def test_a_held_load_keeps_the_previous_rows_until_accepted(tmp_path: Path, capsys: Any) -> None:
    table = pq.read_table(DATA)
    whole, half = tmp_path / "whole.parquet", tmp_path / "half.parquet"
    pq.write_table(table, whole)
    pq.write_table(table.slice(0, table.num_rows // 2), half)
    folder = tmp_path / "catalog"
    folder.mkdir()
    (folder / "catalog.yaml").write_text(CATALOG)
    (folder / "pothole-requests.yaml").write_text(KPI_YAML)
    root = tmp_path / "store"

    assert _load(whole, root, "--catalog", str(folder)) == 0
    assert "check failed" not in capsys.readouterr().err
    catalog = load_catalog(folder)
    kpi = catalog.kpis["pothole-requests"]
    with Store(root) as store:
        shown = measure(kpi, store, catalog.settings, today=date.today())
    assert _load(half, root, "--catalog", str(folder)) == 0
    err = capsys.readouterr().err
    expected = f"{table.num_rows // 2:,} rows against {table.num_rows:,} before: a change of 50%"
    assert f"check failed kc-311-potholes (held: the last good version stays published): {expected}" in err

    with Store(root) as store:
        state = load_checks(store)["kc-311-potholes"]
        assert state.failures == [expected] and state.held_at is not None
        assert store.info("kc-311-potholes").row_count == table.num_rows // 2  # the load is stored...
        published = known_dataset(store, "kc-311-potholes", date.today())
        assert published.row_count == table.num_rows  # ...but the previous rows stay published
        assert measure(kpi, store, catalog.settings, today=date.today()) == shown

    # Without --catalog, the load is checked against the rule the store last checked it with:
    # loading the half-size file again still fails (against the held version) and stays held.
    assert _load(half, root) == 0
    assert expected in capsys.readouterr().err
    # The whole extract passes: it is published, the flag goes.
    assert _load(whole, root) == 0
    assert "check failed" not in capsys.readouterr().err
    with Store(root) as store:
        state = load_checks(store)["kc-311-potholes"]
        assert state.failures == [] and state.held_at is None
        assert known_dataset(store, "kc-311-potholes", date.today()).row_count == table.num_rows


def test_a_load_with_a_broken_catalog_writes_nothing(tmp_path: Path, capsys: Any) -> None:
    folder = tmp_path / "catalog"
    folder.mkdir()
    (folder / "catalog.yaml").write_text("checks:\n  kc-311-potholes: {min_rows: many}\n")
    assert _load(DATA, tmp_path / "store", "--catalog", str(folder)) == 2
    assert "min_rows" in capsys.readouterr().err
    assert not (tmp_path / "store" / "store.duckdb").exists()
