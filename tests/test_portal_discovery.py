"""The catalog routes at 1,000 datasets: constant store work per request; Discovery's order, tags, domains.

Store reads are counted at the store's cursor (every query the routes send to DuckDB passes through
it), over real HTTP with uvicorn: a page of ``/api/catalog/v1`` or ``/data.json`` must cost the same
number of queries at 10 and at 1,000 datasets.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import duckdb
import pyarrow as pa
import pytest
import requests
from servers import serve

from btvstat_open.portal.app import create_portal_app
from btvstat_open.portal.discovery import DiscoveryQuery, discover
from btvstat_open.store import DatasetInfo, MetadataChange, Store
from btvstat_open.store.writes import create_table
from btvstat_open.types import Column
from btvstat_open.web.settings import Settings

COLUMNS = [Column("label", "Label", "text"), Column("n", "N", "number")]


class CountingCursor:
    """The store's own DuckDB cursor, counting the statements sent through it."""

    def __init__(self, cursor: duckdb.DuckDBPyConnection, counter: list[int]) -> None:
        self._cursor, self._counter = cursor, counter

    def execute(self, *args: Any, **kwargs: Any) -> Any:
        self._counter[0] += 1
        return self._cursor.execute(*args, **kwargs)

    def sql(self, *args: Any, **kwargs: Any) -> Any:
        self._counter[0] += 1
        return self._cursor.sql(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)


class CountedPortal:
    def __init__(self, store: Store, url: str) -> None:
        self.store, self.url, self.queries = store, url, [0]
        original = store.cursor
        store.cursor = lambda: CountingCursor(original(), self.queries)  # type: ignore[method-assign]

    def reads(self, path: str, **params: Any) -> tuple[int, requests.Response]:
        """Store queries made while answering one GET."""
        before = self.queries[0]
        response = requests.get(self.url + path, params=params, timeout=120)
        assert response.status_code == 200, response.text[:300]
        return self.queries[0] - before, response


def _fill(store: Store, count: int) -> None:
    """``count`` datasets in one transaction (names run backwards, so name order is not id order)."""
    with store.transaction() as con:
        for i in range(count):
            create_table(con, f"ds-{i:04d}", f"Dataset {count - i:04d}", COLUMNS, "", None, False)


@pytest.fixture(scope="module")
def portals(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[int, CountedPortal]]:
    served: dict[int, CountedPortal] = {}
    stores = []
    contexts = []
    for count in (10, 1000):
        store = Store(tmp_path_factory.mktemp(f"catalog-{count}"))
        _fill(store, count)
        store.replace("ds-0003", pa.table({"label": ["a", "b", "c"], "n": [1.0, 2.0, 3.0]}))
        context = serve(create_portal_app(store, Settings(domain="data.example.gov")))
        served[count] = CountedPortal(store, context.__enter__())
        stores.append(store)
        contexts.append(context)
    yield served
    for context in contexts:
        context.__exit__(None, None, None)
    for store in stores:
        store.close()


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/catalog/v1", {"limit": "10"}),
        ("/api/catalog/v1", {"limit": "1"}),
        ("/api/catalog/v1", {"limit": "10", "order": "name", "q": "dataset"}),
        ("/api/catalog/v1", {"limit": "10", "order": "updatedAt DESC", "offset": "5"}),
        ("/data.json", {}),
    ],
)
def test_catalog_routes_cost_the_same_at_10_and_1000_datasets(
    portals: dict[int, CountedPortal], path: str, params: dict[str, str]
) -> None:
    costs = {}
    for count, portal in portals.items():
        portal.reads(path, **params)  # the first request after a change reads what changed
        costs[count], response = portal.reads(path, **params)
        body = response.json()
        if path == "/data.json":
            assert len(body["dataset"]) == count
        else:
            assert body["resultSetSize"] == count
    assert costs[10] == costs[1000] == 1, costs


def test_a_write_rereads_only_the_dataset_it_changed(portals: dict[int, CountedPortal]) -> None:
    portal = portals[1000]
    portal.reads("/api/catalog/v1", limit="1")
    portal.store.replace("ds-0007", pa.table({"label": ["x"], "n": [9.0]}))
    cost, response = portal.reads("/api/catalog/v1", ids="ds-0007")
    assert cost == 3, cost  # the version lookup, then that dataset's metadata and its row count
    assert response.json()["results"][0]["resource"]["id"] == "ds-0007"
    assert portal.reads("/api/catalog/v1", limit="1")[0] == 1


def test_the_store_lists_fresh_metadata_after_writes_and_drops(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    store = Store(tmp_path_factory.mktemp("listing"))
    _fill(store, 5)
    first = {i.id: i for i in store.datasets()}
    store.replace("ds-0002", pa.table({"label": ["a", "b"]}))
    store.drop("ds-0004")
    second = {i.id: i for i in store.datasets()}
    assert sorted(second) == ["ds-0000", "ds-0001", "ds-0002", "ds-0003"]
    assert second["ds-0002"].row_count == 2 and first["ds-0002"].row_count == 0
    assert second["ds-0001"] is first["ds-0001"]  # unchanged: not read again
    assert second["ds-0002"] == store.info("ds-0002")
    store.close()


def _ids(response: requests.Response) -> list[str]:
    return [r["resource"]["id"] for r in response.json()["results"]]


def test_order_by_name_and_by_update(portals: dict[int, CountedPortal]) -> None:
    portal = portals[10]
    by_name = _ids(portal.reads("/api/catalog/v1", order="name")[1])
    assert by_name == [f"ds-{i:04d}" for i in range(9, -1, -1)]  # "Dataset 0001" is ds-0009
    assert _ids(portal.reads("/api/catalog/v1", order="name DESC")[1]) == by_name[::-1]
    assert _ids(portal.reads("/api/catalog/v1", order="name ASC")[1]) == by_name
    newest = _ids(portal.reads("/api/catalog/v1", order="updatedAt")[1])
    assert newest[0] == "ds-0003"  # the one dataset written after the others were made
    assert _ids(portal.reads("/api/catalog/v1", order="updatedAt ASC")[1])[-1] == "ds-0003"
    assert _ids(portal.reads("/api/catalog/v1", order="dataset_id")[1]) == sorted(by_name)
    paged = _ids(portal.reads("/api/catalog/v1", order="name", limit="3", offset="3")[1])
    assert paged == by_name[3:6]


def test_relevance_puts_the_best_match_first(portals: dict[int, CountedPortal]) -> None:
    results = _ids(portals[10].reads("/api/catalog/v1", q="0003")[1])
    assert results == ["ds-0007", "ds-0003"]  # the name "Dataset 0003" outranks the id ds-0003


@pytest.mark.parametrize("order", ["popularity", "name sideways", "name DESC extra", "'; DROP"])
def test_an_unknown_order_is_a_400_that_lists_the_orders(
    portals: dict[int, CountedPortal], order: str
) -> None:
    response = requests.get(f"{portals[10].url}/api/catalog/v1", params={"order": order})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "catalog.bad-order" and "updatedAt" in body["message"]


@pytest.mark.parametrize(
    ("domains", "found"),
    [("data.example.gov", 10), ("other.gov,DATA.example.gov", 10), ("other.gov", 0)],
)
def test_domains_filter_by_this_servers_domain(
    portals: dict[int, CountedPortal], domains: str, found: int
) -> None:
    body = portals[10].reads("/api/catalog/v1", domains=domains)[1].json()
    assert body["resultSetSize"] == found
    assert all(r["metadata"]["domain"] == "data.example.gov" for r in body["results"])


def test_tags_that_no_dataset_carries_find_nothing(portals: dict[int, CountedPortal]) -> None:
    body = portals[10].reads("/api/catalog/v1", tags="no-such-tag")[1].json()
    assert body == {"results": [], "resultSetSize": 0, "timings": {}}


def test_tags_find_the_datasets_tagged_so(portals: dict[int, CountedPortal]) -> None:
    portal = portals[10]
    portal.store.update_metadata("ds-0004", MetadataChange(tags=("Streets", "311")))
    portal.store.update_metadata("ds-0006", MetadataChange(tags=("water",)))
    found = portal.reads("/api/catalog/v1", tags="streets")[1].json()
    assert _ids_of(found) == ["ds-0004"] and found["results"][0]["classification"]["domain_tags"] == [
        "Streets",
        "311",
    ]
    assert _ids_of(portal.reads("/api/catalog/v1", tags="water,311", order="dataset_id")[1].json()) == [
        "ds-0004",
        "ds-0006",
    ]
    assert _ids_of(portal.reads("/api/catalog/v1", tags="street")[1].json()) == []


def _ids_of(body: dict[str, Any]) -> list[str]:
    return [r["resource"]["id"] for r in body["results"]]


def test_tags_match_domain_tags_in_any_case() -> None:
    now = datetime(2024, 1, 1)
    base = DatasetInfo("a", "A", "", (), None, now, now, now, 1, 0)
    infos = [
        dataclasses.replace(base, id="roads", tags=("Streets", "311")),
        dataclasses.replace(base, id="water", tags=("utilities",)),
        dataclasses.replace(base, id="plain"),
    ]

    def found(*tags: str) -> list[str]:
        return [i.id for i in discover(infos, DiscoveryQuery(tags=tags), domain="x")]

    assert found("streets") == ["roads"]
    assert found("UTILITIES", "311") == ["roads", "water"]
    assert found("street") == []
    assert found() == ["roads", "water", "plain"]


def test_data_json_landing_pages_are_the_dataset_pages(portals: dict[int, CountedPortal]) -> None:
    portal = portals[10]
    entries = portal.reads("/data.json")[1].json()["dataset"]
    assert {e["landingPage"] for e in entries} == {f"{portal.url}/d/ds-{i:04d}" for i in range(10)}
