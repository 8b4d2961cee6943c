"""``btvstat_open.dagster``: definitions built from the demo catalog, materialised in-process against a
real local portal, give exactly what ``btvstat-open measure`` prints."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
from catalog_files import MISSING_KPI, remote_demo
from demo_store import demo_store
from servers import serve

from btvstat_open.cli import main
from btvstat_open.dagster import NOTIFY_KEY, dataset_key, definitions, kpi_key
from btvstat_open.portal.app import create_portal_app
from btvstat_open.web.settings import Settings
from catalog import load_catalog
from catalog.commands import series_json
from catalog.demo import DEMO_DIR


@pytest.fixture(scope="module")
def portal_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with (
        demo_store(tmp_path_factory.mktemp("portal")) as store,
        serve(create_portal_app(store, Settings())) as url,
    ):
        yield url


def _measured(kpi_id: str, root: Path, store: Path, capsys: pytest.CaptureFixture[str]) -> object:
    assert main(["measure", kpi_id, "--catalog", str(root), "--store", str(store), "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_the_graph_has_an_asset_per_dataset_and_kpi_with_dependencies_and_freshness() -> None:
    catalog = load_catalog(DEMO_DIR)
    graph = definitions(DEMO_DIR, store="/nowhere").resolve_asset_graph()
    datasets = {dataset_key(portal, dataset) for portal, dataset in catalog.datasets()}
    # The demo's one peer city (docs/peers.md) has an asset of its own, which no KPI depends on.
    peers = {dg.AssetKey(["peer", "peer-los-angeles-ca-la-operating-indicators"])}
    assert graph.get_all_asset_keys() == datasets | {kpi_key(k) for k in catalog.kpis} | {NOTIFY_KEY} | peers
    assert all(graph.get(k).is_materializable and not graph.get(k).child_keys for k in peers)
    assert graph.get(NOTIFY_KEY).parent_keys == {kpi_key(k) for k in catalog.kpis}
    for kpi in catalog.kpis.values():
        node = graph.get(kpi_key(kpi.id))
        # The demo's Burlington KPIs come from its file portal, the others from the local store.
        assert node.parent_keys == {dataset_key(kpi.source.portal, kpi.source.dataset)}
        if kpi.freshness is None:
            assert node.freshness_policy is None
        else:
            assert node.freshness_policy is not None
    weekly = graph.get(kpi_key("pothole-requests-weekly")).freshness_policy
    assert weekly is not None and weekly.fail_window.to_timedelta().days == 8  # type: ignore[attr-defined]
    # Local datasets are loaded outside Dagster: external assets, nothing to materialise.
    assert not graph.get(dataset_key("local", "kc-311-potholes")).is_materializable
    assert graph.get(dataset_key("burlington", "planting-sites")).is_materializable  # synced by the file kind


def test_materialising_syncs_the_datasets_and_gives_the_measured_series(
    portal_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = remote_demo(tmp_path / "catalog", portal_url, extra={"gone.yaml": MISSING_KPI})
    store = tmp_path / "store"
    defs = definitions(root, store=store)
    result = dg.materialize(list(defs.assets or []), raise_on_error=False)
    catalog = load_catalog(root)
    materialised = {event.asset_key for event in result.get_asset_materialization_events()}
    kpis = [k for k in catalog.kpis if k != "gone-kpi"]
    expected = {dataset_key(p, d) for p, d in catalog.datasets() if d != "gone-1234"}
    assert materialised == expected | {kpi_key(k) for k in kpis}
    # The missing dataset's step failed and its KPI was skipped; the rest ran.
    failed = [e.step_key for e in result.get_step_failure_events()]
    assert len(failed) == 1 and "gone_1234" in str(failed[0])
    assert not result.success
    for kpi_id in kpis:
        assert series_json(result.asset_value(kpi_key(kpi_id))) == _measured(kpi_id, root, store, capsys)
    # The synced copies are what the portal serves: measured against the demo store, the same series
    # (up to float rounding: an average sums the rows in another order).
    demo_store(tmp_path / "demo-store").close()
    for kpi_id in ["pothole-days-to-close", "water-use-monthly"]:
        synced = _rounded(_measured(kpi_id, root, store, capsys))
        assert synced == _rounded(_measured(kpi_id, DEMO_DIR, tmp_path / "demo-store", capsys))


def _rounded(series: object) -> list[dict[str, object]]:
    assert isinstance(series, list) and series
    return [{k: round(v, 9) if isinstance(v, float) else v for k, v in row.items()} for row in series]
