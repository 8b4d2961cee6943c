"""Pages of a layer query, in a stable order, whatever the server gets wrong.

Two ways to page, both ordered by the object id:

* **offsets** (``resultOffset``/``resultRecordCount``), where the layer supports pagination
  and a probe confirmed it (servers advertise ``supportsPagination`` and then fail the query,
  or ignore ``resultOffset`` and send the first page again);
* **object-id ranges** (``OID > a AND OID <= b``), everywhere else (batches of object ids when
  an offset pull meets a page it has seen before or out of id order, or the ids are too sparse:
  :mod:`connectors.arcgis.pages`, which also picks the way). A range of ``n`` ids holds at most
  ``n`` rows, so ranges no wider than the server's limit come back whole; a range that comes
  back cut (``exceededTransferLimit``, or, on old servers that never send the flag, fewer rows
  than its count) is asked again in ranges as wide as what the server gave.

A short page does not end an offset pull by itself: servers cap pages below what they
advertise without saying so. A pull ends on an empty page, on ``exceededTransferLimit: false``,
or on a short page once the count (taken first) is reached.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

from btvstat_open.errors import PortalError, PortalResponseError, PortalUnavailable
from connectors.arcgis.decode import oid_of

__all__ = [
    "Fetch",
    "PagesRepeat",
    "exceeded",
    "id_bounds",
    "offset_pages",
    "oids_of",
    "probe_pagination",
    "range_pages",
    "statistic",
    "statistic_value",
]

#: GET a ``/query`` answer for these parameters.
Fetch = Callable[[dict[str, str | int]], dict[str, Any]]


class PagesRepeat(Exception):
    """An offset page held rows of the page before it (the server ignores ``resultOffset``), or came
    out of id order (it ignores ``orderByFields``)."""

    def __init__(self, last_oid: int | None, *, unordered: bool = False) -> None:
        super().__init__("resultOffset ignored")
        self.last_oid = last_oid
        #: The first page already came out of id order: nothing was yielded.
        self.unordered = unordered


def exceeded(body: dict[str, Any]) -> bool | None:
    """``exceededTransferLimit`` wherever the server put it, or None when it did not say.

    Example:
        >>> exceeded({"features": [], "exceededTransferLimit": True}), exceeded({"features": []})
        (True, None)
        >>> exceeded({"properties": {"exceededTransferLimit": False}})
        False
    """
    for holder in (body, body.get("properties") or {}):
        if isinstance(holder, dict) and "exceededTransferLimit" in holder:
            return bool(holder["exceededTransferLimit"])
    return None


def _oid_list(features: list[dict[str, Any]], oid_field: str) -> list[int]:
    return [i for f in features if (i := oid_of((f.get("attributes") or {}).get(oid_field))) is not None]


def oids_of(features: list[dict[str, Any]], oid_field: str) -> set[int]:
    """The object ids of some features (those that have one).

    Example:
        >>> oids_of([{"attributes": {"OID": 3}}, {"attributes": {}}], "OID")
        {3}
    """
    return set(_oid_list(features, oid_field))


def offset_pages(
    fetch: Fetch,
    params: dict[str, str | int],
    *,
    page_size: int,
    count: int,
    oid_field: str | None,
    by_oid: bool = True,
) -> Iterator[list[dict[str, Any]]]:
    """Pages by ``resultOffset``; raises :class:`PagesRepeat` when a page holds rows seen before.

    Ordered by object id (``by_oid``), every page must be in id order and start at or after the
    last id seen; in another order, a page must not share rows with the page before or the first
    page (a server that stops honouring the offset starts again from the top). Rows may share an
    id: the rows of a page's last id are held back until the next page has passed, so the
    :class:`PagesRepeat` raised (its ``last_oid``: every id above it is still to read) never
    leaves an id half read.
    """
    offset, first, previous = 0, set[int](), set[int]()
    last_oid: int | None = None
    held: list[dict[str, Any]] = []
    while True:
        body = fetch({**params, "resultOffset": offset, "resultRecordCount": page_size})
        features = body.get("features") or []
        if not features:
            break
        in_order = _oid_list(features, oid_field) if oid_field else []
        ids = set(in_order)
        if bool(ids) and (
            _out_of_order(in_order, ids, last_oid, previous) if by_oid else bool(ids & (previous | first))
        ):
            unordered = by_oid and last_oid is None and in_order != sorted(in_order)
            after = last_oid - 1 if by_oid and held and last_oid is not None else last_oid
            raise PagesRepeat(after, unordered=unordered)
        offset += len(features)
        previous, first = ids, first or ids
        flag = exceeded(body)
        done = flag is False or (flag is None and len(features) < page_size and offset >= count)
        out, held = held, []
        if by_oid and ids and not done:
            last_oid = max(ids)
            tail = [oid_of((f.get("attributes") or {}).get(oid_field)) == last_oid for f in features]
            held = [f for f, t in zip(features, tail, strict=True) if t]
            features = [f for f, t in zip(features, tail, strict=True) if not t]
        out += features
        if out:
            yield out
        if done:
            return
    if held:
        yield held


def _out_of_order(in_order: list[int], ids: set[int], last_oid: int | None, previous: set[int]) -> bool:
    """Whether an id-ordered page is out of order, or starts before the last id seen (or is the
    page before again): the server ignores ``orderByFields`` or ``resultOffset``.

    Example:
        >>> _out_of_order([5, 5, 6], {5, 6}, 5, {4, 5}), _out_of_order([3, 1], {1, 3}, None, set())
        (False, True)
    """
    if in_order != sorted(in_order) or last_oid is None:
        return in_order != sorted(in_order)
    return min(ids) < last_oid or (min(ids) == last_oid and ids == previous)


def _where(where: str, oid_field: str, low: int, high: int) -> str:
    return f"({where}) AND {oid_field} > {low} AND {oid_field} <= {high}"


def range_pages(
    fetch: Fetch,
    params: dict[str, str | int],
    *,
    oid_field: str,
    bounds: tuple[int, int] | None,
    step: int,
    count_of: Callable[[str], int],
) -> Iterator[list[dict[str, Any]]]:
    """Pages by object-id ranges ``(a, b]`` from ``bounds`` (least, greatest id), ``step`` wide."""
    if bounds is None:
        return
    where = str(params.get("where") or "1=1")
    pending = [(bounds[0] - 1, bounds[1])]  # ranges still to read, the next one last
    while pending:
        low, top = pending.pop()
        high = min(top, low + step)
        if high < top:
            pending.append((high, top))
        body = fetch({**params, "where": _where(where, oid_field, low, high)})
        features = body.get("features") or []
        flag = exceeded(body)
        # A range of n ids holds at most n rows: one that came back with n is whole, flag or not.
        short = len(features) < high - low
        cut = short and (
            flag is True
            or (
                flag is None
                and bool(features)
                and count_of(_where(where, oid_field, low, high)) > len(features)
            )
        )
        if cut and not features:
            raise PortalResponseError(
                f"The server answered the object-id range {low} < id <= {high} with no rows and "
                "exceededTransferLimit: it makes no progress, so paging would never end. Ask the layer's "
                "owner to check the service, or pull with a narrower where clause.",
                code="arcgis.paging",
            )
        if cut:
            step = max(1, min(len(features), (high - low) // 2 or 1))
            pending.append((low, high))
            continue
        if features:
            yield features


def id_bounds(fetch: Fetch, where: str, oid_field: str) -> tuple[int, int] | None:
    """The least and greatest object id matching ``where`` (None when nothing matches).

    Asks ``outStatistics`` first; a server that fails it (an error body, though it advertises
    statistics) or ignores the output names is read anyway or answered by ``returnIdsOnly``.
    """
    stats = [
        {"statisticType": "min", "onStatisticField": oid_field, "outStatisticFieldName": "THE_MIN"},
        {"statisticType": "max", "onStatisticField": oid_field, "outStatisticFieldName": "THE_MAX"},
    ]
    try:
        body = fetch({"where": where, "outStatistics": json.dumps(stats)})
        attrs = ((body.get("features") or [{}])[0]).get("attributes") or {}
        low, high = statistic(attrs, "THE_MIN", "min"), statistic(attrs, "THE_MAX", "max")
        if low is None or high is None:
            return None
        return int(low), int(high)
    except PortalError as exc:
        if isinstance(exc, PortalUnavailable):
            raise
    body = fetch({"where": where, "returnIdsOnly": "true"})
    ids = [i for v in body.get("objectIds") or [] if (i := oid_of(v)) is not None]
    return (min(ids), max(ids)) if ids else None


def statistic_value(attributes: dict[str, Any], name: str, kind: str) -> Any:
    """A statistic's raw value by its output name, also from servers that ignore the name.

    Example:
        >>> statistic_value({"MAX(SHAPE.fid) AS THE_MAX": 167612}, "THE_MAX", "max")
        167612
    """
    for key, value in attributes.items():
        upper = key.upper()
        if (
            upper == name.upper()
            or upper.endswith(f" AS {name.upper()}")
            or upper.startswith(f"{kind.upper()}(")
        ):
            return value
    return None


def statistic(attributes: dict[str, Any], name: str, kind: str) -> float | None:
    """A statistic's value as a number (see :func:`statistic_value`).

    Example:
        >>> statistic({"MAX(SHAPE.fid) AS THE_MAX": 167612}, "THE_MAX", "max")
        167612.0
    """
    value = statistic_value(attributes, name, kind)
    return None if value is None else float(value)


def probe_pagination(fetch: Fetch, oid_field: str) -> bool:
    """Whether ``resultOffset`` really works: offsets 0 and 1 must give two different rows."""
    base: dict[str, str | int] = {
        "where": "1=1",
        "outFields": oid_field,
        "returnGeometry": "false",
        "orderByFields": f"{oid_field} ASC",
        "resultRecordCount": 1,
    }
    try:
        first = fetch({**base, "resultOffset": 0}).get("features") or []
        second = fetch({**base, "resultOffset": 1}).get("features") or []
    except PortalError as exc:
        if isinstance(exc, PortalUnavailable):
            raise
        return False
    ids = oids_of(first, oid_field), oids_of(second, oid_field)
    if not ids[0] or not ids[1]:
        # Fewer than two rows (any way of paging reads them), or ids left out: a repeat met
        # while paging still switches to ranges.
        return True
    return ids[0] != ids[1]
