"""Applying a sync: pull changed rows, merge them (or everything) into the store, then record state.

Each write is one store transaction, and the state file is written only after it commits,
so a sync killed at any moment leaves the last good data and state.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pyarrow.compute as pc

from btvstat_open.errors import PortalResponseError
from btvstat_open.instants import instant
from btvstat_open.progress import row_progress
from btvstat_open.store import Store, quote_ident
from btvstat_open.store.engine_errors import translated
from btvstat_open.sync.state import DatasetState, save_dataset_state
from btvstat_open.sync.types import SourceDescription, SyncJob, SyncResult, schema_signature
from btvstat_open.types import arrow_type

__all__ = ["apply_full", "apply_incremental", "pull_whole", "save_state"]

# Ids remembered at the cursor's exact moment (a bulk write shares one); beyond this many,
# the next sync reads those rows again, which is harmless but slower.
_BOUNDARY_MAX = 100_000


def pull_changes(job: SyncJob, columns: Sequence[str], since: str | None, label: str = "sync") -> pa.Table:
    """Rows updated at or after ``since`` (every row without it), with ``:id`` and ``:updated_at``."""
    batches = []
    with row_progress(job.progress, f"{label} {job.remote_id}") as bar:
        for batch in job.source.iter_changes(job.remote_id, columns=columns, since=since):
            batches.append(batch)
            bar.advance(batch.num_rows)
    if not batches:
        return pa.table(
            {":id": pa.array([], pa.string()), ":updated_at": pa.array([], pa.timestamp("us", "UTC"))}
        )
    try:
        table = pa.Table.from_batches(batches)
    except pa.ArrowInvalid as exc:  # pages of different columns
        raise PortalResponseError(
            f"{job.remote_id}: the portal's pages disagree on their columns ({exc})"
        ) from exc
    missing = [name for name in (":id", ":updated_at") if name not in table.column_names]
    if missing:
        raise PortalResponseError(
            f"{job.remote_id}: the portal answered changed rows without {' and '.join(missing)}, which a "
            "sync needs to merge them; check the portal URL and kind, or pull the dataset whole.",
            code="sync.no-system-fields",
        )
    return table


def pull_whole(job: SyncJob) -> pa.Table:
    """Every row of a source without row-level changes, numbered as ``:id`` in source order."""
    batches = []
    with row_progress(job.progress, f"sync {job.remote_id}") as bar:
        for batch in job.source.iter_batches(job.remote_id):
            batches.append(batch)
            bar.advance(batch.num_rows)
    table = pa.Table.from_batches(batches) if batches else pa.table({})
    ids = pa.array([f"row-{i}" for i in range(table.num_rows)], pa.string())
    stamps = pa.nulls(table.num_rows, pa.timestamp("us", "UTC"))
    return table.append_column(":id", ids).append_column(":updated_at", stamps)


def _at_moment(table: pa.Table, moment_text: str) -> pa.ChunkedArray:
    """Which rows have ``:updated_at`` exactly at ``moment_text`` (an ISO text with ``Z``)."""
    stamps = table.column(":updated_at")
    moment = instant(moment_text)
    return pc.equal(stamps, pa.scalar(moment, stamps.type))


def _cursor(
    table: pa.Table, latest: str | None, before: DatasetState | None = None
) -> tuple[str | None, str | None, list[str]]:
    """The new cursor: the source's latest ``:updated_at`` seen before the pull, the last id at it,
    and the ids at exactly that moment (so the next sync can drop them as already seen).

    When the moment has not moved since ``before``, the ids taken then still count as seen."""
    if latest is None:
        return None, None, []
    ids = (
        [str(i) for i in table.filter(_at_moment(table, latest)).column(":id").to_pylist()]
        if table.num_rows
        else []
    )
    if before is not None and before.cursor_updated_at == latest:
        ids = list(dict.fromkeys([*before.boundary_ids, *ids]))
    return latest, (max(ids) if ids else None), ids[:_BOUNDARY_MAX]


def _next_millisecond(moment_text: str) -> str:
    """The ISO text of the millisecond after ``moment_text`` (``:updated_at`` has milliseconds).

    Example:
        >>> _next_millisecond("2024-01-31T23:59:59.999Z")
        '2024-02-01T00:00:00.000Z'
    """
    moment = instant(moment_text) + timedelta(milliseconds=1)
    moment = moment.astimezone(UTC).replace(microsecond=moment.microsecond // 1000 * 1000)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _since(job: SyncJob, state: DatasetState) -> str | None:
    """Where the changes pull starts: just after the cursor's millisecond when nothing new can be
    in it, else at it (rows already taken there are then dropped by id).

    Rows only leave the cursor's millisecond (updated later, or deleted), so no more rows there
    than were taken means nothing new, save a write in that same millisecond after some of them
    left: its rows then show up as missing when the row counts are compared, and are pulled.
    A bulk write shares one moment: this keeps the next sync from reading all of it again.
    """
    cursor = state.cursor_updated_at
    if cursor is None or not state.boundary_ids or len(state.boundary_ids) >= _BOUNDARY_MAX:
        return cursor
    after = _next_millisecond(cursor)
    at_cursor, _ = job.source.row_stats(job.remote_id, since=cursor, before=after)
    return after if at_cursor <= len(state.boundary_ids) else cursor


def _drop_boundary(table: pa.Table, state: DatasetState) -> pa.Table:
    """Rows at exactly the old cursor that the last sync already took."""
    if not state.boundary_ids or state.cursor_updated_at is None or table.num_rows == 0:
        return table
    seen = pc.and_(
        _at_moment(table, state.cursor_updated_at),
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
    """The local keys as text, written as :func:`_text` writes the pulled ones (a number key
    2020002530 is "2020002530" on both sides, where DuckDB's cast would say "2020002530.0")."""
    info = store.info(dataset_id)
    with translated(f"reading the local keys of {dataset_id!r}"):  # a damaged copy: our error
        sql = f"SELECT {quote_ident(key)} AS k FROM {info.table}"
        table: pa.Table = store.cursor().sql(sql).to_arrow_table()
    return _text(table.column("k"))


def _text(values: pa.ChunkedArray | pa.Array) -> pa.Array:
    arr = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    return arr if pa.types.is_string(arr.type) else pc.cast(arr, pa.string())


def save_state(job: SyncJob, state: DatasetState) -> None:
    """Record the state (stamped with the time), after the data it describes is committed."""
    state.synced_at = datetime.now(UTC).isoformat()
    save_dataset_state(job.store.root, job.local_id, state)


def _record(
    job: SyncJob, state: DatasetState, desc: SourceDescription, table: pa.Table, latest: str | None, rows: int
) -> None:
    """Move ``state`` to what was just committed: cursor, validators, schema and row count."""
    state.cursor_updated_at, state.cursor_id, state.boundary_ids = _cursor(table, latest, state)
    state.etag, state.last_modified = desc.etag, desc.last_modified_header
    state.schema, state.row_identifier, state.row_count = (
        schema_signature(desc.columns),
        desc.row_identifier,
        rows,
    )
    save_state(job, state)


def apply_full(
    job: SyncJob,
    desc: SourceDescription,
    latest: str | None,
    reason: str,
    change: str | None = None,
    table: pa.Table | None = None,
) -> SyncResult:
    """Replace the local copy with every remote row (``table``, or pulled now), then record it."""
    if table is None:
        table = pull_changes(job, [c.field_name for c in desc.columns], None)
    table = _latest_per_key(table, ":id")
    info = job.store.load(
        job.local_id,
        table,
        desc.columns,
        name=desc.name or job.remote_id,
        description=desc.description or "",
        row_identifier=desc.row_identifier,
        source_changed_at=desc.rows_updated_at or desc.last_modified,
    )
    _record(
        job, DatasetState(source=job.source.url, remote_id=job.remote_id), desc, table, latest, info.row_count
    )
    return SyncResult(
        job.local_id,
        job.remote_id,
        "full",
        reason,
        rows_pulled=table.num_rows,
        created=info.row_count,
        row_count=info.row_count,
        schema_change=change,
    )


def apply_incremental(
    job: SyncJob, desc: SourceDescription, state: DatasetState, count: int, latest: str | None
) -> SyncResult:
    """Merge rows changed since the cursor, delete rows gone at the source, then record the new cursor.

    A dataset whose rows all arrive as new (it was replaced) is loaded whole from what was pulled.
    """
    store, key = job.store, desc.row_identifier or ":id"
    everything = pull_changes(job, [c.field_name for c in desc.columns], _since(job, state))
    changed = _latest_per_key(_drop_boundary(everything, state), key)
    local_keys = _local_keys(store, job.local_id, key)
    changed_keys = _text(changed.column(key)) if changed.num_rows else pa.array([], pa.string())
    known = pc.is_in(changed_keys, local_keys)
    new_rows = changed.num_rows - pc.sum(known.cast(pa.int64())).as_py() if changed.num_rows else 0
    if count > 0 and changed.num_rows >= count and not pc.any(known).as_py() and len(local_keys):
        # Every row is new: the dataset was replaced. What was just pulled is all of it.
        return apply_full(job, desc, latest, "dataset replaced", table=everything)
    deleting = pa.array([], pa.string())
    if len(local_keys) + new_rows != count:
        # Rows were deleted at the source (or missed): compare the key sets.
        keys = pull_changes(job, [] if key == ":id" else [key], None, "check deletions")
        remote = _text(keys.column(key)) if keys.num_rows else pa.array([], pa.string())
        if _missed(keys, remote, local_keys, changed_keys, latest):
            return apply_full(job, desc, latest, "rows missing from the incremental pull")
        gone = pc.invert(pc.is_in(local_keys, pc.unique(pa.concat_arrays([remote, changed_keys]))))
        deleting = local_keys.filter(gone)
    result = None
    if changed.num_rows or len(deleting):
        key_type = arrow_type(store.info(job.local_id).require_column(key).data_type)
        doomed = pa.table({key: deleting.cast(key_type)})
        merged = pa.concat_tables([changed, doomed], promote_options="permissive")
        result = store.upsert(
            job.local_id,
            merged,
            deleted=[False] * changed.num_rows + [True] * len(deleting),
            source_changed_at=desc.rows_updated_at or desc.last_modified,
        )
    rows = store.info(job.local_id).row_count
    _record(job, state, desc, changed, latest, rows)
    return SyncResult(
        job.local_id,
        job.remote_id,
        "incremental",
        "rows changed",
        rows_pulled=everything.num_rows,
        created=result.created if result else 0,
        updated=result.updated if result else 0,
        deleted=result.deleted if result else 0,
        row_count=rows,
    )


def _missed(keys: pa.Table, remote: pa.Array, local: pa.Array, changed: pa.Array, latest: str | None) -> bool:
    """Whether the source has rows, updated no later than ``latest``, that neither the local copy
    nor this pull holds (rows written after ``latest`` are the next sync's)."""
    if keys.num_rows == 0 or latest is None:
        return False
    absent = pc.invert(pc.is_in(remote, pc.unique(pa.concat_arrays([local, changed]))))
    stamps = keys.column(":updated_at")
    moment = instant(latest)
    old_enough = pc.less_equal(stamps, pa.scalar(moment, stamps.type))
    return bool(pc.any(pc.and_(absent, old_enough)).as_py())
