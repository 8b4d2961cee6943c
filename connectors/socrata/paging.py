"""Each page's query: SoQL literals, and the ``$select``/``$where``/``$order`` of a pull.

Pages are ``$limit``/``$offset`` windows over a query ordered by a unique key (``:id``
after any order the user gives), so no row is skipped or repeated between pages; the
pager that fetches them is :class:`connectors.paging.OffsetPager`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

from btvstat_open.errors import UsageError
from btvstat_open.instants import parse_instant
from btvstat_open.soql.lexer import soql_literal

__all__ = ["Query", "soql_field", "timestamp_literal"]

_AGGREGATE = re.compile(
    r"\b(count|sum|avg|min|max|stddev_pop|stddev_samp|median|percentile\w*)\s*\(", re.IGNORECASE
)


def soql_field(name: str) -> str:
    """A field name for a SoQL select list, backquoted unless it is a plain identifier.

    Example:
        >>> soql_field("days_to_close"), soql_field(":id"), soql_field("2020 total")
        ('days_to_close', ':id', '`2020 total`')
    """
    if re.match(r"^:?[a-z_][a-z0-9_]*$", name):
        return name
    return "`" + name.replace("`", "") + "`"


def timestamp_literal(value: str | date | datetime) -> str:
    """A moment as the SoQL literal compared with ``:updated_at`` (UTC, milliseconds, ``Z``).

    A date or a text without a zone is taken as UTC.

    Example:
        >>> timestamp_literal("2024-01-01")
        "'2024-01-01T00:00:00.000Z'"
    """
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    else:
        parsed = parse_instant(value)
        if parsed is None:
            raise UsageError(
                f"Cannot read the time {value!r}; give an ISO 8601 date or timestamp such as "
                "2024-01-31 or 2024-01-31T08:00:00Z."
            )
        moment = parsed
    moment = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    return soql_literal(moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z")


@dataclass(frozen=True)
class Query:
    """What to pull: SoQL ``select``, ``where``, ``order``, ``group`` and rows updated ``since`` a moment."""

    select: str | None = None
    where: str | None = None
    order: str | None = None
    since: str | date | datetime | None = None
    group: str | None = None

    @property
    def is_full(self) -> bool:
        """Whether this asks for every row and column (an export can answer it)."""
        return not (self.select or self.where or self.order or self.since or self.group)

    @property
    def aggregated(self) -> bool:
        """Whether this gives one row per group (``group``, or an aggregate in ``select``).

        Example:
            >>> Query(select="count(*)").aggregated, Query(select="status").aggregated
            (True, False)
        """
        return bool(self.group or (self.select and _AGGREGATE.search(self.select)))

    def where_clause(self) -> str | None:
        """The ``$where`` text, ``since`` included."""
        parts = []
        if self.where:
            parts.append(f"({self.where})")
        if self.since is not None:
            parts.append(f":updated_at >= {timestamp_literal(self.since)}")
        return " AND ".join(parts) or None

    def order_clause(self, key: str = ":id") -> str | None:
        """The ``$order`` text: the user's order, then ``key`` to make it total.

        Aggregating selects (one row per group) get no key, since ``:id`` is not grouped.
        """
        if self.aggregated:
            return self.order
        if not self.order:
            return key
        mentioned = {p.strip().split()[0] for p in self.order.split(",") if p.strip()}
        return self.order if key in mentioned else f"{self.order}, {key}"

    def soda2_params(self, limit: int, offset: int, key: str = ":id") -> dict[str, str | int]:
        """``$select``/``$where``/``$order``/``$limit``/``$offset`` for one SODA 2.1 page."""
        params: dict[str, str | int] = {"$limit": limit, "$offset": offset}
        if self.select:
            params["$select"] = self.select
        where = self.where_clause()
        if where:
            params["$where"] = where
        if self.group:
            params["$group"] = self.group
        order = self.order_clause(key)
        if order:
            params["$order"] = order
        return params

    def soql(self, key: str = ":id") -> str:
        """The whole query as one SoQL statement, for SODA 3's ``query`` field."""
        text = f"SELECT {self.select or '*'}"
        where = self.where_clause()
        if where:
            text += f" WHERE {where}"
        if self.group:
            text += f" GROUP BY {self.group}"
        order = self.order_clause(key)
        if order:
            text += f" ORDER BY {order}"
        return text
