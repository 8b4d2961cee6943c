"""btvstat-open: a toolkit for city performance programs.

Pull datasets from Socrata-style portals and publish metric datasets to them,
keep local copies current, and serve them from a SODA-compatible local portal.

Example:
    >>> import btvstat_open as bo
    >>> portal = bo.connect(portal_url)  # e.g. http://127.0.0.1:8000 (btvstat-open serve --demo)
    >>> table = portal.pull("kc-311-potholes", where="status = 'RESOL'")
    >>> set(table.column("status").to_pylist())
    {'RESOL'}
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from btvstat_open.errors import (
    AuthenticationRequired,
    BtvstatError,
    CatalogError,
    DatasetNotFound,
    LoadError,
    NotFound,
    PortalAuthError,
    PortalError,
    PortalNotFound,
    PortalRequestError,
    PortalUnavailable,
    PushError,
    SoqlError,
    StoreError,
    SyncError,
    UsageError,
)
from btvstat_open.fieldnames import field_name
from btvstat_open.store import DatasetInfo, MetadataChange, Store, WriteResult
from btvstat_open.types import Column

if TYPE_CHECKING:
    from btvstat_open.load import load_file, read_file
    from btvstat_open.sync import sync_dataset
    from connectors import connect

__version__ = "0.1.0"

__all__ = [
    "AuthenticationRequired",
    "BtvstatError",
    "CatalogError",
    "Column",
    "DatasetInfo",
    "DatasetNotFound",
    "LoadError",
    "MetadataChange",
    "NotFound",
    "PortalAuthError",
    "PortalError",
    "PortalNotFound",
    "PortalRequestError",
    "PortalUnavailable",
    "PushError",
    "SoqlError",
    "Store",
    "StoreError",
    "SyncError",
    "UsageError",
    "WriteResult",
    "__version__",
    "connect",
    "field_name",
    "load_file",
    "read_file",
    "sync_dataset",
]

# Imported on first use: `connect` lives in the connectors package, which itself
# imports this package's core modules, so an eager import would be circular.
_LAZY = {
    "connect": "connectors",
    "load_file": "btvstat_open.load",
    "read_file": "btvstat_open.load",
    "sync_dataset": "btvstat_open.sync",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'btvstat_open' has no attribute {name!r}")
