"""Socrata's Discovery API (``/api/catalog/v1``) over the store's datasets: filters, order, paging.

It works on the list :meth:`btvstat_open.store.Store.datasets` keeps up to date (one small query a
request); results are built only for the page asked for, so ``limit=10`` costs about the same at 10
or 1,000 datasets. The parameters and orders are Socrata's (its search service ``cetera``):

- ``q``: every word appears in the id (or 4x4), name, description or column names; ``ids`` (readable
  ids or 4x4s, comma-separated or repeated); ``only=datasets``; ``tags``: any of these domain
  tags (exact, any case);
  ``domains``: this server's domain (the ``domain`` setting, else the request's host) is one of them.
- ``order``: ``relevance`` (the default: with ``q``, the best match first; without, by id),
  ``name`` (A-Z), ``dataset_id``, ``createdAt``, ``updatedAt`` (newest first) and
  ``page_views_last_week|last_month|total`` (no views are counted here, so by id), each with an
  optional `` ASC`` or `` DESC``.

Example:
    >>> parse_order("updatedAt ASC")
    ('updatedAt', False)
    >>> parse_order("name")
    ('name', False)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from btvstat_open.errors import UsageError
from btvstat_open.store import DatasetInfo

__all__ = ["ORDERS", "DiscoveryQuery", "discover", "parse_order", "split_values"]

_Key = Callable[[DatasetInfo], Any]
# Each order: its sort key and whether it runs newest/highest first without ASC or DESC (as cetera).
ORDERS: Final[dict[str, tuple[_Key, bool]]] = {
    "relevance": (lambda info: 0, False),
    "name": (lambda info: (info.name.casefold(), info.id), False),
    "dataset_id": (lambda info: info.id, False),
    "createdAt": (lambda info: info.created_at, True),
    "updatedAt": (lambda info: max(info.rows_updated_at, info.view_last_modified), True),
    "page_views_last_week": (lambda info: 0, True),
    "page_views_last_month": (lambda info: 0, True),
    "page_views_total": (lambda info: 0, True),
}


def parse_order(text: str) -> tuple[str, bool]:
    """``"updatedAt DESC"`` -> ``("updatedAt", True)``; an unknown order is a 400.

    Example:
        >>> parse_order("name DESC")
        ('name', True)
    """
    words = text.split()
    name = words[0] if words else ""
    direction = words[1].upper() if len(words) == 2 else None
    if name not in ORDERS or len(words) > 2 or direction not in (None, "ASC", "DESC"):
        raise UsageError(
            f"Unknown order {text[:80]!r}. Order by one of {', '.join(ORDERS)}, optionally followed by "
            "ASC or DESC (e.g. order=updatedAt DESC).",
            code="catalog.bad-order",
            data={"order": text[:200], "orders": list(ORDERS)},
        )
    if direction is None:
        return name, ORDERS[name][1]
    return name, direction == "DESC"


def split_values(values: Iterable[str]) -> list[str]:
    """Values given repeated or comma-separated (``ids=a,b&ids=c``), blanks left out.

    Example:
        >>> split_values(["a,b", "c", ""])
        ['a', 'b', 'c']
    """
    return [v.strip() for value in values for v in value.split(",") if v.strip()]


@dataclass(frozen=True)
class DiscoveryQuery:
    """What a Discovery request asks for (already split into lists)."""

    q: str | None = None
    ids: Sequence[str] = ()
    tags: Sequence[str] = ()
    domains: Sequence[str] = ()
    only: Sequence[str] = ()
    order: str = "relevance"


def _haystack(info: DatasetInfo) -> str:
    parts = [info.id, info.four_by_four, info.name, info.description, *(c.name for c in info.columns)]
    return " ".join([*parts, *(c.field_name for c in info.columns)]).casefold()


def _score(info: DatasetInfo, words: list[str]) -> int:
    """How well a dataset matches ``q``: name hits weigh most, then the id, then the rest."""
    name, ident, description = info.name.casefold(), info.id.casefold(), info.description.casefold()
    return sum(3 * (w in name) + 2 * (w in ident) + (w in description) for w in words)


def _tags(info: DatasetInfo) -> set[str]:
    """The dataset's domain tags, case-folded."""
    return {t.casefold() for t in info.tags}


def _same_domain(ours: str, wanted: Sequence[str]) -> bool:
    ours = ours.casefold()
    host = ours.split(":")[0]
    return any(d.casefold() in (ours, host) for d in wanted)


def discover(infos: Sequence[DatasetInfo], query: DiscoveryQuery, *, domain: str) -> list[DatasetInfo]:
    """The datasets that match ``query``, in its order (``domain`` is this server's domain).

    Example:
        >>> infos = store.datasets()
        >>> [i.id for i in discover(infos, DiscoveryQuery(order="name DESC"), domain="x")]
        ['planting-sites', 'la-water-power-usage', 'la-library-monthly', 'la-operating-indicators',
        'kc-311-potholes', 'entries-sidewalk-repairs-entered', 'child-care-locations']
    """
    name, descending = parse_order(query.order)
    if query.only and not {o.rstrip("s") for o in query.only} & {"dataset"}:
        return []
    if query.domains and not _same_domain(domain, query.domains):
        return []
    wanted_ids = set(query.ids)
    wanted_tags = {t.casefold() for t in query.tags}
    words = query.q.casefold().split() if query.q else []
    found = [
        info
        for info in infos
        if (not wanted_ids or info.id in wanted_ids or info.four_by_four in wanted_ids)
        and (not wanted_tags or wanted_tags & _tags(info))
        and (not words or all(w in _haystack(info) for w in words))
    ]
    # Ties (and the orders no data here tells apart) keep the id order the store lists them in.
    if name == "relevance" and words:
        found.sort(key=lambda info: _score(info, words), reverse=True)
    elif name != "relevance":
        found.sort(key=ORDERS[name][0], reverse=descending)
    return found
