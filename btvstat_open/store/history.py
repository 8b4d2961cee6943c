"""The store's history: every write records the row versions it ended and the ones it began.

Each dataset with history has a versions table (``"dh_<id>"``): one row per version of a stored
row, with ``__vid`` (the version's number), ``__from`` (when the store recorded it), ``__to``
(when a later write replaced or deleted it), ``__source_at`` (when the source says the row
changed, where it says so) and ``__hash`` (a hash of ``:id`` and the row's values). A write
appends the ends of the versions it replaced or deleted to the dataset's ends table
(``"de_<id>"``: ``__vid``, ``__to``) rather than setting ``__to`` in place: closing 1% of the
versions in place touches every row group of the versions table, and DuckDB's checkpoint at the
commit then rewrites that column for all of them. Once the ends table holds more than
1/:data:`FOLD_RATIO` as many rows as the versions table, the write that finds it so folds the
ends into ``__to`` in one update and empties it, so a read as known at a moment before the fold
is a filter on ``__from`` and ``__to``, and one after it leaves out the few ends since by an
anti-join. A version is open (current) while neither holds its end. A write only touches the
versions of rows it changed: unchanged rows keep their open version, so history grows with the
changed rows only.
``btvstat_history`` holds, per dataset, the moment history runs from (``since``);
``btvstat_history_log`` one line per write (when, which kind, what the source said, how many
versions began and ended).

Everything here runs on the cursor of the write's own transaction (see
:meth:`btvstat_open.store.Store.transaction`): the rows and their history commit together or
not at all, so a process killed mid-write leaves both as they were.

Example:
    >>> versions_table("kc-311"), ends_table("kc-311")
    ('"dh_kc-311"', '"de_kc-311"')
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import duckdb
import pyarrow as pa

from btvstat_open.store.dataset import quote_ident, table_name
from btvstat_open.store.writes import META_TABLE, fetch_one, unregister
from btvstat_open.types import Column, duckdb_type

__all__ = [
    "HISTORY_TABLE",
    "LOG_TABLE",
    "SYSTEM_COLUMNS",
    "Recording",
    "commit_deferring_merge",
    "create_history_tables",
    "drop_history",
    "ends_table",
    "fold_ends",
    "open_versions",
    "versions_table",
]

#: per dataset: the moment its history runs from
HISTORY_TABLE = "btvstat_history"
#: one line per recorded write
LOG_TABLE = "btvstat_history_log"
#: the system columns every version keeps, as the dataset's table has them
SYSTEM_COLUMNS = (":id", ":created_at", ":updated_at")
#: the ends table's columns
ENDS_COLUMNS = "__vid BIGINT, __to TIMESTAMPTZ"
#: the ends are folded into the versions once they number more than the versions / FOLD_RATIO
FOLD_RATIO = 8
#: a write that begins at least this many versions commits with DuckDB's merge of row groups off
#: (see :func:`commit_deferring_merge`)
DEFER_MERGE_ROWS = 8192
_SYSTEM_TYPES = {":id": "VARCHAR", ":created_at": "TIMESTAMPTZ", ":updated_at": "TIMESTAMPTZ"}


def versions_table(dataset_id: str) -> str:
    """The quoted name of a dataset's versions table."""
    return quote_ident("dh_" + dataset_id)


def ends_table(dataset_id: str) -> str:
    """The quoted name of a dataset's ends table (``__vid``, ``__to``: when each ended version ended)."""
    return quote_ident("de_" + dataset_id)


def open_versions(dataset_id: str, select: str = "*", where: str = "true") -> str:
    """SQL of the dataset's versions no write has ended (its current rows), those matching ``where``.

    Example:
        >>> open_versions("d", "__vid")  # doctest: +NORMALIZE_WHITESPACE
        'SELECT __vid FROM "dh_d" AS __v ANTI JOIN "de_d" AS __e ON __e.__vid = __v.__vid
         WHERE __v.__to IS NULL AND (true)'
    """
    return (
        f"SELECT {select} FROM {versions_table(dataset_id)} AS __v ANTI JOIN {ends_table(dataset_id)} "
        f"AS __e ON __e.__vid = __v.__vid WHERE __v.__to IS NULL AND ({where})"
    )


def fold_ends(con: duckdb.DuckDBPyConnection, dataset_id: str) -> None:
    """Set ``__to`` of the versions the ends table lists, and empty it (one update of the versions)."""
    versions, ends = versions_table(dataset_id), ends_table(dataset_id)
    con.execute(
        f"UPDATE {versions} SET __to = __e.__to FROM {ends} AS __e WHERE {versions}.__vid = __e.__vid"
    )
    con.execute(f"DELETE FROM {ends}")


def commit_deferring_merge(con: duckdb.DuckDBPyConnection) -> None:
    """``COMMIT`` with DuckDB's merge of small row groups off for the checkpoint it makes.

    Every commit of an append starts a row group of its own, and DuckDB's checkpoint merges the
    small ones at the end of a table as they add up (each appended row rewritten, every column,
    several times over). A write of thousands of versions makes row groups big enough to read well
    as they are; merging them would cost it as much again as the rest of its history. So its
    commit leaves them be: a later commit of a smaller write, or ``store compact``, merges them.
    Row groups whose rows are all deleted are still dropped (DuckDB does that apart from merging).
    """
    before = fetch_one(con.execute("SELECT current_setting('max_vacuum_tasks')"))
    con.execute("SET GLOBAL max_vacuum_tasks = 0")
    try:
        con.execute("COMMIT")
    finally:
        con.execute(f"SET GLOBAL max_vacuum_tasks = {int(before[0]) if before else 100}")


def create_history_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create the history bookkeeping tables if the store does not have them yet."""
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {HISTORY_TABLE} (dataset_id VARCHAR PRIMARY KEY, since TIMESTAMPTZ)"
    )
    # The key whose hashes the versions' __key holds (see Recording._ensure_versions).
    con.execute(f"ALTER TABLE {HISTORY_TABLE} ADD COLUMN IF NOT EXISTS key_column VARCHAR")
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {LOG_TABLE} (dataset_id VARCHAR, recorded_at TIMESTAMPTZ, "
        "operation VARCHAR, source_changed_at TIMESTAMPTZ, began BIGINT, ended BIGINT)"
    )


def drop_history(con: duckdb.DuckDBPyConnection, dataset_id: str) -> None:
    """Forget a dropped dataset's history."""
    con.execute(f"DROP TABLE IF EXISTS {versions_table(dataset_id)}")
    con.execute(f"DROP TABLE IF EXISTS {ends_table(dataset_id)}")
    con.execute(f"DELETE FROM {HISTORY_TABLE} WHERE dataset_id = ?", [dataset_id])
    con.execute(f"DELETE FROM {LOG_TABLE} WHERE dataset_id = ?", [dataset_id])


def _table_columns(con: duckdb.DuckDBPyConnection, name: str) -> dict[str, str]:
    """``{column: DuckDB type}`` of a table in the main schema (empty if it does not exist)."""
    rows = con.execute(
        "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = ? AND schema_name = 'main'",
        [name],
    ).fetchall()
    return {str(r[0]): str(r[1]) for r in rows}


def _row_hash(columns: Sequence[Column], key: str) -> str:
    """The hash of a stored row: its values in column order, and its ``:id`` when that is its key.

    With a row identifier, a reloaded row that kept its values is the same row even though the
    load gave it a new ``:id``.
    """
    names = [quote_ident(c.field_name) for c in columns]
    if key == ":id" or not names:
        names.insert(0, quote_ident(":id"))
    return "hash(" + ", ".join(names) + ")"


#: DuckDB's own spelling of each type name (see Recording._canonical)
_SPELLING: dict[str, str] = {}
#: no open versions (a dataset's first recorded rows)
_NO_VERSIONS = "(SELECT NULL::UBIGINT WHERE false)"


def _empty(con: duckdb.DuckDBPyConnection, table: str) -> pa.Table:
    """No rows, with the columns of ``table``."""
    result: pa.Table = con.sql(f"SELECT * FROM {table} LIMIT 0").to_arrow_table()
    return result


@dataclass
class Recording:
    """The history of one write, recorded on the write's own cursor.

    Call :meth:`before` ahead of the write (a dataset written before history existed gets its
    rows as they stand as its first version), :meth:`touch` with the keys the write may change
    or delete, then :meth:`after` once the rows are written.
    """

    con: duckdb.DuckDBPyConnection
    dataset_id: str
    operation: str
    recorded_at: datetime
    source_changed_at: datetime | None = None
    #: the row key (row identifier, else ``:id``) that limits a scoped write
    key: str = ":id"
    #: only rows with these keys (or rewritten by this write) changed; False: any row may have
    scoped: bool = False
    #: False: record nothing (a store opened with ``history=False``)
    enabled: bool = True
    #: the rows the write wrote, as it wrote them (``RETURNING``), when it hands them over
    written: list[pa.Table] | None = None
    _touched: list[pa.Table] = field(default_factory=list)
    _views: list[str] = field(default_factory=list)
    _started: datetime | None = None
    #: what :meth:`before` read of the dataset's history record: ``since`` still unset, and the key
    #: whose hashes ``__key`` holds (None: not read, the statements that need them ask)
    _since_unset: bool | None = None
    _hashed_key: tuple[str | None] | None = None
    #: how many versions :meth:`after` began
    began: int = 0

    @property
    def defers_merge(self) -> bool:
        """Whether the write's commit should leave DuckDB's row groups unmerged (see
        :func:`commit_deferring_merge`): it began many versions."""
        return self.began >= DEFER_MERGE_ROWS

    def before(self, started: datetime) -> None:
        """Seed the history of a dataset written before history existed; note the write's start."""
        self._started = started
        if not self.enabled:
            # A write left out of history would make it wrong: it starts again from the rows as they
            # stand at the next recorded write.
            drop_history(self.con, self.dataset_id)
            return
        known = fetch_one(
            self.con.execute(
                f"SELECT since IS NULL, key_column FROM {HISTORY_TABLE} WHERE dataset_id = ?",
                [self.dataset_id],
            )
        )
        if known is not None:
            self._since_unset, self._hashed_key = bool(known[0]), (known[1],)
            return
        meta = fetch_one(
            self.con.execute(
                f"SELECT columns, rows_updated_at, row_identifier FROM {META_TABLE} WHERE id = ?",
                [self.dataset_id],
            )
        )
        self.con.execute(
            f"INSERT INTO {HISTORY_TABLE} (dataset_id, since) VALUES (?, NULL)", [self.dataset_id]
        )
        if meta is None:
            return
        columns = [Column.from_json(c) for c in json.loads(meta[0])]
        key = meta[2] or ":id"
        self._ensure_versions(columns, key)
        since = meta[1]
        current = f"(SELECT *, {_row_hash(columns, key)} AS __h FROM {table_name(self.dataset_id)})"
        n = self._begin(
            columns,
            since,
            current,
            "(SELECT __hash FROM (SELECT NULL::UBIGINT AS __hash) WHERE false)",
            None,
            key,
        )
        if n:
            self.con.execute(
                f"UPDATE {HISTORY_TABLE} SET since = ? WHERE dataset_id = ?", [since, self.dataset_id]
            )

    def touch(self, where: str, params: Sequence[Any] = ()) -> None:
        """Note the keys of the current rows matching ``where`` (they may change or go)."""
        if not self.enabled:
            return
        self.scoped = True
        keys = self.con.sql(
            f"SELECT {quote_ident(self.key)} AS k FROM {table_name(self.dataset_id)} WHERE {where}",
            params=list(params),
        ).to_arrow_table()
        self._touched.append(keys)

    def touch_keys(self, keys: pa.Array | pa.ChunkedArray) -> list[pa.Table] | None:
        """Note keys the write may change or delete (no lookup); returns the list the write fills
        with the rows it wrote (None when nothing is recorded)."""
        if not self.enabled:
            return None
        self.scoped = True
        self._touched.append(pa.table({"k": keys}))
        self.written = []
        return self.written

    def after(self, columns: Sequence[Column], source_rows: pa.Table | None = None, key: str = ":id") -> None:
        """End the versions of rows that changed or went, begin versions of new and changed rows.

        ``source_rows`` (the incoming rows, when they carry the source's ``:updated_at``) gives
        each new version its source change time, matched by ``key``.
        """
        if not self.enabled:
            return
        self._ensure_versions(columns, key)
        try:
            self._record(columns, source_rows, key)
        finally:
            for name in ("__hist_open", *self._views):
                unregister(self.con, name)
            self._views.clear()

    def _record(self, columns: Sequence[Column], source_rows: pa.Table | None, key: str) -> None:
        current, opened = self._scope(columns, key)
        # How many ends and versions there are (table metadata, no scan): the highest __vid is at
        # least the count, which lets the new versions' numbering read only the last row groups,
        # and the counts after the write say whether the ends are due to be folded.
        counts = fetch_one(
            self.con.execute(
                f"SELECT (SELECT count(*) FROM {ends_table(self.dataset_id)}), "
                f"(SELECT count(*) FROM {versions_table(self.dataset_id)})"
            )
        )
        n_ends, n_versions = (int(counts[0]), int(counts[1])) if counts else (0, 0)
        # The open versions in scope, found once (by the keys' hashes: one integer column).
        self.con.register("__hist_open", self.con.sql(opened).to_arrow_table())
        ended = fetch_one(
            self.con.execute(
                f"INSERT INTO {ends_table(self.dataset_id)} (__vid, __to) SELECT r, ? FROM __hist_open "
                f"WHERE __hash NOT IN (SELECT __h FROM {current})",
                [self.recorded_at],
            )
        )
        n_ended = int(ended[0]) if ended else 0
        began = self.began = self._begin(
            columns,
            self.recorded_at,
            current,
            "(SELECT __hash FROM __hist_open)",
            source_rows,
            key,
            last_vid=self._last_vid(n_versions),
        )
        if began and self._since_unset is not False:
            self.con.execute(
                f"UPDATE {HISTORY_TABLE} SET since = ? WHERE dataset_id = ? AND since IS NULL",
                [self.recorded_at, self.dataset_id],
            )
        self.con.execute(
            f"INSERT INTO {LOG_TABLE} VALUES (?, ?, ?, ?, ?, ?)",
            [self.dataset_id, self.recorded_at, self.operation, self.source_changed_at, began, n_ended],
        )
        # Fold the ends into the versions once they number more than 1/FOLD_RATIO of them.
        if n_ended and (n_ends + n_ended) * FOLD_RATIO > n_versions + began:
            fold_ends(self.con, self.dataset_id)

    def _last_vid(self, count: int) -> int:
        """The highest ``__vid`` of the versions, ``count`` of them: numbered from 1 and never
        twice, the highest is at least the count, so the row groups below it need not be read."""
        versions = versions_table(self.dataset_id)
        top = fetch_one(self.con.execute(f"SELECT max(__vid) FROM {versions} WHERE __vid >= {int(count)}"))
        if top is None or top[0] is None:  # (no versions)
            top = fetch_one(self.con.execute(f"SELECT coalesce(max(__vid), 0) FROM {versions}"))
        return int(top[0]) if top else 0

    def _scope(self, columns: Sequence[Column], key: str) -> tuple[str, str]:
        """Two relations limited to what this write may have changed: the current rows (with their
        hash ``__h``) and the open versions (``__vid`` as ``r``, ``__hash``).

        A scoped write limits them to the keys it touched and the rows it wrote: those it handed
        over (:meth:`touch_keys`), else those stamped at or after its start.
        """
        hashed = _row_hash(columns, key)
        current = table_name(self.dataset_id)
        if not self.scoped or self._started is None:
            return (
                f"(SELECT *, {hashed} AS __h FROM {current})",
                f"({open_versions(self.dataset_id, '__vid AS r, __hash')})",
            )
        qkey = quote_ident(self.key)
        tables = list(self._touched)
        if self.written is not None:
            # (the rows it wrote have the keys it touched, or new ones that no version has)
            written = self._register("w", self.written or [_empty(self.con, current)])
            rows_sql = f"(SELECT *, {hashed} AS __h FROM ({written}))"
        else:
            stamped = f"\":updated_at\" >= TIMESTAMPTZ '{self._started.astimezone(UTC).isoformat()}'"
            tables.append(self.con.sql(f"SELECT {qkey} AS k FROM {current} WHERE {stamped}").to_arrow_table())
            rows_sql = (
                f"(SELECT *, {hashed} AS __h FROM {current} WHERE {qkey} IN (SELECT k FROM {{touched}}) "
                f"OR ({qkey} IS NULL AND {stamped}))"
            )
        touched = f"({self._register('k', [t.select(['k']) for t in tables])})"
        keys = f"__key IN (SELECT hash(CAST(k AS VARCHAR)) FROM {touched} WHERE k IS NOT NULL)"
        opened = f"({open_versions(self.dataset_id, '__vid AS r, __hash', keys)})"
        return rows_sql.replace("{touched}", touched), opened

    def _register(self, prefix: str, tables: Sequence[pa.Table]) -> str:
        """Register each table as a view of this write; SQL of their rows, one after another."""
        names = []
        for table in tables:
            name = f"__hist_{prefix}{len(self._views)}"
            self.con.register(name, table)
            self._views.append(name)
            names.append(f"SELECT * FROM {name}")
        return " UNION ALL BY NAME ".join(names)

    def _begin(
        self,
        columns: Sequence[Column],
        at: datetime,
        current: str,
        opened: str,
        source_rows: pa.Table | None,
        key: str = ":id",
        last_vid: int | None = None,
    ) -> int:
        """Insert a version for each row of ``current`` whose hash no open version (``opened``) has,
        numbered on from ``last_vid``, the versions table's highest ``__vid`` (None: found here)."""
        versions = versions_table(self.dataset_id)
        top = f"(SELECT coalesce(max(__vid), 0) FROM {versions})" if last_vid is None else str(int(last_vid))
        names = [quote_ident(c) for c in SYSTEM_COLUMNS] + [quote_ident(c.field_name) for c in columns]
        source_sql, join = "?", ""
        if source_rows is not None and {":updated_at", key} <= set(source_rows.column_names):
            keyed = pa.table(
                {"k": source_rows.column(key).cast(pa.string()), "t": source_rows.column(":updated_at")}
            )
            self.con.register("__hist_source", keyed)
            join = (
                "LEFT JOIN (SELECT k, max(t) AS t FROM __hist_source GROUP BY k) AS __s "
                f"ON CAST(__c.{quote_ident(key)} AS VARCHAR) = __s.k"
            )
            source_sql = "coalesce(__s.t, ?)"
        try:
            n = fetch_one(
                self.con.execute(
                    f"INSERT INTO {versions} (__vid, __from, __source_at, __hash, __key, {', '.join(names)}) "
                    f"SELECT {top} + row_number() OVER (), "
                    f"?, {source_sql}, __c.__h, "
                    f"hash(CAST(__c.{quote_ident(key)} AS VARCHAR)), "
                    f"{', '.join('__c.' + n for n in names)} FROM {current} AS __c {join} "
                    f"WHERE __c.__h NOT IN {opened}",
                    [at, self.source_changed_at],
                )
            )
        finally:
            unregister(self.con, "__hist_source")
        return int(n[0]) if n else 0

    def _ensure_versions(self, columns: Sequence[Column], key: str) -> None:
        """Create the versions table, or give it the dataset's new columns.

        A column whose type changed becomes text in the versions table (reads cast it back).
        ``__key`` is the hash of each version's key as text (``key``: the row identifier, else
        ``:id``), so a scoped write finds its rows' open versions in one integer column; when the
        dataset's key changed, every version's ``__key`` is computed again.
        """
        name = "dh_" + self.dataset_id
        have = _table_columns(self.con, name)
        versions = versions_table(self.dataset_id)
        wanted = {**_SYSTEM_TYPES, **{c.field_name: duckdb_type(c.data_type) for c in columns}}
        canonical = {t: self._canonical(t) for t in set(wanted.values())}
        if not have:
            defs = ["__vid BIGINT", "__from TIMESTAMPTZ", "__to TIMESTAMPTZ", "__source_at TIMESTAMPTZ"]
            defs.append("__hash UBIGINT")
            defs += ["__key UBIGINT", *(f"{quote_ident(n)} {t}" for n, t in wanted.items())]
            self.con.execute(f"CREATE TABLE {versions} ({', '.join(defs)})")
            # (an ends table left behind by a versions table dropped by hand would end the new ones)
            self.con.execute(f"CREATE OR REPLACE TABLE {ends_table(self.dataset_id)} ({ENDS_COLUMNS})")
        else:
            if "__key" not in have:  # a store written before keys were hashed
                self.con.execute(f"ALTER TABLE {versions} ADD COLUMN __key UBIGINT")
            for column, kind in wanted.items():
                if column not in have:
                    self.con.execute(f"ALTER TABLE {versions} ADD COLUMN {quote_ident(column)} {kind}")
                elif have[column] not in (canonical[kind], "VARCHAR"):
                    self.con.execute(f"ALTER TABLE {versions} ALTER {quote_ident(column)} TYPE VARCHAR")
        hashed = self._hashed_key or fetch_one(
            self.con.execute(
                f"SELECT key_column FROM {HISTORY_TABLE} WHERE dataset_id = ?", [self.dataset_id]
            )
        )
        if hashed is None or hashed[0] != key:
            self._hashed_key = (key,)
            self.con.execute(f"UPDATE {versions} SET __key = hash(CAST({quote_ident(key)} AS VARCHAR))")
            self.con.execute(
                f"UPDATE {HISTORY_TABLE} SET key_column = ? WHERE dataset_id = ?", [key, self.dataset_id]
            )

    def _canonical(self, kind: str) -> str:
        """DuckDB's own spelling of a type (as ``duckdb_columns()`` lists it), asked once a type."""
        if kind not in _SPELLING:
            row = fetch_one(self.con.execute(f"SELECT typeof(CAST(NULL AS {kind}))"))
            _SPELLING[kind] = str(row[0]) if row else kind
        return _SPELLING[kind]
