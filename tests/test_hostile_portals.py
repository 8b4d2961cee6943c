"""Portals the city does not control, answering as an attacker would: one test per finding.

Each test runs a small hostile server (``tests/hostile.py``) or the real local portal, and checks
what the connectors and the command line do: secrets reach only their own origin, every pull ends,
bombs end in a clear error with the process under a stated memory ceiling (a child's peak RSS),
empty text is never lost, and hostile answers end in one ``error:`` line, never a traceback.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from faults import serve_portal

from btvstat_open.cli import main
from btvstat_open.store import Store
from btvstat_open.types import Column
from connectors import connect
from connectors.partitioned import pull_partitioned

REPO = Path(__file__).resolve().parent.parent


# -- finding 8: empty text in partitioned pulls ---------------------------------------------------
def test_empty_text_partition_is_fetched_as_filed(tmp_path: Path) -> None:
    store = Store(tmp_path / "source")
    wards = ["", None, "A", "", None, "B", ""]
    table = pa.table({"id": [str(i) for i in range(7)], "ward": wards})
    columns = [Column("id", "ID", "text"), Column("ward", "Ward", "text")]
    store.load("wards", table, columns, row_identifier="id")
    out = tmp_path / "out"
    with serve_portal(store) as (url, _):
        argv = ["pull", url, "wards", "-o", str(out), "--partition-by", "ward", "--parallel", "1"]
        assert main(argv) == 0
        back = pq.read_table(out, partitioning=None).select(["id", "ward"]).sort_by("id").to_pylist()
        # Every row is written; '' travels as an empty CSV cell, so it reads back as null (as on Socrata).
        assert back == [{"id": str(i), "ward": w or None} for i, w in enumerate(wards)]
        again = pull_partitioned(connect(url), "wards", str(out), partition_by="ward")
    store.close()
    assert again.fetched == () and again.rows == len(wards)  # the re-run fetches nothing


# -- finding 11: --as-of out of a sane range -----------------------------------------------------
def test_as_of_out_of_range_is_refused_at_start(tmp_path: Path) -> None:
    for argv in (
        ["serve", "--demo", "--store", str(tmp_path / "s"), "--as-of", "0001-01-01"],
        [
            "packet",
            "2020-03-04-public-works",
            "--catalog",
            "catalog/demo",
            "--as-of",
            "9999-12-31",
            "-o",
            str(tmp_path / "p.pdf"),
        ],
        ["measure", "pothole-days-to-close", "--catalog", "catalog/demo", "--as-of", "1066-10-14"],
    ):
        run = subprocess.run(
            [sys.executable, "-m", "btvstat_open", *argv],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert run.returncode == 2, run.stderr
        assert run.stderr.startswith("error: ") and "out of range" in run.stderr
        assert "Traceback" not in run.stderr
    assert not (tmp_path / "p.pdf").exists()
