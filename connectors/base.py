"""The connector contract: the few verbs every portal kind supports.

Every kind describes a dataset (columns, row count, last modified), lists datasets and
pulls rows as a stream of Arrow record batches (and, built on that, into a table or
atomically into a Parquet/CSV file): concrete connectors implement :meth:`Connector.describe`,
:meth:`Connector.datasets` and :meth:`Connector.iter_batches`; ``pull`` and ``pull_to`` come
for free but may be overridden with a faster path.

What only some kinds can do is declared in :attr:`Connector.capabilities`, never faked:
``push`` (upsert, replace, delete rows), ``create`` (a dataset to push to) and ``changes``
(row counts and rows changed since a moment, for incremental sync). A verb whose capability
is not declared raises :class:`~btvstat_open.errors.NotSupported` saying why.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, ClassVar, Literal, Self, TypedDict, Unpack

import pyarrow as pa

from btvstat_open.errors import NotSupported
from btvstat_open.store.dataset import WriteResult
from btvstat_open.types import Column, DatasetDescription, DatasetSummary
from connectors.output import write_batches_atomically

__all__ = [
    "Capability",
    "Connector",
    "DatasetDescription",
    "DatasetSummary",
    "PullOptions",
    "PullResult",
    "PushMode",
    "PushResult",
]

PushMode = Literal["upsert", "replace"]
#: What only some portal kinds can do; see :attr:`Connector.capabilities`.
Capability = Literal["push", "create", "changes"]


class PullOptions(TypedDict, total=False):
    """Which rows and columns a pull asks for (every one optional).

    ``select``, ``where``, ``order`` and ``group`` are SoQL clauses (``group`` with an aggregating
    ``select``: one row per group); ``since`` keeps rows updated at or after a moment (an ISO text,
    a date or a datetime; without a zone, UTC).
    """

    select: str | None
    where: str | None
    order: str | None
    group: str | None
    since: str | date | datetime | None


@dataclass(frozen=True)
class PullResult:
    """Where a pull was written and how many rows it holds."""

    rows: int
    path: Path


@dataclass
class PushResult(WriteResult):
    """Socrata's counts (created, updated, deleted, errors, ...) summed over every batch of a push.

    Example:
        >>> result = PushResult()
        >>> result.add({"Rows Created": 2, "Errors": 0}); result.add({"Rows Updated": 1})
        >>> (result.created, result.updated, result.batches)
        (2, 1, 2)
    """

    batches: int = 0
    #: The dataset the rows went to (a portal may choose the id of a dataset it creates).
    dataset_id: str = ""

    def add(self, body: dict[str, Any]) -> None:
        """Add one batch's Socrata result body (``Rows Created`` ...)."""
        self.created += int(body.get("Rows Created", 0) or 0)
        self.updated += int(body.get("Rows Updated", 0) or 0)
        self.deleted += int(body.get("Rows Deleted", 0) or 0)
        self.errors += int(body.get("Errors", 0) or 0)
        self.by_row_identifier += int(body.get("By RowIdentifier", 0) or 0)
        self.by_sid += int(body.get("By SID", 0) or 0)
        self.batches += 1


class Connector(abc.ABC):
    """A portal that datasets can be pulled from and pushed to.

    Example (a local portal over the demo's pothole requests, driven in process; a real one is
    ``connect("https://data.example.gov")``):
        >>> import tempfile
        >>> from btvstat_open import Store, load_file
        >>> from btvstat_open.portal.app import create_portal_app
        >>> from btvstat_open.web.inprocess import inprocess_session
        >>> from connectors import connect
        >>> store = Store(tempfile.mkdtemp())
        >>> load_file(store, "catalog/demo/data/kc-311-potholes.parquet", "kc-311-potholes").row_count
        4493
        >>> http = inprocess_session(create_portal_app(store))
        >>> portal = connect("http://testserver", session=http)
        >>> portal.pull("kc-311-potholes", where="status = 'OPEN'").num_rows
        1681
        >>> http.close(); store.close()
    """

    #: Base URL of the portal, without a trailing slash.
    url: str
    #: The portal kind, as ``connect(url, kind=...)`` names it.
    kind: ClassVar[str] = "portal"
    #: What this kind can do beyond describe, list and pull.
    capabilities: ClassVar[frozenset[Capability]] = frozenset()
    #: Why a capability is missing, by capability (the NotSupported message).
    unsupported_reasons: ClassVar[dict[str, str]] = {}

    def supports(self, capability: Capability) -> bool:
        """Whether this connector declares ``capability``.

        Example:
            >>> from connectors import connect
            >>> connect("http://127.0.0.1:8000").supports("push")
            True
        """
        return capability in self.capabilities

    def not_supported(self, capability: Capability) -> NotSupported:
        """The typed error for a verb whose capability this kind lacks."""
        reason = self.unsupported_reasons.get(capability) or f"{self.kind} portals cannot {capability} here."
        return NotSupported(reason, capability=capability, kind=self.kind)

    @abc.abstractmethod
    def describe(self, dataset_id: str) -> DatasetDescription:
        """The dataset's columns, row identifier, row count and last-modified stamp."""

    def describe_if_changed(
        self, dataset_id: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> DatasetDescription | None:
        """The description, or None when the portal says it is unchanged since ``etag``.

        Portals without conditional requests always describe (never None).
        """
        return self.describe(dataset_id)

    def row_stats(
        self, dataset_id: str, *, since: str | None = None, before: str | None = None
    ) -> tuple[int, str | None]:
        """The row count and the latest ``:updated_at`` (as the portal writes it), in one request.

        ``since``/``before`` count only rows updated at or after ``since`` and before ``before``.
        Needs the ``changes`` capability.
        """
        raise self.not_supported("changes")

    def iter_changes(
        self, dataset_id: str, *, columns: Sequence[str], since: str | None = None
    ) -> Iterator[pa.RecordBatch]:
        """Rows with ``:id``, ``:updated_at`` and ``columns`` updated at or after ``since``.

        Used by the sync engine; connectors override it with paging that cannot skip rows
        which change while it reads. Needs the ``changes`` capability.
        """
        if not self.supports("changes"):
            raise self.not_supported("changes")
        select = ", ".join([":id", ":updated_at", *[c for c in columns if c not in (":id", ":updated_at")]])
        return self.iter_batches(dataset_id, select=select, order=":id", since=since)

    @abc.abstractmethod
    def datasets(self, q: str | None = None, limit: int = 100) -> list[DatasetSummary]:
        """Datasets the portal lists, optionally matching a search text."""

    @abc.abstractmethod
    def iter_batches(self, dataset_id: str, **options: Unpack[PullOptions]) -> Iterator[pa.RecordBatch]:
        """Rows as Arrow record batches, typed from the dataset's metadata, in a stable order.

        ``options``: see :class:`PullOptions`.
        """

    def push(
        self,
        data: Any,
        dataset_id: str,
        *,
        mode: PushMode = "upsert",
        row_id: str | None = None,
        batch_size: int | None = None,
    ) -> PushResult:
        """Publish rows: ``upsert`` by row id, or ``replace`` every row; ``:deleted`` rows are removed.

        Needs the ``push`` capability.
        """
        raise self.not_supported("push")

    def create(
        self,
        name: str,
        columns: Sequence[Column],
        *,
        dataset_id: str | None = None,
        row_identifier: str | None = None,
        description: str = "",
    ) -> DatasetDescription:
        """Create an empty dataset with these columns; returns it as the portal describes it.

        ``dataset_id`` asks for an id; a portal that chooses ids itself may give another one,
        so push to the returned description's ``id``. Needs the ``create`` capability.
        """
        raise self.not_supported("create")

    def close(self) -> None:  # noqa: B027 - nothing to release unless a connector holds connections
        """Release the connector's connections."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def pull(self, dataset_id: str, **options: Unpack[PullOptions]) -> pa.Table:
        """Every matching row as one Arrow table (``options``: see :class:`PullOptions`).

        Example:
            >>> portal.pull("kc-311-potholes", since="2000-01-01").num_rows  # every row changed since
            4493
        """
        batches = list(self.iter_batches(dataset_id, **options))
        if not batches:
            return self._empty_table(dataset_id, options.get("select"))
        return pa.Table.from_batches(batches)

    def pull_to(
        self,
        dataset_id: str,
        path: str | Path,
        *,
        on_batch: Callable[[int], None] | None = None,
        **options: Unpack[PullOptions],
    ) -> PullResult:
        """Stream matching rows to ``path`` (``.parquet`` or ``.csv``) with flat memory.

        The file appears whole or not at all: rows go to a temporary file next to it that
        replaces ``path`` only when the last row is written. ``on_batch(rows)`` is called as
        each batch arrives (a progress bar hooks in there).

        Example (``portal``: a connector, as in :class:`Connector`'s example):
            >>> import tempfile
            >>> from pathlib import Path
            >>> portal.pull_to("kc-311-potholes", Path(tempfile.mkdtemp()) / "potholes.parquet").rows
            4493
        """
        batches = self.iter_batches(dataset_id, **options)
        if on_batch is not None:
            batches = _reporting(batches, on_batch)
        target = Path(path)
        rows = write_batches_atomically(
            batches, target, empty_schema=lambda: self._empty_table(dataset_id, options.get("select")).schema
        )
        return PullResult(rows=rows, path=target)

    def _empty_table(self, dataset_id: str, select: str | None) -> pa.Table:
        """A table with no rows and the dataset's schema (the selected columns where known)."""
        schema = self.describe(dataset_id).arrow_schema
        if select:
            wanted = [s.strip() for s in select.split(",")]
            fields = [schema.field(n) if n in schema.names else pa.field(n, pa.string()) for n in wanted]
            schema = pa.schema(fields)
        return schema.empty_table()


def _reporting(
    batches: Iterator[pa.RecordBatch], on_batch: Callable[[int], None]
) -> Iterator[pa.RecordBatch]:
    for batch in batches:
        on_batch(batch.num_rows)
        yield batch
