"""Bringing a store's history written in an earlier layout up to date, when the store opens.

Stores written before the ends tables existed set a version's end (``__to``) in place, and their
versions had no number. On open, each such versions table gains its ``__vid`` (numbered in the
table's row order) and an empty ends table (see :mod:`btvstat_open.store.history`); the ends
already set stay where they are. All in the transaction the caller opened: the store reads as it
did before, or is left as it was.

Example:
    >>> import duckdb
    >>> from btvstat_open.store.history import create_history_tables
    >>> con = duckdb.connect()
    >>> create_history_tables(con)
    >>> upgrade_history_layout(con)  # nothing written in the earlier layout
    []
"""

from __future__ import annotations

import duckdb

from btvstat_open.store.history import ENDS_COLUMNS, HISTORY_TABLE, ends_table, versions_table

__all__ = ["upgrade_history_layout"]


def upgrade_history_layout(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Number the versions of every dataset whose versions have no ``__vid``, give each an ends
    table; returns those datasets' ids."""
    rows = con.execute(
        f"SELECT h.dataset_id FROM {HISTORY_TABLE} AS h JOIN duckdb_columns() AS c "
        "ON c.table_name = 'dh_' || h.dataset_id AND c.schema_name = 'main' AND c.column_name = '__to' "
        "WHERE NOT EXISTS (SELECT 1 FROM duckdb_columns() AS v WHERE v.table_name = c.table_name "
        "AND v.schema_name = 'main' AND v.column_name = '__vid') ORDER BY 1"
    ).fetchall()
    upgraded = [str(r[0]) for r in rows]
    for dataset_id in upgraded:
        versions, ends = versions_table(dataset_id), ends_table(dataset_id)
        con.execute(f"ALTER TABLE {versions} ADD COLUMN __vid BIGINT")
        con.execute(f"UPDATE {versions} SET __vid = rowid + 1")
        con.execute(f"CREATE OR REPLACE TABLE {ends} ({ENDS_COLUMNS})")
    return upgraded
