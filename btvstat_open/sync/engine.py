"""Keep a local copy of a portal dataset current in a store, incrementally and safely.

A sync asks first whether anything changed: a conditional metadata request
(``If-None-Match`` with the ETag it saw last; a 304 ends the sync), then one request for
the row count and latest ``:updated_at``. Only when those differ from the state file
does it pull rows, and then only rows updated at or after its cursor, merged into the
store by row identifier (or ``:id``) in one transaction, deleted rows included. A
dataset whose rows are all new (it was replaced), or whose columns changed, is pulled
whole. The state file is written after the data is committed, so a sync killed at any
moment leaves the last good data and state, and the next sync completes.

This module decides what a sync does; :mod:`btvstat_open.sync.apply` does it. The engine is
typed against :class:`SyncSource`, which a connector provides; the core never imports the
connectors.

Rows written in one bulk write share an ``:updated_at``; the state keeps their ids (up to
100,000), and the next sync skips that moment unless a row count says something new is in it.
When the row counts do not add up, the key sets are compared: rows gone at the source are
deleted, and rows the local copy lacks (missed by a cursor) make the sync pull everything.

A source that cannot report changed rows (it lacks the ``changes`` capability: CKAN, files)
is pulled whole, but only when its metadata validators (ETag, last-modified stamp) moved.

Known limits: changed rows are gathered in memory before the one merge transaction; past
100,000 rows in one moment, the next sync reads that moment again (and merges it harmlessly).
"""

from __future__ import annotations

from collections.abc import Sequence

from btvstat_open.errors import BtvstatError, SyncError
from btvstat_open.store import Store, check_dataset_id
from btvstat_open.sync.apply import apply_full, apply_incremental, pull_whole, save_state
from btvstat_open.sync.state import DatasetState, load_state
from btvstat_open.sync.types import SourceDescription, SyncJob, SyncResult, SyncSource, schema_signature
from btvstat_open.types import Column

__all__ = ["SourceDescription", "SyncResult", "SyncSource", "schema_change", "sync_dataset"]


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
        >>> import tempfile
        >>> from btvstat_open import Store, connect, load_file, sync_dataset
        >>> from btvstat_open.portal.app import create_portal_app
        >>> from btvstat_open.web.inprocess import inprocess_session
        >>> source = Store(tempfile.mkdtemp())  # a local portal over one dataset, driven in process
        >>> load_file(source, "catalog/demo/data/kc-311-potholes.parquet", "kc-311-potholes").row_count
        4493
        >>> with inprocess_session(create_portal_app(source)) as http, Store(tempfile.mkdtemp()) as copy:
        ...     portal = connect("http://testserver", session=http)  # or any portal's URL
        ...     sync_dataset(portal, "kc-311-potholes", copy, progress=False).mode
        'full'
    """
    job = SyncJob(source, remote_id, store, check_dataset_id(dataset_id or remote_id.lower()), progress)
    try:
        return _sync(job)
    except SyncError:
        raise
    except BtvstatError as exc:
        exc.add_note(f"Sync of {remote_id!r} from {source.url} stopped; the local copy is unchanged.")
        raise


def _sync(job: SyncJob) -> SyncResult:
    """Decide what the sync must do, with as few requests as the state allows, and do it."""
    source, remote_id, store, local_id = job.source, job.remote_id, job.store, job.local_id
    state = load_state(store.root).get(local_id)
    if state is not None and (state.source != source.url or state.remote_id != remote_id):
        state = None
    if not source.supports("changes"):
        return _sync_whole(job, state)
    if state is None or not store.exists(local_id):
        desc = source.describe_if_changed(remote_id)
        if desc is None:
            raise SyncError(f"The portal answered 'not modified' for {remote_id!r} without a validator.")
        _, latest = source.row_stats(remote_id)
        return apply_full(job, desc, latest, "first sync")
    desc = source.describe_if_changed(remote_id, etag=state.etag, last_modified=state.last_modified)
    if desc is None:
        return SyncResult(
            local_id, remote_id, "unchanged", "metadata not modified", row_count=state.row_count
        )
    before = state.schema or schema_signature(store.info(local_id).columns)
    change = schema_change(before, desc.columns)
    count, latest = source.row_stats(remote_id)
    if change or desc.row_identifier != state.row_identifier:
        why = f"schema changed: {change}" if change else "row identifier changed"
        return apply_full(job, desc, latest, why, change or why)
    if count == state.row_count and latest == state.cursor_updated_at:
        state.etag, state.last_modified = desc.etag, desc.last_modified_header
        save_state(job, state)
        return SyncResult(local_id, remote_id, "unchanged", "no rows changed", row_count=state.row_count)
    return apply_incremental(job, desc, state, count, latest)


def _sync_whole(job: SyncJob, state: DatasetState | None) -> SyncResult:
    """Sync a source without row-level changes: pull everything when its validators moved."""
    source, remote_id, local_id = job.source, job.remote_id, job.local_id
    fresh = state is None or not job.store.exists(local_id)
    desc = source.describe_if_changed(
        remote_id,
        etag=None if fresh or state is None else state.etag,
        last_modified=None if fresh or state is None else state.last_modified,
    )
    if desc is None or (
        state is not None
        and not fresh
        and (desc.etag, desc.last_modified_header) == (state.etag, state.last_modified)
        and (state.etag or state.last_modified)
    ):
        row_count = state.row_count if state is not None else 0
        return SyncResult(local_id, remote_id, "unchanged", "metadata not modified", row_count=row_count)
    why = "first sync" if fresh else "the source changed and cannot list changed rows"
    return apply_full(job, desc, None, why, table=pull_whole(job))
