"""Compile a whole SoQL request into one parameterised DuckDB ``SELECT``.

Example:
    >>> compiled = compile_soql(QueryParams(select="type, count(*)", group="type"), info)
    >>> compiled.sql
    'SELECT "type" AS "type", CAST(count(*) AS DOUBLE) AS "count" FROM "ds_kc-311-potholes" GROUP BY 1 ...'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from btvstat_open.errors import SoqlError
from btvstat_open.soql import ast
from btvstat_open.soql.clauses import parse_group, parse_order, parse_query, parse_select
from btvstat_open.soql.compiler import (
    Scope,
    check_grouped,
    emit,
    is_aggregate,
    is_constant,
    resolve,
)
from btvstat_open.soql.outputs import Output, order_by, outputs_of, position_of
from btvstat_open.soql.params import QueryParams
from btvstat_open.soql.parser import parse_expression
from btvstat_open.soql.rollup import day_rollup_column, rolled_up
from btvstat_open.soql.typed import NULL_TYPE, Sql, mismatch
from btvstat_open.store import DatasetInfo, quote_ident, table_name

__all__ = ["CompiledQuery", "OutputColumn", "compile_soql", "compile_where"]

_MAX_SEARCH_TERMS: Final = 32


@dataclass(frozen=True)
class OutputColumn:
    """One result column: its output field name and canonical Socrata type."""

    field_name: str
    data_type: str


@dataclass(frozen=True)
class CompiledQuery:
    """SQL with ``?`` placeholders, their values, and the result columns (named as in ``sql``).

    Every ``number`` result column is a DuckDB ``DOUBLE`` (``count(*)`` included).
    """

    sql: str
    params: list[Any]
    columns: tuple[OutputColumn, ...]


def compile_where(expr: str, info: DatasetInfo) -> tuple[str, list[Any]]:
    """Compile a boolean SoQL expression over a dataset's fields to a SQL fragment and its params.

    Example:
        >>> compile_where("days_to_close > 7", info)
        ('("days_to_close" > CAST(? AS DOUBLE))', [7.0])
    """
    scope = Scope.of(info.all_columns, "$where")
    frag = _boolean(emit(resolve(parse_expression(expr, "$where"), scope), scope), "$where")
    return frag.sql, frag.params


def compile_soql(
    params: QueryParams,
    info: DatasetInfo,
    *,
    default_limit: int | None = 1000,
    max_limit: int | None = 50000,
) -> CompiledQuery:
    """Compile a read request (``$select``... or ``$query``, plus ``field=value`` filters).

    Without ``$order`` rows come ordered by ``:id`` (grouped queries by their group keys),
    so paging with ``$offset`` is stable. ``default_limit``/``max_limit`` of ``None`` mean
    no limit (full exports).

    Example:
        >>> q = compile_soql(QueryParams(select="case_id", where="days_to_close > 30", limit="5"), info)
        >>> store.cursor().sql(q.sql, params=q.params).to_arrow_table().num_rows
        5
    """
    query = _read_query(params)
    cols = info.all_columns
    outputs = outputs_of(query, Scope.of(cols, "$select"), info, system_fields=params.system_fields)
    aliases = {o.name.lower(): o.node for o in outputs}
    where_scope = Scope(Scope.of(cols, "$where").columns, "$where", aliases)
    conditions = _conditions(query, params, info, where_scope)
    clauses = _resolve_clauses(query, outputs, where_scope, aliases)
    window = _window(query, default_limit, max_limit)
    if not clauses.grouped and not query.distinct:
        return _windowed_select(info, outputs, conditions, clauses, window)
    return _grouped_select(query, info, outputs, conditions, clauses, window)


@dataclass(frozen=True)
class _Clauses:
    """``$group``, ``$having`` and ``$order`` resolved against the dataset and the ``$select`` aliases."""

    keys: tuple[ast.Node, ...]
    having: ast.Node | None
    order: list[tuple[ast.Node, ast.OrderItem]]
    grouped: bool
    group_scope: Scope
    having_scope: Scope
    order_scope: Scope


def _conditions(query: ast.Query, params: QueryParams, info: DatasetInfo, where_scope: Scope) -> list[Sql]:
    """The WHERE conditions: ``$where``, ``$q`` and simple ``field=value`` filters, all ANDed."""
    conditions: list[Sql] = []
    if query.where is not None:
        conditions.append(_boolean(emit(resolve(query.where, where_scope), where_scope), "$where"))
    if query.search is not None and query.search.strip():
        conditions.append(_search(query.search, info))
    for field_name, value in params.filters:
        filter_scope = Scope.of(info.all_columns, f"the filter {field_name}=")
        ref = resolve(ast.ColumnRef(field_name), filter_scope)
        conditions.append(emit(ast.BinaryOp("=", ref, ast.Literal(value, "text")), filter_scope))
    return conditions


def _resolve_clauses(
    query: ast.Query, outputs: list[Output], where_scope: Scope, aliases: dict[str, ast.Node]
) -> _Clauses:
    """Resolve the grouping and ordering clauses, and check every field is grouped when it must be."""
    group_scope = Scope(where_scope.columns, "$group", aliases)
    keys = tuple(resolve(k, group_scope) for k in query.group or ())
    for key in keys:
        if is_aggregate(key):
            raise SoqlError(
                f"$group cannot contain the aggregate {ast.to_text(key)}; group by fields or expressions "
                "of fields.",
                code="query.soql.aggregate-in-ungrouped-context",
            )
    having_scope = Scope(where_scope.columns, "$having", aliases, aliases_first=True, allow_aggregates=True)
    having = resolve(query.having, having_scope) if query.having is not None else None
    order_scope = Scope(where_scope.columns, "$order", aliases, aliases_first=True, allow_aggregates=True)
    order = [(resolve(o.expr, order_scope), o) for o in query.order or ()]
    # Ordering by a constant (``null``, ``'a'``, ``1 + 1``) changes nothing, and DuckDB refuses a
    # bare literal in ORDER BY: such items are type-checked, then left out.
    for node, _ in order:
        if is_constant(node):
            emit(node, order_scope)
    order = [(node, item) for node, item in order if not is_constant(node)]
    grouped = (
        query.group is not None
        or having is not None
        or any(is_aggregate(o.node) for o in outputs)
        or any(is_aggregate(node) for node, _ in order)
    )
    if grouped:
        for out in outputs:
            check_grouped(out.node, keys, "$select")
        if having is not None:
            check_grouped(having, keys, "$having")
        for node, _ in order:
            if not any(node == o.node for o in outputs):
                check_grouped(node, keys, "$order")
    return _Clauses(keys, having, order, grouped, group_scope, having_scope, order_scope)


def _window(query: ast.Query, default_limit: int | None, max_limit: int | None) -> str:
    """`` LIMIT n OFFSET m`` (either part left out when not set); a limit over the maximum is refused."""
    limit = query.limit if query.limit is not None else default_limit
    if limit is not None and max_limit is not None and limit > max_limit:
        raise SoqlError(
            f"$limit {limit} is over this server's maximum of {max_limit} rows per request; "
            "page through the data with $limit and $offset.",
            code="query.soql.limit-too-large",
            data={"limit": limit, "max": max_limit},
        )
    return (f" LIMIT {int(limit)}" if limit is not None else "") + (
        f" OFFSET {int(query.offset)}" if query.offset else ""
    )


def _where_sql(conditions: list[Sql]) -> str:
    return " WHERE " + " AND ".join(c.sql for c in conditions) if conditions else ""


def _select_list(outputs: list[Output], sql_params: list[Any]) -> str:
    """The SELECT list (its parameters appended to ``sql_params``)."""
    for out in outputs:
        sql_params.extend(out.frag.params)
    return ", ".join(f"{o.frag.sql} AS {quote_ident(o.name)}" for o in outputs)


def _windowed_select(
    info: DatasetInfo, outputs: list[Output], conditions: list[Sql], clauses: _Clauses, window: str
) -> CompiledQuery:
    """A query without grouping or DISTINCT: the SELECT list is computed over the window only.

    Rows are filtered, ordered and cut to the window first: DuckDB would otherwise compute every
    output column of every row and carry them through the sort, so a wide $select (copies of a
    column, long concatenations) cost memory for the whole table, not for the rows asked for.
    """
    sql_params: list[Any] = []
    select_sql = _select_list(outputs, sql_params)
    order_params: list[Any] = []
    order_sql = order_by(
        clauses.order,
        outputs,
        clauses.keys,
        False,
        False,
        clauses.order_scope,
        order_params,
        by_expression=True,
    )
    inner = f"SELECT * FROM {info.table}{_where_sql(conditions)} ORDER BY {order_sql}{window}"
    sql = f"SELECT {select_sql} FROM ({inner}) AS {table_name(info.id)}"  # info.table may be a subquery
    sql_params.extend([p for cond in conditions for p in cond.params] + order_params)
    return CompiledQuery(sql, sql_params, _columns(outputs))


def _grouped_select(
    query: ast.Query,
    info: DatasetInfo,
    outputs: list[Output],
    conditions: list[Sql],
    clauses: _Clauses,
    window: str,
) -> CompiledQuery:
    """A grouped or DISTINCT query: SELECT, WHERE, GROUP BY, HAVING and ORDER BY over the table."""
    sql_params: list[Any] = []
    select_sql = _select_list(outputs, sql_params)
    distinct = "DISTINCT " if query.distinct else ""
    from_sql = f"{info.table}{_where_sql(conditions)}"
    rollup = (
        None
        if query.distinct or clauses.having is not None
        else day_rollup_column(outputs, clauses.keys, clauses.order, clauses.group_scope.columns)
    )
    if rollup is not None:  # a count by month or year, counted by day first (see .rollup)
        select_sql, from_sql = rolled_up(outputs, rollup, info.table, _where_sql(conditions), info.id)
    sql = f"SELECT {distinct}{select_sql} FROM {from_sql}"
    sql_params.extend(p for cond in conditions for p in cond.params)
    if clauses.keys:
        parts = []
        for key in clauses.keys:
            ordinal = position_of(key, outputs)
            if ordinal is not None:
                parts.append(str(ordinal))
            else:
                frag = emit(key, clauses.group_scope)
                parts.append(frag.sql)
                sql_params.extend(frag.params)
        sql += " GROUP BY " + ", ".join(parts)
    if clauses.having is not None:
        frag = _boolean(emit(clauses.having, clauses.having_scope), "$having")
        sql += " HAVING " + frag.sql
        sql_params.extend(frag.params)
    order_sql = order_by(
        clauses.order, outputs, clauses.keys, query.distinct, clauses.grouped, clauses.order_scope, sql_params
    )
    if order_sql:
        sql += " ORDER BY " + order_sql
    return CompiledQuery(sql + window, sql_params, _columns(outputs))


def _columns(outputs: list[Output]) -> tuple[OutputColumn, ...]:
    return tuple(OutputColumn(o.name, o.frag.type if o.frag.type != NULL_TYPE else "text") for o in outputs)


def _read_query(params: QueryParams) -> ast.Query:
    """One :class:`ast.Query` from either ``$query`` or the separate ``$`` parameters."""
    if params.query is not None:
        others = [k for k in ("select", "where", "order", "group", "having", "limit", "offset", "q")]
        given = [f"${k}" for k in others if getattr(params, k) is not None]
        if given:
            raise SoqlError(
                f"$query cannot be combined with {', '.join(given)}; put everything in the $query "
                "statement (SELECT ... WHERE ... ORDER BY ... LIMIT ...).",
                code="query.soql.conflicting-parameters",
            )
        return parse_query(params.query)
    distinct, select = parse_select(params.select) if params.select is not None else (False, None)
    return ast.Query(
        select=select,
        distinct=distinct,
        where=parse_expression(params.where, "$where") if params.where is not None else None,
        group=parse_group(params.group) if params.group is not None else None,
        having=parse_expression(params.having, "$having") if params.having is not None else None,
        order=parse_order(params.order) if params.order is not None else None,
        limit=_integer(params.limit, "$limit"),
        offset=_integer(params.offset, "$offset"),
        search=params.q,
    )


def _integer(text: str | None, name: str) -> int | None:
    if text is None:
        return None
    value = text.strip()
    if not value.isascii() or not value.isdigit() or len(value) > 15:
        raise SoqlError(
            f"{name} must be a whole number of rows (0 or more), not {text[:40]!r}.",
            code="query.soql.bad-parse",
            data={"parameter": name},
        )
    return int(value)


def _boolean(frag: Sql, clause: str) -> Sql:
    if frag.type not in ("checkbox", NULL_TYPE):
        raise mismatch(f"{clause} must be a true/false condition, but this is a {frag.type} value")
    return frag


def _search(text: str, info: DatasetInfo) -> Sql:
    """``$q``: every whitespace-separated term appears (case-insensitively) in some text field."""
    fields = [quote_ident(c.field_name) for c in info.columns if c.data_type in ("text", "url")]
    terms = text.lower().split()[:_MAX_SEARCH_TERMS]
    if not fields:
        return Sql("FALSE", "checkbox")
    haystack = f"lower(concat_ws(' ', {', '.join(fields)}))"
    sql = " AND ".join(f"contains({haystack}, CAST(? AS VARCHAR))" for _ in terms)
    return Sql(f"({sql})", "checkbox", list(terms))
