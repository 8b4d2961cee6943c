"""Parsing the clause lists of SoQL: ``$select``, ``$group``, ``$order`` and whole ``$query`` statements.

The grammar is in :mod:`.parser`; these add the list and statement rules on top of its
expressions. Parses are cached (the trees are immutable).

Example:
    >>> parse_query("SELECT a WHERE b > 1 LIMIT 5").limit
    5
"""

from __future__ import annotations

from functools import lru_cache
from typing import Final

from btvstat_open.soql import ast
from btvstat_open.soql.parser import ExpressionParser

__all__ = ["parse_group", "parse_order", "parse_query", "parse_select"]

_CLAUSES: Final = ("SELECT", "WHERE", "GROUP", "HAVING", "ORDER", "LIMIT", "OFFSET", "SEARCH")


class ClauseParser(ExpressionParser):
    """Parses clause lists and whole statements."""

    def name(self) -> str:
        tok = self.tok
        if tok.kind in ("IDENT", "QUOTED", "SYSTEM") and tok.value != ":*":
            self.advance()
            return tok.value
        return self.fail("a name after AS")

    def select_list(self) -> tuple[ast.SelectItem, ...]:
        items = [self.select_item()]
        while self.is_op(","):
            self.advance()
            items.append(self.select_item())
        return tuple(items)

    def select_item(self) -> ast.SelectItem:
        tok = self.tok
        if self.is_op("*") or (tok.kind == "SYSTEM" and tok.value == ":*"):
            self.advance()
            return ast.SelectItem(ast.Star(system=tok.value == ":*", pos=tok.pos))
        expr = self.expr()
        alias = self.name() if self.accept_word("AS") else None
        return ast.SelectItem(expr, alias)

    def expr_list(self) -> tuple[ast.Node, ...]:
        items = [self.expr()]
        while self.is_op(","):
            self.advance()
            items.append(self.expr())
        return tuple(items)

    def order_list(self) -> tuple[ast.OrderItem, ...]:
        items = [self.order_item()]
        while self.is_op(","):
            self.advance()
            items.append(self.order_item())
        return tuple(items)

    def order_item(self) -> ast.OrderItem:
        expr = self.expr()
        descending = False
        if self.is_word("ASC", "DESC"):
            descending = self.advance().value.upper() == "DESC"
        nulls_first: bool | None = None
        if self.accept_word("NULLS"):
            if not self.is_word("FIRST", "LAST"):
                self.fail("FIRST or LAST after NULLS")
            nulls_first = self.advance().value.upper() == "FIRST"
        return ast.OrderItem(expr, descending, nulls_first)

    def integer(self, what: str) -> int:
        tok = self.tok
        if tok.kind != "NUMBER" or not tok.value.isdigit() or len(tok.value) > 18:
            self.fail(f"a whole number after {what}")
        self.advance()
        return int(tok.value)

    def query(self) -> ast.Query:
        parts: dict[str, object] = {}
        while self.tok.kind != "EOF":
            if not self.is_word(*_CLAUSES):
                self.fail("a clause (SELECT, WHERE, GROUP BY, HAVING, ORDER BY, LIMIT, OFFSET, SEARCH)")
            word = self.advance().value.upper()
            if word in parts:
                self.fail(f"each clause once, but {word} appears again", self.tokens[self.i - 1])
            if word == "SELECT":
                parts["distinct"] = self.accept_word("DISTINCT")
                parts[word] = self.select_list()
            elif word in ("WHERE", "HAVING"):
                parts[word] = self.expr()
            elif word in ("GROUP", "ORDER"):
                self.expect_word("BY")
                parts[word] = self.expr_list() if word == "GROUP" else self.order_list()
            elif word in ("LIMIT", "OFFSET"):
                parts[word] = self.integer(word)
            else:
                tok = self.tok
                if tok.kind != "STRING":
                    self.fail("quoted text after SEARCH")
                parts[word] = self.advance().value
        return ast.Query(
            select=parts.get("SELECT"),  # type: ignore[arg-type]
            distinct=bool(parts.get("distinct", False)),
            where=parts.get("WHERE"),  # type: ignore[arg-type]
            group=parts.get("GROUP"),  # type: ignore[arg-type]
            having=parts.get("HAVING"),  # type: ignore[arg-type]
            order=parts.get("ORDER"),  # type: ignore[arg-type]
            limit=parts.get("LIMIT"),  # type: ignore[arg-type]
            offset=parts.get("OFFSET"),  # type: ignore[arg-type]
            search=parts.get("SEARCH"),  # type: ignore[arg-type]
        )


@lru_cache(maxsize=1024)
def parse_select(text: str) -> tuple[bool, tuple[ast.SelectItem, ...]]:
    """Parse ``$select``: (DISTINCT given?, items). A leading ``DISTINCT`` is accepted."""
    parser = ClauseParser(text, "$select")
    distinct = parser.accept_word("DISTINCT")
    items = parser.select_list()
    parser.end("',' or the end of the input")
    return distinct, items


@lru_cache(maxsize=1024)
def parse_group(text: str) -> tuple[ast.Node, ...]:
    """Parse ``$group``: a comma-separated list of expressions."""
    parser = ClauseParser(text, "$group")
    items = parser.expr_list()
    parser.end("',' or the end of the input")
    return items


@lru_cache(maxsize=1024)
def parse_order(text: str) -> tuple[ast.OrderItem, ...]:
    """Parse ``$order``: expressions, each with an optional ``ASC``/``DESC``."""
    parser = ClauseParser(text, "$order")
    items = parser.order_list()
    parser.end("ASC, DESC, ',' or the end of the input")
    return items


@lru_cache(maxsize=256)
def parse_query(text: str) -> ast.Query:
    """Parse a whole ``$query`` statement.

    Example:
        >>> parse_query("SELECT a WHERE b > 1 LIMIT 5").limit
        5
    """
    return ClauseParser(text, "$query").query()
