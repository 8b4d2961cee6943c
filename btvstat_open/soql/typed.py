"""Typed SQL fragments and the coercion of text literals to column types.

Every compiled expression is a :class:`Sql`: DuckDB SQL text whose values are all
``?`` placeholders (``params`` in placeholder order), with its Socrata type. User
text never appears in ``sql``; identifiers in it are quoted after they were
resolved against the dataset.

Example:
    >>> frag = literal_text("3.5").coerce_to("number")
    >>> (frag.sql, frag.params, frag.type)
    ('CAST(? AS DOUBLE)', [3.5], 'number')
"""

from __future__ import annotations

import math
import re
import string
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from btvstat_open.errors import SoqlError

__all__ = ["NULL_TYPE", "SQL_TYPE", "Sql", "literal_text", "mismatch", "template", "unify"]

# The type of a bare NULL: compatible with every other type.
NULL_TYPE: Final = "null"

SQL_TYPE: Final = {
    "text": "VARCHAR",
    "url": "VARCHAR",
    "number": "DOUBLE",
    "checkbox": "BOOLEAN",
    "floating_timestamp": "TIMESTAMP",
    "fixed_timestamp": "TIMESTAMPTZ",
    "point": "VARCHAR",
}
# Types that compare with each other as text.
TEXTUAL: Final = frozenset({"text", "url"})
_NUMBER: Final = re.compile(r"^\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*$")
_FORMATTER: Final = string.Formatter()


@dataclass(frozen=True)
class Sql:
    """A compiled expression.

    ``aggregate`` says it contains an aggregate call; ``literal`` holds the value of an
    un-coerced text literal (so comparisons can reinterpret it as a number or timestamp).
    """

    sql: str
    type: str
    params: list[Any] = field(default_factory=list)
    aggregate: bool = False
    literal: str | None = None

    def coerce_to(self, target: str) -> Sql:
        """This fragment as ``target``: reinterprets a text literal, else checks the type."""
        if self.type == target or self.type == NULL_TYPE or target == NULL_TYPE:
            return self
        if self.type in TEXTUAL and target in TEXTUAL:
            return self
        if self.literal is None:
            raise mismatch(f"a {self.type} value where {target} is needed")
        value = convert_text(self.literal, target)
        return Sql(f"CAST(? AS {SQL_TYPE[target]})", target, [value])


def literal_text(value: str) -> Sql:
    """A text literal, as a typed parameter."""
    return Sql("CAST(? AS VARCHAR)", "text", [value], literal=value)


def mismatch(detail: str) -> SoqlError:
    """A ``query.soql.type-mismatch`` error."""
    return SoqlError(
        f"Type mismatch: {detail}. Compare values of the same type: quote text ('...'), write numbers "
        "unquoted, timestamps as '2024-01-31T00:00:00', or convert with ::number / ::text.",
        code="query.soql.type-mismatch",
    )


def convert_text(text: str, target: str) -> Any:
    """A text literal read as a value of ``target`` type, as Socrata does in comparisons."""
    if target == "number":
        if _NUMBER.match(text):
            number = float(text)
            if math.isfinite(number):
                return number
        raise mismatch(f"{text!r} is not a number")
    if target == "checkbox":
        low = text.strip().lower()
        if low in ("true", "false"):
            return low == "true"
        raise mismatch(f"{text!r} is not a checkbox value (use true or false)")
    if target in ("floating_timestamp", "fixed_timestamp"):
        return convert_timestamp(text, target)
    raise mismatch(f"text {text!r} cannot be compared with a {target} value")


def convert_timestamp(text: str, target: str) -> datetime:
    """Parse an ISO 8601 timestamp literal for a floating (no zone) or fixed (UTC) column."""
    raw = text.strip()
    try:
        stamp = datetime.fromisoformat(raw)
    except ValueError:
        raise mismatch(
            f"{text!r} is not a timestamp; write it as ISO 8601, e.g. '2024-01-31' or '2024-01-31T08:30:00'"
        ) from None
    if target == "fixed_timestamp":
        try:
            return stamp.replace(tzinfo=UTC) if stamp.tzinfo is None else stamp.astimezone(UTC)
        except OverflowError:  # e.g. 0001-01-01T00:00:00+05:00 is before year 1 in UTC
            raise mismatch(f"{text!r} is outside the years 1 to 9999 once moved to UTC") from None
    if stamp.tzinfo is not None:
        raise mismatch(f"{text!r} has a time zone, but floating timestamps have none; leave the zone out")
    return stamp


def unify(items: list[Sql], what: str) -> tuple[str, list[Sql]]:
    """Bring values that must share a type (comparison sides, IN items, case results) to one type.

    The type is the first one that is not a bare NULL or a text literal; text literals are
    then read as that type. Returns ``(type, coerced items)``.
    """
    target = next((i.type for i in items if i.type != NULL_TYPE and i.literal is None), None)
    if target is None:
        target = "text" if any(i.type != NULL_TYPE for i in items) else NULL_TYPE
    out = []
    for item in items:
        try:
            out.append(item.coerce_to(target))
        except SoqlError:
            if item.literal is not None:
                raise  # the conversion error says what is wrong with the literal
            raise mismatch(f"{what} mixes {target} and {item.type} values") from None
    return target, out


def template(pattern: str, *args: Sql, type: str, aggregate: bool | None = None) -> Sql:
    """Fill ``{0}``, ``{1}``... in ``pattern`` with fragments, keeping params in placeholder order.

    A fragment used twice has its params repeated, so positional ``?`` stay aligned.

    Example:
        >>> x = Sql("?", "number", [2.0])
        >>> template("{0} * {0}", x, type="number").params
        [2.0, 2.0]
    """
    parts: list[str] = []
    params: list[Any] = []
    for text, name, _spec, _conv in _FORMATTER.parse(pattern):
        parts.append(text)
        if name is not None:
            arg = args[int(name)]
            parts.append(arg.sql)
            params.extend(arg.params)
    agg = any(a.aggregate for a in args) if aggregate is None else aggregate
    return Sql("".join(parts), type, params, agg)
