"""The demo's second local portal: the peer city's data, served beside ``serve --demo``.

The demo catalog compares Burlington, VT's trees planted per year with Los Angeles's
(``parks/trees-planted-yearly.yaml``, docs/peers.md). Los Angeles's data lives on a portal of its
own, ``la-controller`` in ``catalog/demo/catalog.yaml`` (http://127.0.0.1:8001): ``serve --demo``
starts it (btvstat-open's own SODA portal over a store of its own, beside the demo's, holding the
bundled LA Controller operating indicators), then syncs the demo's peers from it in the
background, exactly as ``btvstat-open sync`` would. When that port is taken (another demo runs)
the second portal is not started and the sync still tries the address; a failure shows on the KPI
page as the peer's flag, with its last good values.

Example:
    >>> from catalog.demo import DEMO_DIR
    >>> from catalog import load_catalog
    >>> peer_portal_address(load_catalog(DEMO_DIR))
    ('127.0.0.1', 8001)
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from btvstat_open.store import Store
from catalog.models import Catalog

__all__ = ["DEMO_PEER_PORTAL", "demo_peer_portal", "peer_portal_address"]

DEMO_PEER_PORTAL = "la-controller"
_DATASET = "la-operating-indicators"


def peer_portal_address(catalog: Catalog) -> tuple[str, int] | None:
    """The host and port the demo's peer portal answers on (None when the catalog has none)."""
    portal = catalog.settings.portals.get(DEMO_PEER_PORTAL)
    if portal is None:
        return None
    parts = urlsplit(portal.url)
    return (parts.hostname or "127.0.0.1", parts.port or 80)


def _free(host: str, port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


@contextmanager
def demo_peer_portal(store: Store, catalog: Catalog, log: Callable[[str], None]) -> Iterator[None]:
    """Serve the demo's peer portal while the demo serves, and sync the demo's peers from it once."""
    import uvicorn

    from btvstat_open.portal.app import create_portal_app
    from btvstat_open.web.settings import Settings
    from catalog.demo import load_demo_data

    address = peer_portal_address(catalog)
    if address is None:
        yield
        return
    server: uvicorn.Server | None = None
    thread: threading.Thread | None = None
    peer_store = Store(Path(f"{store.root}-peer-portal"))
    try:
        if _free(*address):
            load_demo_data(peer_store, only=[_DATASET])
            config = uvicorn.Config(
                create_portal_app(peer_store, Settings()),
                host=address[0],
                port=address[1],
                log_level="warning",
            )
            server = uvicorn.Server(config)
            thread = threading.Thread(target=server.run, name="demo-peer-portal", daemon=True)
            thread.start()
        else:
            log(f"demo: port {address[1]} is in use; the peer city's portal is not started there")
        threading.Thread(target=_sync_peers, args=(server, store, catalog, log), daemon=True).start()
        yield
    finally:
        if server is not None and thread is not None:
            server.should_exit = True
            thread.join(timeout=5)
        peer_store.close()


def _sync_peers(server: object, store: Store, catalog: Catalog, log: Callable[[str], None]) -> None:
    """Wait for the peer portal to start (a few seconds at most), then sync the catalog's peers."""
    import time

    from catalog.peer_sync import peer_jobs
    from catalog.sync_all import sync_catalog

    deadline = time.monotonic() + 10
    while server is not None and not getattr(server, "started", True) and time.monotonic() < deadline:
        time.sleep(0.05)
    for outcome in sync_catalog(catalog, store, only=list(peer_jobs(catalog))):
        log(f"demo peer sync: {outcome.line()}")
