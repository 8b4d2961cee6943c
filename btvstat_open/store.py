"""The dataset store: every dataset is a DuckDB table in one database file.

A store is a folder holding ``store.duckdb``. Each dataset's rows live in a table
with the three Socrata system columns (``:id``, ``:created_at``, ``:updated_at``)
followed by its own columns; the ``btvstat_datasets`` table holds each dataset's
name, description, columns, row identifier, timestamps and a version number that
increases with every change (servers turn it into an ETag).

Every write is one transaction: it happens whole or not at all. Writes are
serialised by a lock; reads use their own cursor and never wait for writes.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from btvstat_open.errors import DatasetNotFound, InvalidDatasetId, StoreError, UsageError
from btvstat_open.types import SYSTEM_COLUMNS, Column, arrow_type, duckdb_type

__all__ = ["DatasetInfo", "Store", "WriteResult", "quote_ident"]

_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_META = "btvstat_datasets"


def quote_ident(name: str) -> str:
    """A DuckDB identifier, double-quoted with inner quotes doubled.

    Example:
        >>> quote_ident(':id')
        '":id"'
    """
    return '"' + name.replace('"', '""') + '"'


def new_row_id() -> str:
    """A fresh Socrata-style row id, ``row-xxxx-xxxx-xxxx``."""
    h = uuid.uuid4().hex
    return f"row-{h[:4]}-{h[4:8]}-{h[8:12]}"


@dataclass(frozen=True)
class DatasetInfo:
    """What the store knows about one dataset."""

    id: str
    name: str
    description: str
    columns: tuple[Column, ...]
    row_identifier: str | None
    created_at: datetime
    rows_updated_at: datetime
    view_last_modified: datetime
    version: int
    row_count: int

    @property
    def table(self) -> str:
        """The quoted DuckDB name of the dataset's table."""
        return quote_ident("ds_" + self.id)

    @property
    def etag(self) -> str:
        """A strong ETag for the dataset's current content."""
        return f'"{self.id}-v{self.version}"'

    def column(self, field_name: str) -> Column:
        """The column with this field name (system fields included)."""
        for col in self.all_columns:
            if col.field_name == field_name:
                return col
        raise UsageError(f"Dataset {self.id!r} has no column {field_name!r}.", code="column.missing")

    @property
    def all_columns(self) -> tuple[Column, ...]:
        """System columns followed by the dataset's own columns."""
        system = tuple(Column(name, name, kind) for name, kind in SYSTEM_COLUMNS)
        return system + self.columns

    @property
    def arrow_schema(self) -> pa.Schema:
        """Arrow schema of the dataset's own columns (no system columns)."""
        return pa.schema([c.arrow_field for c in self.columns])


@dataclass
class WriteResult:
    """Counts from one write, as Socrata reports them."""

    created: int = 0
    updated: int = 0
    deleted: int = 0
    errors: int = 0
    by_row_identifier: int = 0
    by_sid: int = 0
    messages: list[str] = field(default_factory=list)

    def to_socrata(self) -> dict[str, int]:
        """Socrata's upsert result body."""
        return {
            "Errors": self.errors,
            "Rows Deleted": self.deleted,
            "Rows Updated": self.updated,
            "By SID": self.by_sid,
            "Rows Created": self.created,
            "By RowIdentifier": self.by_row_identifier,
        }


def check_dataset_id(dataset_id: str) -> str:
    """Return the id if it is valid, else raise :class:`InvalidDatasetId`."""
    if not _ID.match(dataset_id):
        raise InvalidDatasetId(
            f"Invalid dataset id {dataset_id!r}: use 1-64 lowercase letters, digits, '-' or '_', "
            "starting with a letter or digit (e.g. 'kc-311-potholes')."
        )
    return dataset_id


def _now() -> datetime:
    """Now in UTC, timezone-aware (DuckDB stores TIMESTAMPTZ as UTC instants)."""
    return datetime.now(UTC)


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

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.path = self.root / "store.duckdb"
        try:
            self._con = duckdb.connect(str(self.path))
        except duckdb.Error as exc:
            raise StoreError(
                f"Cannot open the store at {self.path}: {exc}. Is another btvstat-open process using it?"
            ) from exc
        # Fixed timestamps are UTC instants: every cursor reads TIMESTAMPTZ as timestamp[us, tz=UTC]
        # (and date functions work in UTC), whatever the machine's zone. GLOBAL reaches cursors.
        self._con.execute("SET GLOBAL TimeZone = 'UTC'")
        self._write_lock = threading.RLock()
        self._local = threading.local()
        self._con.execute(
            f"CREATE TABLE IF NOT EXISTS {_META} ("
            "id VARCHAR PRIMARY KEY, name VARCHAR, description VARCHAR, columns VARCHAR, "
            "row_identifier VARCHAR, created_at TIMESTAMP, rows_updated_at TIMESTAMP, "
            "view_last_modified TIMESTAMP, version BIGINT)"
        )

    def close(self) -> None:
        """Close the database."""
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
        """Every dataset, by id."""
        rows = self.cursor().execute(f"SELECT id FROM {_META} ORDER BY id").fetchall()
        return [self.info(r[0]) for r in rows]

    def exists(self, dataset_id: str) -> bool:
        """Whether a dataset with this id exists."""
        row = _one(self.cursor().execute(f"SELECT 1 FROM {_META} WHERE id = ?", [dataset_id]))
        return row is not None

    def version(self, dataset_id: str) -> int | None:
        """The dataset's version number (one cheap lookup, for caches), or None if it does not exist."""
        row = _one(self.cursor().execute(f"SELECT version FROM {_META} WHERE id = ?", [dataset_id]))
        return None if row is None else int(row[0])

    def info(self, dataset_id: str) -> DatasetInfo:
        """Metadata of one dataset; raises :class:`DatasetNotFound`."""
        cur = self.cursor()
        row = _one(
            cur.execute(
                "SELECT id, name, description, columns, row_identifier, created_at, rows_updated_at, "
                f"view_last_modified, version FROM {_META} WHERE id = ?",
                [dataset_id],
            )
        )
        if row is None:
            raise DatasetNotFound(dataset_id)
        table = quote_ident("ds_" + dataset_id)
        count_row = _one(cur.execute(f"SELECT count(*) FROM {table}"))
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
            row_count=count_row[0] if count_row else 0,
        )

    def arrow(self, dataset_id: str, *, system: bool = False) -> pa.Table:
        """The whole dataset as an Arrow table ordered by ``:id``.

        Example:
            >>> store.arrow("demo").column_names  # doctest: +SKIP
            ['n']
        """
        info = self.info(dataset_id)
        cols = info.all_columns if system else info.columns
        select = ", ".join(quote_ident(c.field_name) for c in cols)
        result: pa.Table = (
            self.cursor().sql(f'SELECT {select} FROM {info.table} ORDER BY ":id"').to_arrow_table()
        )
        return result

    # -- writing -----------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """One all-or-nothing write: commits on success, rolls back on any error."""
        with self._write_lock:
            con = self._con.cursor()
            con.execute("BEGIN TRANSACTION")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            else:
                con.execute("COMMIT")
            finally:
                con.close()

    def create(
        self,
        dataset_id: str,
        name: str,
        columns: Sequence[Column],
        *,
        description: str = "",
        row_identifier: str | None = None,
        replace: bool = False,
    ) -> DatasetInfo:
        """Create an empty dataset (or, with ``replace=True``, drop and recreate one)."""
        with self.transaction() as con:
            self._create(con, dataset_id, name, columns, description, row_identifier, replace)
        return self.info(dataset_id)

    def _create(
        self,
        con: duckdb.DuckDBPyConnection,
        dataset_id: str,
        name: str,
        columns: Sequence[Column],
        description: str,
        row_identifier: str | None,
        replace: bool,
    ) -> None:
        check_dataset_id(dataset_id)
        names = [c.field_name for c in columns]
        if len(set(names)) != len(names):
            raise UsageError(f"Dataset {dataset_id!r} has duplicate field names: {names}.")
        if row_identifier is not None and row_identifier not in names:
            raise UsageError(
                f"Row identifier {row_identifier!r} is not a column of {dataset_id!r}; "
                f"choose one of: {', '.join(names)}."
            )
        exists = _one(con.execute(f"SELECT 1 FROM {_META} WHERE id = ?", [dataset_id]))
        if exists and not replace:
            raise UsageError(f"Dataset {dataset_id!r} already exists; choose another id.")
        table = quote_ident("ds_" + dataset_id)
        # A replaced dataset keeps its creation time and its version keeps counting up, so that
        # an ETag ("<id>-v<version>") never names two different contents.
        previous = _one(con.execute(f"SELECT version, created_at FROM {_META} WHERE id = ?", [dataset_id]))
        con.execute(f"DROP TABLE IF EXISTS {table}")
        con.execute(f"DELETE FROM {_META} WHERE id = ?", [dataset_id])
        defs = [
            '":id" VARCHAR PRIMARY KEY',
            '":created_at" TIMESTAMPTZ',
            '":updated_at" TIMESTAMPTZ',
        ] + [f"{quote_ident(c.field_name)} {duckdb_type(c.data_type)}" for c in columns]
        con.execute(f"CREATE TABLE {table} ({', '.join(defs)})")
        now = _now().replace(tzinfo=None)
        con.execute(
            f"INSERT INTO {_META} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                dataset_id,
                name,
                description,
                json.dumps([c.to_json() for c in columns]),
                row_identifier,
                previous[1] if previous else now,
                now,
                now,
                previous[0] + 1 if previous else 1,
            ],
        )

    def load(
        self,
        dataset_id: str,
        table: pa.Table,
        columns: Sequence[Column],
        *,
        name: str | None = None,
        description: str = "",
        row_identifier: str | None = None,
    ) -> DatasetInfo:
        """Create or replace a dataset with exactly these rows, in one transaction."""
        with self.transaction() as con:
            self._create(
                con, dataset_id, name or dataset_id, columns, description, row_identifier, replace=True
            )
            self._insert(con, dataset_id, table, columns)
        return self.info(dataset_id)

    def replace(self, dataset_id: str, table: pa.Table) -> WriteResult:
        """Replace every row of a dataset with these rows (``:id`` kept where given)."""
        info = self.info(dataset_id)
        with self.transaction() as con:
            deleted = _one(con.execute(f"DELETE FROM {info.table}"))
            created = self._insert(con, dataset_id, table, info.columns)
            self._touch(con, dataset_id)
        return WriteResult(created=created, deleted=deleted[0] if deleted else 0)

    def upsert(
        self, dataset_id: str, table: pa.Table, *, deleted: Sequence[bool] | None = None
    ) -> WriteResult:
        """Insert or update rows by the row identifier (or ``:id``); delete rows flagged in ``deleted``.

        Columns missing from ``table`` are left unchanged on updated rows and null on new ones.
        Rows apply in order, as Socrata applies them: when a key appears more than once, its
        last row wins.
        """
        info = self.info(dataset_id)
        key = info.row_identifier or ":id"
        result = WriteResult()
        n = table.num_rows
        if deleted is not None and len(deleted) != n:
            raise UsageError(f"Got {len(deleted)} deleted flags for {n} rows.", code="write.bad-body")
        if key not in table.column_names:
            if info.row_identifier:
                raise UsageError(
                    f"Rows written to {dataset_id!r} need its row identifier {key!r}.",
                    code="write.missing-row-identifier",
                )
            table = table.append_column(":id", pa.nulls(n, pa.string()))
        table = _cast_known(table, info)
        flags = pa.array(deleted if deleted is not None else [False] * n, pa.bool_())
        table = table.append_column("__deleted", flags).append_column("__pos", pa.array(range(n), pa.int64()))
        known = {c.field_name for c in info.all_columns}
        data_cols = [c for c in table.column_names if c in known and not c.startswith(":")]
        qkey = quote_ident(key)
        latest = (
            f"(SELECT * FROM __incoming QUALIFY {qkey} IS NULL "
            f"OR row_number() OVER (PARTITION BY {qkey} ORDER BY __pos DESC) = 1)"
        )
        with self.transaction() as con:
            con.register("__incoming", table)
            try:
                # Deletes first: rows flagged ":deleted" that exist.
                n_del = _one(
                    con.execute(
                        f"DELETE FROM {info.table} WHERE {qkey} IN "
                        f"(SELECT {qkey} FROM {latest} WHERE __deleted AND {qkey} IS NOT NULL)"
                    )
                )
                result.deleted = n_del[0] if n_del else 0
                now = _now()
                sets = ", ".join(f"{quote_ident(c)} = __src.{quote_ident(c)}" for c in data_cols if c != key)
                sets = (sets + ", " if sets else "") + '":updated_at" = ?'
                upd = _one(
                    con.execute(
                        f"UPDATE {info.table} SET {sets} FROM (SELECT * FROM {latest} "
                        f"WHERE NOT __deleted AND {qkey} IS NOT NULL) AS __src "
                        f"WHERE {info.table}.{qkey} = __src.{qkey}",
                        [now],
                    )
                )
                result.updated = upd[0] if upd else 0
                new_rows = con.sql(
                    f"SELECT * EXCLUDE (__deleted, __pos) FROM {latest} AS __src WHERE NOT __deleted AND "
                    f"({qkey} IS NULL OR {qkey} NOT IN (SELECT {qkey} FROM {info.table} "
                    f"WHERE {qkey} IS NOT NULL)) ORDER BY __pos"
                ).to_arrow_table()
            finally:
                _unregister(con, "__incoming")
            result.created = self._insert(con, dataset_id, new_rows, info.columns)
            if info.row_identifier:
                result.by_row_identifier = result.updated + result.deleted
            else:
                result.by_sid = result.updated + result.deleted
            self._touch(con, dataset_id)
        return result

    def delete_row(self, dataset_id: str, row_id: str) -> int:
        """Delete one row by row identifier value or ``:id``; returns how many rows went."""
        info = self.info(dataset_id)
        key = info.row_identifier or ":id"
        # Compare in the key's own type: a number key 42.0 matches "42".
        key_type = duckdb_type(info.column(key).data_type)
        with self.transaction() as con:
            n = _one(
                con.execute(
                    f"DELETE FROM {info.table} WHERE {quote_ident(key)} = TRY_CAST(? AS {key_type}) "
                    'OR ":id" = ?',
                    [row_id, row_id],
                )
            )
            count = int(n[0]) if n else 0
            if count:
                self._touch(con, dataset_id)
        return count

    def drop(self, dataset_id: str) -> None:
        """Remove a dataset and its rows."""
        self.info(dataset_id)
        with self.transaction() as con:
            con.execute(f"DROP TABLE IF EXISTS {quote_ident('ds_' + dataset_id)}")
            con.execute(f"DELETE FROM {_META} WHERE id = ?", [dataset_id])

    def _touch(self, con: duckdb.DuckDBPyConnection, dataset_id: str) -> None:
        now = _now().replace(tzinfo=None)
        con.execute(
            f"UPDATE {_META} SET rows_updated_at = ?, view_last_modified = ?, version = version + 1 "
            "WHERE id = ?",
            [now, now, dataset_id],
        )

    def _insert(
        self,
        con: duckdb.DuckDBPyConnection,
        dataset_id: str,
        table: pa.Table,
        columns: Sequence[Column],
    ) -> int:
        """Append rows, casting to the dataset's types and assigning ``:id`` where missing."""
        n = int(table.num_rows)
        if n == 0:
            return 0
        now = _now()
        arrays: dict[str, pa.Array | pa.ChunkedArray] = {}
        if ":id" in table.column_names:
            ids = table.column(":id").to_pylist()
            arrays[":id"] = pa.array([i if i else new_row_id() for i in ids], pa.string())
        else:
            arrays[":id"] = pa.array([new_row_id() for _ in range(n)], pa.string())
        for col in columns:
            want = arrow_type(col.data_type)
            if col.field_name in table.column_names:
                arr = table.column(col.field_name)
                if arr.type != want:
                    try:
                        arr = arr.cast(want)
                    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                        raise UsageError(
                            f"Column {col.field_name!r} cannot hold {arr.type} values as "
                            f"{col.data_type}: {exc}",
                            code="write.type-mismatch",
                        ) from exc
                arrays[col.field_name] = arr
            else:
                arrays[col.field_name] = pa.nulls(n, want)
        incoming = pa.table(arrays)
        table_name = quote_ident("ds_" + dataset_id)
        con.register("__rows", incoming)
        try:
            names = ", ".join(quote_ident(c.field_name) for c in columns)
            con.execute(
                f'INSERT INTO {table_name} (":id", ":created_at", ":updated_at"'
                f"{', ' + names if names else ''}) "
                f'SELECT ":id", ?::TIMESTAMPTZ, ?::TIMESTAMPTZ{", " + names if names else ""} FROM __rows',
                [now, now],
            )
        except duckdb.ConstraintException as exc:
            raise UsageError(
                f"Two rows share an :id in the rows written to {dataset_id!r}: {exc}",
                code="write.duplicate-id",
            ) from exc
        finally:
            _unregister(con, "__rows")
        return n


def _one(result: duckdb.DuckDBPyConnection) -> tuple[Any, ...] | None:
    """The first row of a result, fetching it to the end.

    A cursor with a partly fetched result refuses ``.sql()`` (DuckDB 2.0), so reads on the
    shared per-thread cursor always finish their results.
    """
    rows: list[tuple[Any, ...]] = result.fetchall()
    return rows[0] if rows else None


def _unregister(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Drop a registered Arrow view; after a failed statement this must not hide the real error."""
    with suppress(duckdb.Error):
        con.unregister(name)


def _cast_known(table: pa.Table, info: DatasetInfo) -> pa.Table:
    """``table`` with every column the dataset knows cast to the dataset's type."""
    for i, name in enumerate(table.column_names):
        if name not in {c.field_name for c in info.all_columns}:
            continue
        col = info.column(name)
        want = arrow_type(col.data_type)
        arr = table.column(i)
        if arr.type != want:
            try:
                arr = arr.cast(want)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                raise UsageError(
                    f"Column {name!r} cannot hold {arr.type} values as {col.data_type}: {exc}",
                    code="write.type-mismatch",
                ) from exc
            table = table.set_column(i, name, arr)
    return table
