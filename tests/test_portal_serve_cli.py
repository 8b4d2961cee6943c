"""``btvstat-open load`` then ``btvstat-open serve --store DIR`` (no catalog) as real processes.

Without ``--demo`` or ``--catalog`` the server still answers the SODA routes over the store.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from servers import serve_command

LIBRARY = "la-city-kpis/Library_Monthly_Stats.csv"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, real_data: Path) -> Iterator[str]:
    store = tmp_path_factory.mktemp("serve-cli") / "store"
    load = [
        "load",
        str(real_data / LIBRARY),
        "--dataset",
        "library",
        "--store",
        str(store),
        "--row-id",
        "Month",
    ]
    loaded = subprocess.run(
        [sys.executable, "-m", "btvstat_open", *load],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert loaded.returncode == 0, loaded.stderr
    assert "16 rows into library" in loaded.stdout
    with serve_command(["--store", str(store)]) as url:
        yield url


def test_serve_without_a_catalog_answers_soda_reads(served: str, real_data: Path) -> None:
    rows = requests.get(f"{served}/resource/library.json", params={"$order": "month", "$limit": "2"}).json()
    assert [r["month"] for r in rows] == ["2013-07-01T00:00:00.000", "2013-08-01T00:00:00.000"]
    header = (real_data / LIBRARY).read_text(encoding="utf-8-sig").splitlines()[0]
    view = requests.get(f"{served}/api/views/library.json").json()
    assert [c["name"] for c in view["columns"]] == header.split(",")
    assert view["rowIdentifier"] == "month"


def test_serve_without_a_catalog_lists_the_store(served: str) -> None:
    found = requests.get(f"{served}/api/catalog/v1").json()
    assert [r["resource"]["id"] for r in found["results"]] == ["library"]
    catalog = requests.get(f"{served}/data.json").json()
    assert [d["title"] for d in catalog["dataset"]] == ["Library Monthly Stats"]
    export = requests.get(f"{served}/api/views/library/rows.csv", params={"accessType": "DOWNLOAD"})
    assert export.status_code == 200 and len(export.text.strip().splitlines()) == 17
