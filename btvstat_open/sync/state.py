"""The sync state file: what each synced dataset's local copy was last brought up to.

One JSON file per store (``<store>/sync-state.json``), versioned. It is written only
after the data it describes is committed, atomically (temporary file, fsync, rename)
and under a lock file, so a kill at any moment leaves either the old or the new state.

Version history:

* 1: ``{"version": 1, "datasets": {id: {"cursor": "<:updated_at>", "etag", "last_modified"}}}``
* 2: the cursor became ``{"updated_at", "id", "boundary_ids"}``; ``source``, ``remote_id``,
  ``schema``, ``row_identifier``, ``row_count`` and ``synced_at`` were added.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from btvstat_open.atomic import write_atomically
from btvstat_open.errors import SyncError

__all__ = ["STATE_FILE", "STATE_VERSION", "DatasetState", "load_state", "migrate", "save_dataset_state"]

STATE_FILE = "sync-state.json"
STATE_VERSION = 2
log = logging.getLogger("btvstat_open.sync")


@dataclass
class DatasetState:
    """What the last completed sync of one dataset saw at the source."""

    source: str
    remote_id: str
    cursor_updated_at: str | None = None
    cursor_id: str | None = None
    boundary_ids: list[str] = field(default_factory=list)
    etag: str | None = None
    last_modified: str | None = None
    schema: list[list[str]] | None = None
    row_identifier: str | None = None
    row_count: int = 0
    synced_at: str | None = None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["cursor"] = {
            "updated_at": data.pop("cursor_updated_at"),
            "id": data.pop("cursor_id"),
            "boundary_ids": data.pop("boundary_ids"),
        }
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DatasetState:
        cursor = data.get("cursor") or {}
        return cls(
            source=str(data.get("source") or ""),
            remote_id=str(data.get("remote_id") or ""),
            cursor_updated_at=cursor.get("updated_at"),
            cursor_id=cursor.get("id"),
            boundary_ids=[str(i) for i in cursor.get("boundary_ids") or []],
            etag=data.get("etag"),
            last_modified=data.get("last_modified"),
            schema=data.get("schema"),
            row_identifier=data.get("row_identifier"),
            row_count=int(data.get("row_count") or 0),
            synced_at=data.get("synced_at"),
        )


def migrate(document: dict[str, Any]) -> dict[str, Any]:
    """A state document brought up to :data:`STATE_VERSION`.

    Example:
        >>> old = {"version": 1, "datasets": {"x": {"cursor": "2024-01-01T00:00:00.000Z", "etag": '"e"'}}}
        >>> migrate(old)["datasets"]["x"]["cursor"]["updated_at"]
        '2024-01-01T00:00:00.000Z'
    """
    version = document.get("version", 1)
    if not isinstance(version, int) or version > STATE_VERSION:
        raise SyncError(
            f"The sync state was written by a newer btvstat-open (format {version!r}); "
            "upgrade btvstat-open, or delete sync-state.json to sync every dataset whole."
        )
    datasets = dict(document.get("datasets") or {})
    if version < 2:
        for dataset_id, entry in list(datasets.items()):
            cursor = entry.get("cursor")
            datasets[dataset_id] = {
                "source": entry.get("source", ""),
                "remote_id": entry.get("remote_id", dataset_id),
                "cursor": {"updated_at": cursor, "id": None, "boundary_ids": []}
                if isinstance(cursor, str) or cursor is None
                else cursor,
                "etag": entry.get("etag"),
                "last_modified": entry.get("last_modified"),
                "schema": None,
                "row_identifier": entry.get("row_identifier"),
                "row_count": entry.get("row_count", -1),
                "synced_at": entry.get("synced_at"),
            }
    return {"version": STATE_VERSION, "datasets": datasets}


def _read(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {"version": STATE_VERSION, "datasets": {}}
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        log.warning("%s is not valid JSON; every dataset will be synced whole", path)
        return {"version": STATE_VERSION, "datasets": {}}
    if not isinstance(document, dict):
        return {"version": STATE_VERSION, "datasets": {}}
    return migrate(document)


def load_state(root: Path) -> dict[str, DatasetState]:
    """Every dataset's state in the store at ``root`` (migrated to the current version)."""
    document = _read(root / STATE_FILE)
    return {k: DatasetState.from_json(v) for k, v in document["datasets"].items() if isinstance(v, dict)}


@contextlib.contextmanager
def _locked(root: Path) -> Iterator[None]:
    """Hold the store's state lock (other processes syncing into the same store wait)."""
    with open(root / "sync-state.lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def save_dataset_state(root: Path, dataset_id: str, state: DatasetState) -> None:
    """Record one dataset's state; the file is replaced whole, atomically."""
    path = root / STATE_FILE
    with _locked(root):
        document = _read(path)
        document["datasets"][dataset_id] = state.to_json()
        write_atomically(path, json.dumps(document, indent=1, sort_keys=True))
