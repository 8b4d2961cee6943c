"""The SoQL syntax tree.

Nodes are frozen dataclasses, so two parses of the same text compare equal: the
compiler relies on that to match ``$select`` expressions against ``$group`` keys.
Positions (``pos``) and nesting depth are left out of comparisons.

Example:
    >>> from btvstat_open.soql.parser import parse_expression
    >>> parse_expression("upper(name) = 'A'") == parse_expression("UPPER( name )='A'")
    True
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal as TypingLiteral

from btvstat_open.soql.lexer import soql_literal

__all__ = [
    "Between",
    "BinaryOp",
    "Cast",
    "ColumnRef",
    "FuncCall",
    "InList",
    "IsNull",
    "Like",
    "Literal",
    "Node",
    "OrderItem",
    "Query",
    "SelectItem",
    "Star",
    "UnaryOp",
    "implicit_alias",
    "to_text",
]

LiteralKind = TypingLiteral["text", "number", "boolean", "null"]


@dataclass(frozen=True)
class Node:
    """Base of every expression node; ``depth`` is the height of the subtree."""

    pos: int = field(default=0, compare=False, kw_only=True)
    depth: int = field(default=1, compare=False, init=False)

    def children(self) -> tuple[Node, ...]:
        """The direct sub-expressions, in source order."""
        return ()

    def __post_init__(self) -> None:
        kids = self.children()
        object.__setattr__(self, "depth", 1 + max((k.depth for k in kids), default=0))


@dataclass(frozen=True)
class Literal(Node):
    """A constant: text (quotes removed), number (as written), boolean or null."""

    value: str | bool | None
    kind: LiteralKind


@dataclass(frozen=True)
class ColumnRef(Node):
    """A field name (or, outside ``$select``, an alias of a ``$select`` expression)."""

    name: str


@dataclass(frozen=True)
class Star(Node):
    """``*`` (the dataset's own columns) or ``:*`` (the system fields) in ``$select``."""

    system: bool = False


@dataclass(frozen=True)
class FuncCall(Node):
    """``name(args)``; ``star`` for ``count(*)``, ``distinct`` for ``count(DISTINCT x)``."""

    name: str
    args: tuple[Node, ...] = ()
    star: bool = False
    distinct: bool = False

    def children(self) -> tuple[Node, ...]:
        return self.args


@dataclass(frozen=True)
class UnaryOp(Node):
    """``-x``, ``+x`` or ``NOT x``."""

    op: str
    operand: Node

    def children(self) -> tuple[Node, ...]:
        return (self.operand,)


@dataclass(frozen=True)
class BinaryOp(Node):
    """Arithmetic, ``||``, comparison, ``AND`` and ``OR`` (op in upper case)."""

    op: str
    left: Node
    right: Node

    def children(self) -> tuple[Node, ...]:
        return (self.left, self.right)


@dataclass(frozen=True)
class IsNull(Node):
    """``x IS [NOT] NULL``."""

    operand: Node
    negated: bool = False

    def children(self) -> tuple[Node, ...]:
        return (self.operand,)


@dataclass(frozen=True)
class Between(Node):
    """``x [NOT] BETWEEN low AND high``."""

    operand: Node
    low: Node
    high: Node
    negated: bool = False

    def children(self) -> tuple[Node, ...]:
        return (self.operand, self.low, self.high)


@dataclass(frozen=True)
class InList(Node):
    """``x [NOT] IN (a, b, ...)``."""

    operand: Node
    items: tuple[Node, ...]
    negated: bool = False

    def children(self) -> tuple[Node, ...]:
        return (self.operand, *self.items)


@dataclass(frozen=True)
class Like(Node):
    """``x [NOT] LIKE pattern`` with ``%`` and ``_`` wildcards."""

    operand: Node
    pattern: Node
    negated: bool = False

    def children(self) -> tuple[Node, ...]:
        return (self.operand, self.pattern)


@dataclass(frozen=True)
class Cast(Node):
    """``x::type`` (type is a Socrata type name, checked by the compiler)."""

    operand: Node
    type_name: str

    def children(self) -> tuple[Node, ...]:
        return (self.operand,)


@dataclass(frozen=True)
class SelectItem:
    """One ``$select`` entry: an expression and its explicit alias, if any."""

    expr: Node
    alias: str | None = None


@dataclass(frozen=True)
class OrderItem:
    """One ``$order`` entry."""

    expr: Node
    descending: bool = False
    nulls_first: bool | None = None


@dataclass(frozen=True)
class Query:
    """A whole ``$query`` statement (every clause optional)."""

    select: tuple[SelectItem, ...] | None = None
    distinct: bool = False
    where: Node | None = None
    group: tuple[Node, ...] | None = None
    having: Node | None = None
    order: tuple[OrderItem, ...] | None = None
    limit: int | None = None
    offset: int | None = None
    search: str | None = None


def to_text(node: Node) -> str:
    """SoQL text for a node, in one canonical spelling (used for implicit aliases and messages).

    Example:
        >>> to_text(FuncCall("count", star=True))
        'count(*)'
    """
    if isinstance(node, Literal):
        if node.kind == "text":
            return soql_literal(str(node.value))
        if node.kind == "null":
            return "NULL"
        if node.kind == "boolean":
            return "TRUE" if node.value else "FALSE"
        return str(node.value)
    if isinstance(node, ColumnRef):
        return node.name
    if isinstance(node, Star):
        return ":*" if node.system else "*"
    if isinstance(node, FuncCall):
        inner = "*" if node.star else ", ".join(to_text(a) for a in node.args)
        return f"{node.name}({'DISTINCT ' if node.distinct else ''}{inner})"
    if isinstance(node, UnaryOp):
        return f"{node.op} {to_text(node.operand)}" if node.op == "NOT" else node.op + to_text(node.operand)
    if isinstance(node, BinaryOp):
        return f"{_paren(node.left)} {node.op} {_paren(node.right)}"
    if isinstance(node, IsNull):
        return f"{_paren(node.operand)} IS {'NOT ' if node.negated else ''}NULL"
    if isinstance(node, Between):
        word = "NOT BETWEEN" if node.negated else "BETWEEN"
        return f"{_paren(node.operand)} {word} {_paren(node.low)} AND {_paren(node.high)}"
    if isinstance(node, InList):
        items = ", ".join(to_text(i) for i in node.items)
        return f"{_paren(node.operand)} {'NOT IN' if node.negated else 'IN'} ({items})"
    if isinstance(node, Like):
        return f"{_paren(node.operand)} {'NOT LIKE' if node.negated else 'LIKE'} {_paren(node.pattern)}"
    if isinstance(node, Cast):
        return f"{_paren(node.operand)}::{node.type_name}"
    raise TypeError(f"not a SoQL node: {node!r}")


def _paren(node: Node) -> str:
    simple = isinstance(node, Literal | ColumnRef | FuncCall | Star)
    return to_text(node) if simple else f"({to_text(node)})"


_NON_WORD = re.compile(r"[^a-z0-9]+")


def implicit_alias(node: Node) -> str:
    """The output name Socrata gives an un-aliased ``$select`` expression.

    A plain column keeps its field name; anything else is its text, lower-cased, with
    every run of other characters turned into ``_`` (``count(*)`` -> ``count``,
    ``sum(x)`` -> ``sum_x``, ``date_trunc_ym(d)`` -> ``date_trunc_ym_d``).

    Example:
        >>> implicit_alias(FuncCall("sum", (ColumnRef("days_to_close"),)))
        'sum_days_to_close'
    """
    if isinstance(node, ColumnRef):
        return node.name
    name = _NON_WORD.sub("_", to_text(node).lower()).strip("_")
    return name or "expr"
