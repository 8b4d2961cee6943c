"""SoQL ``select``/``where``/``order`` as the DataStore can run them.

``datastore_search`` filters by equality only (``filters``), picks columns (``fields``) and sorts
(``sort``). So a ``where`` that is a conjunction of ``field = literal`` becomes ``filters``; any
other comparison (``<``, ``>=``, ``!=``, ``IN``, ``IS NULL``, ``OR``, ``NOT``, ``BETWEEN``) needs
``datastore_search_sql``, which many sites switch off: :func:`plan_where` translates it to
PostgreSQL with every name double-quoted and every literal single-quoted, and the connector
says clearly when the site refuses it. Functions and anything else are refused here with a
:class:`~btvstat_open.errors.UsageError`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from btvstat_open.errors import UsageError

__all__ = ["WherePlan", "parse_order", "parse_select", "plan_where", "quote_name"]

_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)"
    r"|(?P<name>`[^`]+`|[A-Za-z_:][A-Za-z0-9_]*)|(?P<op><=|>=|!=|<>|=|<|>|\(|\)|,))"
)
_KEYWORDS = {"and", "or", "not", "is", "null", "in", "between", "true", "false"}
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _usage(what: str, clause: str) -> UsageError:
    return UsageError(
        f"CKAN cannot run the where clause {clause!r}: {what}. Write comparisons of a field with a "
        "literal (=, !=, <, <=, >, >=, IN, IS NULL, BETWEEN) joined by AND/OR, or pull and filter after.",
        code="ckan.where",
    )


def quote_name(name: str) -> str:
    """A PostgreSQL identifier, double-quoted (a ``"`` inside is doubled).

    Example:
        >>> quote_name('case_id'), quote_name('odd"name')
        ('"case_id"', '"odd""name"')
    """
    return '"' + name.replace('"', '""') + '"'


def _tokens(clause: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(clause.rstrip()):
        match = _TOKEN.match(clause, pos)
        if not match:
            raise _usage(f"cannot read {clause[pos:].strip()[:20]!r}", clause)
        kind = match.lastgroup or ""
        text = match.group(kind)
        if kind == "name" and text.lower() in _KEYWORDS:
            kind, text = "kw", text.lower()
        out.append((kind, text))
        pos = match.end()
    return out


@dataclass
class WherePlan:
    """How a ``where`` runs: ``filters`` for ``datastore_search``, or ``sql`` for ``datastore_search_sql``."""

    filters: dict[str, Any] = field(default_factory=dict)
    sql: str | None = None


def _literal(kind: str, text: str) -> Any:
    if kind == "str":
        return text[1:-1].replace("''", "'")
    if kind == "num":
        return float(text) if any(c in text for c in ".eE") else int(text)
    return text == "true"


def _sql_literal(kind: str, text: str) -> str:
    if kind == "str":
        return "'" + text[1:-1].replace("''", "'").replace("'", "''") + "'"
    return text.upper() if kind == "kw" else text


def plan_where(clause: str | None) -> WherePlan:
    """The DataStore's way to run a SoQL ``where`` (see the module docstring).

    Example:
        >>> plan_where("ward = 'w01' AND amount = 5").filters
        {'ward': 'w01', 'amount': 5}
        >>> plan_where("amount > 100 OR closed IS NULL").sql
        '"amount" > 100 OR "closed" IS NULL'
        >>> plan_where("upper(ward) = 'W01'")
        Traceback (most recent call last):
        btvstat_open.errors.UsageError: CKAN cannot run the where clause "upper(ward) = 'W01'": ...
    """
    if not clause or not clause.strip():
        return WherePlan()
    tokens = _tokens(clause)
    filters: dict[str, Any] = {}
    parts = [tokens[i : i + 3] for i in range(0, len(tokens), 4)]
    joins = [tokens[i] for i in range(3, len(tokens), 4)]
    simple = all(j == ("kw", "and") for j in joins) and all(
        len(p) == 3 and p[0][0] == "name" and p[1] == ("op", "=") and p[2][0] in ("str", "num", "kw")
        for p in parts
    )
    if simple and all(p[2][0] != "kw" or p[2][1] in ("true", "false") for p in parts):
        for name, _, value in parts:
            filters[name[1].strip("`")] = _literal(*value)
        return WherePlan(filters=filters)
    return WherePlan(sql=_to_sql(tokens, clause))


def _to_sql(tokens: list[tuple[str, str]], clause: str) -> str:
    out: list[str] = []
    depth = 0
    for i, (kind, text) in enumerate(tokens):
        after = tokens[i + 1] if i + 1 < len(tokens) else ("", "")
        if kind == "name":
            if after == ("op", "("):
                raise _usage(f"functions such as {text}() are not available", clause)
            out.append(quote_name(text.strip("`")))
        elif kind in ("str", "num"):
            out.append(_sql_literal(kind, text))
        elif kind == "kw":
            out.append(text.upper())
        else:
            depth += {"(": 1, ")": -1}.get(text, 0)
            if depth < 0:
                raise _usage("a parenthesis closes that was never opened", clause)
            out.append(text)
    if depth:
        raise _usage("a parenthesis is never closed", clause)
    return " ".join(out).replace("( ", "(").replace(" )", ")").replace(" ,", ",")


def parse_select(select: str | None) -> list[str] | None:
    """Field names of a ``select`` of plain names (expressions and aliases are refused).

    Example:
        >>> parse_select("case_id, amount")
        ['case_id', 'amount']
    """
    if not select or not select.strip() or select.strip() == "*":
        return None
    names = [s.strip().strip("`") for s in select.split(",")]
    bad = [n for n in names if not _NAME.match(n)]
    if bad:
        raise UsageError(
            f"CKAN can select only plain field names, not {bad[0]!r}. List field names separated by commas.",
            code="ckan.select",
        )
    return names


def parse_order(order: str | None) -> list[tuple[str, bool]]:
    """``(field, descending)`` pairs of an ``order`` such as ``"ward, amount DESC"``.

    Example:
        >>> parse_order("ward, amount DESC")
        [('ward', False), ('amount', True)]
    """
    out: list[tuple[str, bool]] = []
    for part in (order or "").split(","):
        words = part.split()
        if not words:
            continue
        name = words[0].strip("`")
        direction = words[1].lower() if len(words) > 1 else "asc"
        if len(words) > 2 or direction not in ("asc", "desc") or not _NAME.match(name):
            raise UsageError(
                f"CKAN can order only by field names with ASC or DESC, not {part.strip()!r}.",
                code="ckan.order",
            )
        out.append((name, direction == "desc"))
    return out
