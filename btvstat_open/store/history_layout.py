"""Bringing a store's history written in an earlier layout up to date, when the store opens.

Stores written before the ends tables existed kept a version's end in the versions table itself
(a ``__to`` column, NULL while the version was current, set in place when a write ended it). On
open, each such versions table gains its ``__vid`` (numbered in the table's row order), its ends
move to the dataset's ends table (see :mod:`btvstat_open.store.history`) and ``__to`` goes, all
in the transaction the caller opened: the store reads as it did before, or is left as it was.

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
    """Move every dataset's in-place version ends (``__to``) to its ends table; returns those ids."""
    rows = con.execute(
        f"SELECT h.dataset_id FROM {HISTORY_TABLE} AS h JOIN duckdb_columns() AS c "
        "ON c.table_name = 'dh_' || h.dataset_id AND c.schema_name = 'main' AND c.column_name = '__to' "
        "ORDER BY 1"
    ).fetchall()
    upgraded = [str(r[0]) for r in rows]
    for dataset_id in upgraded:
        versions, ends = versions_table(dataset_id), ends_table(dataset_id)
        con.execute(f"ALTER TABLE {versions} ADD COLUMN __vid BIGINT")
        con.execute(f"UPDATE {versions} SET __vid = rowid + 1")
        con.execute(f"CREATE OR REPLACE TABLE {ends} ({ENDS_COLUMNS})")
        con.execute(f"INSERT INTO {ends} SELECT __vid, __to FROM {versions} WHERE __to IS NOT NULL")
        con.execute(f"ALTER TABLE {versions} DROP COLUMN __to")
    return upgraded
