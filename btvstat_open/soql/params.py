"""The SoQL request parameters (``$select``, ``$where``, ...) of one read.

Example:
    >>> p = QueryParams.from_request([("$where", "n > 1"), ("type", "Pothole"), ("$$app_token", "x")])
    >>> (p.where, p.filters)
    ('n > 1', (('type', 'Pothole'),))
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from btvstat_open.errors import SoqlError

__all__ = ["SOQL_PARAMS", "QueryParams"]

# Every $-parameter a read understands, with the QueryParams field it fills.
SOQL_PARAMS: Final = {
    "$select": "select",
    "$where": "where",
    "$order": "order",
    "$group": "group",
    "$having": "having",
    "$limit": "limit",
    "$offset": "offset",
    "$q": "q",
    "$query": "query",
}


@dataclass(frozen=True)
class QueryParams:
    """The SoQL parts of a request; every field is the raw text the client sent."""

    select: str | None = None
    where: str | None = None
    order: str | None = None
    group: str | None = None
    having: str | None = None
    limit: str | None = None
    offset: str | None = None
    q: str | None = None
    query: str | None = None
    filters: tuple[tuple[str, str], ...] = ()
    #: ``$$exclude_system_fields=false``: ``*`` also brings ``:id``, ``:created_at``, ``:updated_at``
    system_fields: bool = False

    @classmethod
    def from_request(cls, params: Iterable[tuple[str, str]]) -> QueryParams:
        """Read raw query-string pairs.

        ``$``-prefixed keys are SoQL parameters (an unknown one, or one given twice, is a
        :class:`SoqlError`); ``$$``-prefixed keys are Socrata's request options
        (``$$app_token``, ``$$read_from_nbe``, ``$$version``, ``$$bom``...) and are ignored
        here, except ``$$exclude_system_fields=false``, which makes ``*`` include the system
        fields as on Socrata; every other key is a simple ``field=value`` filter. A SoQL
        parameter with an empty or blank value (``$where=``) is ignored, as Socrata ignores it:
        clients built on sodapy send empty strings for the clauses they do not use.

        Example:
            >>> QueryParams.from_request([("$limit", "5")]).limit
            '5'
            >>> QueryParams.from_request([("$$exclude_system_fields", "false")]).system_fields
            True
            >>> QueryParams.from_request([("$where", ""), ("$order", " "), ("$where", "n > 1")]).where
            'n > 1'
        """
        values: dict[str, str] = {}
        filters: list[tuple[str, str]] = []
        system_fields = False
        for key, value in params:
            if key.startswith("$$"):
                if key.lower() == "$$exclude_system_fields":
                    system_fields = value.strip().lower() == "false"
                continue
            if key.startswith("$"):
                name = SOQL_PARAMS.get(key.lower())
                if name is None:
                    known = ", ".join(SOQL_PARAMS)
                    raise SoqlError(
                        f"Unknown parameter {key!r}. SoQL parameters are: {known}; other keys are "
                        "field=value filters.",
                        code="query.soql.unknown-parameter",
                        data={"parameter": key},
                    )
                if not value.strip():
                    continue  # Socrata ignores an empty clause
                if name in values:
                    raise SoqlError(
                        f"Parameter {key!r} is given twice; give it once (combine conditions with AND).",
                        code="query.soql.duplicate-parameter",
                        data={"parameter": key},
                    )
                values[name] = value
            else:
                filters.append((key, value))
        return cls(**values, filters=tuple(filters), system_fields=system_fields)
