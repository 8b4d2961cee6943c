"""A running ``serve`` follows its catalog: edits are served without a restart (a catalog with an
error keeps the last good one), and ``sync_every:`` syncs the catalog's datasets on a schedule (a
failing sync keeps the last good copy)."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path

import requests
from servers import serve_command
from test_serve_owns_store import CATALOG_YAML, KPI_YAML, LIBRARY, SYNCED_KPI_YAML, cli

POLL = {"BTVSTAT_CATALOG_POLL_SECONDS": "0.2"}


def eventually(check: Callable[[], bool], what: str, within: float = 60) -> None:
    """Wait until ``check()`` holds (the server works in the background); fail naming ``what``."""
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.2)


def _catalog(tmp_path: Path, real_data: Path, settings: str = "") -> Path:
    catalog = tmp_path / "catalog"
    (catalog / "files").mkdir(parents=True)
    (catalog / "catalog.yaml").write_text(CATALOG_YAML + settings)
    (catalog / "library-visitors.yaml").write_text(KPI_YAML)
    (catalog / "library-programs.yaml").write_text(SYNCED_KPI_YAML)
    shutil.copy(real_data / LIBRARY, catalog / "files" / "library-copy.csv")
    shutil.copy(real_data / LIBRARY, tmp_path / "library.csv")
    assert (
        cli("load", "library.csv", "--dataset", "library", "--store", "store", cwd=tmp_path).returncode == 0
    )
    assert cli("sync", "--catalog", "catalog", "--store", "store", cwd=tmp_path).returncode == 0
    return catalog


def test_a_catalog_edit_is_served_without_a_restart(tmp_path: Path, real_data: Path) -> None:
    catalog = _catalog(tmp_path, real_data)
    kpi = catalog / "library-visitors.yaml"
    printed: list[str] = []
    with serve_command(
        ["--catalog", str(catalog), "--store", str(tmp_path / "store")], env=POLL, stderr=printed
    ) as url:
        assert "Library visitors per month" in requests.get(f"{url}/kpi/library-visitors").text
        kpi.write_text(kpi.read_text().replace("Library visitors per month", "Visits to every branch"))
        eventually(
            lambda: "Visits to every branch" in requests.get(f"{url}/kpi/library-visitors").text, "the edit"
        )
        # An edit with an error: the last good catalog keeps serving.
        kpi.write_text(kpi.read_text().replace("Visits to every branch", "Broken edit") + "colour: red\n")
        time.sleep(2)  # many polls
        page = requests.get(f"{url}/kpi/library-visitors")
        assert (
            page.status_code == 200
            and "Visits to every branch" in page.text
            and "Broken edit" not in page.text
        )
        # A new KPI file appears on the dashboard once the error is fixed.
        kpi.write_text(kpi.read_text().replace("colour: red\n", ""))
        eventually(
            lambda: "Broken edit" in requests.get(f"{url}/kpi/library-visitors").text, "the fixed edit"
        )
    log = printed[0]
    assert "catalog reload failed; still serving the last good catalog" in log
    assert "library-visitors.yaml:" in log and "colour" in log


def test_serve_syncs_on_a_schedule_and_a_failure_keeps_the_last_copy(tmp_path: Path, real_data: Path) -> None:
    catalog = _catalog(tmp_path, real_data, "sync_every: 1s\n")
    source = catalog / "files" / "library-copy.csv"
    lines = source.read_text(encoding="utf-8-sig").splitlines()
    printed: list[str] = []

    def count(url: str) -> int:
        answer = requests.get(f"{url}/resource/library-copy.json", params={"$select": "count(*)"})
        return int(answer.json()[0]["count"])

    with serve_command(
        ["--catalog", str(catalog), "--store", str(tmp_path / "store")], stderr=printed
    ) as url:
        assert count(url) == 16
        source.write_text("\n".join(lines[:11]) + "\n")  # the department's export: ten months
        eventually(lambda: count(url) == 10, "the scheduled sync of the new export")
        source.unlink()  # the export is gone: the sync fails
        time.sleep(3)  # several scheduled runs
        assert count(url) == 10  # the last good copy
    assert "sync: files/library-copy: FAILED" in printed[0]
