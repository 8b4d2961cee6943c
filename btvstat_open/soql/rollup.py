"""Counts by month or year computed from counts by day: the same answer, several times faster.

DuckDB truncates a timestamp to its day with integer arithmetic, but to its month or year through
the calendar, which costs about five times as much per row; over 10M rows that is most of a
``date_trunc_ym(x), count(*)`` query. So such a query first counts rows per day (a few thousand
groups), then truncates those days and sums their counts. A timestamp's month is its day's month,
and a sum of counts is the count, so the rows and their order are exactly those of the direct query.

Only the plain shape is rewritten: every group key ``date_trunc_ym`` or ``date_trunc_y`` of the same
floating-timestamp column, every selected column a group key or ``count(*)``, ordered only by
selected columns, no ``$having`` and no DISTINCT. Anything else compiles as written.

Example:
    >>> from btvstat_open.soql.typed import Sql
    >>> from btvstat_open.types import Column
    >>> month = ast.FuncCall("date_trunc_ym", (ast.ColumnRef("opened"),))
    >>> count = ast.FuncCall("count", star=True)
    >>> outputs = [Output("m", month, Sql("", "floating_timestamp")),
    ...            Output("n", count, Sql(COUNT_SQL, "number"))]
    >>> columns = {"opened": Column("opened", "Opened", "floating_timestamp")}
    >>> day_rollup_column(outputs, (month,), [], columns)
    'opened'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

from btvstat_open.soql import ast
from btvstat_open.soql.outputs import Output, position_of
from btvstat_open.store import quote_ident, table_name
from btvstat_open.types import Column

__all__ = ["COUNT_SQL", "day_rollup_column", "rolled_up"]

# What count(*) compiles to (functions._count); the rewrite sums the day counts in its place.
COUNT_SQL: Final = "CAST(count(*) AS DOUBLE)"
_COARSE: Final = frozenset({"date_trunc_ym", "date_trunc_y"})
_DAY_COUNT: Final = quote_ident(":day_count")


def _is_count_star(node: ast.Node) -> bool:
    return isinstance(node, ast.FuncCall) and node.name.lower() == "count" and node.star and not node.distinct


def day_rollup_column(
    outputs: Sequence[Output],
    keys: Sequence[ast.Node],
    order: Sequence[tuple[ast.Node, ast.OrderItem]],
    columns: Mapping[str, Column],
) -> str | None:
    """The column a grouped query (without ``$having`` or DISTINCT) can be counted by day on, or None."""
    names = set()
    for key in keys:
        if not (
            isinstance(key, ast.FuncCall)
            and key.name.lower() in _COARSE
            and len(key.args) == 1
            and isinstance(key.args[0], ast.ColumnRef)
        ):
            return None
        names.add(key.args[0].name.lower())
    if len(names) != 1:
        return None
    column = columns.get(names.pop())
    if column is None or column.data_type != "floating_timestamp":
        return None
    for out in outputs:
        if out.node not in keys and not (_is_count_star(out.node) and out.frag.sql == COUNT_SQL):
            return None
    if any(position_of(node, list(outputs)) is None for node, _ in order):
        return None
    return column.field_name


def rolled_up(
    outputs: Sequence[Output], column: str, table: str, where_sql: str, dataset_id: str
) -> tuple[str, str]:
    """The SELECT list and FROM clause of the rewritten query: days counted below, summed above.

    ``table`` is what the rows are read from (a table, or a subquery for a read of the past);
    the result is named as the dataset's table.

    The inner query names the day-truncated column as the column itself, so the group keys'
    SQL (``date_trunc('month', "x")``) reads it unchanged.
    """
    name = quote_ident(column)
    select = ", ".join(
        f"{'CAST(sum(' + _DAY_COUNT + ') AS DOUBLE)' if _is_count_star(o.node) else o.frag.sql} AS "
        f"{quote_ident(o.name)}"
        for o in outputs
    )
    inner = f"SELECT date_trunc('day', {name}) AS {name}, count(*) AS {_DAY_COUNT} FROM {table}{where_sql}"
    return select, f"({inner} GROUP BY 1) AS {table_name(dataset_id)}"
