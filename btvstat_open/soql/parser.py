"""A recursive-descent parser for SoQL, building the tree in :mod:`.ast`.

Grammar (keywords are case-insensitive)::

    query       := [SELECT [DISTINCT] select_list] [WHERE expr] [GROUP BY expr_list]
                   [HAVING expr] [ORDER BY order_list] [LIMIT int] [OFFSET int] [SEARCH text]
    select_list := select_item ("," select_item)*
    select_item := "*" | ":*" | expr [AS name]
    order_list  := order_item ("," order_item)*
    order_item  := expr [ASC | DESC] [NULLS (FIRST | LAST)]
    expr        := and_expr (OR and_expr)*
    and_expr    := not_expr (AND not_expr)*
    not_expr    := NOT not_expr | predicate
    predicate   := concat [ cmp_op concat | IS [NOT] NULL | [NOT] BETWEEN concat AND concat
                          | [NOT] IN "(" expr_list ")" | [NOT] LIKE concat ]
    concat      := additive ("||" additive)*
    additive    := term (("+" | "-") term)*
    term        := unary (("*" | "/" | "%") unary)*
    unary       := ("-" | "+") unary | postfix
    postfix     := primary ("::" name)*
    primary     := NUMBER | TEXT | TRUE | FALSE | NULL | name "(" args ")" | name | "(" expr ")"
    args        := "*" | [DISTINCT] expr ("," expr)* | (nothing)
    name        := identifier | `backquoted` | :system_field

Nesting deeper than ``MAX_DEPTH`` is a ``query.soql.bad-parse`` error, so hostile
input cannot exhaust the stack. Parses are cached (the tree is immutable).

What a row costs DuckDB is bounded too, because DuckDB looks for an interrupt only every
~100,000 rows, so a costly expression could run on for minutes past the query time limit. A
``LIKE`` costs about the length of its text times the length of its pattern: each ``LIKE``
counts (1 + the ``||`` in its text) x (the characters of text in its pattern), and a clause may
count at most ``MAX_LIKE_COST``; a clause may also hold at most ``MAX_CONCATS`` ``||``, and a
pattern at most ``MAX_LIKE_PATTERN`` characters. Going over is a ``query.soql.too-costly`` error.

The clause lists and ``$query`` statements are parsed by :mod:`.clauses`.

Example:
    >>> parse_expression("a BETWEEN 1 AND 2").negated
    False
"""

from __future__ import annotations

from functools import lru_cache
from typing import Final, NoReturn

from btvstat_open.errors import SoqlError
from btvstat_open.soql import ast
from btvstat_open.soql.lexer import Token, tokenize

__all__ = [
    "MAX_CONCATS",
    "MAX_DEPTH",
    "MAX_LIKE_COST",
    "MAX_LIKE_PATTERN",
    "MAX_NESTING",
    "ExpressionParser",
    "parse_expression",
]

MAX_DEPTH: Final = 64
# Parenthesis / function-call nesting; each level costs ~13 Python frames while parsing.
MAX_NESTING: Final = 40
MAX_CONCATS: Final = 16
MAX_LIKE_COST: Final = 2000
MAX_LIKE_PATTERN: Final = 200
_CMP: Final = {"=", "!=", "<>", "<", "<=", ">", ">="}
# Words that cannot start an expression (a column with such a name needs backquotes).
_RESERVED: Final = {"AND", "OR", "IS", "BETWEEN", "IN", "LIKE", "AS", "NOT", "NULL", "TRUE", "FALSE"}


class ExpressionParser:
    """Parses expressions; :class:`.clauses.ClauseParser` adds the clause lists."""

    def __init__(self, text: str, clause: str) -> None:
        self.clause = clause
        self.tokens = tokenize(text, clause)
        self.i = 0
        self.nesting = 0
        self.concats = 0
        self.like_cost = 0

    # -- token helpers ------------------------------------------------------------
    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def advance(self) -> Token:
        tok = self.tokens[self.i]
        if tok.kind != "EOF":
            self.i += 1
        return tok

    def is_word(self, *words: str, offset: int = 0) -> bool:
        tok = self.tokens[min(self.i + offset, len(self.tokens) - 1)]
        return tok.kind == "IDENT" and tok.value.upper() in words

    def is_op(self, *ops: str) -> bool:
        return self.tok.kind == "OP" and self.tok.value in ops

    def accept_word(self, *words: str) -> bool:
        if self.is_word(*words):
            self.advance()
            return True
        return False

    def expect_word(self, word: str) -> None:
        if not self.accept_word(word):
            self.fail(word)

    def expect_op(self, op: str) -> Token:
        if not self.is_op(op):
            self.fail(repr(op))
        return self.advance()

    def fail(self, expected: str, tok: Token | None = None) -> NoReturn:
        tok = tok or self.tok
        raise SoqlError(
            f"Could not parse {self.clause} at line {tok.line}, column {tok.column}: expected "
            f"{expected}, found {tok.describe()}. Check the syntax at that point (quote text with "
            "'...', field names with spaces or reserved words with `...`).",
            code="query.soql.bad-parse",
            data={"line": tok.line, "column": tok.column, "position": tok.pos, "expected": expected},
        )

    def check_depth(self, node: ast.Node) -> ast.Node:
        if node.depth > MAX_DEPTH or self.nesting > MAX_NESTING:
            tok = self.tok
            raise SoqlError(
                f"{self.clause} is nested too deeply near line {tok.line}, column {tok.column} "
                f"(more than {MAX_DEPTH} levels). Simplify the expression, e.g. use IN (...) "
                "instead of long OR chains.",
                code="query.soql.bad-parse",
                data={"line": tok.line, "column": tok.column, "position": tok.pos},
            )
        return node

    def too_costly(self, tok: Token, what: str, limit: int) -> NoReturn:
        raise SoqlError(
            f"{self.clause} has {what} (line {tok.line}, column {tok.column}); this server allows "
            f"{limit}, to bound what one row costs. Use fewer or shorter ones.",
            code="query.soql.too-costly",
            data={"line": tok.line, "column": tok.column, "limit": limit},
        )

    def concatenation(self, tok: Token) -> None:
        """Count one ``||``: at most ``MAX_CONCATS`` in a clause."""
        self.concats += 1
        if self.concats > MAX_CONCATS:
            self.too_costly(tok, f"more than {MAX_CONCATS} ||", MAX_CONCATS)

    def like_pattern(self, text: ast.Node, tok: Token) -> ast.Node:
        """The pattern after ``LIKE``, within ``MAX_LIKE_PATTERN`` and the clause's ``MAX_LIKE_COST``."""
        pattern = self.concat()
        size = sum(
            len(n.value) for n in _walk(pattern) if isinstance(n, ast.Literal) and isinstance(n.value, str)
        )
        if size > MAX_LIKE_PATTERN:
            self.too_costly(tok, f"a LIKE pattern of {size} characters", MAX_LIKE_PATTERN)
        pieces = 1 + sum(1 for n in _walk(text) if isinstance(n, ast.BinaryOp) and n.op == "||")
        self.like_cost += pieces * max(size, 1)
        if self.like_cost > MAX_LIKE_COST:
            self.too_costly(
                tok, f"LIKE matching that costs {self.like_cost} (texts x pattern lengths)", MAX_LIKE_COST
            )
        return pattern

    def end(self, expected: str = "the end of the input") -> None:
        if self.tok.kind != "EOF":
            self.fail(expected)

    # -- expressions --------------------------------------------------------------
    def expr(self) -> ast.Node:
        self.nesting += 1
        if self.nesting > MAX_NESTING:
            self.check_depth(ast.Literal(None, "null"))
        items = [self.and_expr()]
        while self.is_word("OR"):
            self.advance()
            items.append(self.and_expr())
        self.nesting -= 1
        return self.balanced("OR", items)

    def and_expr(self) -> ast.Node:
        items = [self.not_expr()]
        while self.is_word("AND"):
            self.advance()
            items.append(self.not_expr())
        return self.balanced("AND", items)

    def balanced(self, op: str, items: list[ast.Node]) -> ast.Node:
        """AND / OR chains as a balanced tree: same meaning, depth log2(n) (long OR lists are common)."""
        if len(items) == 1:
            return items[0]
        mid = len(items) // 2
        left, right = self.balanced(op, items[:mid]), self.balanced(op, items[mid:])
        return self.check_depth(ast.BinaryOp(op, left, right, pos=items[mid].pos))

    def not_expr(self) -> ast.Node:
        count = 0
        start = self.tok.pos
        while self.accept_word("NOT"):
            count += 1
            if count > MAX_DEPTH:
                self.check_depth(ast.Literal(None, "null"))
        node = self.predicate()
        for _ in range(count):
            node = self.check_depth(ast.UnaryOp("NOT", node, pos=start))
        return node

    def predicate(self) -> ast.Node:
        left = self.concat()
        tok = self.tok
        if tok.kind == "OP" and tok.value in _CMP:
            self.advance()
            op = "!=" if tok.value == "<>" else tok.value
            return self.check_depth(ast.BinaryOp(op, left, self.concat(), pos=tok.pos))
        if self.accept_word("IS"):
            negated = self.accept_word("NOT")
            self.expect_word("NULL")
            return self.check_depth(ast.IsNull(left, negated, pos=tok.pos))
        negated = False
        if self.is_word("NOT") and self.is_word("BETWEEN", "IN", "LIKE", offset=1):
            self.advance()
            negated = True
        if self.accept_word("BETWEEN"):
            low = self.concat()
            self.expect_word("AND")
            high = self.concat()
            return self.check_depth(ast.Between(left, low, high, negated, pos=tok.pos))
        if self.accept_word("IN"):
            self.expect_op("(")
            items = [self.expr()]
            while self.is_op(","):
                self.advance()
                items.append(self.expr())
            self.expect_op(")")
            return self.check_depth(ast.InList(left, tuple(items), negated, pos=tok.pos))
        if self.accept_word("LIKE"):
            return self.check_depth(ast.Like(left, self.like_pattern(left, tok), negated, pos=tok.pos))
        return left

    def _binary_chain(self, ops: tuple[str, ...], operand: str) -> ast.Node:
        parse = getattr(self, operand)
        node: ast.Node = parse()
        while self.is_op(*ops):
            tok = self.advance()
            if tok.value == "||":
                self.concatenation(tok)
            node = self.check_depth(ast.BinaryOp(tok.value, node, parse(), pos=tok.pos))
        return node

    def concat(self) -> ast.Node:
        return self._binary_chain(("||",), "additive")

    def additive(self) -> ast.Node:
        return self._binary_chain(("+", "-"), "term")

    def term(self) -> ast.Node:
        return self._binary_chain(("*", "/", "%"), "unary")

    def unary(self) -> ast.Node:
        signs: list[Token] = []
        while self.is_op("-", "+"):
            signs.append(self.advance())
            if len(signs) > MAX_DEPTH:
                self.check_depth(ast.Literal(None, "null"))
        node = self.postfix()
        for sign in reversed(signs):
            if sign.value == "-" and isinstance(node, ast.Literal) and node.kind == "number":
                text = str(node.value)
                value = text[1:] if text.startswith("-") else "-" + text
                node = ast.Literal(value, "number", pos=sign.pos)
            else:
                node = self.check_depth(ast.UnaryOp(sign.value, node, pos=sign.pos))
        return node

    def postfix(self) -> ast.Node:
        node = self.primary()
        while self.is_op("::"):
            pos = self.advance().pos
            tok = self.tok
            if tok.kind != "IDENT":
                self.fail("a type name after '::' (text, number, checkbox, floating_timestamp)")
            self.advance()
            node = self.check_depth(ast.Cast(node, tok.value.lower(), pos=pos))
        return node

    def primary(self) -> ast.Node:
        tok = self.tok
        if tok.kind == "NUMBER":
            self.advance()
            return ast.Literal(tok.value, "number", pos=tok.pos)
        if tok.kind == "STRING":
            self.advance()
            return ast.Literal(tok.value, "text", pos=tok.pos)
        if tok.kind in ("SYSTEM", "QUOTED"):
            if tok.value == ":*":
                self.fail("an expression (':*' is only allowed on its own in $select)")
            self.advance()
            return ast.ColumnRef(tok.value, pos=tok.pos)
        if self.is_op("("):
            self.advance()
            node = self.expr()
            self.expect_op(")")
            return node
        if tok.kind == "IDENT":
            word = tok.value.upper()
            if word in ("TRUE", "FALSE"):
                self.advance()
                return ast.Literal(word == "TRUE", "boolean", pos=tok.pos)
            if word == "NULL":
                self.advance()
                return ast.Literal(None, "null", pos=tok.pos)
            if word in _RESERVED:
                self.fail("an expression")
            self.advance()
            if self.is_op("("):
                return self.call(tok)
            return ast.ColumnRef(tok.value, pos=tok.pos)
        return self.fail("an expression (a field name, a value or a function call)")

    def call(self, name: Token) -> ast.Node:
        self.expect_op("(")
        fname = name.value.lower()
        if self.is_op("*"):
            self.advance()
            self.expect_op(")")
            return ast.FuncCall(fname, (), star=True, pos=name.pos)
        distinct = self.accept_word("DISTINCT")
        args: list[ast.Node] = []
        if not self.is_op(")"):
            args.append(self.expr())
            while self.is_op(","):
                self.advance()
                args.append(self.expr())
        self.expect_op(")")
        return self.check_depth(ast.FuncCall(fname, tuple(args), distinct=distinct, pos=name.pos))


@lru_cache(maxsize=1024)
def parse_expression(text: str, clause: str = "$where") -> ast.Node:
    """Parse one expression (``$where``, ``$having``).

    Example:
        >>> parse_expression("type = 'Pothole'").op
        '='
    """
    parser = ExpressionParser(text, clause)
    node = parser.expr()
    parser.end()
    return node


def _walk(node: ast.Node) -> list[ast.Node]:
    """Every node of a (depth-bounded) tree."""
    nodes = [node]
    for child in node.children():
        nodes.extend(_walk(child))
    return nodes
