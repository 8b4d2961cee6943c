"""Peers sync like any dataset: each peer's dataset is pulled from its own portal into the store
under its own id (``peer-<city>-<dataset>``, or the peer's ``store_id``), by the same sync engine
and with the same sync state, so a second sync is incremental.

A failing peer never breaks a page: its last good copy stays in the store, and the failure is
recorded in ``<store>/peer-status.json`` (when, and the one-line reason) until a later sync of
that peer works. :func:`peer_status` reads it back with the last good sync's time.

Example:
    >>> from catalog.loader import load_catalog
    >>> from catalog.demo import DEMO_DIR
    >>> [(label, store_id) for (label, store_id) in peer_jobs(load_catalog(DEMO_DIR))]
    [('la-controller', 'peer-los-angeles-ca-la-operating-indicators')]
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from btvstat_open.errors import BtvstatError
from btvstat_open.store import Store
from btvstat_open.sync import SyncResult, sync_dataset
from btvstat_open.sync.state import load_state
from catalog.models import Catalog, Peer

__all__ = [
    "PEER_RETRIES",
    "PEER_STATUS_FILE",
    "PeerStatus",
    "peer_jobs",
    "peer_label",
    "peer_status",
    "sync_peer",
]

PEER_STATUS_FILE = "peer-status.json"
PEER_RETRIES = 1
_LOCK = threading.Lock()


@dataclass(frozen=True)
class PeerStatus:
    """How a peer's copy stands: the last good sync (None: never) and the last failure since."""

    synced_at: datetime | None
    failed_at: datetime | None = None
    error: str | None = None

    @property
    def failed(self) -> bool:
        """Whether the latest sync of the peer failed."""
        return self.failed_at is not None


def peer_label(peer: Peer) -> str:
    """The peer's portal as a sync line names it: the ``portals:`` key, or its URL."""
    return peer.portal if isinstance(peer.portal, str) else peer.portal.url


def peer_jobs(catalog: Catalog) -> dict[tuple[str, str], Peer]:
    """Every peer dataset of the catalog, by ``(portal label, store id)``, in catalog order."""
    jobs: dict[tuple[str, str], Peer] = {}
    for kpi in catalog.kpis.values():
        for peer in kpi.peers.cities if kpi.peers else []:
            jobs.setdefault((peer_label(peer), peer.dataset_id), peer)
    return jobs


def sync_peer(
    catalog: Catalog, store: Store, peer: Peer, options: Mapping[str, Any] | None = None
) -> SyncResult:
    """Sync one peer's dataset into the store; a failure is recorded (and raised), a success clears it.

    Another city's portal being down must not hold up the city's own sync: unless ``options``
    say otherwise, a peer's requests are retried once (``retries: 1``), not six times.
    """
    from catalog.portals import open_portal, open_portal_settings

    options = {"retries": PEER_RETRIES, **(options or {})}
    try:
        if isinstance(peer.portal, str):
            source = open_portal(catalog, peer.portal, options)
        else:
            source = open_portal_settings(catalog, peer.portal, options)
        with source:
            result = sync_dataset(source, peer.dataset, store, dataset_id=peer.dataset_id, progress=False)
    except BtvstatError as exc:
        _record(store, peer.dataset_id, " ".join(exc.message.split()))
        raise
    _record(store, peer.dataset_id, None)
    return result


def _record(store: Store, store_id: str, error: str | None) -> None:
    """Write (or clear) the peer's failure, atomically (a temporary file, then a rename)."""
    path = store.root / PEER_STATUS_FILE
    with _LOCK:
        document = _read(store)
        if error is None:
            if document.pop(store_id, None) is None:
                return
        else:
            document[store_id] = {"failed_at": datetime.now(UTC).isoformat(), "error": error}
        partial = path.with_name(path.name + ".partial")
        partial.write_text(json.dumps(document, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(partial, path)


def _read(store: Store) -> dict[str, dict[str, str]]:
    try:
        document = json.loads((store.root / PEER_STATUS_FILE).read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return {}
    return document if isinstance(document, dict) else {}


def peer_status(store: Store, store_id: str) -> PeerStatus:
    """The peer copy's last good sync (from the sync state) and its failure since, if any."""
    state = load_state(store.root).get(store_id)
    synced = datetime.fromisoformat(state.synced_at) if state and state.synced_at else None
    failure = _read(store).get(store_id)
    if not failure:
        return PeerStatus(synced_at=synced)
    return PeerStatus(
        synced_at=synced, failed_at=datetime.fromisoformat(failure["failed_at"]), error=failure.get("error")
    )
