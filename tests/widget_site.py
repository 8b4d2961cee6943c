"""The widget server on the demo data plus the test catalog, served over HTTP for one test module."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests
from browser.widget_catalogs import write_test_catalog
from servers import serve

from btvstat_open.store import Store
from catalog import load_catalog
from catalog.demo import load_demo_data
from catalog.models import Catalog
from widgets.app import create_app
from widgets.service import WidgetService


@dataclass
class Site:
    """A running widget server and what it serves."""

    base: str
    store: Store
    catalog: Catalog
    service: WidgetService


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """A fresh store and server per test module, so data changes in one module stay there."""
    root = tmp_path_factory.mktemp("widgets")
    store = Store(root / "store")
    load_demo_data(store)
    catalog = load_catalog(write_test_catalog(root / "catalog"), store)
    app = create_app(store, catalog)
    with serve(app) as base:
        yield Site(base, store, catalog, app.state.widgets)
    store.close()


def get(site: Site, path: str, **headers: str) -> requests.Response:
    """GET a path of the site."""
    return requests.get(site.base + path, headers=headers, timeout=60)
