"""Data checks hold a broken extract back: the dashboard keeps the previous numbers and flags the
dataset until the new version is accepted (``btvstat-open checks accept``)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import requests
from servers import mounted

from btvstat_open.cli import main
from btvstat_open.server import create_app
from btvstat_open.store import Store
from btvstat_open.types import Column
from catalog import load_catalog
from catalog.data_checks import load_checks, run_checks
from catalog.packet import build_packet
from widgets.packets.render import packet_html

DATA = Path(__file__).parent.parent / "catalog" / "demo" / "data" / "kc-311-potholes.parquet"
HTTP = requests.Session()  # reaches the app in process (servers.mounted)
KPI = "pothole-requests"
CATALOG = """title: Checks
checks:
  kc-311-potholes: {min_rows: 100, max_row_change: 0.3, unique: [case_id], on_fail: hold}
"""
KPI_YAML = """id: pothole-requests
title: Pothole requests
department: Public Works
source: {portal: local, dataset: kc-311-potholes, date_column: creation_date}
measure: {calculation: count}
period: {size: month, start: 2020-01-01}
"""


def _api(base: str, before: dict[str, Any] | None = None, key: str = "check") -> dict[str, Any]:
    """The KPI's entry in /api/kpis, polled until its ``key`` differs from ``before``'s (the check
    state is read at once, the series when the dataset versions refresh, at 0.25 s)."""
    deadline = time.monotonic() + 30
    while True:
        kpis = HTTP.get(f"{base}/api/kpis", timeout=60).json()["kpis"]
        entry: dict[str, Any] = next(k for k in kpis if k["id"] == KPI)
        if before is None or entry[key] != before[key] or time.monotonic() > deadline:
            return entry
        time.sleep(0.1)


def test_a_half_size_extract_is_held_until_accepted(tmp_path: Path, capsys: Any) -> None:
    table = pq.read_table(DATA)
    columns = [
        Column(f.name, f.metadata[b"name"].decode(), f.metadata[b"socrata_type"].decode())
        for f in table.schema
    ]
    store = Store(tmp_path / "store")
    store.load("kc-311-potholes", table, columns, row_identifier="case_id")
    folder = tmp_path / "catalog"
    folder.mkdir()
    (folder / "catalog.yaml").write_text(CATALOG)
    (folder / f"{KPI}.yaml").write_text(KPI_YAML)
    (folder / "meetings").mkdir()
    meeting = "meetings/2020-03-04-public-works.yaml"
    (folder / meeting).write_text(
        "id: review\ndate: 2020-03-04\ntitle: Review\ndepartments: [Public Works]\n"
    )
    catalog = load_catalog(folder, store)
    assert [s.failures for s in run_checks(catalog, store)] == [[]]
    with mounted(create_app(store, catalog), HTTP) as base:
        whole = _api(base)
        assert whole["check"] is None and whole["latest"]["value"] > 0

        store.replace("kc-311-potholes", table.slice(0, table.num_rows // 2))  # a broken extract
        (state,) = run_checks(catalog, store)
        assert state.held_at is not None
        assert state.failures == [
            f"{table.num_rows // 2:,} rows against {table.num_rows:,} before: a change of 50%"
        ]
        held = _api(base, whole)
        assert held["latest"] == whole["latest"]  # the previous numbers stay published
        assert held["check"] == {"failures": state.failures, "held": True, "checked_at": state.checked_at}
        page = HTTP.get(f"{base}/kpi/{KPI}", timeout=60).text
        assert "Data check failed" in page and "the last good version stays published" in page
        packet = packet_html(build_packet(catalog, store, "review"), catalog.settings)
        assert "Data check failed: " + state.failures[0] in packet
        listed = HTTP.get(f"{base}/checks", timeout=60).text
        assert "<strong>Failed</strong> (held: the last good version is published)" in listed
        assert "a change of 50%" in listed and f'href="/kpi/{KPI}"' in listed

        assert (
            main(
                ["checks", "accept", "kc-311-potholes", "--catalog", str(folder), "--store", str(store.root)]
            )
            == 0
        )
        accepted = _api(base, held, key="latest")
        assert accepted["check"] is None and accepted["latest"]["value"] < whole["latest"]["value"]
        assert load_checks(store)["kc-311-potholes"].held_at is None
    assert (
        main(["checks", "accept", "kc-311-potholes", "--catalog", str(folder), "--store", str(store.root)])
        == 2
    )
    assert "is not held back by a data check" in capsys.readouterr().err
    store.close()
