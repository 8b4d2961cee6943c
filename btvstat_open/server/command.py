"""``btvstat-open serve``: own the store, serve the app, reload the catalog, sync on a schedule.

While it runs, this process owns the store (:mod:`btvstat_open.store.owner`): the other commands
run inside it through the local control endpoint (:mod:`btvstat_open.remote`). The catalog is
reloaded when its files change or on ``SIGHUP`` (a catalog with errors keeps the last good one
serving), and ``sync_every:`` in ``catalog.yaml`` syncs its datasets on a schedule
(:mod:`btvstat_open.server.running`).
"""

from __future__ import annotations

import argparse
import gc
import os
import signal
import sys
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path

from btvstat_open.errors import UsageError
from btvstat_open.people import plain_http_warning
from btvstat_open.remote import ControlServer
from btvstat_open.server import create_app
from btvstat_open.server.running import CatalogWatcher, SwappableApp, SyncSchedule
from btvstat_open.store import Store, find_owner
from btvstat_open.store.owner import disown, own
from btvstat_open.web.settings import Settings
from catalog import load_catalog
from catalog.asof import frozen_at
from catalog.dataset_meta import apply_dataset_metadata
from catalog.models import Catalog

__all__ = ["owning", "run_serve"]


def _catalog_folder(args: argparse.Namespace) -> Path | None:
    """The folder the served catalog comes from (the demo's own with --demo), or None."""
    if getattr(args, "demo", False):
        from catalog.demo import DEMO_DIR

        if args.catalog:
            raise UsageError("Use either --demo or --catalog DIR, not both.")
        return Path(DEMO_DIR)
    return Path(args.catalog) if args.catalog else None


def _catalog(args: argparse.Namespace, store: Store) -> Catalog | None:
    folder = _catalog_folder(args)
    if folder is not None and getattr(args, "demo", False):
        from catalog.demo import load_demo_data

        # Writes to demo datasets are kept across restarts; say so, so nobody wonders why a
        # demo dataset differs from the bundled one.
        load_demo_data(store, notice=_log)
    if folder is None:
        return None
    catalog = load_catalog(folder, store)
    apply_dataset_metadata(catalog.settings, store)  # datasets: in catalog.yaml
    return catalog


def _log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def run_serve(args: argparse.Namespace) -> int:
    """Serve the dashboard, embeds and the SODA API with uvicorn until interrupted (``serve``).

    Example:
        >>> from btvstat_open.cli import build_parser
        >>> run_serve(build_parser().parse_args(["serve", "--port", "0"]))
        Traceback (most recent call last):
        ...
        btvstat_open.errors.UsageError: --port 0 is not a TCP port; use a number from 1 to 65535.
    """
    import uvicorn

    from btvstat_open.web.serving import server_config

    if not 0 < args.port < 65536:
        raise UsageError(f"--port {args.port} is not a TCP port; use a number from 1 to 65535.")
    owner = find_owner(args.store)
    if owner is not None:
        raise UsageError(
            f"The store {args.store} is already served by process {owner.pid}; stop it first, or serve "
            "another store (--store DIR). Other commands run through the running server."
        )
    store = Store(args.store)
    catalog = _catalog(args, store)
    as_of = getattr(args, "as_of", None)
    if catalog is not None:
        # --as-of freezes "today" for every page, image and download the server makes.
        catalog = frozen_at(catalog, as_of)
    elif as_of is not None:
        raise UsageError("--as-of needs a catalog: add --demo or --catalog DIR.")
    settings = Settings.from_env()
    app = SwappableApp(create_app(store, catalog, settings))
    host = f"[{args.host}]" if ":" in args.host else args.host
    title = (
        catalog.settings.title if catalog else "the local portal (no catalog: use --demo or --catalog DIR)"
    )
    print(f"Serving {title} at http://{host}:{args.port} (Ctrl+C to stop)", flush=True)
    if catalog is not None and getattr(args, "demo", False):
        # The demo's two accounts, with new passwords at each start (after the address line, which
        # scripts and tests wait for first).
        from btvstat_open.people.demo import seed_demo_people

        print("\n".join(seed_demo_people(store, catalog)), flush=True)
    if catalog is not None and (warning := plain_http_warning(args.host)):
        print(warning, file=sys.stderr, flush=True)
    # Everything loaded so far (libraries, catalog, app) lives as long as this process: move it out
    # of the collector's reach, so a full collection while serving scans only new objects (~150,000
    # start-up objects made each one a pause of 150-250 ms). Process-wide, so here at the start of
    # the process and not in create_app (tests and embedders build many apps in one process).
    gc.collect()
    gc.freeze()
    # Timeouts for slow clients and a connection cap (the http_* settings, docs/settings.md).
    server = uvicorn.Server(server_config(app, settings, args.host, args.port, log_level="warning"))
    with owning(store), _live(args, store, settings, app, catalog), _demo_peer(args, store, catalog):
        # uvicorn stops on SIGTERM, then raises it again: end by an exception, so the owner file goes.
        signal.signal(signal.SIGTERM, _terminated)
        server.run()
    return 0


def _demo_peer(
    args: argparse.Namespace, store: Store, catalog: Catalog | None
) -> AbstractContextManager[None]:
    """With --demo: the peer city's second local portal, and the demo's peers synced from it."""
    if catalog is None or not getattr(args, "demo", False):
        return nullcontext()
    from btvstat_open.server.demo_peer import demo_peer_portal

    return demo_peer_portal(store, catalog, _log)


@contextmanager
def _live(
    args: argparse.Namespace, store: Store, settings: Settings, app: SwappableApp, catalog: Catalog | None
) -> Iterator[None]:
    """Reload the catalog when it changes (or on SIGHUP), and run its scheduled syncs, while serving."""
    folder = _catalog_folder(args)
    if folder is None or catalog is None:
        yield
        return
    served = [catalog]
    as_of = getattr(args, "as_of", None)

    def rebuild() -> Catalog:
        fresh = frozen_at(load_catalog(folder, store), as_of)
        apply_dataset_metadata(fresh.settings, store)
        app.swap(create_app(store, fresh, settings))
        served[0] = fresh
        return fresh

    watcher = CatalogWatcher(folder, rebuild, _log, interval=settings_interval())
    schedule = SyncSchedule(store, lambda: served[0], _log)
    watcher.start()
    schedule.start()
    if hasattr(signal, "SIGHUP"):
        signal.signal(signal.SIGHUP, lambda signum, frame: watcher.reload_now())
    try:
        yield
    finally:
        watcher.stop()
        schedule.stop()


def settings_interval() -> float:
    """How often the catalog's files are looked at, in seconds (``BTVSTAT_CATALOG_POLL_SECONDS``, 2)."""
    return float(os.environ.get("BTVSTAT_CATALOG_POLL_SECONDS", "2"))


def _terminated(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


@contextmanager
def owning(store: Store) -> Iterator[ControlServer]:
    """While the block runs, this process owns ``store``: other commands run in it (``remote``)."""
    from btvstat_open.cli import dispatch

    own(store)
    control = ControlServer(store.root, dispatch)
    control.start()
    try:
        yield control
    finally:
        control.stop()
        disown(store)
