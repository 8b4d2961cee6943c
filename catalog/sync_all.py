"""Sync every dataset a catalog uses, several at a time, into one store.

``btvstat-open sync --catalog DIR [--parallel N]``, the Dagster definitions
(:mod:`btvstat_open.dagster`) and an Airflow task all call :func:`sync_catalog` (or
:func:`sync_one` for one dataset), so a cron job and an orchestrator run the same code.

Pulls run in a bounded pool of threads, each with its own connector (one HTTP session per
dataset). Writes into the store are serialised by the store itself (one DuckDB write
transaction at a time, see :meth:`btvstat_open.store.Store.transaction`) and the sync state
file by its lock, so concurrent syncs into one store are safe; a failed dataset leaves its
last good copy and state, and the others carry on.

Example (the demo catalog's datasets on its file portal; its peer is on a server of its own):
    >>> import tempfile
    >>> from btvstat_open.store import Store
    >>> from catalog.demo import DEMO_DIR
    >>> from catalog.loader import load_catalog
    >>> from catalog.sync_all import remote_datasets, sync_catalog
    >>> catalog = load_catalog(DEMO_DIR)
    >>> with Store(tempfile.mkdtemp()) as store:
    ...     outcomes = sync_catalog(catalog, store, only=remote_datasets(catalog))
    >>> [(o.dataset, o.result.mode, o.result.row_count) for o in outcomes if o.result]
    [('child-care-locations', 'full', 58), ('planting-sites', 'full', 12836)]
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Collection, Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any

from btvstat_open.errors import BtvstatError, SyncError, UsageError
from btvstat_open.store import Store
from btvstat_open.sync import SyncResult, sync_dataset
from catalog.models import Catalog
from catalog.peer_sync import peer_jobs, sync_peer

__all__ = [
    "DEFAULT_PARALLEL",
    "SyncOutcome",
    "describe_result",
    "remote_datasets",
    "sync_catalog",
    "sync_one",
]

DEFAULT_PARALLEL = 4
log = logging.getLogger("btvstat_open.sync")


@dataclass(frozen=True)
class SyncOutcome:
    """How the sync of one catalog dataset ended: ``result`` when it worked, else ``error``.

    Example:
        >>> failed = SyncOutcome("city", "abcd-1234", error=UsageError("No dataset abcd-1234."))
        >>> failed.ok, failed.line()
        (False, 'city/abcd-1234: FAILED: No dataset abcd-1234.')
    """

    portal: str
    dataset: str
    result: SyncResult | None = None
    error: BtvstatError | None = None

    @property
    def ok(self) -> bool:
        """Whether the dataset synced."""
        return self.error is None

    def line(self) -> str:
        """One line saying what happened (the failure's message says how to fix it)."""
        name = f"{self.portal}/{self.dataset}"
        if self.error is not None:
            return f"{name}: FAILED: {_message(self.error)}"
        assert self.result is not None
        return f"{name}: {describe_result(self.result)}"


def _message(error: BtvstatError) -> str:
    return " ".join(error.message.split())


def describe_result(result: SyncResult) -> str:
    """A one-line summary of a sync result.

    Example:
        >>> describe_result(SyncResult("x", "x", "unchanged", "metadata not modified", row_count=5))
        'unchanged (metadata not modified); 5 rows'
    """
    if result.mode == "unchanged":
        return f"unchanged ({result.reason}); {result.row_count:,} rows"
    counts = f"{result.created:,} new, {result.updated:,} updated, {result.deleted:,} deleted"
    change = f"; columns changed: {result.schema_change}" if result.schema_change else ""
    return f"{result.mode} sync ({result.reason}): {counts}; {result.row_count:,} rows{change}"


def remote_datasets(catalog: Catalog) -> list[tuple[str, str]]:
    """Every ``(portal, dataset)`` of the catalog that comes from a portal (not ``portal: local``).

    Example:
        >>> from catalog.loader import load_catalog
        >>> from catalog.demo import DEMO_DIR
        >>> remote_datasets(load_catalog(DEMO_DIR))
        [('burlington', 'child-care-locations'), ('burlington', 'planting-sites')]
    """
    return [(portal, dataset) for portal, dataset in catalog.datasets() if portal != "local"]


def sync_one(
    catalog: Catalog,
    store: Store,
    portal: str,
    dataset: str,
    *,
    progress: bool | None = False,
    options: Mapping[str, Any] | None = None,
) -> SyncResult:
    """Sync one dataset of the catalog from its portal into ``store`` (raises on failure).

    ``options`` go to :func:`connectors.connect` (``timeout``, ``retries``, ``page_size``...);
    the portal's ``kind:`` picks the connector (a ``file`` portal's folder is relative to the
    catalog folder) and its app token comes from the environment variable ``app_token_env`` names.

    Example (the demo catalog's portal ``burlington`` is a folder of CSV files beside it):
        >>> import tempfile
        >>> from btvstat_open.store import Store
        >>> from catalog.demo import DEMO_DIR
        >>> from catalog.loader import load_catalog
        >>> from catalog.sync_all import sync_one
        >>> catalog = load_catalog(DEMO_DIR)
        >>> store = Store(tempfile.mkdtemp())
        >>> result = sync_one(catalog, store, "burlington", "child-care-locations")
        >>> result.mode, result.row_count, store.info("child-care-locations").row_count
        ('full', 58, 58)
        >>> sync_one(catalog, store, "city", "x")
        Traceback (most recent call last):
        ...
        btvstat_open.errors.UsageError: The catalog has no portal 'city'. Add it under portals: ...
        >>> store.close()
    """
    from catalog.portals import open_portal

    if portal not in catalog.settings.portals:
        raise UsageError(f"The catalog has no portal {portal!r}. Add it under portals: in catalog.yaml.")
    with open_portal(catalog, portal, options) as source:
        return sync_dataset(source, dataset, store, dataset_id=dataset, progress=progress)


def sync_catalog(
    catalog: Catalog,
    store: Store,
    *,
    parallel: int = DEFAULT_PARALLEL,
    only: Collection[tuple[str, str]] | None = None,
    options: Mapping[str, Any] | None = None,
    on_done: Callable[[SyncOutcome], None] | None = None,
) -> list[SyncOutcome]:
    """Sync every remote dataset of the catalog (or ``only`` these), ``parallel`` at a time.

    One dataset's failure does not stop the others: each ends as a :class:`SyncOutcome`, in
    catalog order; ``on_done`` is called with each as it finishes (on the calling thread).
    Peers of the catalog's KPIs (``peers:``) are synced too, as ``(portal, store id)`` (see
    :mod:`catalog.peer_sync`). Progress bars are off (several cannot share a terminal).
    Datasets with the same id on two portals share one local copy, so they never sync at the
    same time.

    Example (the demo catalog's portal ``burlington`` is a folder of CSV files beside it):
        >>> import tempfile
        >>> from btvstat_open.store import Store
        >>> from catalog.demo import DEMO_DIR
        >>> from catalog.loader import load_catalog
        >>> from catalog.sync_all import sync_catalog
        >>> catalog = load_catalog(DEMO_DIR)
        >>> store = Store(tempfile.mkdtemp())
        >>> only = [("burlington", "child-care-locations")]
        >>> [outcome.line() for outcome in sync_catalog(catalog, store, only=only)]
        ['burlington/child-care-locations: full sync (first sync): 58 new, 0 updated, 0 deleted; 58 rows']
        >>> [outcome.result.mode for outcome in sync_catalog(catalog, store, only=only) if outcome.result]
        ['unchanged']
        >>> sync_catalog(catalog, store, parallel=0)
        Traceback (most recent call last):
        ...
        btvstat_open.errors.UsageError: The datasets synced at once (--parallel) must be at least 1 (got 0).
        >>> store.close()
    """
    if parallel < 1:
        raise UsageError(f"The datasets synced at once (--parallel) must be at least 1 (got {parallel}).")
    jobs = [job for job in remote_datasets(catalog) if only is None or job in only]
    # Peers (other cities' same measure) sync like any dataset, each under its own store id.
    peers = {job: peer for job, peer in peer_jobs(catalog).items() if only is None or job in only}
    jobs += list(peers)
    same_id: dict[str, threading.Lock] = {dataset: threading.Lock() for _, dataset in jobs}

    def sync(portal: str, dataset: str) -> SyncResult:
        if (portal, dataset) in peers:
            return sync_peer(catalog, store, peers[portal, dataset], options)
        return sync_one(catalog, store, portal, dataset, options=options)

    def run(job: tuple[str, str]) -> SyncOutcome:
        portal, dataset = job
        try:
            with same_id[dataset]:
                outcome = SyncOutcome(portal, dataset, result=sync(portal, dataset))
        except BtvstatError as exc:
            outcome = SyncOutcome(portal, dataset, error=exc)
        except Exception as exc:  # one dataset's bug must not stop the others; it is logged whole
            log.exception("sync of %s/%s failed", portal, dataset)
            bug = SyncError(f"unexpected {type(exc).__name__}: {exc} (a bug: please report it with the log)")
            bug.__cause__ = exc
            outcome = SyncOutcome(portal, dataset, error=bug)
        return outcome

    if not jobs:
        return []
    pool = ThreadPoolExecutor(max_workers=min(parallel, len(jobs)), thread_name_prefix="sync")
    try:
        futures = [pool.submit(run, job) for job in jobs]
        for future in as_completed(futures):
            if on_done is not None:
                on_done(future.result())
        return [future.result() for future in futures]
    except BaseException:
        # Interrupted (Ctrl-C): datasets not started yet are not started; those under way finish,
        # each all or nothing, so no dataset is left half-synced.
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    finally:
        pool.shutdown(wait=True)
