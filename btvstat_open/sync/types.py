"""What the sync engine works with: the source it reads (a protocol connectors meet, answering
with :class:`~btvstat_open.types.DatasetDescription`), the result it reports, and one sync's
settings. The core never imports the connectors."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

import pyarrow as pa

from btvstat_open.store import Store
from btvstat_open.types import Column, DatasetDescription

__all__ = ["SourceDescription", "SyncJob", "SyncResult", "SyncSource", "schema_signature"]

#: What the engine reads about the remote dataset: the one description type connectors answer with.
SourceDescription = DatasetDescription


class SyncSource(Protocol):
    """A portal the engine can sync from (the Socrata connector is one)."""

    @property
    def url(self) -> str: ...

    def supports(self, capability: Literal["push", "create", "changes"]) -> bool:
        """Whether the source declares a capability; without ``changes`` every sync is whole."""

    def iter_batches(self, dataset_id: str) -> Iterator[pa.RecordBatch]:
        """Every row, typed (the whole-dataset pull of a source without ``changes``)."""

    def describe_if_changed(
        self, dataset_id: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> DatasetDescription | None:
        """The metadata, or None when unchanged since ``etag``/``last_modified``."""

    def row_stats(
        self, dataset_id: str, *, since: str | None = None, before: str | None = None
    ) -> tuple[int, str | None]:
        """Row count and latest ``:updated_at`` text (rows updated in ``[since, before)``), one request."""

    def iter_changes(
        self, dataset_id: str, *, columns: Sequence[str], since: str | None = None
    ) -> Iterator[pa.RecordBatch]:
        """Rows (``:id``, ``:updated_at`` + ``columns``) updated at or after ``since``."""


@dataclass(frozen=True)
class SyncResult:
    """What one sync did. ``mode``: ``unchanged``, ``incremental`` or ``full``."""

    dataset_id: str
    remote_id: str
    mode: Literal["unchanged", "incremental", "full"]
    reason: str
    rows_pulled: int = 0
    created: int = 0
    updated: int = 0
    deleted: int = 0
    row_count: int = 0
    schema_change: str | None = None


@dataclass(frozen=True)
class SyncJob:
    """One sync: from ``remote_id`` at ``source`` into ``local_id`` in ``store``.

    ``progress``: draw a progress bar (None: only when stderr is a terminal).
    """

    source: SyncSource
    remote_id: str
    store: Store
    local_id: str
    progress: bool | None = None


def schema_signature(columns: Sequence[Column]) -> list[list[str]]:
    """``[[field_name, type], ...]``: the columns as the state file records them.

    Example:
        >>> schema_signature([Column("n", "N", "number")])
        [['n', 'number']]
    """
    return [[c.field_name, c.data_type] for c in columns]
