"""Name resolution and type-checked compilation of SoQL expressions to DuckDB SQL.

Two steps: :func:`resolve` replaces every name by the dataset field it means (or by
the ``$select`` expression an alias stands for), so equal expressions compare equal;
:func:`emit` walks the resolved tree, checks types and builds a :class:`Sql` fragment
in which every value is a ``?`` parameter and every identifier was quoted by
:func:`btvstat_open.store.quote_ident` after it matched a real column.

Example:
    >>> from btvstat_open.types import Column
    >>> scope = Scope.of([Column("n", "n", "number")], "$where")
    >>> node = resolve(parse_expression("n > '2'"), scope)
    >>> emit(node, scope).sql
    '("n" > CAST(? AS DOUBLE))'
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from types import MappingProxyType
from typing import Final

from btvstat_open.errors import SoqlError
from btvstat_open.soql import ast
from btvstat_open.soql.functions import AGGREGATES, compile_call
from btvstat_open.soql.parser import parse_expression
from btvstat_open.soql.typed import (
    NULL_TYPE,
    SQL_TYPE,
    TEXTUAL,
    Sql,
    literal_text,
    mismatch,
    template,
    unify,
)
from btvstat_open.store import quote_ident
from btvstat_open.types import Column

__all__ = ["Scope", "check_grouped", "emit", "is_aggregate", "is_constant", "parse_expression", "resolve"]

_COMPARABLE: Final = frozenset({"number", "text", "url", "checkbox", "floating_timestamp", "fixed_timestamp"})
_CASTS: Final = frozenset({"text", "number", "checkbox", "floating_timestamp", "fixed_timestamp"})
_ARITHMETIC: Final = frozenset({"+", "-", "*", "/", "%"})


@dataclass
class Scope:
    """What names mean in one clause: dataset columns and ``$select`` aliases."""

    columns: Mapping[str, Column]
    clause: str
    aliases: Mapping[str, ast.Node] = field(default_factory=dict)
    aliases_first: bool = False
    allow_aggregates: bool = False

    @classmethod
    def of(cls, columns: Iterable[Column], clause: str) -> Scope:
        """A scope over these columns (matched case-insensitively, as Socrata does)."""
        return cls(_by_name(tuple(columns)), clause)

    def lookup(self, ref: ast.ColumnRef) -> ast.Node:
        key = ref.name.lower()
        col = self.columns.get(key)
        alias = self.aliases.get(key)
        if alias is not None and (self.aliases_first or col is None):
            return alias
        if col is not None:
            return ast.ColumnRef(col.field_name, pos=ref.pos)
        names = ", ".join(c.field_name for c in self.columns.values() if not c.field_name.startswith(":"))
        raise SoqlError(
            f"No such column {ref.name!r} in {self.clause}. The dataset's fields are: {names} "
            "(and :id, :created_at, :updated_at). Quote names with spaces with backquotes: `my field`.",
            code="query.soql.no-such-column",
            data={"column": ref.name, "clause": self.clause},
        )


@lru_cache(maxsize=256)
def _by_name(columns: tuple[Column, ...]) -> Mapping[str, Column]:
    by_name: dict[str, Column] = {}
    for col in columns:
        by_name.setdefault(col.field_name.lower(), col)
    return MappingProxyType(by_name)


def resolve(node: ast.Node, scope: Scope) -> ast.Node:
    """``node`` with every name replaced by its dataset field or its aliased expression."""
    if isinstance(node, ast.ColumnRef):
        return scope.lookup(node)
    if isinstance(node, ast.Literal | ast.Star):
        return node
    if isinstance(node, ast.FuncCall):
        return replace(node, args=tuple(resolve(a, scope) for a in node.args))
    if isinstance(node, ast.UnaryOp | ast.IsNull | ast.Cast):
        return replace(node, operand=resolve(node.operand, scope))
    if isinstance(node, ast.BinaryOp):
        return replace(node, left=resolve(node.left, scope), right=resolve(node.right, scope))
    if isinstance(node, ast.Between):
        return replace(
            node,
            operand=resolve(node.operand, scope),
            low=resolve(node.low, scope),
            high=resolve(node.high, scope),
        )
    if isinstance(node, ast.InList):
        items = tuple(resolve(i, scope) for i in node.items)
        return replace(node, operand=resolve(node.operand, scope), items=items)
    if isinstance(node, ast.Like):
        return replace(node, operand=resolve(node.operand, scope), pattern=resolve(node.pattern, scope))
    raise TypeError(f"unexpected node {node!r}")


def is_aggregate(node: ast.Node) -> bool:
    """Whether the expression contains an aggregate call."""
    if isinstance(node, ast.FuncCall) and node.name in AGGREGATES:
        return True
    return any(is_aggregate(c) for c in node.children())


def has_literal(node: ast.Node) -> bool:
    """Whether the expression contains a value (compiled to a ``?`` parameter)."""
    if isinstance(node, ast.Literal):
        return node.kind != "null"
    return any(has_literal(c) for c in node.children())


def is_constant(node: ast.Node) -> bool:
    """Whether the expression reads no field and aggregates nothing (ordering by it does nothing)."""
    if isinstance(node, ast.ColumnRef) or is_aggregate(node):
        return False
    return all(is_constant(c) for c in node.children())


def check_grouped(node: ast.Node, keys: tuple[ast.Node, ...], clause: str, top: bool = True) -> None:
    """Every field used outside an aggregate must be (inside) a ``$group`` key.

    A key that holds a value (``n + 1``) can be used whole only in ``$select``: its value is a
    fresh ``?`` parameter wherever it is written again, and DuckDB then no longer sees the
    GROUP BY expression in it.
    """
    for key in keys:
        if node == key:
            if (not top or clause != "$select") and has_literal(key):
                fix = {
                    "$order": "select it with an alias and order by the alias",
                    "$having": "filter on it in $where instead",
                }.get(clause, "select it on its own instead")
                raise SoqlError(
                    f"The group key {ast.to_text(key)} contains a value and cannot be repeated "
                    f"{'inside another expression ' if not top else ''}in {clause}; {fix}.",
                    code="query.soql.column-not-in-group-bys",
                )
            return
    if isinstance(node, ast.FuncCall) and node.name in AGGREGATES:
        return
    if isinstance(node, ast.ColumnRef):
        raise SoqlError(
            f"{node.name!r} is used in {clause} of a grouped query but is neither in $group nor inside "
            f"an aggregate. Add it to $group or aggregate it, e.g. max({node.name}).",
            code="query.soql.column-not-in-group-bys",
            data={"column": node.name},
        )
    for child in node.children():
        check_grouped(child, keys, clause, top=False)


def emit(node: ast.Node, scope: Scope) -> Sql:
    """Type-check a resolved expression and compile it to a :class:`Sql` fragment."""
    if isinstance(node, ast.Literal):
        return _literal(node)
    if isinstance(node, ast.ColumnRef):
        col = scope.columns[node.name.lower()]
        return Sql(quote_ident(col.field_name), col.data_type)
    if isinstance(node, ast.FuncCall):
        if node.name in AGGREGATES and not scope.allow_aggregates:
            raise SoqlError(
                f"Aggregate {ast.to_text(node)} is not allowed in {scope.clause}; "
                "filter on aggregates with $having.",
                code="query.soql.aggregate-in-ungrouped-context",
            )
        return compile_call(node, [emit(a, scope) for a in node.args])
    if isinstance(node, ast.UnaryOp):
        operand = emit(node.operand, scope)
        if node.op == "NOT":
            return template("(NOT {0})", _need(operand, "checkbox", "NOT"), type="checkbox")
        operand = _need(operand, "number", f"unary {node.op}")
        return operand if node.op == "+" else template("(- {0})", operand, type="number")
    if isinstance(node, ast.BinaryOp):
        return _binary(node, emit(node.left, scope), emit(node.right, scope))
    if isinstance(node, ast.IsNull):
        word = "IS NOT NULL" if node.negated else "IS NULL"
        return template(f"({{0}} {word})", emit(node.operand, scope), type="checkbox")
    if isinstance(node, ast.Between):
        parts = [emit(n, scope) for n in (node.operand, node.low, node.high)]
        kind, parts = unify(parts, "BETWEEN")
        _comparable(kind, "BETWEEN")
        word = "NOT BETWEEN" if node.negated else "BETWEEN"
        return template(f"({{0}} {word} {{1}} AND {{2}})", *parts, type="checkbox")
    if isinstance(node, ast.InList):
        parts = [emit(n, scope) for n in (node.operand, *node.items)]
        kind, parts = unify(parts, "IN (...)")
        _comparable(kind, "IN")
        items = ", ".join(f"{{{i}}}" for i in range(1, len(parts)))
        word = "NOT IN" if node.negated else "IN"
        return template(f"({{0}} {word} ({items}))", *parts, type="checkbox")
    if isinstance(node, ast.Like):
        text = _need(emit(node.operand, scope), "text", "LIKE")
        pattern = _need(emit(node.pattern, scope), "text", "LIKE")
        word = "NOT LIKE" if node.negated else "LIKE"
        return template(f"({{0}} {word} {{1}})", text, pattern, type="checkbox")
    if isinstance(node, ast.Cast):
        return _cast(node, emit(node.operand, scope))
    raise SoqlError(f"{ast.to_text(node)} cannot be used here.", code="query.soql.bad-parse")


def _literal(node: ast.Literal) -> Sql:
    if node.kind == "text":
        return literal_text(str(node.value))
    if node.kind == "number":
        number = float(str(node.value))
        if not math.isfinite(number):
            raise mismatch(f"the number {str(node.value)[:40]} is too large")
        return Sql("CAST(? AS DOUBLE)", "number", [number])
    if node.kind == "boolean":
        return Sql("CAST(? AS BOOLEAN)", "checkbox", [bool(node.value)])
    return Sql("NULL", NULL_TYPE)


def _need(frag: Sql, kind: str, what: str) -> Sql:
    if frag.type == kind or frag.type == NULL_TYPE or (kind == "text" and frag.type in TEXTUAL):
        return frag
    if frag.literal is not None:
        return frag.coerce_to(kind)
    raise mismatch(f"{what} needs {kind} values, not {frag.type}")


def _comparable(kind: str, op: str) -> None:
    if kind not in _COMPARABLE and kind != NULL_TYPE:
        raise mismatch(f"{kind} values cannot be compared with {op}; use within_circle() or within_box()")


def _binary(node: ast.BinaryOp, left: Sql, right: Sql) -> Sql:
    op = node.op
    if op in ("AND", "OR"):
        return template(
            f"({{0}} {op} {{1}})", _need(left, "checkbox", op), _need(right, "checkbox", op), type="checkbox"
        )
    if op in _ARITHMETIC:
        a, b = _need(left, "number", op), _need(right, "number", op)
        return template(f"({{0}} {op} {{1}})", a, b, type="number")
    if op == "||":
        return template("({0} || {1})", _need(left, "text", "||"), _need(right, "text", "||"), type="text")
    kind, (a, b) = unify([left, right], f"the comparison {op}")
    _comparable(kind, op)
    if kind == "checkbox" and op not in ("=", "!="):
        raise mismatch(f"checkbox values can only be compared with = or !=, not {op}")
    sql_op = "<>" if op == "!=" else op
    return template(f"({{0}} {sql_op} {{1}})", a, b, type="checkbox")


def _cast(node: ast.Cast, operand: Sql) -> Sql:
    target = node.type_name
    if target not in _CASTS:
        raise mismatch(
            f"there is no type {node.type_name!r} to convert to; use one of {', '.join(sorted(_CASTS))}"
        )
    if operand.literal is not None:
        return operand.coerce_to(target)
    if operand.type not in _COMPARABLE | {NULL_TYPE, "point"}:
        raise mismatch(f"{operand.type} values cannot be converted to {target}")
    return template(f"TRY_CAST({{0}} AS {SQL_TYPE[target]})", operand, type=target)
