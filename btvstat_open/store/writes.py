"""The SQL behind the store's writes, each run on the cursor of one open transaction.

:class:`btvstat_open.store.Store` opens the transaction and holds the write lock; these
functions only issue statements on the cursor they are given, so a failure anywhere rolls
back the whole write. Incoming Arrow tables are registered as temporary views and always
unregistered, even after a failed statement.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from contextlib import suppress
from datetime import UTC, datetime
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from btvstat_open.errors import UsageError
from btvstat_open.store.dataset import (
    DatasetInfo,
    MetadataChange,
    WriteResult,
    check_dataset_id,
    new_row_ids,
    quote_ident,
    table_name,
)
from btvstat_open.store.fourbyfour import assign
from btvstat_open.types import Column, arrow_type, duckdb_type

__all__ = [
    "META_TABLE",
    "apply_upsert",
    "cast_column",
    "create_table",
    "fetch_one",
    "insert_rows",
    "now_utc",
    "prepare_upsert",
    "touch",
    "unregister",
    "update_metadata",
]

#: the table holding every dataset's name, description, columns and version
META_TABLE = "btvstat_datasets"


def now_utc() -> datetime:
    """Now in UTC, timezone-aware (DuckDB stores TIMESTAMPTZ as UTC instants)."""
    return datetime.now(UTC)


def fetch_one(result: duckdb.DuckDBPyConnection) -> tuple[Any, ...] | None:
    """The first row of a result, fetching it to the end.

    A cursor with a partly fetched result refuses ``.sql()`` (DuckDB 2.0), so reads on the
    shared per-thread cursor always finish their results.

    Example:
        >>> fetch_one(duckdb.connect().execute("SELECT 1"))
        (1,)
    """
    rows: list[tuple[Any, ...]] = result.fetchall()
    return rows[0] if rows else None


def unregister(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Drop a registered Arrow view; after a failed statement this must not hide the real error."""
    with suppress(duckdb.Error):
        con.unregister(name)


def cast_column(arr: pa.ChunkedArray, column: Column) -> pa.ChunkedArray:
    """``arr`` as the column's Arrow type; a value that does not fit is a ``write.type-mismatch``.

    Example:
        >>> cast_column(pa.chunked_array([[1, 2]]), Column("n", "N", "number")).type
        DataType(double)
    """
    want = arrow_type(column.data_type)
    if arr.type == want:
        return arr
    try:
        return arr.cast(want)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise UsageError(
            f"Column {column.field_name!r} cannot hold {arr.type} values as {column.data_type}: {exc}",
            code="write.type-mismatch",
        ) from exc


def create_table(
    con: duckdb.DuckDBPyConnection,
    dataset_id: str,
    name: str,
    columns: Sequence[Column],
    description: str,
    row_identifier: str | None,
    replace: bool,
    *,
    change: MetadataChange | None = None,
    four_by_four: str | None = None,
) -> None:
    """Create (or, with ``replace``, drop and recreate) a dataset's table and metadata row.

    ``change`` sets attributes at once (tags, category, an unpublished stage...), on top of
    those a replaced dataset had. The dataset keeps its 4x4 (or gets one: ``four_by_four``, else
    derived; see :mod:`btvstat_open.store.fourbyfour`).
    """
    check_dataset_id(dataset_id)
    names = [c.field_name for c in columns]
    if len({n.lower() for n in names}) != len(names):  # the store's column names ignore case
        raise UsageError(
            f"Dataset {dataset_id!r} has field names that are the same but for case: {names}. "
            "The store cannot hold both; rename one at the source, or pull to a Parquet file instead."
        )
    if row_identifier is not None and row_identifier not in names:
        raise UsageError(
            f"Row identifier {row_identifier!r} is not a column of {dataset_id!r}; "
            f"choose one of: {', '.join(names)}."
        )
    exists = fetch_one(con.execute(f"SELECT 1 FROM {META_TABLE} WHERE id = ?", [dataset_id]))
    if exists and not replace:
        raise UsageError(f"Dataset {dataset_id!r} already exists; choose another id.")
    table = table_name(dataset_id)
    # A replaced dataset keeps its creation time and its version keeps counting up, so that
    # an ETag ("<id>-v<version>") never names two different contents.
    # Its attributes (tags, permission, publication stage) stay too: reloading a private
    # dataset must not make it public.
    previous = fetch_one(
        con.execute(f"SELECT version, created_at, attributes FROM {META_TABLE} WHERE id = ?", [dataset_id])
    )
    con.execute(f"DROP TABLE IF EXISTS {table}")
    con.execute(f"DELETE FROM {META_TABLE} WHERE id = ?", [dataset_id])
    defs = [
        '":id" VARCHAR PRIMARY KEY',
        '":created_at" TIMESTAMPTZ',
        '":updated_at" TIMESTAMPTZ',
    ] + [f"{quote_ident(c.field_name)} {duckdb_type(c.data_type)}" for c in columns]
    con.execute(f"CREATE TABLE {table} ({', '.join(defs)})")
    now = now_utc().replace(tzinfo=None)
    kept = json.loads(previous[2]) if previous and previous[2] else {}
    attributes = json.dumps((change or MetadataChange()).attributes(kept))
    con.execute(
        f"INSERT INTO {META_TABLE} (id, name, description, columns, row_identifier, created_at, "
        "rows_updated_at, view_last_modified, version, attributes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
            attributes,
        ],
    )
    assign(con, dataset_id, META_TABLE, four_by_four)


def update_metadata(con: duckdb.DuckDBPyConnection, info: DatasetInfo, change: MetadataChange) -> None:
    """Write a dataset's new name, description, column descriptions and attributes; bump its version.

    Only the metadata changes: ``rows_updated_at`` stays, ``view_last_modified`` moves.
    """
    columns = change.columns(info)
    name = info.name if change.name is None else change.name
    description = info.description if change.description is None else change.description
    con.execute(
        f"UPDATE {META_TABLE} SET name = ?, description = ?, columns = ?, attributes = ?, "
        "view_last_modified = ?, version = version + 1 WHERE id = ?",
        [
            name,
            description,
            json.dumps([c.to_json() for c in columns]),
            json.dumps(change.attributes(info.attributes)),
            now_utc().replace(tzinfo=None),
            info.id,
        ],
    )


def touch(con: duckdb.DuckDBPyConnection, dataset_id: str) -> None:
    """Mark a dataset's rows as changed now and bump its version."""
    now = now_utc().replace(tzinfo=None)
    con.execute(
        f"UPDATE {META_TABLE} SET rows_updated_at = ?, view_last_modified = ?, version = version + 1 "
        "WHERE id = ?",
        [now, now, dataset_id],
    )


def insert_rows(
    con: duckdb.DuckDBPyConnection,
    dataset_id: str,
    table: pa.Table,
    columns: Sequence[Column],
    written: list[pa.Table] | None = None,
) -> int:
    """Append rows, casting to the dataset's types and assigning ``:id`` where missing.

    ``written`` (when given) receives the rows as stored, for the store's history.
    """
    n = int(table.num_rows)
    if n == 0:
        return 0
    now = now_utc()
    arrays: dict[str, pa.Array | pa.ChunkedArray] = {}
    if ":id" in table.column_names:
        given = table.column(":id").cast(pa.string())
        kept = pc.fill_null(pc.not_equal(given, ""), False)
        missing = n - pc.sum(kept).as_py() if n else 0
        arrays[":id"] = (
            given if not missing else pc.if_else(kept, given, pa.array(new_row_ids(n), pa.string()))
        )
    else:
        arrays[":id"] = pa.array(new_row_ids(n), pa.string())
    for col in columns:
        if col.field_name in table.column_names:
            arrays[col.field_name] = cast_column(table.column(col.field_name), col)
        else:
            arrays[col.field_name] = pa.nulls(n, arrow_type(col.data_type))
    con.register("__rows", pa.table(arrays))
    try:
        names = ", ".join(quote_ident(c.field_name) for c in columns)
        sql = (
            f'INSERT INTO {table_name(dataset_id)} (":id", ":created_at", ":updated_at"'
            f"{', ' + names if names else ''}) "
            f'SELECT ":id", ?::TIMESTAMPTZ, ?::TIMESTAMPTZ{", " + names if names else ""} FROM __rows'
        )
        con.execute(sql, [now, now])
    except duckdb.ConstraintException as exc:
        raise UsageError(
            f"Two rows share an :id in the rows written to {dataset_id!r}; give each row its own :id.",
            code="write.duplicate-id",
        ) from exc
    finally:
        unregister(con, "__rows")
    if written is not None:
        stamps = pa.array([now] * n, pa.timestamp("us", tz="UTC"))
        rows = {":id": arrays[":id"], ":created_at": stamps, ":updated_at": stamps}
        written.append(pa.table({**rows, **{c.field_name: arrays[c.field_name] for c in columns}}))
    return n


def prepare_upsert(info: DatasetInfo, table: pa.Table, deleted: Sequence[bool] | None) -> pa.Table:
    """Check and type incoming rows before any lock is taken.

    The result has every known column cast to the dataset's type, a ``:id`` column when the
    dataset has no row identifier, and ``__deleted``/``__pos`` columns for :func:`apply_upsert`.
    """
    key = info.row_identifier or ":id"
    n = table.num_rows
    if deleted is not None and len(deleted) != n:
        raise UsageError(f"Got {len(deleted)} deleted flags for {n} rows.", code="write.bad-body")
    if key not in table.column_names:
        if info.row_identifier:
            raise UsageError(
                f"Rows written to {info.id!r} need its row identifier {key!r}.",
                code="write.missing-row-identifier",
            )
        table = table.append_column(":id", pa.nulls(n, pa.string()))
    known = {c.field_name: c for c in info.all_columns}
    for i, name in enumerate(table.column_names):
        if name in known:
            table = table.set_column(i, name, cast_column(table.column(i), known[name]))
    flags = pa.array(deleted if deleted is not None else [False] * n, pa.bool_())
    return table.append_column("__deleted", flags).append_column("__pos", pa.array(range(n), pa.int64()))


def _updated_rows(
    con: duckdb.DuckDBPyConnection,
    info: DatasetInfo,
    incoming: pa.Table,
    latest: str,
    given: Sequence[str],
    stamp: datetime,
) -> pa.Table:
    """The rows an upsert's update just wrote (stamped ``stamp``), as stored: the values given come
    from the incoming rows, the rest from the table (whose filter on ``:updated_at`` reads only
    those rows' few other columns).

    Each stored row takes the values of the last incoming row with its key (the one the update
    applied), found by the key in Arrow rather than by a join.
    """
    key = info.row_identifier or ":id"
    names = [c.field_name for c in info.all_columns]
    kept = [n for n in names if (n not in given and n != ":updated_at") or n == key]
    stored = con.sql(
        f'SELECT {", ".join(quote_ident(c) for c in kept)} FROM {info.table} WHERE ":updated_at" = ?',
        params=[stamp],
    ).to_arrow_table()
    backwards = incoming.take(pa.array(range(incoming.num_rows - 1, -1, -1), pa.int64()))
    keys = stored.column(key)
    found = pc.index_in(keys, value_set=backwards.column(key).cast(keys.type))
    if found.null_count:  # (not expected: every updated row had an incoming row) the join, then
        return _joined_rows(con, info, stored, latest, kept, stamp)
    source = backwards.take(found)
    stamps = pa.array([stamp] * stored.num_rows, pa.timestamp("us", tz="UTC"))
    pick = {n: stored.column(n) if n in kept else source.column(n) for n in names if n != ":updated_at"}
    return pa.table({n: stamps if n == ":updated_at" else pick[n] for n in names})


def _joined_rows(
    con: duckdb.DuckDBPyConnection,
    info: DatasetInfo,
    stored: pa.Table,
    latest: str,
    kept: Sequence[str],
    stamp: datetime,
) -> pa.Table:
    """The updated rows by a join of ``stored`` (their kept columns) with the incoming rows."""
    key = quote_ident(info.row_identifier or ":id")
    con.register("__updated", stored)
    select = ", ".join(
        '?::TIMESTAMPTZ AS ":updated_at"'
        if c.field_name == ":updated_at"
        else f"__t.{quote_ident(c.field_name)}"
        if c.field_name in kept
        else f"__src.{quote_ident(c.field_name)}"
        for c in info.all_columns
    )
    try:
        rows: pa.Table = con.sql(
            f"SELECT {select} FROM __updated AS __t JOIN (SELECT * FROM {latest} WHERE NOT __deleted "
            f"AND {key} IS NOT NULL) AS __src ON __t.{key} = __src.{key}",
            params=[stamp],
        ).to_arrow_table()
    finally:
        unregister(con, "__updated")
    return rows


def apply_upsert(
    con: duckdb.DuckDBPyConnection,
    info: DatasetInfo,
    table: pa.Table,
    written: list[pa.Table] | None = None,
) -> WriteResult:
    """Delete flagged rows, update existing keys and insert the rest; rows apply in order.

    ``table`` comes from :func:`prepare_upsert`. When a key appears more than once, its last
    row wins, as Socrata applies rows one after another. ``written`` (when given) receives the
    updated and inserted rows as stored, for the store's history.
    """
    key = info.row_identifier or ":id"
    result = WriteResult()
    known = {c.field_name for c in info.all_columns}
    data_cols = [c for c in table.column_names if c in known and not c.startswith(":")]
    qkey = quote_ident(key)
    latest = (
        f"(SELECT * FROM __incoming QUALIFY {qkey} IS NULL "
        f"OR row_number() OVER (PARTITION BY {qkey} ORDER BY __pos DESC) = 1)"
    )
    con.register("__incoming", table)
    try:
        # Deletes first: rows flagged ":deleted" that exist.
        n_del = fetch_one(
            con.execute(
                f"DELETE FROM {info.table} WHERE {qkey} IN "
                f"(SELECT {qkey} FROM {latest} WHERE __deleted AND {qkey} IS NOT NULL)"
            )
        )
        result.deleted = n_del[0] if n_del else 0
        sets = ", ".join(f"{quote_ident(c)} = __src.{quote_ident(c)}" for c in data_cols if c != key)
        sets = (sets + ", " if sets else "") + '":updated_at" = ?'
        update = (
            f"UPDATE {info.table} SET {sets} FROM (SELECT * FROM {latest} "
            f"WHERE NOT __deleted AND {qkey} IS NOT NULL) AS __src "
            f"WHERE {info.table}.{qkey} = __src.{qkey}"
        )
        stamp = now_utc()
        upd = fetch_one(con.execute(update, [stamp]))
        result.updated = upd[0] if upd else 0
        if written is not None and result.updated:
            written.append(_updated_rows(con, info, table, latest, data_cols, stamp))
        new_rows = con.sql(
            f"SELECT * EXCLUDE (__deleted, __pos) FROM {latest} AS __src WHERE NOT __deleted AND "
            f"({qkey} IS NULL OR {qkey} NOT IN (SELECT {qkey} FROM {info.table} "
            f"WHERE {qkey} IS NOT NULL)) ORDER BY __pos"
        ).to_arrow_table()
    finally:
        unregister(con, "__incoming")
    result.created = insert_rows(con, info.id, new_rows, info.columns, written)
    if info.row_identifier:
        result.by_row_identifier = result.updated + result.deleted
    else:
        result.by_sid = result.updated + result.deleted
    touch(con, info.id)
    return result
