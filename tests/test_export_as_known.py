"""``catalog export --format dcat-us|datapackage --as-of D`` describes the store as known then: each
dataset's ``modified`` and the KPI series as of the end of D, not the store of today."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from btvstat_open.cli import main
from btvstat_open.store import Store
from btvstat_open.types import Column
from catalog import load_catalog
from catalog.exports import dcat_us

COLUMNS = [Column("case_id", "Case ID", "text"), Column("created", "Created", "floating_timestamp")]
KPI_YAML = """id: requests
title: Requests
department: Public Works
source: {portal: local, dataset: requests, date_column: created}
measure: {calculation: count}
period: {size: month, start: 2020-01-01, include_current: true}
"""


def _rows(ids: range, day: datetime) -> pa.Table:
    return pa.table({"case_id": [f"c{i}" for i in ids], "created": [day] * len(ids)})


def _store(root: Path) -> Store:
    """Ten January requests loaded on 2020-02-10; on 2020-02-20 five late ones dated January arrive."""
    store = Store(root)
    store.clock = lambda: datetime(2020, 2, 10, 9, tzinfo=UTC)
    store.load("requests", _rows(range(10), datetime(2020, 1, 15)), COLUMNS, row_identifier="case_id")
    store.clock = lambda: datetime(2020, 2, 20, 9, tzinfo=UTC)
    store.upsert("requests", _rows(range(10, 15), datetime(2020, 1, 20)))
    return store


def _catalog(folder: Path) -> Path:
    folder.mkdir()
    (folder / "catalog.yaml").write_text("title: Export as known\npublisher: City\n")
    (folder / "requests.yaml").write_text(KPI_YAML)
    return folder


def _export(folder: Path, store: Path, fmt: str, *extra: str, capsys: Any) -> dict[str, Any]:
    args = ["catalog", "export", str(folder), "--format", fmt, "--store", str(store), *extra]
    assert main(args) == 0
    document: dict[str, Any] = json.loads(capsys.readouterr().out)
    return document


def test_dcat_as_of_a_past_day_describes_the_store_as_known_then(tmp_path: Path, capsys: Any) -> None:
    store = _store(tmp_path / "store")
    # The writes were recorded on chosen days; the rows' own write time is the real now.
    store.close()
    folder = _catalog(tmp_path / "catalog")
    with Store(tmp_path / "store") as again:
        catalog = load_catalog(folder, again)
        then = dcat_us(catalog, again, "http://x", today=date(2020, 2, 12))
        now = dcat_us(catalog, again, "http://x")
    entry = next(e for e in then["dataset"] if e["identifier"] == "http://x/api/views/requests")
    assert entry["modified"] == "2020-02-10T09:00:00Z"  # the load, not the later upsert
    today = next(e for e in now["dataset"] if e["identifier"] == "http://x/api/views/requests")
    assert today["modified"][:10] == datetime.now(UTC).date().isoformat()  # stamped when written

    shown = _export(
        folder,
        tmp_path / "store",
        "dcat-us",
        "--as-of",
        "2020-02-12",
        "--base-url",
        "http://x",
        capsys=capsys,
    )
    assert shown["dataset"] == then["dataset"]


def test_the_kpi_series_and_the_package_are_as_known_then(tmp_path: Path, capsys: Any) -> None:
    _store(tmp_path / "store").close()
    folder = _catalog(tmp_path / "catalog")
    root = tmp_path / "store"
    assert (
        main(
            [
                "measure",
                "requests",
                "--catalog",
                str(folder),
                "--store",
                str(root),
                "--format",
                "json",
                "--as-of",
                "2020-02-12",
            ]
        )
        == 0
    )
    capsys.readouterr()
    package = _export(folder, root, "datapackage", "--as-of", "2020-02-12", capsys=capsys)
    assert "Data as the store knew it at the end of 2020-02-12." in package["description"]
    assert [r["name"] for r in package["resources"]] == ["requests", "dataset-requests"]
    today = _export(folder, root, "datapackage", capsys=capsys)
    assert "Data as the store knew it" not in today["description"]
    with Store(root) as store:
        catalog = load_catalog(folder, store)
        from catalog.asof import dataset_as_known

        assert dataset_as_known(store, "requests", date(2020, 2, 12)).row_count == 10
        assert dataset_as_known(store, "requests", date(2020, 2, 21)).row_count == 15
        assert store.info("requests").row_count == 15
        then = dcat_us(catalog, store, "http://x", today=date(2020, 2, 12))
    kpi = next(e for e in then["dataset"] if e["identifier"] == "http://x/kpi/requests")
    assert kpi["modified"] == "2020-02-10T09:00:00Z"
