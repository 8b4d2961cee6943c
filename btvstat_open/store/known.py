"""Reading a dataset as the store knew it at a moment, and bounding history (compaction).

A dataset **as known at** a moment is every row version the store held then (see
:mod:`btvstat_open.store.history`). :func:`known_info` gives a :class:`KnownDatasetInfo`: the
dataset's metadata whose :attr:`~KnownDatasetInfo.table` is a subquery over the versions, so
every reader that selects ``FROM info.table`` (measures, SoQL, downloads) reads the past
without knowing it. Before history's first version (``since``), that first version stands in;
``history_since`` says from which moment history runs, for pages to say so.

Example:
    >>> end_of_day(date(2020, 3, 4)).isoformat()
    '2020-03-04T23:59:59.999999+00:00'
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import duckdb

from btvstat_open.store.dataset import DatasetInfo, DataVersion, as_utc, quote_ident
from btvstat_open.store.history import (
    ENDS_COLUMNS,
    HISTORY_TABLE,
    LOG_TABLE,
    SYSTEM_COLUMNS,
    ends_table,
    fold_ends,
    versions_table,
)
from btvstat_open.store.writes import fetch_one
from btvstat_open.types import duckdb_type

__all__ = [
    "KnownDatasetInfo",
    "VersionMemo",
    "compact_history",
    "end_of_day",
    "history_since",
    "known_info",
    "last_recorded",
]


def end_of_day(day: date) -> datetime:
    """The last moment of ``day`` (UTC): a dataset "as known on D" is as the store held it then."""
    return datetime.combine(day, time.max, UTC)


@dataclass(frozen=True)
class KnownDatasetInfo(DatasetInfo):
    """A dataset's metadata read as known at ``known_at``: its ``table`` is the past rows.

    ``history_since`` is the moment history runs from (``known_at`` before it reads that
    first version instead); ``source_sql`` the subquery :attr:`table` gives.
    """

    known_at: datetime | None = None
    history_since: datetime | None = None
    source_sql: str = ""

    @property
    def table(self) -> str:
        """A parenthesised subquery over the dataset's versions, named like its table."""
        return self.source_sql


def history_since(cur: duckdb.DuckDBPyConnection, dataset_id: str) -> datetime | None:
    """When the dataset's history runs from (None: no rows recorded yet)."""
    row = fetch_one(cur.execute(f"SELECT since FROM {HISTORY_TABLE} WHERE dataset_id = ?", [dataset_id]))
    return as_utc(row[0]) if row and row[0] is not None else None


def last_recorded(cur: duckdb.DuckDBPyConnection, dataset_id: str) -> datetime | None:
    """When the dataset's latest write was recorded (None: no write recorded)."""
    row = fetch_one(
        cur.execute(f"SELECT max(recorded_at) FROM {LOG_TABLE} WHERE dataset_id = ?", [dataset_id])
    )
    return as_utc(row[0]) if row and row[0] is not None else None


def known_info(cur: duckdb.DuckDBPyConnection, info: DatasetInfo, at: datetime) -> DatasetInfo:
    """``info`` as known at ``at``: ``info`` itself when no write was recorded after ``at``.

    The row count and ``rows_updated_at`` are those of the moment read.
    """
    at = as_utc(at)
    if as_utc(info.rows_updated_at) <= at:  # nothing written since: no lookup at all
        return info
    since = history_since(cur, info.id)
    last = fetch_one(cur.execute(f"SELECT max(recorded_at) FROM {LOG_TABLE} WHERE dataset_id = ?", [info.id]))
    if since is None or last is None or last[0] is None or as_utc(last[0]) <= at:
        return info
    moment = max(at, since)
    sql = _versions_sql(cur, info, moment)
    count = fetch_one(cur.execute(f"SELECT count(*) FROM {sql}"))
    written = fetch_one(
        cur.execute(
            f"SELECT max(recorded_at) FROM {LOG_TABLE} WHERE dataset_id = ? AND recorded_at <= ?",
            [info.id, moment],
        )
    )
    fields = {f: getattr(info, f) for f in info.__dataclass_fields__}
    fields.update(row_count=int(count[0]) if count else 0)
    if written and written[0] is not None:
        fields.update(rows_updated_at=as_utc(written[0]).replace(tzinfo=None))
    return KnownDatasetInfo(**fields, known_at=at, history_since=since, source_sql=sql)


class VersionMemo:
    """Dataset records (current, or as known at a moment) kept per the dataset's :class:`DataVersion`.

    A page over hundreds of KPIs of a few datasets asks for the same few records again and again,
    and reading one (metadata, row count, and as known in the past its history and versions'
    columns) takes several lookups. Every write moves the dataset's :class:`DataVersion`, which is
    part of every key, so an entry is found only while the dataset is as it was read; a record read
    after a write slipped in is not kept. :meth:`clear` drops everything (history compaction
    changes what is known without a write).

    Example:
        >>> from types import SimpleNamespace
        >>> memo, read = VersionMemo(), SimpleNamespace(data_version="v1")
        >>> memo.get(("a", "noon"), "v1", lambda: read) is memo.get(("a", "noon"), "v1", lambda: None)
        True
    """

    def __init__(self, size: int = 1024) -> None:
        self.size = size
        self._items: OrderedDict[tuple[Hashable, ...], DatasetInfo] = OrderedDict()
        self._lock = threading.Lock()

    def get(
        self, key: tuple[Hashable, ...], version: DataVersion, read: Callable[[], DatasetInfo]
    ) -> DatasetInfo:
        """The record kept for ``key`` at ``version``, else ``read()`` (kept if of that version)."""
        full = (*key, version)
        with self._lock:
            found = self._items.get(full)
            if found is not None:
                self._items.move_to_end(full)
                return found
        info = read()
        if info.data_version == version:
            with self._lock:
                self._items[full] = info
                while len(self._items) > self.size:
                    self._items.popitem(last=False)
        return info

    def clear(self) -> None:
        """Forget every record."""
        with self._lock:
            self._items.clear()


def _versions_sql(cur: duckdb.DuckDBPyConnection, info: DatasetInfo, moment: datetime) -> str:
    """The subquery of the versions open at ``moment``, with the dataset's current columns.

    A column the versions table lacks reads as NULL; one it keeps as text (its type changed)
    is cast back. ``moment`` is a datetime of ours, written as a literal.
    """
    rows = cur.execute(
        "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = ? AND schema_name = 'main'",
        ["dh_" + info.id],
    ).fetchall()
    have = {str(r[0]): str(r[1]) for r in rows}
    select = []
    for column in info.all_columns:
        name, kind = quote_ident(column.field_name), duckdb_type(column.data_type)
        if column.field_name not in have:
            select.append(f"CAST(NULL AS {kind}) AS {name}")
        elif have[column.field_name] == "VARCHAR" and column.field_name not in SYSTEM_COLUMNS:
            select.append(f"TRY_CAST({name} AS {kind}) AS {name}")
        else:
            select.append(name)
    stamp = f"TIMESTAMPTZ '{moment.astimezone(UTC).isoformat()}'"
    ends = ends_table(info.id)
    unfolded = fetch_one(cur.execute(f"SELECT 1 FROM {ends} WHERE __to <= {stamp} LIMIT 1"))
    join = f"ANTI JOIN (SELECT __vid FROM {ends} WHERE __to <= {stamp}) AS __e ON __e.__vid = __v.__vid "
    return (
        f"(SELECT {', '.join(select)} FROM {versions_table(info.id)} AS __v {join if unfolded else ''}"
        f"WHERE __from <= {stamp} AND (__to IS NULL OR __to > {stamp})) AS {info.table}"
    )


def compact_history(con: duckdb.DuckDBPyConnection, keep: timedelta, now: datetime) -> dict[str, int]:
    """Forget versions that ended more than ``keep`` before ``now``; history then runs from there.

    Returns ``{dataset_id: versions removed}``. Reads as known before the new start read the
    version that stood then.
    """
    horizon = as_utc(now) - keep
    removed: dict[str, int] = {}
    ids = [str(r[0]) for r in con.execute(f"SELECT dataset_id FROM {HISTORY_TABLE}").fetchall()]
    for dataset_id in ids:
        fold_ends(con, dataset_id)
        gone = fetch_one(
            con.execute(
                f"DELETE FROM {versions_table(dataset_id)} WHERE __to IS NOT NULL AND __to <= ?", [horizon]
            )
        )
        removed[dataset_id] = int(gone[0]) if gone else 0
        # Writes of many versions left their row groups unmerged (history.commit_deferring_merge);
        # the checkpoint after the compaction merges them, made even when nothing else changed
        # by making the (now empty) ends table anew.
        con.execute(f"CREATE OR REPLACE TABLE {ends_table(dataset_id)} ({ENDS_COLUMNS})")
        con.execute(
            f"UPDATE {HISTORY_TABLE} SET since = ? WHERE dataset_id = ? AND since < ?",
            [horizon, dataset_id, horizon],
        )
    return removed
