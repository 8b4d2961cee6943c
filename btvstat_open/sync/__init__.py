"""Keep a local copy of a portal dataset current in a store, incrementally and safely.

:mod:`.engine` decides what a sync does (:func:`sync_dataset`), :mod:`.apply` pulls and writes
the rows, :mod:`.state` keeps the state file of what each copy was brought up to, and
:mod:`.types` holds the source protocol a connector meets and the result a sync reports.

Example:
    >>> from btvstat_open.sync import schema_change
    >>> from btvstat_open.types import Column
    >>> schema_change([["a", "text"]], [Column("a", "A", "text")]) is None
    True
"""

from __future__ import annotations

from btvstat_open.sync.engine import SourceDescription, SyncResult, SyncSource, schema_change, sync_dataset

__all__ = ["SourceDescription", "SyncResult", "SyncSource", "schema_change", "sync_dataset"]
