"""The dataset store: every dataset is a DuckDB table in one database file.

:mod:`.database` holds :class:`Store` (connections, transactions, reads), :mod:`.writes` the
SQL each write runs inside its transaction, and :mod:`.dataset` the value types a store hands
out (:class:`DatasetInfo`, :class:`WriteResult`) with the id helpers. Callers import every
name from here.

Example:
    >>> from btvstat_open.store import check_dataset_id, quote_ident
    >>> check_dataset_id("kc-311"), quote_ident("zip code")
    ('kc-311', '"zip code"')
"""

from __future__ import annotations

from btvstat_open.store.database import (
    DatasetInfo,
    DataVersion,
    MetadataChange,
    Store,
    WriteResult,
    check_dataset_id,
    quote_ident,
    table_name,
)
from btvstat_open.store.dataset import as_utc, license_url
from btvstat_open.store.owner import find_owner, open_store

__all__ = [
    "DataVersion",
    "DatasetInfo",
    "MetadataChange",
    "Store",
    "WriteResult",
    "as_utc",
    "check_dataset_id",
    "find_owner",
    "license_url",
    "open_store",
    "quote_ident",
    "table_name",
]
