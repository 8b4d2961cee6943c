"""A change to how a KPI is computed is recorded with the day it was first seen: the chart draws a
labelled rule, the KPI page shows the earlier definition beside the current one, and the ledger says
the values moved because the definition did."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import requests
from servers import mounted

from btvstat_open.server import create_app
from btvstat_open.store import Store
from btvstat_open.types import Column
from catalog import load_catalog
from catalog.commands import publish_all
from catalog.definitions import definition_changes

HTTP = requests.Session()  # reaches the app in process (servers.mounted)
KPI = """id: requests
title: Requests
department: Public Works
source: {{portal: local, dataset: cases, date_column: opened{where}}}
measure: {{calculation: count}}
period: {{size: month, include_current: true}}
"""


def _catalog(folder: Path, where: str, store: Store) -> object:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "requests.yaml").write_text(KPI.format(where=where))
    return load_catalog(folder, store)


def test_a_changed_definition_is_recorded_drawn_and_shown_beside_the_old(tmp_path: Path) -> None:
    store = Store(tmp_path / "store")
    today = datetime.now(UTC).date()  # the change is first seen today: data up to today charts it
    days = [today - timedelta(days=k) for k in range(90)]
    kinds = ["Pothole" if i % 3 else "Sidewalk" for i in range(len(days))]
    store.load(
        "cases",
        pa.table({"opened": pa.array(days, pa.date32()).cast(pa.timestamp("us")), "type": kinds}),
        [Column("opened", "Opened", "floating_timestamp"), Column("type", "Type", "text")],
    )
    before = _catalog(tmp_path / "a", "", store)
    publish_all(before, store)  # type: ignore[arg-type]
    after = _catalog(tmp_path / "b", ", where: \"type = 'Pothole'\"", store)
    publish_all(after, store)  # type: ignore[arg-type]
    (change,) = definition_changes(store, "requests")
    assert change.day == today
    assert [part for part, _, _ in change.differences()] == ["source"]
    assert "where" not in change.before["source"] and change.after["source"]["where"] == "type = 'Pothole'"
    with mounted(create_app(store, after), HTTP) as base:  # type: ignore[arg-type]
        page = HTTP.get(f"{base}/kpi/requests", timeout=60).text
        assert "Definition changes" in page and "type = &#39;Pothole&#39;" in page
        spec = HTTP.get(f"{base}/kpi/requests.vl.json", timeout=60).text
        assert "Definition changed" in spec
        ledger = HTTP.get(
            f"{base}/resource/published-values.json", params={"$where": "revision > 0"}, timeout=60
        ).json()
    assert ledger and {r["reason"] for r in ledger} == {"definition changed"}
    assert {r["period_start"][:7] for r in ledger} == {d.strftime("%Y-%m") for d in days}
    assert json.dumps(change.before, sort_keys=True) != json.dumps(change.after, sort_keys=True)
    store.close()
