"""Who owns a store: one process at a time holds ``store.duckdb`` open, and ``serve`` says so.

DuckDB lets one process open a database file for writing. ``btvstat-open serve`` keeps its
store open for as long as it runs, so it writes an **owner file** (``serve.json``, readable by
its user only) into the store folder: its process id, the address of its local control
endpoint and a random token. Every other command that needs the store first looks for that
file (:func:`find_owner`); when the owner is alive, the command runs inside the owner instead
(:mod:`btvstat_open.remote`), on the owner's open store, so the site stays up while data moves.

Inside the owner, :func:`open_store` hands out the owned :class:`Store` (whose ``close`` then
does nothing) instead of opening the file a second time.

Example:
    >>> import tempfile
    >>> root = tempfile.mkdtemp()
    >>> find_owner(root) is None
    True
    >>> claim(root, "http://127.0.0.1:1", "secret")
    >>> owner = find_owner(root)
    >>> owner.url, owner.token, owner.pid == os.getpid()
    ('http://127.0.0.1:1', 'secret', True)
    >>> release(root)
    >>> find_owner(root) is None
    True
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from btvstat_open.atomic import write_atomically
from btvstat_open.errors import StoreError
from btvstat_open.store.database import Store

__all__ = ["OWNER_FILE", "Owner", "claim", "find_owner", "open_store", "own", "release"]

OWNER_FILE = "serve.json"

_owned: dict[Path, Store] = {}
_owned_lock = threading.Lock()


@dataclass(frozen=True)
class Owner:
    """The process that holds a store open: its id, control endpoint and token."""

    pid: int
    url: str
    token: str


def _key(root: str | Path) -> Path:
    return Path(root).resolve()


def claim(root: str | Path, url: str, token: str) -> None:
    """Write the owner file of the store at ``root`` (atomically, readable by this user only)."""
    path = Path(root) / OWNER_FILE
    write_atomically(path, json.dumps({"pid": os.getpid(), "url": url, "token": token}), mode=0o600)


def release(root: str | Path) -> None:
    """Remove the owner file, if it is this process's."""
    path = Path(root) / OWNER_FILE
    owner = _read(path)
    if owner is not None and owner.pid == os.getpid():
        path.unlink(missing_ok=True)


def _read(path: Path) -> Owner | None:
    try:
        text = path.read_text(encoding="utf-8")
    except PermissionError:
        raise StoreError(
            f"The store at {path.parent} is served by another user's `btvstat-open serve` ({path.name} is "
            "theirs). Run the command as the user who runs the server."
        ) from None
    except OSError:
        return None
    try:
        data = json.loads(text)
        return Owner(int(data["pid"]), str(data["url"]), str(data["token"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def find_owner(root: str | Path) -> Owner | None:
    """The live process that owns the store at ``root``, or None (no owner file, or a dead one's)."""
    owner = _read(Path(root) / OWNER_FILE)
    if owner is None or not _alive(owner.pid):
        return None
    return owner


def own(store: Store) -> None:
    """Make ``store`` the one :func:`open_store` hands out for its folder in this process."""
    store.pinned = True
    with _owned_lock:
        _owned[_key(store.root)] = store


def disown(store: Store) -> None:
    """Undo :func:`own`; the store can be closed again."""
    with _owned_lock:
        _owned.pop(_key(store.root), None)
    store.pinned = False


def owned(root: str | Path) -> Store | None:
    """The store this process owns at ``root``, if any."""
    with _owned_lock:
        return _owned.get(_key(root))


def open_store(root: str | Path) -> Store:
    """The store at ``root``: the one this process owns (``serve``), else newly opened.

    Use it as ``with open_store(path) as store:``; closing an owned store leaves it open. While
    another process (a cron job's sync) holds the file, it waits up to
    ``BTVSTAT_STORE_WAIT_SECONDS`` (30) for it.
    """
    wait = float(os.environ.get("BTVSTAT_STORE_WAIT_SECONDS", "30"))
    return owned(root) or Store(root, wait_seconds=wait)
