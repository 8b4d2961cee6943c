"""The ArcGIS connector through a proxy failing 20% of requests (every kind), and syncs into a store."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from arcgis_standin import ArcgisStandin, Lies, Service, layer_from_table
from faults import FAULTS, fault_proxy
from servers import serve

from btvstat_open.store import Store
from btvstat_open.sync import sync_dataset
from connectors.arcgis import ArcgisConnector
from connectors.testing import source_table

BIG = 20_000


def checksum(table: pa.Table) -> str:
    """A digest of the rows, independent of their order."""
    ordered = table.select(["case_id", "amount", "opened", "closed", "geometry"]).sort_by("case_id")
    digest = hashlib.sha256()
    for column in ordered.columns:
        for chunk in column.chunks:
            for buf in chunk.buffers():
                if buf is not None:
                    digest.update(buf.to_pybytes())
    return f"{ordered.num_rows}:{digest.hexdigest()}"


@pytest.fixture(scope="module")
def big() -> Iterator[tuple[str, ArcgisStandin]]:
    layer = layer_from_table(0, "Big", source_table(BIG), geometry=True, max_record_count=2000)
    app = ArcgisStandin(
        {"Big": Service({0: layer}), "Ranged": Service({0: layer}, Lies(no_flag=True), False)}
    )
    with serve(app) as url:
        yield url, app


@pytest.mark.parametrize("service", ["Big", "Ranged"])
def test_pull_through_faults_is_exactly_the_source(
    big: tuple[str, ArcgisStandin], tmp_path: Path, service: str
) -> None:
    url, _ = big
    expected = checksum(ArcgisConnector(f"{url}/arcgis/rest/services/{service}/FeatureServer").pull("0"))
    assert expected.startswith(f"{BIG}:")
    with fault_proxy(url, rate=0.25, seed=13) as (proxy_url, proxy):
        conn = ArcgisConnector(
            f"{proxy_url}/arcgis/rest/services/{service}/FeatureServer",
            page_size=400,
            retries=12,
            backoff=0.005,
            max_wait=0.05,
        )
        result = conn.pull_to("0", tmp_path / "big.parquet")
    assert proxy.fault_share >= 0.2 and set(proxy.injected) == set(FAULTS), proxy.injected
    assert result.rows == BIG
    assert checksum(pq.read_table(result.path)) == expected


def _store_rows(store: Store, local_id: str) -> dict[str, tuple[object, ...]]:
    table = store.arrow(local_id)
    return {r["case_id"]: (r["amount"], r["closed"]) for r in table.to_pylist()}


def _layer_rows(app: ArcgisStandin, service: str) -> dict[str, tuple[object, ...]]:
    return {r["case_id"]: (r["amount"], bool(r["closed"])) for r in app.services[service].layers[0].rows}


@pytest.mark.parametrize("lies", [Lies(), Lies(whole_seconds=True)], ids=["honest", "whole-seconds"])
def test_sync_is_incremental_by_edit_date(tmp_path: Path, lies: Lies) -> None:
    layer = layer_from_table(0, "Cases", source_table(3_000), geometry=True)
    app = ArcgisStandin({"Cases": Service({0: layer}, lies)})
    store = Store(tmp_path / "store")
    with serve(app) as url:
        conn = ArcgisConnector(f"{url}/arcgis/rest/services/Cases/FeatureServer", page_size=700)
        assert conn.supports("changes")
        first = sync_dataset(conn, "0", store, dataset_id="cases", progress=False)
        assert (first.mode, first.row_count) == ("full", 3_000)
        assert sync_dataset(conn, "0", store, dataset_id="cases", progress=False).mode == "unchanged"
        app.edit(
            "Cases",
            0,
            at=datetime(2024, 6, 1, 12, 0, 0, 250_000),
            update={5: {"amount": 999.5}, 2_000: {"closed": 1}},
            add=[{"case_id": "new-1", "amount": 1.0, "opened": 0, "closed": 0}],
            delete=[7],
        )
        app.log.clear()
        second = sync_dataset(conn, "0", store, dataset_id="cases", progress=False)
        assert second.mode == "incremental", second
        assert (second.created, second.updated, second.deleted) == (1, 2, 1)
        # The edited rows only; with whole-second literals also the 100 rows at the old cursor's second.
        assert second.row_count == 3_000 and second.rows_pulled == (103 if lies.whole_seconds else 3)
        pulled = [q for p, q in app.log if p.endswith("/0/query") and "EditDate >=" in q.get("where", "")]
        assert pulled  # only edited rows were asked for
        assert _store_rows(store, "cases") == _layer_rows(app, "Cases")
        if lies.whole_seconds:  # the connector now writes whole-second literals for this layer
            asked = " ".join(q.get("where", "") for _, q in app.log)
            assert "< timestamp '2024-03-01 00:00:29.001'" in asked  # refused by the server
            assert "< timestamp '2024-03-01 00:00:30'" in asked  # asked again in whole seconds
        third = sync_dataset(conn, "0", store, dataset_id="cases", progress=False)
        assert third.mode == "unchanged" and _store_rows(store, "cases") == _layer_rows(app, "Cases")
    store.close()


def test_a_layer_without_edit_dates_syncs_whole_when_it_was_edited(tmp_path: Path) -> None:
    layer = layer_from_table(0, "Static", source_table(300), edit_tracking=False)
    layer.last_edit_ms = 1_700_000_000_000
    app = ArcgisStandin({"Static": Service({0: layer})})
    store = Store(tmp_path / "store")
    with serve(app) as url:
        conn = ArcgisConnector(f"{url}/arcgis/rest/services/Static/FeatureServer/0")
        assert not conn.supports("changes")
        assert sync_dataset(conn, "0", store, dataset_id="static", progress=False).mode == "full"
        assert sync_dataset(conn, "0", store, dataset_id="static", progress=False).mode == "unchanged"
        app.edit("Static", 0, at=datetime(2024, 6, 2), update={3: {"amount": -1.0}})
        again = sync_dataset(conn, "0", store, dataset_id="static", progress=False)
        assert again.mode == "full" and again.row_count == 300
        assert _store_rows(store, "static") == _layer_rows(app, "Static")
    store.close()
