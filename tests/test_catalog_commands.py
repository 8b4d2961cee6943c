"""The catalog's command-line verbs, run through the real CLI entry point."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from demo_store import demo_store

from btvstat_open.cli import main
from btvstat_open.store import Store
from btvstat_open.types import Column
from catalog import load_catalog, measure
from catalog.demo import DEMO_DIR


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("cli-store")
    demo_store(root).close()
    yield root


def test_validate_demo_against_the_store(store_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalog", "validate", str(DEMO_DIR), "--store", str(store_dir)]) == 0
    out = capsys.readouterr().out
    assert "18 KPIs, no problems (checked against the store)" in out


def test_validate_without_a_store_checks_structure_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["catalog", "validate", str(DEMO_DIR), "--store", str(tmp_path / "none")]) == 0
    assert "not checked against a store" in capsys.readouterr().out
    assert not (tmp_path / "none").exists()


def test_validate_lists_every_problem_and_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a.yaml").write_text(
        "id: a\ntitle: A\ndepartment: D\nsource: {dataset: x, date_column: d}\n"
        "measure: {calculation: median}\nchrt: line\n"
    )
    (tmp_path / "b.yaml").write_text("id: B!\n")
    assert main(["catalog", "validate", str(tmp_path), "--store", str(tmp_path / "none")]) == 2
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert f"{tmp_path / 'a.yaml'}:6: unknown key 'chrt': did you mean 'chart'?" in lines
    assert any(line.startswith(f"{tmp_path / 'b.yaml'}:1: id 'B!'") for line in lines)
    assert any(line.startswith(f"{tmp_path / 'b.yaml'}:1: missing required key 'title'") for line in lines)
    assert "problems in" in captured.err


def test_measure_formats(store_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    catalog = load_catalog(DEMO_DIR)
    with Store(store_dir) as store:
        expected = measure(
            catalog.get("pothole-closed-within-7-days"), store, catalog.settings, today=date.today()
        )
    base = ["measure", "pothole-closed-within-7-days", "--catalog", str(DEMO_DIR), "--store", str(store_dir)]

    assert main([*base, "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert list(rows[0]) == expected.column_names
    assert [r["period_start"] for r in rows] == [
        d.isoformat() for d in expected.column("period_start").to_pylist()
    ]
    assert [float(r["value"]) for r in rows] == pytest.approx(expected.column("value").to_pylist())

    assert main([*base, "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [d["numerator"] for d in data] == expected.column("numerator").to_pylist()
    assert data[0]["status"] == expected.column("status")[0].as_py()
    assert [(d["period_start"], d["period_end"]) for d in data] == [
        (r["period_start"].isoformat(), r["period_end"].isoformat()) for r in expected.to_pylist()
    ]
    assert list(data[0]) == expected.column_names

    assert main([*base, "--format", "table"]) == 0
    out = capsys.readouterr().out
    assert "Share of pothole requests closed within 7 days" in out
    assert f"{expected.column('value')[0].as_py():,.1f}" in out


def test_measure_unknown_kpi_is_one_line_exit_2(store_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["measure", "nope", "--catalog", str(DEMO_DIR), "--store", str(store_dir)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: No KPI 'nope'") and err.count("\n") == 1


def test_measure_without_a_store_says_so_and_creates_none(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["measure", "airport-passengers", "--catalog", str(DEMO_DIR), "--store", str(tmp_path / "s")])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: There is no store at {tmp_path / 's'}") and err.count("\n") == 1
    assert "la-operating-indicators" in err
    assert not (tmp_path / "s").exists()


def test_measure_dataset_missing_from_store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    Store(tmp_path / "s").close()
    code = main(["measure", "airport-passengers", "--catalog", str(DEMO_DIR), "--store", str(tmp_path / "s")])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: No dataset 'la-operating-indicators'") and err.count("\n") == 1


def test_export_without_a_store_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "data.json"
    args = ["catalog", "export", str(DEMO_DIR), "--store", str(tmp_path / "none"), "--format", "dcat-us"]
    assert main([*args, "-o", str(out)]) == 2
    assert "There is no store at" in capsys.readouterr().err
    assert not out.exists() and not (tmp_path / "none").exists()


def test_export_writes_files(store_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "data.json"
    args = ["catalog", "export", str(DEMO_DIR), "--store", str(store_dir), "--base-url", "https://x.example"]
    assert main([*args, "--format", "dcat-us", "-o", str(out)]) == 0
    document = json.loads(out.read_text())
    assert any(e["identifier"] == "https://x.example/kpi/airport-passengers" for e in document["dataset"])
    assert main([*args, "--format", "datapackage"]) == 0
    package = json.loads(capsys.readouterr().out)
    assert "airport-passengers" in [r["name"] for r in package["resources"]]
    # The files are exactly the documents test_exports.py validates (DCAT-US schema, Table Schemas).
    from catalog.exports import datapackage, dcat_us

    catalog = load_catalog(DEMO_DIR)
    with Store(store_dir) as store:
        assert document == dcat_us(catalog, store, "https://x.example")
        assert package == datapackage(catalog, store, "https://x.example")


def test_sync_with_only_local_datasets_does_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "catalog"
    root.mkdir()
    (root / "catalog.yaml").write_text("locales: [en, es, fr]\n")  # the demo KPI's text is in three
    (root / "k.yaml").write_text(
        (DEMO_DIR / "library" / "library-visitors-quarterly.yaml")
        .read_text()
        .replace("goals: [library-visits]\n", "")
    )
    assert main(["sync", "--catalog", str(root), "--store", str(tmp_path / "s")]) == 0
    assert "nothing to sync" in capsys.readouterr().out


def test_sync_of_the_demo_reads_its_file_portal_then_finds_it_unchanged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The demo's `burlington` portal (kind: file, a folder relative to the catalog) syncs whole once."""
    args = ["sync", "--catalog", str(DEMO_DIR), "--store", str(tmp_path / "s")]
    assert main(args) == 0
    first = sorted(capsys.readouterr().out.splitlines())  # datasets sync in parallel: any order
    assert main(args) == 0
    second = sorted(capsys.readouterr().out.splitlines())
    assert first == [
        "burlington/child-care-locations: full sync (first sync): 58 new, 0 updated, 0 deleted; 58 rows",
        "burlington/planting-sites: full sync (first sync): 12,836 new, 0 updated, 0 deleted; 12,836 rows",
    ]
    assert second == [
        "burlington/child-care-locations: unchanged (metadata not modified); 58 rows",
        "burlington/planting-sites: unchanged (metadata not modified); 12,836 rows",
    ]


def test_sync_pulls_remote_datasets_into_the_store(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from servers import serve

    from btvstat_open.portal.app import create_portal_app
    from btvstat_open.web.settings import Settings

    with (
        demo_store(tmp_path / "portal") as portal_store,
        serve(create_portal_app(portal_store, Settings())) as url,
    ):
        root = tmp_path / "catalog"
        root.mkdir()
        (root / "catalog.yaml").write_text(
            f"portals:\n  city: {{url: '{url}', app_token_env: NO_SUCH_ENV}}\nlocales: [en, es, fr]\n"
        )
        kpi = (DEMO_DIR / "library" / "library-visitors-quarterly.yaml").read_text()
        # This catalog has no goals, so the demo's goal reference goes too.
        kpi = kpi.replace("portal: local", "portal: city").replace("goals: [library-visits]\n", "")
        (root / "k.yaml").write_text(kpi)
        local = tmp_path / "local"
        assert main(["sync", "--catalog", str(root), "--store", str(local)]) == 0
        first = capsys.readouterr().out
        assert main(["sync", "--catalog", str(root), "--store", str(local)]) == 0
        second = capsys.readouterr().out
    assert first.startswith("city/la-library-monthly: full sync") and "16 rows" in first
    assert second.startswith("city/la-library-monthly: unchanged")
    catalog = load_catalog(root)
    with Store(local) as store, Store(tmp_path / "portal") as original:
        synced = measure(catalog.get("library-visitors-quarterly"), store, catalog.settings)
        demo = load_catalog(DEMO_DIR)
        expected = measure(demo.get("library-visitors-quarterly"), original, demo.settings)
    assert synced.equals(expected)


def test_export_against_a_store_without_the_catalogs_datasets_fails(tmp_path: Path) -> None:
    """The default store holding other data is an error naming what is missing, not a data.json
    that leaves out every KPI (run through the installed command, as a user would)."""
    default_store = tmp_path / ".btvstat" / "store"
    with Store(default_store) as store:
        store.create("unrelated", "Unrelated", [Column("n", "N", "number")])
    out = tmp_path / "data.json"
    env = {k: v for k, v in os.environ.items() if k != "BTVSTAT_STORE"}
    args = ["catalog", "export", str(DEMO_DIR), "--format", "dcat-us", "-o", str(out)]
    result = subprocess.run(
        [sys.executable, "-m", "btvstat_open", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: The store at .btvstat/store")
    catalog = load_catalog(DEMO_DIR)
    for dataset in {kpi.source.dataset for kpi in catalog.kpis.values()}:
        assert dataset in result.stderr
    assert "btvstat-open sync --catalog" in result.stderr and "--store" in result.stderr
    assert not out.exists()
