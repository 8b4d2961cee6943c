"""Dagster definitions from a catalog: an asset per dataset and per KPI series (``btvstat-open[dagster]``).

Imported as :mod:`btvstat_open.dagster`. Each dataset a catalog pulls from a portal is an asset whose
materialisation is :func:`catalog.sync_all.sync_one` (what ``btvstat-open sync`` runs); a dataset on
``portal: local`` is an external asset (its rows are loaded into the store by other means). Each KPI
is an asset depending on its dataset (the one its ``source`` and its ``breakdown`` read), whose value
is the series :func:`catalog.measure.measure` computes (what ``btvstat-open measure`` prints), with
the KPI's ``freshness.expect`` as its freshness policy. One more asset, ``notify``, runs the
catalog's notification rules after every KPI (what ``btvstat-open notify`` runs); a delivery that
fails stays in the store's outbox for the next run and never fails the step.

Each peer city's dataset (``peers:``, docs/peers.md) is an asset of its own, ``peer/<store id>``,
that no KPI depends on. The steps run in one process, one after another (Dagster's in-process
executor): the store is one DuckDB file, which one process at a time may open for writing. Inside
``btvstat-open sync`` the same datasets sync concurrently; here Dagster orders them.

Example:
    >>> from catalog.demo import DEMO_DIR
    >>> defs = definitions(DEMO_DIR, store="/tmp/store")
    >>> kpi_key("pothole-days-to-close") in defs.resolve_asset_graph().get_all_asset_keys()
    True
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa

try:
    import dagster as dg
except ImportError as exc:  # the optional extra is not installed
    raise ImportError(
        "btvstat_open.dagster needs Dagster: pip install 'btvstat-open[dagster]' (or pip install dagster)."
    ) from exc

from btvstat_open.store import Store
from catalog.asof import today_for
from catalog.freshness import GRACE, longest_interval
from catalog.loader import load_catalog
from catalog.measure import measure
from catalog.models import Catalog, Kpi, Peer
from catalog.peer_sync import peer_jobs, peer_label, sync_peer
from catalog.sync_all import describe_result, sync_one

__all__ = ["NOTIFY_KEY", "dataset_key", "definitions", "freshness_policy", "kpi_key"]

NOTIFY_KEY = dg.AssetKey(["notify"])


def dataset_key(portal: str, dataset: str) -> dg.AssetKey:
    """The asset key of a catalog dataset.

    Example:
        >>> dataset_key("city", "abcd-1234").to_user_string()
        'dataset/city/abcd-1234'
    """
    return dg.AssetKey(["dataset", portal, dataset])


def kpi_key(kpi_id: str) -> dg.AssetKey:
    """The asset key of a KPI's series.

    Example:
        >>> kpi_key("pothole-days-to-close").to_user_string()
        'kpi/pothole-days-to-close'
    """
    return dg.AssetKey(["kpi", kpi_id])


def freshness_policy(expect: str) -> dg.FreshnessPolicy:
    """The KPI's freshness as Dagster's: warn after one ``expect`` interval, fail after it plus the
    day of grace that the catalog's own staleness rule allows.

    Example:
        >>> policy = freshness_policy("weekly")
        >>> policy.warn_window.to_timedelta().days, policy.fail_window.to_timedelta().days
        (7, 8)
    """
    interval = longest_interval(expect)
    return dg.FreshnessPolicy.time_window(fail_window=interval + GRACE, warn_window=interval)


def _dataset_asset(catalog: Catalog, store_root: Path, portal: str, dataset: str) -> dg.AssetsDefinition:
    url = catalog.settings.portals[portal].url

    @dg.asset(
        key=dataset_key(portal, dataset),
        group_name="datasets",
        description=f"Dataset {dataset} from {url}, synced incrementally into the store at {store_root}.",
        kinds={"duckdb"},
        metadata={"portal": url, "store": str(store_root)},
    )
    def sync() -> dg.MaterializeResult[Any]:
        with Store(store_root) as store:
            result = sync_one(catalog, store, portal, dataset)
        return dg.MaterializeResult(
            metadata={
                "summary": describe_result(result),
                "mode": result.mode,
                "rows": result.row_count,
                "created": result.created,
                "updated": result.updated,
                "deleted": result.deleted,
            }
        )

    return sync


def _peer_asset(catalog: Catalog, store_root: Path, peer: Peer) -> dg.AssetsDefinition:
    """A peer city's dataset (docs/peers.md), synced as ``btvstat-open sync`` syncs it. No KPI
    depends on it: a peer's failure never holds up the city's own series."""

    @dg.asset(
        key=dg.AssetKey(["peer", peer.dataset_id]),
        group_name="peers",
        description=f"{peer.city}'s dataset {peer.dataset} from {peer_label(peer)}, for comparison.",
        kinds={"duckdb"},
    )
    def sync() -> dg.MaterializeResult[Any]:
        with Store(store_root) as store:
            result = sync_peer(catalog, store, peer)
        return dg.MaterializeResult(metadata={"summary": describe_result(result), "rows": result.row_count})

    return sync


def _kpi_asset(catalog: Catalog, store_root: Path, kpi: Kpi) -> dg.AssetsDefinition:
    source = kpi.source

    @dg.asset(
        key=kpi_key(kpi.id),
        deps=[dataset_key(source.portal, source.dataset)],
        group_name="kpis",
        description=f"{kpi.title} ({kpi.department}): the series `btvstat-open measure {kpi.id}` prints.",
        kinds={"duckdb"},
        freshness_policy=freshness_policy(kpi.freshness.expect) if kpi.freshness else None,
        tags={"department": _tag(kpi.department)},
    )
    def series() -> dg.Output[pa.Table]:
        with Store(store_root) as store:
            table = measure(kpi, store, catalog.settings, today=today_for(catalog.settings, None))
        latest = table.slice(table.num_rows - 1).to_pylist()[0] if table.num_rows else {}
        return dg.Output(
            table,
            metadata={
                "periods": table.num_rows,
                "latest_period": str(latest.get("period_start", "")),
                "latest_value": dg.MetadataValue.float(float(latest["value"]))
                if latest.get("value") is not None
                else dg.MetadataValue.null(),
                "latest_status": str(latest.get("status", "")),
            },
        )

    return series


def _notify_asset(catalog: Catalog, store_root: Path) -> dg.AssetsDefinition:
    from catalog.notify.run import notify

    @dg.asset(
        key=NOTIFY_KEY,
        deps=[kpi_key(k) for k in catalog.kpis],
        group_name="notify",
        description="The catalog's notification rules: what `btvstat-open notify` sends.",
    )
    def notify_run() -> dg.MaterializeResult[Any]:
        with Store(store_root) as store:
            found, done = notify(catalog, store, today_for(catalog.settings, None))
        return dg.MaterializeResult(
            metadata={
                "events": len(found.events),
                "messages": len(found.items),
                "delivered": len(done.delivered),
                "failed": len(done.failed),
            }
        )

    return notify_run


def _tag(text: str) -> str:
    """A tag value Dagster accepts (letters, digits, ``-_.``, at most 63 characters)."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in text)[:63]


def definitions(catalog_dir: str | Path, *, store: str | Path) -> dg.Definitions:
    """Dagster definitions for the catalog at ``catalog_dir`` over the store folder ``store``.

    A definitions file for ``dagster dev -f``: ``defs = definitions("catalog", store=".btvstat/store")``.

    Example:
        >>> from catalog.demo import DEMO_DIR
        >>> graph = definitions(DEMO_DIR, store="/tmp/store").resolve_asset_graph()
        >>> sorted(graph.get(kpi_key("water-use-monthly")).parent_keys)
        [AssetKey(['dataset', 'local', 'la-water-power-usage'])]
    """
    catalog = load_catalog(catalog_dir)
    store_root = Path(store)
    assets: list[dg.AssetsDefinition | dg.AssetSpec] = []
    for portal, dataset in catalog.datasets():
        if portal == "local":
            description = f"Dataset {dataset}, loaded into the store at {store_root} outside Dagster."
            assets.append(
                dg.AssetSpec(dataset_key(portal, dataset), group_name="datasets", description=description)
            )
        else:
            assets.append(_dataset_asset(catalog, store_root, portal, dataset))
    assets += [_kpi_asset(catalog, store_root, kpi) for kpi in catalog.kpis.values()]
    assets += [_peer_asset(catalog, store_root, peer) for peer in peer_jobs(catalog).values()]
    assets.append(_notify_asset(catalog, store_root))
    return dg.Definitions(assets=assets, executor=dg.in_process_executor)
