"""The dataset store: every dataset is a DuckDB table in one database file.

A store is a folder holding ``store.duckdb``. Each dataset's rows live in a table
with the three Socrata system columns (``:id``, ``:created_at``, ``:updated_at``)
followed by its own columns; the ``btvstat_datasets`` table holds each dataset's
name, description, columns, row identifier, timestamps and a version number that
increases with every change (servers turn it into an ETag).

Every write is one transaction: it happens whole or not at all. Writes are
serialised by a lock; reads use their own cursor and never wait for writes.
The value types (:class:`DatasetInfo`, :class:`WriteResult`) and id helpers live in
:mod:`btvstat_open.store.dataset`, the SQL of the writes in :mod:`btvstat_open.store.writes`;
both are importable from here.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from btvstat_open.errors import DatasetNotFound, StoreError
from btvstat_open.store.dataset import (
    DatasetInfo,
    DataVersion,
    MetadataChange,
    WriteResult,
    as_utc,
    check_dataset_id,
    quote_ident,
    table_name,
)
from btvstat_open.store.engine_errors import engine_error, translated
from btvstat_open.store.fourbyfour import IDS_TABLE, assign_missing, ensure_ids_table, resolve
from btvstat_open.store.history import (
    Recording,
    commit_deferring_merge,
    create_history_tables,
    drop_history,
)
from btvstat_open.store.history_layout import upgrade_history_layout
from btvstat_open.store.known import VersionMemo, compact_history, known_info
from btvstat_open.store.writes import (
    META_TABLE,
    apply_upsert,
    create_table,
    fetch_one,
    insert_rows,
    now_utc,
    prepare_upsert,
    touch,
    update_metadata,
)
from btvstat_open.types import Column, duckdb_type

__all__ = [
    "DataVersion",
    "DatasetInfo",
    "MetadataChange",
    "Store",
    "WriteResult",
    "check_dataset_id",
    "quote_ident",
    "table_name",
]

_META = META_TABLE
_INFO_FIELDS = (
    "id, name, description, columns, row_identifier, created_at, rows_updated_at, view_last_modified, "
    "version, attributes, four_by_four"
)
# The metadata rows with each dataset's 4x4 (see :mod:`btvstat_open.store.fourbyfour`).
_INFO_FROM = f"{_META} LEFT JOIN {IDS_TABLE} USING (id)"


def _dataset_info(row: Sequence[Any], row_count: int) -> DatasetInfo:
    """A :class:`DatasetInfo` from a metadata row (the fields of ``_INFO_FIELDS``) and a row count."""
    attributes = json.loads(row[9]) if row[9] else {}
    return DatasetInfo(
        id=row[0],
        name=row[1],
        description=row[2] or "",
        columns=tuple(Column.from_json(c) for c in json.loads(row[3])),
        row_identifier=row[4],
        created_at=row[5],
        rows_updated_at=row[6],
        view_last_modified=row[7],
        version=row[8],
        row_count=row_count,
        tags=tuple(attributes.get("tags") or ()),
        category=attributes.get("category"),
        attribution=attributes.get("attribution"),
        public=bool(attributes.get("public", True)),
        published=bool(attributes.get("published", True)),
        four_by_four=row[10] or "",
        license=attributes.get("license"),
        source_url=attributes.get("source_url"),
        source_updated=attributes.get("source_updated"),
    )


def _connect(path: Path, wait_seconds: float) -> duckdb.DuckDBPyConnection:
    """Open the database file, waiting up to ``wait_seconds`` while another process holds it."""
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            return duckdb.connect(str(path))
        except duckdb.Error as exc:
            if "lock" in str(exc).lower() and time.monotonic() < deadline:
                time.sleep(0.2)
                continue
            raise StoreError(
                f"Cannot open the store at {path}: {exc}. Is another btvstat-open process using it? "
                "Wait for it to finish (a running `serve` takes the other commands' work itself)."
            ) from exc


class Store:
    """A folder of datasets backed by DuckDB.

    Example:
        >>> import pyarrow as pa, tempfile
        >>> store = Store(tempfile.mkdtemp())
        >>> cols = [Column("n", "N", "number")]
        >>> _ = store.create("demo", "Demo", cols)
        >>> store.replace("demo", pa.table({"n": [1.0, 2.0]})).created
        2
        >>> store.info("demo").row_count
        2
    """

    def __init__(self, root: str | Path, *, wait_seconds: float = 0, history: bool = True) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.path = self.root / "store.duckdb"
        self.pinned = False  # True while a serving process owns it (btvstat_open.store.owner)
        self._con = _connect(self.path, wait_seconds)
        # Fixed timestamps are UTC instants: every cursor reads TIMESTAMPTZ as timestamp[us, tz=UTC]
        # (and date functions work in UTC), whatever the machine's zone. GLOBAL reaches cursors.
        self._con.execute("SET GLOBAL TimeZone = 'UTC'")
        # Defence in depth behind the SoQL compiler: no statement on this database may read or
        # write other files (read_csv, COPY, ATTACH, INSTALL/LOAD ...). Data comes in as Arrow
        # tables; once off, this cannot be turned back on while the database is open.
        self._con.execute("SET enable_external_access = false")
        self._write_lock = threading.RLock()
        # The history of the write in hand (its transaction's commit asks them how to commit).
        self._recordings: list[Recording] = []
        # What datasets() last listed: id -> info, read again when its DataVersion moves.
        self._listing: dict[str, DatasetInfo] = {}
        self._listing_lock = threading.Lock()
        self._local = threading.local()
        # Dataset records (current and as known at a moment) per DataVersion: pages over many
        # KPIs ask for the same few.
        self._records = VersionMemo()
        # While a page over many KPIs is computed (pinned_versions), every version from one lookup.
        self._pinned: dict[str, DataVersion] | None = None
        self._pins = 0
        self._pin_lock = threading.Lock()
        self._con.execute(
            f"CREATE TABLE IF NOT EXISTS {_META} ("
            "id VARCHAR PRIMARY KEY, name VARCHAR, description VARCHAR, columns VARCHAR, "
            "row_identifier VARCHAR, created_at TIMESTAMP, rows_updated_at TIMESTAMP, "
            "view_last_modified TIMESTAMP, version BIGINT, attributes VARCHAR)"
        )
        # Stores written before attributes (tags, category, permission...) existed gain the column.
        self._con.execute(f"ALTER TABLE {_META} ADD COLUMN IF NOT EXISTS attributes VARCHAR")
        # Stores written before 4x4 ids existed gain them, in one transaction.
        with self.transaction() as con:
            ensure_ids_table(con)
            assign_missing(con, _META)
        # History (see btvstat_open.store.history): every write records the versions it changed,
        # stamped by this clock (tests replace it to write "on" chosen days).
        create_history_tables(self._con)
        # Stores whose versions kept their ends in place (__to) move them to ends tables, at once.
        with self.transaction() as con:
            upgrade_history_layout(con)
        self.clock: Callable[[], datetime] = now_utc
        # history=False: writes record no history (a scratch store, or a benchmark's baseline).
        self.history = history

    def close(self) -> None:
        """Close the database (a store its serving process owns stays open: see ``store.owner``)."""
        if not self.pinned:
            self._con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({str(self.root)!r})"

    # -- reading -----------------------------------------------------------------
    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A DuckDB cursor for the calling thread (reuse it; do not close it)."""
        cur: duckdb.DuckDBPyConnection | None = getattr(self._local, "cursor", None)
        if cur is None:
            cur = self._con.cursor()
            self._local.cursor = cur
        return cur

    def datasets(self) -> list[DatasetInfo]:
        """Every dataset, by id.

        One lookup of every dataset's version (:meth:`versions`); the metadata and row count of a
        dataset are read again only when its version moved (or it was dropped and made anew) since
        the last call, and then for all such datasets in two queries, so listing 1,000 unchanged
        datasets costs one small query, not 2,000.
        """
        versions = self.versions()
        with self._listing_lock:
            known = self._listing
            stale = [i for i, v in versions.items() if i not in known or known[i].data_version != v]
            fresh = {i: known[i] for i in versions if i not in stale}
            for info in self._read_infos(stale):
                fresh[info.id] = info
            self._listing = fresh
        return [fresh[i] for i in sorted(fresh)]

    def versions(self, dataset_ids: Sequence[str] | None = None) -> dict[str, DataVersion]:
        """Every dataset's :class:`DataVersion` (or only these datasets'), in one cheap lookup.

        Caches of anything built from a dataset key it by this: it moves with every write, and
        differs for a dataset dropped and made again under the same id.

        Example:
            >>> store = Store(scratch / "versions")
            >>> before = store.create("demo", "Demo", [Column("n", "N", "number")]).data_version
            >>> store.drop("demo")
            >>> after = store.create("demo", "Demo", [Column("n", "N", "number")]).data_version
            >>> before.number == after.number, before == after, store.versions() == {"demo": after}
            (True, False, True)
        """
        sql = f"SELECT id, created_at, version FROM {_META}"
        cur = self.cursor()
        rows = (
            cur.execute(sql).fetchall()
            if dataset_ids is None
            else cur.execute(f"{sql} WHERE list_contains(?, id)", [list(dataset_ids)]).fetchall()
        )
        return {r[0]: DataVersion(r[1], int(r[2])) for r in rows}

    def _read_infos(self, dataset_ids: Sequence[str]) -> list[DatasetInfo]:
        """Metadata of these datasets in one query, their row counts in one query per 200."""
        if not dataset_ids:
            return []
        cur = self.cursor()
        rows = cur.execute(
            f"SELECT {_INFO_FIELDS} FROM {_INFO_FROM} WHERE list_contains(?, id)", [list(dataset_ids)]
        ).fetchall()
        counts: dict[str, int] = {}
        for start in range(0, len(rows), 200):
            chunk = [r[0] for r in rows[start : start + 200]]
            sql = " UNION ALL ".join(f"SELECT ?, count(*) FROM {table_name(i)}" for i in chunk)
            counts.update((i, int(n)) for i, n in cur.execute(sql, chunk).fetchall())
        return [_dataset_info(row, counts.get(row[0], 0)) for row in rows]

    def exists(self, dataset_id: str) -> bool:
        """Whether a dataset with this id exists (within :meth:`pinned_versions`, from its lookup).

        Example:
            >>> import tempfile
            >>> store = Store(tempfile.mkdtemp())  # any empty folder
            >>> with store.pinned_versions():
            ...     before = store.exists("demo")
            ...     _ = store.create("demo", "Demo", [Column("n", "N", "number")])  # a write ends the pin
            ...     before, store.exists("demo")
            (False, True)
        """
        pinned = self._pinned
        if pinned is not None:
            return dataset_id in pinned
        row = fetch_one(self.cursor().execute(f"SELECT 1 FROM {_META} WHERE id = ?", [dataset_id]))
        return row is not None

    def version(self, dataset_id: str) -> int | None:
        """The dataset's version number (one cheap lookup, for caches), or None if it does not exist."""
        row = fetch_one(self.cursor().execute(f"SELECT version FROM {_META} WHERE id = ?", [dataset_id]))
        return None if row is None else int(row[0])

    def resolve(self, key: str) -> str | None:
        """The readable id of the dataset ``key`` names (its readable id or its 4x4), or None.

        Example:
            >>> import tempfile
            >>> store = Store(tempfile.mkdtemp())  # any empty folder
            >>> fxf = store.create("demo", "Demo", [Column("n", "N", "number")]).four_by_four
            >>> store.resolve(fxf), store.resolve("demo"), store.resolve("nope-nope")
            ('demo', 'demo', None)
        """
        if self.exists(key):
            return key
        return resolve(self.cursor(), key)

    def info(self, dataset_id: str) -> DatasetInfo:
        """Metadata of one dataset; raises :class:`DatasetNotFound`.

        One lookup of its version; the record is read again only when that moved.
        """
        return self._info(dataset_id, self._data_version(dataset_id))

    @contextmanager
    def pinned_versions(self) -> Iterator[None]:
        """Within it, :meth:`info` and :meth:`known` take each dataset's version from one lookup of
        them all (made on entering) instead of one lookup per call: for work that reads the same
        few datasets hundreds of times (a page over every KPI). A write through this store ends
        that (its versions are looked up again); a pin may be entered from several threads.

        Example:
            >>> import tempfile
            >>> store = Store(tempfile.mkdtemp())  # any empty folder
            >>> _ = store.load("demo", pa.table({"n": [1.0]}), [Column("n", "N", "number")])
            >>> with store.pinned_versions():
            ...     _ = store.upsert("demo", pa.table({"n": [2.0]}))
            ...     store.info("demo").row_count
            2
        """
        with self._pin_lock:
            if self._pins == 0:
                self._pinned = self.versions()
            self._pins += 1
        try:
            yield
        finally:
            with self._pin_lock:
                self._pins -= 1
                if self._pins == 0:
                    self._pinned = None

    def _data_version(self, dataset_id: str) -> DataVersion:
        pinned = self._pinned
        if pinned is not None and dataset_id in pinned:
            return pinned[dataset_id]
        with translated(f"reading {dataset_id!r}"):
            row = fetch_one(
                self.cursor().execute(f"SELECT created_at, version FROM {_META} WHERE id = ?", [dataset_id])
            )
        if row is None:
            raise DatasetNotFound(dataset_id)
        return DataVersion(row[0], int(row[1]))

    def _info(self, dataset_id: str, version: DataVersion) -> DatasetInfo:
        return self._records.get(("info", dataset_id), version, lambda: self._read_info(dataset_id))

    def _read_info(self, dataset_id: str) -> DatasetInfo:
        cur = self.cursor()
        with translated(f"reading {dataset_id!r}"):
            row = fetch_one(
                cur.execute(f"SELECT {_INFO_FIELDS} FROM {_INFO_FROM} WHERE id = ?", [dataset_id])
            )
            if row is None:
                raise DatasetNotFound(dataset_id)
            count_row = fetch_one(cur.execute(f"SELECT count(*) FROM {table_name(dataset_id)}"))
        return _dataset_info(row, count_row[0] if count_row else 0)

    def known(self, dataset_id: str, at: datetime) -> DatasetInfo:
        """The dataset as the store knew it at ``at``: its ``table`` reads the rows held then.

        Before history's first version that version stands in (the result's ``history_since``
        says from when history runs); with no write recorded after ``at``, the current dataset.

        Example:
            >>> from datetime import UTC, datetime
            >>> import tempfile
            >>> store = Store(tempfile.mkdtemp())  # any empty folder
            >>> store.clock = lambda: datetime(2020, 3, 1, tzinfo=UTC)
            >>> _ = store.load("demo", pa.table({"n": [1.0]}), [Column("n", "N", "number")])
            >>> store.clock = lambda: datetime(2020, 3, 9, tzinfo=UTC)
            >>> _ = store.upsert("demo", pa.table({"n": [2.0]}))
            >>> store.known("demo", datetime(2020, 3, 4, tzinfo=UTC)).row_count
            1
            >>> store.arrow("demo", as_known=datetime(2020, 3, 4, tzinfo=UTC))["n"].to_pylist()
            [1.0]
        """
        version = self._data_version(dataset_id)
        return self._records.get(
            ("known", dataset_id, as_utc(at)),
            version,
            lambda: known_info(self.cursor(), self._info(dataset_id, version), at),
        )

    def compact_history(self, keep: timedelta) -> dict[str, int]:
        """Forget row versions that ended more than ``keep`` ago (``store compact``); one transaction.

        Returns how many versions each dataset lost; history then runs from ``now - keep``.
        """
        with self.transaction() as con:
            removed = compact_history(con, keep, self.clock())
        self._records.clear()  # history now runs from later: what was known before that changed
        self._con.execute("CHECKPOINT")
        return removed

    def arrow(self, dataset_id: str, *, system: bool = False, as_known: datetime | None = None) -> pa.Table:
        """The whole dataset as an Arrow table ordered by ``:id`` (as known at ``as_known`` if given).

        Example:
            >>> import tempfile
            >>> store = Store(tempfile.mkdtemp())  # any empty folder
            >>> _ = store.load("demo", pa.table({"n": [1.0, 2.0]}), [Column("n", "N", "number")])
            >>> store.arrow("demo").column_names
            ['n']
        """
        info = self.info(dataset_id) if as_known is None else self.known(dataset_id, as_known)
        cols = info.all_columns if system else info.columns
        select = ", ".join(quote_ident(c.field_name) for c in cols)
        with translated(f"reading {dataset_id!r}"):
            result: pa.Table = (
                self.cursor().sql(f'SELECT {select} FROM {info.table} ORDER BY ":id"').to_arrow_table()
            )
        return result

    # -- writing -----------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """One all-or-nothing write: commits on success, rolls back on any error.

        A DuckDB failure is raised as our own error (:func:`~btvstat_open.store.engine_errors.engine_error`:
        a :class:`StoreError` or a :class:`SoqlError` that says nothing was written), never as the
        engine's exception or text.
        """
        with self._write_lock:
            con = self._con.cursor()
            self._recordings = []
            try:
                con.execute("BEGIN TRANSACTION")
                try:
                    yield con
                except BaseException:
                    con.execute("ROLLBACK")
                    raise
                else:
                    if any(r.defers_merge for r in self._recordings):
                        commit_deferring_merge(con)
                    else:
                        con.execute("COMMIT")
                    self._pinned = None  # pinned versions are now out of date
            except duckdb.Error as exc:
                raise engine_error(exc, "the write (nothing was written)") from exc
            finally:
                con.close()

    def _recording(
        self,
        con: duckdb.DuckDBPyConnection,
        dataset_id: str,
        operation: str,
        source_changed_at: datetime | None = None,
        key: str = ":id",
    ) -> Recording:
        """Begin the history of one write on its transaction's cursor (see :class:`Recording`)."""
        recording = Recording(
            con, dataset_id, operation, self.clock(), source_changed_at, key, enabled=self.history
        )
        recording.before(now_utc())
        self._recordings.append(recording)  # its commit may defer DuckDB's merge of row groups
        return recording

    def create(
        self,
        dataset_id: str,
        name: str,
        columns: Sequence[Column],
        *,
        description: str = "",
        row_identifier: str | None = None,
        replace: bool = False,
        change: MetadataChange | None = None,
        four_by_four: str | None = None,
    ) -> DatasetInfo:
        """Create an empty dataset (or, with ``replace=True``, drop and recreate one).

        ``change`` sets tags, category, attribution, permission or an unpublished stage in the
        same transaction (``MetadataChange(published=False)`` as Socrata's API creates datasets).
        ``four_by_four`` sets its Socrata-style id (else it keeps the one it has, or gets one).
        """
        with self.transaction() as con:
            recording = self._recording(con, dataset_id, "create")
            create_table(
                con,
                dataset_id,
                name,
                columns,
                description,
                row_identifier,
                replace,
                change=change,
                four_by_four=four_by_four,
            )
            recording.after(columns, key=row_identifier or ":id")
        return self.info(dataset_id)

    def update_metadata(self, dataset_id: str, change: MetadataChange) -> DatasetInfo:
        """Change a dataset's name, description, tags, category, attribution, permission, column
        descriptions or publication stage, in one transaction (the rows are untouched).

        Example:
            >>> import tempfile
            >>> store = Store(tempfile.mkdtemp())  # any empty folder
            >>> _ = store.create("demo", "Demo", [Column("n", "N", "number")])
            >>> store.update_metadata("demo", MetadataChange(tags=("roads",))).tags
            ('roads',)
        """
        # Read and write under the write lock, so two updates never lose one another's change.
        with self._write_lock:
            info = self.info(dataset_id)
            with self.transaction() as con:
                update_metadata(con, info, change)
        return self.info(dataset_id)

    def load(
        self,
        dataset_id: str,
        table: pa.Table,
        columns: Sequence[Column],
        *,
        name: str | None = None,
        description: str | None = None,
        row_identifier: str | None = None,
        four_by_four: str | None = None,
        change: MetadataChange | None = None,
        source_changed_at: datetime | None = None,
    ) -> DatasetInfo:
        """Create or replace a dataset with exactly these rows, in one transaction.

        ``four_by_four`` sets its Socrata-style id (else it keeps the one it has, or gets one).

        A replaced dataset keeps its name, description and attributes (license, tags, source...)
        unless they are given anew (``name``, ``description``, ``change``); a new one is named
        after its id. History records the rows that differ from what the dataset held
        (``source_changed_at``: when the source says the data changed, for rows that do not carry
        their own ``:updated_at``).

        Example:
            >>> import tempfile
            >>> store = Store(tempfile.mkdtemp())  # any empty folder
            >>> cols = [Column("n", "N", "number")]
            >>> cc0 = MetadataChange(license="CC0-1.0")
            >>> _ = store.load("demo", pa.table({"n": [1.0]}), cols, name="Demo", change=cc0)
            >>> again = store.load("demo", pa.table({"n": [2.0]}), cols)
            >>> again.name, again.license
            ('Demo', 'CC0-1.0')
        """
        with self.transaction() as con:
            recording = self._recording(con, dataset_id, "load", source_changed_at)
            before = fetch_one(
                con.execute(f"SELECT name, description FROM {_META} WHERE id = ?", [dataset_id])
            )
            create_table(
                con,
                dataset_id,
                name or (before[0] if before else dataset_id),
                columns,
                (before[1] if before else "") if description is None else description,
                row_identifier,
                replace=True,
                change=change,
                four_by_four=four_by_four,
            )
            insert_rows(con, dataset_id, table, columns)
            recording.after(columns, table, row_identifier or ":id")
        return self.info(dataset_id)

    def replace(self, dataset_id: str, table: pa.Table) -> WriteResult:
        """Replace every row of a dataset with these rows (``:id`` kept where given)."""
        info = self.info(dataset_id)
        with self.transaction() as con:
            recording = self._recording(con, dataset_id, "replace")
            deleted = fetch_one(con.execute(f"DELETE FROM {info.table}"))
            created = insert_rows(con, dataset_id, table, info.columns)
            touch(con, dataset_id)
            recording.after(info.columns, table, info.row_identifier or ":id")
        return WriteResult(created=created, deleted=deleted[0] if deleted else 0)

    def upsert(
        self,
        dataset_id: str,
        table: pa.Table,
        *,
        deleted: Sequence[bool] | None = None,
        source_changed_at: datetime | None = None,
    ) -> WriteResult:
        """Insert or update rows by the row identifier (or ``:id``); delete rows flagged in ``deleted``.

        Columns missing from ``table`` are left unchanged on updated rows and null on new ones.
        Rows apply in order, as Socrata applies them: when a key appears more than once, its
        last row wins.

        Example:
            >>> import tempfile
            >>> store = Store(tempfile.mkdtemp())  # any empty folder
            >>> _ = store.create("demo", "Demo", [Column("n", "N", "number")])
            >>> store.upsert("demo", pa.table({"n": [3.0]})).created
            1
        """
        info = self.info(dataset_id)
        incoming = prepare_upsert(info, table, deleted)
        key = info.row_identifier or ":id"
        with self.transaction() as con:
            recording = self._recording(con, dataset_id, "upsert", source_changed_at, key)
            # The incoming keys are the rows it may change or delete; it hands over what it wrote.
            written = recording.touch_keys(incoming.column(key))
            result = apply_upsert(con, info, incoming, written)
            recording.after(info.columns, table, key)
            return result

    def delete_row(self, dataset_id: str, row_id: str) -> int:
        """Delete one row by row identifier value or ``:id``; returns how many rows went."""
        info = self.info(dataset_id)
        key = info.row_identifier or ":id"
        # Compare in the key's own type: a number key 42.0 matches "42".
        key_type = duckdb_type(info.require_column(key).data_type)
        where = f'{quote_ident(key)} = TRY_CAST(? AS {key_type}) OR ":id" = ?'
        with self.transaction() as con:
            recording = self._recording(con, dataset_id, "delete", key=key)
            recording.touch(where, [row_id, row_id])
            n = fetch_one(con.execute(f"DELETE FROM {info.table} WHERE {where}", [row_id, row_id]))
            count = int(n[0]) if n else 0
            if count:
                touch(con, dataset_id)
                recording.after(info.columns, key=key)
        return count

    def drop(self, dataset_id: str) -> None:
        """Remove a dataset and its rows."""
        self.info(dataset_id)
        with self.transaction() as con:
            con.execute(f"DROP TABLE IF EXISTS {table_name(dataset_id)}")
            con.execute(f"DELETE FROM {_META} WHERE id = ?", [dataset_id])
            con.execute(f"DELETE FROM {IDS_TABLE} WHERE id = ?", [dataset_id])
            drop_history(con, dataset_id)
