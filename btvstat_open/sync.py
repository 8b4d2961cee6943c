"""Keep a local copy of a portal dataset current in a store, incrementally and safely.

A sync asks first whether anything changed: a conditional metadata request
(``If-None-Match`` with the ETag it saw last; a 304 ends the sync), then one request for
the row count and latest ``:updated_at``. Only when those differ from the state file
does it pull rows, and then only rows updated at or after its cursor, merged into the
store by row identifier (or ``:id``) in one transaction, deleted rows included. A
dataset whose rows are all new (it was replaced), or whose columns changed, is pulled
whole. The state file is written after the data is committed, so a sync killed at any
moment leaves the last good data and state, and the next sync completes.

The engine is typed against :class:`SyncSource`, which a connector provides; the core
never imports the connectors.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, Protocol

import pyarrow as pa
import pyarrow.compute as pc

from btvstat_open.errors import BtvstatError, SyncError
from btvstat_open.store import Store, check_dataset_id, quote_ident
from btvstat_open.sync_state import DatasetState, load_state, save_dataset_state
from btvstat_open.types import Column, arrow_type

__all__ = ["SourceDescription", "SyncResult", "SyncSource", "schema_change", "sync_dataset"]


# Ids remembered at the cursor's exact moment (a bulk write shares one); beyond this many,
# the next sync reads those rows again, which is harmless but slower.
_BOUNDARY_MAX = 100_000


class SourceDescription(Protocol):
    """What the engine needs to know about the remote dataset."""

    @property
    def name(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def columns(self) -> tuple[Column, ...]: ...
    @property
    def row_identifier(self) -> str | None: ...
    @property
    def etag(self) -> str | None: ...
    @property
    def last_modified_header(self) -> str | None: ...


class SyncSource(Protocol):
    """A portal the engine can sync from (the Socrata connector is one)."""

    @property
    def url(self) -> str: ...

    def describe_if_changed(
        self, dataset_id: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> SourceDescription | None:
        """The metadata, or None when unchanged since ``etag``/``last_modified``."""

    def row_stats(self, dataset_id: str) -> tuple[int, str | None]:
        """Row count and latest ``:updated_at`` text, in one request."""

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


def schema_change(before: Sequence[Sequence[str]] | None, columns: Sequence[Column]) -> str | None:
    """A sentence saying how the columns changed, or None when they did not.

    Example:
        >>> new = [Column("a", "A", "number"), Column("c", "C", "text")]
        >>> schema_change([["a", "text"], ["b", "number"]], new)
        'added c; removed b; retyped a (text -> number)'
    """
    if before is None:
        return None
    old = {str(f): str(t) for f, t in before}
    new = {c.field_name: c.data_type for c in columns}
    parts = []
    added = [f for f in new if f not in old]
    removed = [f for f in old if f not in new]
    retyped = [f"{f} ({old[f]} -> {new[f]})" for f in new if f in old and old[f] != new[f]]
    if added:
        parts.append("added " + ", ".join(added))
    if removed:
        parts.append("removed " + ", ".join(removed))
    if retyped:
        parts.append("retyped " + ", ".join(retyped))
    return "; ".join(parts) or None


class _Progress:
    """Rows pulled so far, as a rich progress bar on a terminal; silent otherwise."""

    def __init__(self, enabled: bool, label: str) -> None:
        self._bar = None
        if enabled:
            from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            self._bar = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                TextColumn("{task.completed:,} rows"),
                TextColumn("{task.fields[rate]}"),
                TimeElapsedColumn(),
                transient=True,
            )
            self._task = self._bar.add_task(label, total=None, rate="")
            self._started = datetime.now(UTC)
            self._bar.start()

    def advance(self, rows: int) -> None:
        if self._bar is not None:
            elapsed = max((datetime.now(UTC) - self._started).total_seconds(), 1e-6)
            done = self._bar.tasks[0].completed + rows
            self._bar.update(self._task, advance=rows, rate=f"{done / elapsed:,.0f} rows/s")

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()


@contextmanager
def _progress(enabled: bool | None, label: str) -> Iterator[_Progress]:
    bar = _Progress(sys.stderr.isatty() if enabled is None else enabled, label)
    try:
        yield bar
    finally:
        bar.close()


def _pull(
    source: SyncSource, remote_id: str, columns: Sequence[str], since: str | None, bar: _Progress
) -> pa.Table:
    batches = []
    for batch in source.iter_changes(remote_id, columns=columns, since=since):
        batches.append(batch)
        bar.advance(batch.num_rows)
    if not batches:
        return pa.table(
            {":id": pa.array([], pa.string()), ":updated_at": pa.array([], pa.timestamp("us", "UTC"))}
        )
    return pa.Table.from_batches(batches)


def _cursor(table: pa.Table, latest: str | None) -> tuple[str | None, str | None, list[str]]:
    """The new cursor: the source's latest ``:updated_at`` seen before the pull, the last id at it,
    and the ids at exactly that moment (so the next sync can drop them as already seen)."""
    if latest is None or table.num_rows == 0:
        return latest, None, []
    stamps = table.column(":updated_at")
    moment = datetime.fromisoformat(latest.replace("Z", "+00:00"))
    at = pc.equal(stamps, pa.scalar(moment, stamps.type))
    ids = [str(i) for i in table.filter(at).column(":id").to_pylist()]
    return latest, (max(ids) if ids else None), ids[:_BOUNDARY_MAX]


def _drop_boundary(table: pa.Table, state: DatasetState) -> pa.Table:
    """Rows at exactly the old cursor that the last sync already took."""
    if not state.boundary_ids or state.cursor_updated_at is None or table.num_rows == 0:
        return table
    stamps = table.column(":updated_at")
    moment = datetime.fromisoformat(state.cursor_updated_at.replace("Z", "+00:00"))
    seen = pc.and_(
        pc.equal(stamps, pa.scalar(moment, stamps.type)),
        pc.is_in(table.column(":id"), pa.array(state.boundary_ids, pa.string())),
    )
    return table.filter(pc.invert(pc.fill_null(seen, False)))


def _latest_per_key(table: pa.Table, key: str) -> pa.Table:
    """One row per key, the most recently updated (pages can overlap when rows change)."""
    if table.num_rows == 0:
        return table
    ordered = table.sort_by([(":updated_at", "descending")])
    seen: set[object] = set()
    keep = []
    for index, value in enumerate(ordered.column(key).to_pylist()):
        if value not in seen:
            seen.add(value)
            keep.append(index)
    return ordered.take(pa.array(keep, pa.int64())) if len(keep) != ordered.num_rows else ordered


def _local_keys(store: Store, dataset_id: str, key: str) -> pa.Array:
    info = store.info(dataset_id)
    sql = f"SELECT CAST({quote_ident(key)} AS VARCHAR) AS k FROM {info.table}"
    table: pa.Table = store.cursor().sql(sql).to_arrow_table()
    keys: pa.Array = table.column("k").combine_chunks()
    return keys


def _text(values: pa.ChunkedArray | pa.Array) -> pa.Array:
    arr = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    return arr if pa.types.is_string(arr.type) else pc.cast(arr, pa.string())


def _save(store: Store, local_id: str, state: DatasetState) -> None:
    state.synced_at = datetime.now(UTC).isoformat()
    save_dataset_state(store.root, local_id, state)


def _full(
    source: SyncSource,
    remote_id: str,
    store: Store,
    local_id: str,
    desc: SourceDescription,
    latest: str | None,
    reason: str,
    progress: bool | None,
    change: str | None = None,
) -> SyncResult:
    """Pull every row and replace the local copy with them."""
    fields = [c.field_name for c in desc.columns]
    with _progress(progress, f"sync {remote_id}") as bar:
        table = _pull(source, remote_id, fields, None, bar)
    return _load_whole(source, remote_id, store, local_id, desc, table, latest, reason, change)


def _load_whole(
    source: SyncSource,
    remote_id: str,
    store: Store,
    local_id: str,
    desc: SourceDescription,
    table: pa.Table,
    latest: str | None,
    reason: str,
    change: str | None = None,
) -> SyncResult:
    """Replace the local copy with ``table`` (every remote row) in one transaction, then record it."""
    table = _latest_per_key(table, ":id")
    info = store.load(
        local_id,
        table,
        desc.columns,
        name=desc.name or remote_id,
        description=desc.description or "",
        row_identifier=desc.row_identifier,
    )
    updated_at, cursor_id, boundary = _cursor(table, latest)
    state = DatasetState(
        source=source.url,
        remote_id=remote_id,
        cursor_updated_at=updated_at,
        cursor_id=cursor_id,
        boundary_ids=boundary,
        etag=desc.etag,
        last_modified=desc.last_modified_header,
        schema=[[c.field_name, c.data_type] for c in desc.columns],
        row_identifier=desc.row_identifier,
        row_count=info.row_count,
    )
    _save(store, local_id, state)
    return SyncResult(
        local_id,
        remote_id,
        "full",
        reason,
        rows_pulled=table.num_rows,
        created=info.row_count,
        row_count=info.row_count,
        schema_change=change,
    )


def sync_dataset(
    source: SyncSource,
    remote_id: str,
    store: Store,
    *,
    dataset_id: str | None = None,
    progress: bool | None = None,
) -> SyncResult:
    """Bring the store's copy of ``remote_id`` up to date with the source; returns what it did.

    ``dataset_id`` is the local id (default: the remote one). ``progress``: a progress bar
    (default: only when stderr is a terminal).

    Example:
        >>> from connectors import connect                                    # doctest: +SKIP
        >>> portal = connect("https://data.example.gov")                      # doctest: +SKIP
        >>> sync_dataset(portal, "abcd-1234", Store(".btvstat/store")).mode  # doctest: +SKIP
        'full'
    """
    local_id = check_dataset_id(dataset_id or remote_id.lower())
    try:
        return _sync(source, remote_id, store, local_id, progress)
    except SyncError:
        raise
    except BtvstatError as exc:
        exc.message = (
            f"Sync of {remote_id!r} from {source.url} stopped; the local copy is unchanged: {exc.message}"
        )
        raise


def _sync(
    source: SyncSource, remote_id: str, store: Store, local_id: str, progress: bool | None
) -> SyncResult:
    state = load_state(store.root).get(local_id)
    if state is not None and (state.source != source.url or state.remote_id != remote_id):
        state = None
    if state is None or not store.exists(local_id):
        desc = source.describe_if_changed(remote_id)
        if desc is None:
            raise SyncError(f"The portal answered 'not modified' for {remote_id!r} without a validator.")
        _, latest = source.row_stats(remote_id)
        return _full(source, remote_id, store, local_id, desc, latest, "first sync", progress)
    desc = source.describe_if_changed(remote_id, etag=state.etag, last_modified=state.last_modified)
    if desc is None:
        return SyncResult(
            local_id, remote_id, "unchanged", "metadata not modified", row_count=state.row_count
        )
    local_info = store.info(local_id)
    before = state.schema or [[c.field_name, c.data_type] for c in local_info.columns]
    change = schema_change(before, desc.columns)
    if change or desc.row_identifier != state.row_identifier:
        count, latest = source.row_stats(remote_id)
        why = f"schema changed: {change}" if change else "row identifier changed"
        return _full(source, remote_id, store, local_id, desc, latest, why, progress, change or why)
    count, latest = source.row_stats(remote_id)
    if count == state.row_count and latest == state.cursor_updated_at:
        state.etag, state.last_modified = desc.etag, desc.last_modified_header
        _save(store, local_id, state)
        return SyncResult(local_id, remote_id, "unchanged", "no rows changed", row_count=state.row_count)
    return _incremental(source, remote_id, store, local_id, desc, state, count, latest, progress)


def _incremental(
    source: SyncSource,
    remote_id: str,
    store: Store,
    local_id: str,
    desc: SourceDescription,
    state: DatasetState,
    count: int,
    latest: str | None,
    progress: bool | None,
) -> SyncResult:
    key = desc.row_identifier or ":id"
    fields = [c.field_name for c in desc.columns]
    with _progress(progress, f"sync {remote_id}") as bar:
        changed = _pull(source, remote_id, fields, state.cursor_updated_at, bar)
    pulled = changed.num_rows
    everything = changed
    changed = _latest_per_key(_drop_boundary(changed, state), key)
    local_keys = _local_keys(store, local_id, key)
    changed_keys = _text(changed.column(key)) if changed.num_rows else pa.array([], pa.string())
    known = pc.is_in(changed_keys, local_keys)
    new_rows = changed.num_rows - pc.sum(known.cast(pa.int64())).as_py() if changed.num_rows else 0
    if count > 0 and changed.num_rows >= count and not pc.any(known).as_py() and len(local_keys):
        # Every row is new: the dataset was replaced. What was just pulled is all of it.
        return _load_whole(source, remote_id, store, local_id, desc, everything, latest, "dataset replaced")
    deleting = pa.array([], pa.string())
    if len(local_keys) + new_rows != count:
        # Rows were deleted at the source: compare the key sets.
        with _progress(progress, f"check deletions {remote_id}") as bar:
            keys = _pull(source, remote_id, [] if key == ":id" else [key], None, bar)
        remote = _text(keys.column(key)) if keys.num_rows else pa.array([], pa.string())
        gone = pc.invert(pc.is_in(local_keys, pc.unique(pa.concat_arrays([remote, changed_keys]))))
        deleting = local_keys.filter(gone)
    if changed.num_rows == 0 and len(deleting) == 0:
        result = None
    else:
        key_type = arrow_type(store.info(local_id).column(key).data_type)
        doomed = pa.table({key: deleting.cast(key_type)})
        merged = pa.concat_tables([changed, doomed], promote_options="permissive")
        flags = [False] * changed.num_rows + [True] * len(deleting)
        result = store.upsert(local_id, merged, deleted=flags)
    info = store.info(local_id)
    updated_at, cursor_id, boundary = _cursor(changed, latest)
    state.cursor_updated_at, state.cursor_id, state.boundary_ids = updated_at, cursor_id, boundary
    state.etag, state.last_modified, state.row_count = desc.etag, desc.last_modified_header, info.row_count
    state.schema = [[c.field_name, c.data_type] for c in desc.columns]
    _save(store, local_id, state)
    return SyncResult(
        local_id,
        remote_id,
        "incremental",
        "rows changed",
        rows_pulled=pulled,
        created=result.created if result else 0,
        updated=result.updated if result else 0,
        deleted=result.deleted if result else 0,
        row_count=info.row_count,
    )
