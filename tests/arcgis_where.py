"""The small ArcGIS SQL subset the stand-in server reads: comparisons joined by AND/OR/NOT.

``1=1``, ``OBJECTID > 5 AND OBJECTID <= 10``, ``amount > 100``, ``EditDate >= timestamp
'2024-01-31 12:00:00.250'``, ``x IS NULL``, strings in single quotes, parentheses. Test equipment.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

Row = dict[str, Any]
Predicate = Callable[[Row], bool]
_TOKEN = re.compile(
    r"\s*(?:(?P<ts>timestamp\s+'[^']*')|(?P<num>-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)|(?P<str>'(?:[^']|'')*')"
    r"|(?P<op><>|!=|<=|>=|=|<|>)|(?P<paren>[()])|(?P<word>[A-Za-z_][\w.]*))",
    re.I,
)
_EPOCH = datetime(1970, 1, 1)


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    text = text.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise ValueError(f"cannot read the where clause at {text[pos:]!r}")
        kind = match.lastgroup or ""
        out.append((kind, match.group(kind)))
        pos = match.end()
    return out


def _literal(kind: str, text: str) -> Any:
    if kind == "num":
        return float(text)
    if kind == "str":
        return text[1:-1].replace("''", "'")
    if kind == "ts":
        value = text.split("'", 1)[1].rstrip("'")
        return (datetime.fromisoformat(value) - _EPOCH).total_seconds() * 1000
    raise ValueError(f"expected a value, got {text!r}")


def _compare(left: Any, op: str, right: Any) -> bool:
    if left is None or right is None:
        return False
    ops: dict[str, Callable[[Any, Any], bool]] = {
        "=": lambda a, b: a == b,
        "<>": lambda a, b: a != b,
        "!=": lambda a, b: a != b,
        "<": lambda a, b: a < b,
        "<=": lambda a, b: a <= b,
        ">": lambda a, b: a > b,
        ">=": lambda a, b: a >= b,
    }
    return ops[op](left, right)


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.pos = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def keyword(self, word: str) -> bool:
        token = self.peek()
        if token and token[0] == "word" and token[1].upper() == word:
            self.pos += 1
            return True
        return False

    def parse(self) -> Predicate:
        predicate = self.disjunction()
        if self.peek() is not None:
            raise ValueError(f"unexpected {self.peek()}")
        return predicate

    def disjunction(self) -> Predicate:
        parts = [self.conjunction()]
        while self.keyword("OR"):
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else (lambda row: any(p(row) for p in parts))

    def conjunction(self) -> Predicate:
        parts = [self.negation()]
        while self.keyword("AND"):
            parts.append(self.negation())
        return parts[0] if len(parts) == 1 else (lambda row: all(p(row) for p in parts))

    def negation(self) -> Predicate:
        if self.keyword("NOT"):
            inner = self.negation()
            return lambda row: not inner(row)
        if self.peek() == ("paren", "("):
            self.take()
            inner = self.disjunction()
            if self.take() != ("paren", ")"):
                raise ValueError("missing )")
            return inner
        return self.comparison()

    def operand(self) -> Callable[[Row], Any]:
        kind, text = self.take()
        if kind == "word":
            return lambda row: row.get(text)
        value = _literal(kind, text)
        return lambda row: value

    def comparison(self) -> Predicate:
        left = self.operand()
        if self.keyword("IS"):
            negated = self.keyword("NOT")
            if not self.keyword("NULL"):
                raise ValueError("expected NULL")
            return lambda row: (left(row) is None) != negated
        kind, op = self.take()
        if kind != "op":
            raise ValueError(f"expected an operator, got {op!r}")
        right = self.operand()
        return lambda row: _compare(left(row), op, right(row))


def where_predicate(text: str | None) -> Predicate:
    """A function telling whether a row (attributes by field name) matches ``text``.

    >>> where_predicate("OBJECTID > 1 AND amount IS NOT NULL")({"OBJECTID": 2, "amount": 3.0})
    True
    """
    return _Parser(text or "1=1").parse()
