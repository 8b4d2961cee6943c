"""Every docstring example in the four packages runs (doctests are part of ``make test``).

Examples run against real stand-ins, shared by every module (``extraglobs``): the demo store
and catalog in a temporary folder (``store``, its folder ``store_dir``, ``catalog``,
``settings``, ``info``: the pothole dataset, ``kpi`` and ``series``: the pothole days-to-close
KPI and its series) and the demo served over HTTP on 127.0.0.1 by uvicorn (``portal_url``,
``portal``: a connector to it, ``app``, ``ctx``: its portal context, ``write_token``, also in
``BTVSTAT_WRITE_TOKEN`` for the command-line examples), a second local portal to write to, so
pushes leave the demo as it is (``push_url``, ``writable_id``: its empty dataset of
``row_key``/``value``), the stand-in ArcGIS, CKAN and Opendatasoft sites of
tests/doctest_sites.py (``arcgis_url``: a FeatureServer of layers ``0`` and ``1``,
``arcgis_site``: the same server as a Hub site, ``ckan_url``
and ``ods_url``: each with a dataset ``cases``, ``ckan_resource``: its resource id), and a folder
of each module's own (``scratch``). A module's own name always wins over these. Examples marked
``# doctest: +SKIP`` are the few with no local stand-in (a server that runs until interrupted).
"""

from __future__ import annotations

import doctest
import importlib
import inspect
import pkgutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from doctest_sites import standin_sites
from servers import serve

PACKAGES = ("btvstat_open", "connectors", "catalog", "widgets")
# Modules that run something when imported (``python -m``), not libraries.
NOT_LIBRARIES = {"btvstat_open.__main__"}
WRITE_TOKEN = "doctest-token"
WRITABLE_ID = "kpis"


def _modules() -> list[str]:
    names: list[str] = []
    for package in PACKAGES:
        root = Path(importlib.import_module(package).__file__ or "").parent
        names.append(package)
        for info in pkgutil.walk_packages([str(root)], prefix=f"{package}."):
            if info.name not in NOT_LIBRARIES:
                names.append(info.name)
    return sorted(names)


@pytest.fixture(scope="session")
def stand_ins(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The demo store, catalog and a server over them, for every module's examples."""
    from demo_store import demo_store

    from btvstat_open.portal.app import create_portal_app
    from btvstat_open.server import create_app
    from btvstat_open.store import Store
    from btvstat_open.types import Column
    from btvstat_open.web.settings import Settings
    from catalog import load_catalog, measure
    from catalog.demo import DEMO_DIR
    from connectors import connect

    store_dir = tmp_path_factory.mktemp("doctest-store")
    store = demo_store(store_dir)
    catalog = load_catalog(DEMO_DIR, store)
    kpi = catalog.get("pothole-days-to-close")
    app = create_app(store, catalog, Settings(write_token=WRITE_TOKEN, warm_up=False))
    push_store = Store(tmp_path_factory.mktemp("doctest-push"))
    push_app = create_portal_app(push_store, Settings(write_token=WRITE_TOKEN))
    with serve(app) as url, serve(push_app) as push_url, standin_sites() as sites:
        writer = connect(push_url, username="btvstat", password=WRITE_TOKEN)
        cols = [Column("row_key", "Row key", "text"), Column("value", "Value", "number")]
        writer.create("KPIs", cols, row_identifier="row_key", dataset_id=WRITABLE_ID)
        yield {
            **sites,
            "store": store,
            "store_dir": str(store_dir),
            "catalog": catalog,
            "settings": catalog.settings,
            "info": store.info("kc-311-potholes"),
            "kpi": kpi,
            "series": measure(kpi, store, catalog.settings),
            "app": app,
            "ctx": app.state.portal,
            "portal_url": url,
            "portal": connect(url),
            "write_token": WRITE_TOKEN,
            "push_url": push_url,
            "writable_id": WRITABLE_ID,
        }
    push_store.close()
    store.close()


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples_run(
    name: str, stand_ins: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(Path(__file__).parent.parent)  # examples name paths from the project root
    monkeypatch.setenv("BTVSTAT_WRITE_TOKEN", WRITE_TOKEN)  # what `btvstat-open push` writes with
    module = importlib.import_module(name)
    extra = {k: v for k, v in stand_ins.items() if k not in vars(module)}
    extra["scratch"] = tmp_path  # a folder of its own for examples that write files
    result = doctest.testmod(
        module, extraglobs=extra, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False
    )
    assert result.failed == 0, f"{result.failed} docstring example(s) of {name} failed (run it to see which)"


# Modules whose examples name where each object comes from, so a reader can copy and run them: they run
# here without the shared stand-ins above (this set may only grow).
COPYABLE = ("catalog.demo_series", "catalog.sync_all", "widgets.charts", "widgets.images")


@pytest.mark.parametrize("name", COPYABLE)
def test_examples_run_as_copied(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # nothing of the project's folders either
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0, f"{name}: {result.failed} failed on their own"


# Modules with public functions but no example yet (request handlers and people plumbing, whose
# examples need a signed-in session): this list may only shrink.
WITHOUT_EXAMPLES = {
    "btvstat_open.people.api",
    "btvstat_open.people.commands",
    "btvstat_open.people.commentary",
    "btvstat_open.people.context",
    "btvstat_open.people.demo",
    "btvstat_open.people.locks",
    "btvstat_open.people.routes",
    "btvstat_open.people.routes_updates",
    "btvstat_open.people.routes_sheet",
    "btvstat_open.people.submissions",
    "btvstat_open.people.value_batch",
    "btvstat_open.server.insiders",  # a signed-in request's person, for private KPI pages
    "btvstat_open.server.site_command",  # build-site (widgets.sitebuild has the examples)
    "widgets.private_views",  # private KPI pages, answered to a signed-in request
    "connectors.ckan.rows",
}


def _examples(obj: Any, name: str) -> int:
    return sum(len(t.examples) for t in doctest.DocTestFinder().find(obj, name, globs={}))


def test_every_public_function_of_the_packages_has_an_example() -> None:
    missing = [
        f"{package}.{name}"
        for package in PACKAGES
        for name in importlib.import_module(package).__all__
        if inspect.isfunction(obj := getattr(importlib.import_module(package), name))
        and _examples(obj, name) == 0
    ]
    assert missing == []


def test_every_module_with_public_functions_has_examples() -> None:
    without = set()
    for name in _modules():
        module = importlib.import_module(name)
        public = [
            o
            for n, o in vars(module).items()
            if not n.startswith("_") and inspect.isfunction(o) and o.__module__ == name
        ]
        if public and _examples(module, name) == 0:
            without.add(name)
    lost, added = without - WITHOUT_EXAMPLES, WITHOUT_EXAMPLES - without
    assert not lost, f"modules whose functions lost every example: {lost}"
    assert not added, f"examples added: take {added} off WITHOUT_EXAMPLES"
