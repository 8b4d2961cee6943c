"""The widget server on the demo data plus the test catalog, for one test module.

``site`` serves it over real HTTP (for browsers and third-party readers that need a port);
``in_process_site`` drives the same app in process through ``site.http`` (a ``requests.Session``),
for tests that only look at answers: ``from widget_site import in_process_site as site``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import requests
from browser.widget_catalogs import write_test_catalog
from demo_store import demo_store
from servers import serve

from btvstat_open.server import create_app
from btvstat_open.store import Store
from btvstat_open.store.dataset import Column
from btvstat_open.web.inprocess import inprocess_session
from catalog import load_catalog
from catalog.models import Catalog
from widgets.service import WidgetService


@dataclass
class Site:
    """A running widget server and what it serves; ``http`` reaches it (in process or over HTTP)."""

    base: str
    store: Store
    catalog: Catalog
    service: WidgetService
    http: requests.Session


@contextmanager
def _site(root: Path, in_process: bool) -> Iterator[Site]:
    store = demo_store(root / "store")
    catalog = load_catalog(write_test_catalog(root / "catalog"), store)
    app = create_app(store, catalog)
    try:
        if in_process:
            with inprocess_session(app) as http:
                yield Site("http://testserver", store, catalog, app.state.widgets, http)
        else:
            with serve(app) as base, requests.Session() as http:
                yield Site(base, store, catalog, app.state.widgets, http)
    finally:
        store.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """A fresh store and server per test module, so data changes in one module stay there."""
    with _site(tmp_path_factory.mktemp("widgets"), in_process=False) as made:
        yield made


@pytest.fixture(scope="module")
def in_process_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """As ``site``, with the app driven in process (no port): reach it through ``site.http``."""
    with _site(tmp_path_factory.mktemp("widgets"), in_process=True) as made:
        yield made


def get(site: Site, path: str, **headers: str) -> requests.Response:
    """GET a path of the site."""
    return site.http.get(site.base + path, headers=headers, timeout=60)


SENTINEL_VALUE = "987654.25"  # the suppressed cell's true average: found in no output
SENTINEL_COUNT = 3


@contextmanager
def sentinel_site(root: Path) -> Iterator[tuple[str, requests.Session, str, int, str]]:
    """The widget app (in process) over one dataset whose breakdown has a small group with a value
    found nowhere else.

    Yields ``(base URL, the session that reaches it, the suppressed value as text, its row count,
    the KPI id)``.
    """
    rows: dict[str, list[Any]] = {"day": [], "district": [], "amount": []}
    for month in (1, 2, 3):
        for i in range(30):
            for district in ("North", "South"):
                rows["day"].append(datetime(2020, month, 1 + i % 28, 9))
                rows["district"].append(district)
                rows["amount"].append(float(10 + i % 7 + (5 if district == "South" else 0)))
    for _ in range(SENTINEL_COUNT):  # the small group, in February only
        rows["day"].append(datetime(2020, 2, 14, 9))
        rows["district"].append("Tiny")
        rows["amount"].append(float(SENTINEL_VALUE))
    columns = [
        Column("day", "Day", "floating_timestamp"),
        Column("district", "District", "text"),
        Column("amount", "Amount", "number"),
    ]
    store = Store(root / "store")
    store.load("sentinel", pa.table(rows), columns)
    folder = root / "catalog"
    folder.mkdir()
    (folder / "catalog.yaml").write_text("title: Sentinel\nas_of: 2021-01-01\n")
    (folder / "amount.yaml").write_text(
        "id: sentinel-amount\ntitle: Average amount\ndepartment: Tests\n"
        "source: {dataset: sentinel, date_column: day}\n"
        "measure: {calculation: average, column: amount}\nperiod: {size: month}\n"
        "breakdown: {column: district, label: District, min_count: 10}\n"
    )
    catalog = load_catalog(folder, store)
    try:
        with inprocess_session(create_app(store, catalog)) as http:
            yield "http://testserver", http, SENTINEL_VALUE.split(".")[0], SENTINEL_COUNT, "sentinel-amount"
    finally:
        store.close()
