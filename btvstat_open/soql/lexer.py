"""Tokens of SoQL.

The lexer turns query text into tokens with their line and column, so every parse
error can say where it happened. Identifiers are ``[A-Za-z_][A-Za-z0-9_]*``,
system fields ``:id``, ``:created_at`` (and ``:@computed_region_...``), backquoted
names ``\\`my field\\``` (doubled backquote inside), text in single or double quotes
with the quote doubled inside (``'O''Brien'``).

Example:
    >>> [t.kind for t in tokenize("a >= 'x'")]
    ['IDENT', 'OP', 'STRING', 'EOF']
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from btvstat_open.errors import SoqlError

__all__ = ["MAX_QUERY_CHARS", "Token", "soql_literal", "tokenize"]

# A SoQL parameter longer than this is refused before any parsing work.
MAX_QUERY_CHARS: Final = 20_000

_TOKEN: Final = re.compile(
    r"""
    (?P<WS>\s+)
  | (?P<NUMBER>(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<STRING>'(?:[^']|'')*'|"(?:[^"]|"")*")
  | (?P<QUOTED>`(?:[^`]|``)*`)
  | (?P<SYSTEM>:\*|:@?[A-Za-z_][A-Za-z0-9_]*)
  | (?P<IDENT>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<OP><=|>=|<>|!=|\|\||::|[=<>+\-*/%(),])
    """,
    re.VERBOSE,
)


def soql_literal(text: str) -> str:
    """A SoQL text literal, quotes doubled (what the lexer reads back as that text).

    Example:
        >>> soql_literal("O'Hare")
        "'O''Hare'"
    """
    return "'" + text.replace("'", "''") + "'"


@dataclass(frozen=True)
class Token:
    """One token: ``kind`` (IDENT, SYSTEM, QUOTED, STRING, NUMBER, OP, EOF), its value and place."""

    kind: str
    value: str
    pos: int
    line: int
    column: int

    def describe(self) -> str:
        """How a message names this token."""
        if self.kind == "EOF":
            return "the end of the input"
        text = self.value if len(self.value) <= 40 else self.value[:37] + "..."
        return repr(text) if self.kind != "STRING" else "text " + repr(text)


def position(text: str, pos: int) -> tuple[int, int]:
    """1-based (line, column) of a character offset."""
    line = text.count("\n", 0, pos) + 1
    start = text.rfind("\n", 0, pos) + 1
    return line, pos - start + 1


def tokenize(text: str, clause: str = "$where") -> list[Token]:
    """Split ``text`` into tokens, ending with an ``EOF`` token.

    Raises :class:`SoqlError` (``query.soql.bad-parse``) for a character that starts no
    token, an unterminated text literal or backquoted name, or input over
    ``MAX_QUERY_CHARS`` characters.

    Example:
        >>> tokenize("`my field`")[0].value
        'my field'
    """
    if len(text) > MAX_QUERY_CHARS:
        raise SoqlError(
            f"{clause} is {len(text)} characters long; the limit is {MAX_QUERY_CHARS}. "
            "Shorten the query (e.g. split a long IN list into several requests).",
            code="query.soql.bad-parse",
        )
    tokens: list[Token] = []
    pos = 0
    end = len(text)
    while pos < end:
        match = _TOKEN.match(text, pos)
        if match is None:
            line, col = position(text, pos)
            char = text[pos]
            hint = {
                "'": "close the text literal with a matching ' (write '' for a quote inside)",
                '"': 'close the text literal with a matching "',
                "`": "close the field name with a matching `",
            }.get(char, "remove it, or quote text with '...' and field names with `...`")
            raise SoqlError(
                f"Could not parse {clause} at line {line}, column {col}: unexpected character "
                f"{char!r}; {hint}.",
                code="query.soql.bad-parse",
                data={"line": line, "column": col, "position": pos},
            )
        kind = match.lastgroup or ""
        raw = match.group()
        if kind != "WS":
            line, col = position(text, pos)
            value = raw
            if kind == "STRING":
                quote = raw[0]
                value = raw[1:-1].replace(quote * 2, quote)
            elif kind == "QUOTED":
                value = raw[1:-1].replace("``", "`")
            tokens.append(Token(kind, value, pos, line, col))
        pos = match.end()
    line, col = position(text, end)
    tokens.append(Token("EOF", "", end, line, col))
    return tokens
