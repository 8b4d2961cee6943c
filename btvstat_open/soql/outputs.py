"""The result columns of a SoQL read (``$select``) and its ORDER BY.

Example:
    >>> from btvstat_open.soql import QueryParams, compile_soql
    >>> query = QueryParams(select="status, count(*) AS n", group="status", order="n DESC")
    >>> compiled = compile_soql(query, info)  # info: a dataset with a status column
    >>> [c.field_name for c in compiled.columns], "ORDER BY 2 DESC" in compiled.sql
    (['status', 'n'], True)
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final

from btvstat_open.errors import SoqlError
from btvstat_open.soql import ast
from btvstat_open.soql.compiler import Scope, emit, has_literal, is_constant, resolve
from btvstat_open.soql.typed import Sql
from btvstat_open.store import DatasetInfo
from btvstat_open.types import Column

__all__ = ["Output", "order_by", "outputs_of", "position_of"]

_UNORDERABLE: Final = frozenset({"point", "location"})


@dataclass
class Output:
    """One result column: output name, resolved expression, compiled SQL."""

    name: str
    node: ast.Node
    frag: Sql


def outputs_of(
    query: ast.Query, scope: Scope, info: DatasetInfo, *, system_fields: bool = False
) -> list[Output]:
    """The result columns with their names: explicit aliases first, then unique implicit names.

    ``system_fields`` (``$$exclude_system_fields=false``) makes ``*`` mean ``:*, *``.
    """
    scope.allow_aggregates = True
    items = query.select or (ast.SelectItem(ast.Star()),)
    expanded: list[tuple[ast.Node, str | None]] = []
    for item in items:
        if isinstance(item.expr, ast.Star):
            if item.expr.system:
                cols = info.all_columns[:3]
            else:
                cols = info.all_columns if system_fields else info.columns
            expanded.extend((ast.ColumnRef(c.field_name), None) for c in cols)
        else:
            expanded.append((item.expr, item.alias))
    taken: set[str] = set()
    for _, alias in expanded:
        if alias is None:
            continue
        if alias.startswith(":") or not alias.strip():
            raise SoqlError(
                f"Invalid alias {alias!r}: aliases cannot be empty or start with ':' "
                "(that is reserved for system fields).",
                code="query.soql.bad-parse",
            )
        if alias.lower() in taken:
            raise SoqlError(
                f"The alias {alias!r} is used twice in $select; give each column its own name.",
                code="query.soql.duplicate-alias",
            )
        taken.add(alias.lower())
    outputs = []
    star_frags = _column_fragments(info.all_columns)
    for expr, alias in expanded:
        if alias is None and isinstance(expr, ast.ColumnRef) and expr.name in star_frags:
            # Fast path for plain fields (``*`` expands to many): resolved and compiled once per schema.
            ref, ref_frag = star_frags[expr.name]
            if ref.name.lower() not in taken:
                taken.add(ref.name.lower())
                outputs.append(Output(ref.name, ref, ref_frag))
                continue
        node = resolve(expr, scope)
        name = alias
        if name is None:
            base = node.name if isinstance(node, ast.ColumnRef) else ast.implicit_alias(expr)
            name, n = base, 0
            while name.lower() in taken:
                n += 1
                name = f"{base}_{n}"
            taken.add(name.lower())
        outputs.append(Output(name, node, emit(node, scope)))
    return outputs


@lru_cache(maxsize=256)
def _column_fragments(columns: tuple[Column, ...]) -> dict[str, tuple[ast.ColumnRef, Sql]]:
    """Each field's resolved reference and compiled fragment (reused by every query on the schema)."""
    scope = Scope.of(columns, "$select")
    out = {}
    for col in columns:
        node = ast.ColumnRef(col.field_name)
        out[col.field_name] = (node, emit(node, scope))
    return out


def position_of(node: ast.Node, outputs: list[Output]) -> int | None:
    for i, out in enumerate(outputs, 1):
        if out.node == node:
            return i
    return None


def order_by(
    order: list[tuple[ast.Node, ast.OrderItem]],
    outputs: list[Output],
    keys: tuple[ast.Node, ...],
    distinct: bool,
    grouped: bool,
    scope: Scope,
    sql_params: list[Any],
    *,
    by_expression: bool = False,
) -> str:
    """ORDER BY text (nulls last ascending, first descending, as Socrata sorts them).

    A selected column is named by its position, or with ``by_expression`` by its expression
    (for an ORDER BY below the SELECT list, see :func:`~.query.compile_soql`).
    """
    parts: list[str] = []
    for node, item in order:
        ordinal = position_of(node, outputs)
        if ordinal is not None and by_expression:
            frag = outputs[ordinal - 1].frag
            frag_type, text = frag.type, frag.sql
            sql_params.extend(frag.params)
        elif ordinal is not None:
            frag_type, text = outputs[ordinal - 1].frag.type, str(ordinal)
        elif distinct:
            raise SoqlError(
                f"With DISTINCT, $order can only use selected columns; select {ast.to_text(item.expr)} too.",
                code="query.soql.unorderable-order-by",
            )
        else:
            frag = emit(node, scope)
            frag_type, text = frag.type, frag.sql
            sql_params.extend(frag.params)
        if frag_type in _UNORDERABLE:
            raise SoqlError(
                f"Cannot order by {ast.to_text(item.expr)}: {frag_type} values have no order.",
                code="query.soql.unorderable-order-by",
            )
        nulls_first = item.descending if item.nulls_first is None else item.nulls_first
        direction = "DESC" if item.descending else "ASC"
        parts.append(f"{text} {direction} NULLS {'FIRST' if nulls_first else 'LAST'}")
    if grouped or distinct:
        if not order:
            # Default order: the group keys (or, for DISTINCT, every column), for stable paging.
            for key in keys or tuple(o.node for o in outputs) * (not grouped):
                ordinal = position_of(key, outputs)
                if ordinal is not None:
                    parts.append(f"{ordinal} ASC NULLS LAST")
                elif not has_literal(key) and not is_constant(key):
                    frag = emit(key, scope)
                    parts.append(f"{frag.sql} ASC NULLS LAST")
                    sql_params.extend(frag.params)
        return ", ".join(dict.fromkeys(parts))
    if not any(isinstance(n, ast.ColumnRef) and n.name == ":id" for n, _ in order):
        parts.append('":id" ASC')
    return ", ".join(parts)
