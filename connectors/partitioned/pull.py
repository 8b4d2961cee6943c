"""``pull_partitioned``: a dataset as hive-partitioned Parquet, fetched over N connections, resumable.

One run: read the manifest (if the folder has one), plan the partitions with one grouped count,
decide which to fetch (not done, a different row count at the source, or rows updated since the
last run's cursor), mark those not done, fetch their ranges ``parallel`` at a time (each range's
pages in order, so memory holds about ``parallel`` pages), and mark each partition done once all its
files are written. Files of partitions the source no longer has are deleted. The same call is the
first pull, the resume after a crash, and the incremental sync.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import timedelta

import pyarrow as pa
import requests

from btvstat_open.errors import NotSupported, UsageError
from btvstat_open.instants import parse_instant
from connectors.base import Connector, DatasetDescription
from connectors.kinds import KINDS
from connectors.partitioned.manifest import MANIFEST_NAME, Manifest, ManifestError, PartitionState
from connectors.partitioned.plan import Partition, Range, partition_counts, plan_ranges
from connectors.partitioned.spec import PartitionSpec
from connectors.partitioned.writer import Target, storage_errors
from connectors.transport import new_session

__all__ = ["PartitionedResult", "pooled_session", "pull_partitioned"]

_TIME_TYPES = ("floating_timestamp", "fixed_timestamp", "calendar_date", "date")
#: Kinds whose pulls take SoQL ``group``/``where`` windows, which the plan and the ranges are made of.
SOQL_KINDS = frozenset(name for name, spec in KINDS.items() if spec.soql)


@dataclass(frozen=True)
class PartitionedResult:
    """What a partitioned pull did: rows in the output, partitions fetched, skipped and removed."""

    rows: int
    partitions: int
    fetched: tuple[str, ...]
    skipped: int
    removed: tuple[str, ...]
    url: str


def pooled_session(connections: int) -> requests.Session:
    """A ``requests.Session`` that keeps ``connections`` connections open (give it to ``connect``).

    A connector's own pool keeps a few; above that, a partitioned pull's extra connections would be
    opened again for every request.

    Example:
        >>> session = pooled_session(8)
        >>> session.get_adapter("https://data.example.gov")._pool_maxsize
        8
    """
    session = new_session(connections)  # each answer's head under the total deadline too
    session.headers["User-Agent"] = "btvstat-open"
    session.headers["Accept-Encoding"] = "gzip, deflate"
    return session


def pull_partitioned(
    connector: Connector,
    dataset_id: str,
    url: str,
    *,
    partition_by: str,
    parallel: int = 4,
    rows_per_file: int = 250_000,
    on_batch: Callable[[int], None] | None = None,
    storage_options: dict[str, object] | None = None,
) -> PartitionedResult:
    """Pull ``dataset_id`` into ``url`` (a folder or fsspec URL) as ``KEY=VALUE/part-*.parquet``.

    ``partition_by`` is ``FIELD``, ``FIELD:year`` or ``FIELD:month`` (see
    :mod:`connectors.partitioned.spec` for the folder names); ``parallel`` ranges are fetched at
    once, each over its own connection when the connector reads one page at a time
    (``connect(url, concurrency=1)``, as the command line does; above 4 connections, also
    ``session=pooled_session(parallel)``). A re-run fetches only what the
    manifest does not mark done or what changed at the source since the last complete run.

    Example:
        >>> from connectors import connect
        >>> portal = connect(portal_url, concurrency=1)  # portal_url: the demo served on 127.0.0.1
        >>> out = str(scratch / "potholes")  # or an fsspec URL such as s3://bucket/potholes
        >>> pull_partitioned(portal, "kc-311-potholes", out, partition_by="creation_date:year")
        PartitionedResult(rows=4493, partitions=1, fetched=('2020',), skipped=0, removed=(), url=...)
        >>> pull_partitioned(portal, "kc-311-potholes", out, partition_by="creation_date:year").skipped
        1
    """
    if parallel < 1 or rows_per_file < 1:
        raise UsageError("--parallel and rows_per_file must be at least 1.")
    spec = PartitionSpec.parse(partition_by)
    if connector.kind not in SOQL_KINDS:
        raise NotSupported(
            f"Partitioned pulls plan with a grouped SoQL count, which {connector.kind} portals lack; "
            f"pull {dataset_id} to one file instead (kinds that can: {', '.join(sorted(SOQL_KINDS))}).",
            capability="partitioned",
            kind=connector.kind,
        )
    target = Target(url, **(storage_options or {}))
    with storage_errors(url):
        return _pull(connector, dataset_id, target, spec, parallel, rows_per_file, on_batch)


def _pull(
    connector: Connector,
    dataset_id: str,
    target: Target,
    spec: PartitionSpec,
    parallel: int,
    rows_per_file: int,
    on_batch: Callable[[int], None] | None,
) -> PartitionedResult:
    target.clean_temporaries()
    desc = connector.describe(dataset_id)
    field_type = _field_type(desc, spec)
    manifest = _open_manifest(target, dataset_id, spec)
    run = _Run(connector, dataset_id, target, manifest, on_batch)
    if manifest.run_cursor is None and connector.supports("changes"):
        # Taken before planning: a row changed while this run reads is then seen by the next one.
        manifest.run_cursor = connector.row_stats(dataset_id)[1]
        if manifest.run_cursor:
            manifest.run_cursor_rows = connector.row_stats(dataset_id, since=manifest.run_cursor)[0]
    counts = partition_counts(connector, dataset_id, spec)
    schema = [{"name": f.name, "type": str(f.type)} for f in desc.arrow_schema]
    # Files of two schemas would not read as one table: a changed schema rewrites every partition.
    touched = set(counts) if manifest.schema and manifest.schema != schema else set()
    touched |= _touched(connector, dataset_id, spec, manifest)
    todo = [
        Partition(value, rows)
        for value, rows in counts.items()
        if not _current(manifest.partitions.get(value), rows) or value in touched
    ]
    gone = sorted(set(manifest.partitions) - set(counts))
    manifest.schema = schema
    for part in todo:
        manifest.partitions.setdefault(part.value, PartitionState()).done = False
    manifest.complete = False
    run.save()
    ranges = plan_ranges(spec, todo, rows_per_file=rows_per_file, field_type=field_type)
    run.fetch(ranges, parallel)
    for value in gone:
        target.remove(target.list_parquet(spec.folder(value)))
        del manifest.partitions[value]
    manifest.cursor, manifest.cursor_rows = manifest.run_cursor, manifest.run_cursor_rows
    manifest.run_cursor, manifest.run_cursor_rows = None, 0
    manifest.source = _source(connector, desc)
    manifest.complete = True
    run.save()
    return PartitionedResult(
        rows=manifest.rows,
        partitions=len(manifest.partitions),
        fetched=tuple(sorted(p.value for p in todo)),
        skipped=len(counts) - len(todo),
        removed=tuple(gone),
        url=target.url,
    )


class _Run:
    """One run's shared state: the manifest (saved under a lock) and the rows each partition got."""

    def __init__(
        self,
        connector: Connector,
        dataset_id: str,
        target: Target,
        manifest: Manifest,
        on_batch: Callable[[int], None] | None,
    ) -> None:
        self.connector = connector
        self.dataset_id = dataset_id
        self.target = target
        self.manifest = manifest
        self.on_batch = on_batch
        self.lock = threading.Lock()

    def save(self) -> None:
        with self.lock:
            self.target.write_bytes(MANIFEST_NAME, self.manifest.to_json())

    def fetch(self, ranges: list[Range], parallel: int) -> None:
        """Fetch every range, ``parallel`` at a time; a partition is marked done when its last range is."""
        left = {r.partition: 0 for r in ranges}
        for r in ranges:
            left[r.partition] += 1
        written: dict[str, list[tuple[str, int]]] = {p: [] for p in left}
        pool = ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="btvstat-partition")
        try:
            futures: dict[Future[int], Range] = {pool.submit(self._fetch_one, r): r for r in ranges}
            pending = set(futures)
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    r = futures[future]
                    written[r.partition].append((r.file, future.result()))
                    left[r.partition] -= 1
                    if left[r.partition] == 0:
                        self._finish(r, written[r.partition])
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def _fetch_one(self, r: Range) -> int:
        batches = self.connector.iter_batches(self.dataset_id, where=r.where)
        if self.on_batch is not None:
            batches = _reporting(batches, self.on_batch, self.lock)
        return self.target.write_parquet(r.file, batches)

    def _finish(self, r: Range, files: list[tuple[str, int]]) -> None:
        """Every range of a partition is written: drop stale files, then mark it done in the manifest."""
        kept = sorted(name for name, rows in files if rows > 0)
        stale = [name for name in self.target.list_parquet(r.folder) if name not in kept]
        self.target.remove(stale)
        self.manifest.partitions[r.partition] = PartitionState(
            rows=sum(rows for _, rows in files), files=kept, done=True
        )
        self.save()


def _reporting(
    batches: Iterator[pa.RecordBatch], on_batch: Callable[[int], None], lock: threading.Lock
) -> Iterator[pa.RecordBatch]:
    for batch in batches:
        with lock:
            on_batch(batch.num_rows)
        yield batch


def _current(state: PartitionState | None, rows: int) -> bool:
    """Whether a partition's files are complete and hold as many rows as the source now has."""
    return state is not None and state.done and state.rows == rows


def _touched(connector: Connector, dataset_id: str, spec: PartitionSpec, manifest: Manifest) -> set[str]:
    """Partitions holding rows updated since the last complete run (none to ask about on a first run)."""
    if not manifest.cursor or not connector.supports("changes"):
        return set()
    after = _next_moment(manifest.cursor)
    rows, latest = connector.row_stats(dataset_id, since=manifest.cursor)
    if latest == manifest.cursor and rows == manifest.cursor_rows:
        return set()  # only the rows of the cursor's own moment, which the last run already had
    since = manifest.cursor
    if after and connector.row_stats(dataset_id, since=since, before=after)[0] <= manifest.cursor_rows:
        # No row joined the cursor's own moment after the last run counted it (rows changed since
        # left it, deleted ones change a partition's count): only later rows are new or changed.
        since = after
    return set(partition_counts(connector, dataset_id, spec, since=since))


def _next_moment(stamp: str) -> str | None:
    """The millisecond after a portal timestamp (``:updated_at`` has milliseconds), as ISO text."""
    moment = parse_instant(stamp)
    if moment is None:
        return None
    later = moment + timedelta(milliseconds=1)
    return later.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _field_type(desc: DatasetDescription, spec: PartitionSpec) -> str:
    column = desc.column(spec.field)
    if column is None:
        fields = ", ".join(c.field_name for c in desc.columns)
        raise UsageError(
            f"Cannot partition {desc.id} by {spec.field!r}: it has no such field (fields: {fields})."
        )
    if spec.grain and column.data_type not in _TIME_TYPES:
        raise UsageError(
            f"Cannot partition by {spec}: {spec.field} is {column.data_type}, and :{spec.grain} needs a "
            f"date or timestamp field; partition by {spec.field} alone instead."
        )
    return column.data_type


def _open_manifest(target: Target, dataset_id: str, spec: PartitionSpec) -> Manifest:
    raw = target.read_bytes(MANIFEST_NAME)
    if raw is None:
        return Manifest(dataset=dataset_id, partition_by=str(spec), key=spec.key)
    manifest = Manifest.from_json(raw, target.path(MANIFEST_NAME))
    if manifest.dataset != dataset_id or manifest.partition_by != str(spec):
        raise ManifestError(
            f"{target.url} holds {manifest.dataset} partitioned by {manifest.partition_by}, not "
            f"{dataset_id} by {spec}; pull into another folder, or empty this one first."
        )
    return manifest


def _source(connector: Connector, desc: DatasetDescription) -> dict[str, object]:
    return {
        "portal": connector.url,
        "kind": connector.kind,
        "dataset": desc.id,
        "name": desc.name,
        "row_count": desc.row_count,
        "etag": desc.etag,
        "last_modified": desc.last_modified.isoformat() if desc.last_modified else None,
        "rows_updated_at": desc.rows_updated_at.isoformat() if desc.rows_updated_at else None,
    }
