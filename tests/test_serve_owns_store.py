"""While ``serve`` runs, every other command works: it runs inside the server that owns the store.

A real ``btvstat-open serve`` process serves a catalog over a store; an anonymous client reads
pages and SODA in a loop while ``sync``, ``load``, ``measure``, ``catalog validate`` and
``packet`` run as real processes. Every command succeeds, no read fails or sees half a dataset,
and the pages show the new data afterwards.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from servers import serve_command

LIBRARY = "la-city-kpis/Library_Monthly_Stats.csv"
CATALOG_YAML = """\
title: Library program
portals:
  files: {kind: file, url: files}
"""
KPI_YAML = """\
id: library-visitors
title: Library visitors per month
department: Library
source: {portal: local, dataset: library, date_column: month}
measure: {calculation: sum, column: total_library_visitors}
period: {size: month}
unit: visitors
direction: higher_is_better
target: {value: 1000000, rule: above_below}
"""
SYNCED_KPI_YAML = """\
id: library-programs
title: Library programs per month (synced copy)
department: Library
source: {portal: files, dataset: library-copy, date_column: month}
measure: {calculation: sum, column: total_library_programs}
period: {size: month}
"""
MEETING_YAML = """\
id: 2014-11-05-library
date: 2014-11-05
title: Library review
departments: [Library]
"""


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """One ``btvstat-open`` command as its own process."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    return subprocess.run(
        [sys.executable, "-m", "btvstat_open", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
        env=env,
    )


@pytest.fixture
def program(tmp_path: Path, real_data: Path) -> Path:
    """A catalog (a local dataset, a file portal's dataset, a meeting) and a store holding the first."""
    catalog = tmp_path / "catalog"
    (catalog / "meetings").mkdir(parents=True)
    (catalog / "files").mkdir()
    (catalog / "catalog.yaml").write_text(CATALOG_YAML)
    (catalog / "library-visitors.yaml").write_text(KPI_YAML)
    (catalog / "library-programs.yaml").write_text(SYNCED_KPI_YAML)
    (catalog / "meetings" / "2014-11-05-library.yaml").write_text(MEETING_YAML)
    shutil.copy(real_data / LIBRARY, catalog / "files" / "library-copy.csv")
    shutil.copy(real_data / LIBRARY, tmp_path / "library.csv")
    lines = (real_data / LIBRARY).read_text(encoding="utf-8-sig").splitlines()
    (tmp_path / "library-first-year.csv").write_text("\n".join(lines[:13]) + "\n")  # header + 12 months
    loaded = cli("load", "library.csv", "--dataset", "library", "--store", "store", cwd=tmp_path)
    assert loaded.returncode == 0, loaded.stderr
    synced = cli("sync", "--catalog", "catalog", "--store", "store", cwd=tmp_path)
    assert synced.returncode == 0, synced.stderr
    return tmp_path


class Reader(threading.Thread):
    """An anonymous client reading a page, a chart's series and SODA counts until told to stop."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.stop = threading.Event()
        self.failures: list[str] = []
        self.counts: set[int] = set()
        self.reads = 0

    def run(self) -> None:
        with requests.Session() as session:
            while not self.stop.is_set():
                for path in ("/", "/kpi/library-visitors", "/kpi/library-visitors.json"):
                    answer = session.get(self.url + path, timeout=60)
                    if answer.status_code != 200:
                        self.failures.append(f"{path}: {answer.status_code}")
                count = session.get(
                    f"{self.url}/resource/library.json", params={"$select": "count(*)"}, timeout=60
                )
                if count.status_code != 200:
                    self.failures.append(f"count: {count.status_code} {count.text[:200]}")
                    continue
                self.counts.add(int(count.json()[0]["count"]))
                rows = session.get(f"{self.url}/resource/library.json", timeout=60).json()
                self.counts.add(len(rows))
                self.reads += 1


@pytest.fixture
def served(program: Path) -> Iterator[str]:
    with serve_command(["--catalog", str(program / "catalog"), "--store", str(program / "store")]) as url:
        yield url


def test_every_command_works_while_serve_runs(served: str, program: Path) -> None:
    owner = json.loads((program / "store" / "serve.json").read_text())
    assert owner["url"].startswith("http://127.0.0.1:")  # the control endpoint is local only
    assert (program / "store" / "serve.json").stat().st_mode & 0o077 == 0  # and its token private
    # The department's export shrinks to its first year: the next sync brings that in.
    shutil.copy(program / "library-first-year.csv", program / "catalog" / "files" / "library-copy.csv")
    reader = Reader(served)
    reader.start()
    try:
        commands = [
            ("sync", "--catalog", "catalog", "--store", "store"),
            (
                "load",
                "library-first-year.csv",
                "--dataset",
                "library",
                "--store",
                "store",
                "--row-id",
                "Month",
            ),
            ("measure", "library-visitors", "--catalog", "catalog", "--store", "store", "--format", "json"),
            ("catalog", "validate", "catalog", "--store", "store"),
            ("packet", "2014-11-05-library", "--catalog", "catalog", "--store", "store", "-o", "packet.html"),
        ]
        results = {c[0] if c[0] != "catalog" else "validate": cli(*c, cwd=program) for c in commands}
    finally:
        reader.stop.set()
        reader.join(timeout=120)
    for name, result in results.items():
        assert result.returncode == 0, f"{name}: {result.stdout} {result.stderr}"
    assert "files/library-copy" in results["sync"].stdout
    assert "Loaded 12 rows into library" in results["load"].stdout
    assert len(json.loads(results["measure"].stdout)) == 12  # measured on the new copy
    assert "no problems (checked against the store)" in results["validate"].stdout
    assert "Library review" in (program / "packet.html").read_text()
    assert reader.reads > 0 and reader.failures == []
    assert reader.counts <= {16, 12}, reader.counts  # never half a dataset
    series = requests.get(f"{served}/kpi/library-visitors.json").json()
    assert len(series) == 12  # the page's data is the new copy, without a restart
    synced = requests.get(f"{served}/resource/library-copy.json", params={"$select": "count(*)"}).json()
    assert synced == [{"count": "12"}]


def test_a_second_serve_on_the_same_store_says_who_has_it(served: str, program: Path) -> None:
    second = cli("serve", "--store", "store", "--port", "1", cwd=program)
    assert second.returncode == 2
    assert "already served by process" in second.stderr


def test_a_command_without_the_token_is_refused(served: str, program: Path) -> None:
    owner = json.loads((program / "store" / "serve.json").read_text())
    answer = requests.post(
        f"{owner['url']}/run", json={"command": "measure"}, headers={"Authorization": "Bearer x"}
    )
    assert answer.status_code == 403


def test_the_owner_file_goes_when_serve_stops(program: Path) -> None:
    with serve_command(["--store", str(program / "store")]):
        assert (program / "store" / "serve.json").is_file()
    assert not (program / "store" / "serve.json").exists()
    # ...and the commands open the store themselves again.
    measured = cli("catalog", "validate", "catalog", "--store", "store", cwd=program)
    assert measured.returncode == 0, measured.stderr


def test_a_store_served_by_another_user_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from btvstat_open.errors import StoreError
    from btvstat_open.store import find_owner
    from btvstat_open.store.owner import claim

    claim(tmp_path, "http://127.0.0.1:1", "secret")
    real_read = Path.read_text

    def unreadable(path: Path, *args: object, **kwargs: object) -> str:
        if path.name == "serve.json":  # the fault: another user's 0600 file
            raise PermissionError(13, "Permission denied", str(path))
        return real_read(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "read_text", unreadable)
    with pytest.raises(StoreError, match="served by another user"):
        find_owner(tmp_path)
