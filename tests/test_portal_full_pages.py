"""Large reads come back whole: every page of a big ordered read has exactly ``$limit`` rows.

DuckDB may return batches shorter than the requested batch size in the middle of a result (parallel,
ordered scans do). The portal once took a short first batch for the end of the result and cut pages
short, which made paging clients (sodapy's ``get_all``) stop early. This loads enough rows for DuckDB
to split its scan and checks every page and the full CSV export.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest
import requests
from servers import serve

from btvstat_open.portal.app import create_portal_app
from btvstat_open.store import Store
from btvstat_open.web.settings import Settings

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.generate import COLUMNS, DATASET_ID, ROW_ID, batches

ROWS = 400_000
PAGE = 50_000


@pytest.fixture(scope="module")
def big_portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The portal over a store holding 400,000 generated 311 rows."""
    store = Store(tmp_path_factory.mktemp("big-store"))
    store.load(DATASET_ID, pa.Table.from_batches(list(batches(ROWS))), COLUMNS, row_identifier=ROW_ID)
    with serve(create_portal_app(store, Settings(max_limit=PAGE))) as url:
        yield url
    store.close()


@pytest.mark.slow
def test_every_ordered_page_is_full(big_portal: str) -> None:
    seen: set[str] = set()
    with requests.Session() as session:
        for offset in range(0, ROWS, PAGE):
            resp = session.get(
                f"{big_portal}/resource/{DATASET_ID}.json",
                params={"$select": "unique_key", "$order": ":id", "$limit": PAGE, "$offset": offset},
                timeout=60,
            )
            resp.raise_for_status()
            keys = [row["unique_key"] for row in resp.json()]
            assert len(keys) == PAGE, f"page at offset {offset} has {len(keys)} rows"
            seen.update(keys)
    assert len(seen) == ROWS


@pytest.mark.slow
def test_csv_export_has_every_row(big_portal: str) -> None:
    resp = requests.get(
        f"{big_portal}/api/views/{DATASET_ID}/rows.csv", params={"accessType": "DOWNLOAD"}, timeout=60
    )
    resp.raise_for_status()
    lines = resp.content.rstrip(b"\n").split(b"\n")
    assert lines[0].startswith(b'"Unique Key"')  # headed by display names, as Socrata's export
    assert len(lines) == ROWS + 1
