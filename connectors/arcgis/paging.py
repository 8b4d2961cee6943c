"""Pages of a layer query, in a stable order, whatever the server gets wrong.

Two ways to page, both ordered by the object id:

* **offsets** (``resultOffset``/``resultRecordCount``), where the layer supports pagination
  and a probe confirmed it (servers advertise ``supportsPagination`` and then fail the query,
  or ignore ``resultOffset`` and send the first page again);
* **object-id ranges** (``OID > a AND OID <= b``), everywhere else, and when an offset pull meets
  a page it has seen before. A range of ``n`` ids holds at most ``n`` rows, so ranges no wider
  than the server's limit come back whole; a range that comes back cut (``exceededTransferLimit``,
  or, on old servers that never send the flag, fewer rows than its count) is asked again in
  ranges as wide as what the server gave.

A short page does not end an offset pull by itself: servers cap pages below what they
advertise without saying so. A pull ends on an empty page, on ``exceededTransferLimit: false``,
or on a short page once the count (taken first) is reached.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

from btvstat_open.errors import PortalError, PortalRequestError, PortalUnavailable
from connectors.arcgis.decode import oid_of

__all__ = [
    "Fetch",
    "PagesRepeat",
    "exceeded",
    "id_bounds",
    "id_pages",
    "layer_pages",
    "object_ids",
    "offset_pages",
    "probe_pagination",
    "range_pages",
    "statistic",
    "statistic_value",
    "unordered_pages",
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


def _oids(features: list[dict[str, Any]], oid_field: str) -> set[int]:
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
        if cut:
            step = max(1, min(len(features), (high - low) // 2 or 1))
            pending.append((low, high))
            continue
        if features:
            yield features


def unordered_pages(
    fetch: Fetch,
    fetch_ids: Fetch,
    params: dict[str, str | int],
    *,
    oid_field: str,
    page_size: int,
) -> Iterator[list[dict[str, Any]]]:
    """Pages by ``resultOffset`` from a server that ignores ``orderByFields``, checked against its ids.

    The object ids (``returnIdsOnly``, repeats kept: rows may share an id) say which rows are
    to come; a page's rows are kept while their id is still owed, so a row the offsets bring
    twice is dropped. Offsets stop at the end, or at a page with nothing owed (the server
    repeats itself); the ids still owed then are read by batches of ids (:func:`id_pages`).
    Offsets cost one scan each on such servers, where long ``objectIds`` lists cost many.

    Example:
        >>> rows = [{"attributes": {"OID": i}} for i in (5, 2, 2, 9)]
        >>> def fetch(p):
        ...     if p.get("returnIdsOnly"):
        ...         return {"objectIds": [5, 2, 2, 9]}
        ...     start = int(p["resultOffset"])
        ...     return {"features": rows[start : start + 2] or rows[:2]}  # past the end: page 1 again
        >>> [len(p) for p in unordered_pages(fetch, fetch, {"where": "1=1"}, oid_field="OID", page_size=2)]
        [2, 2]
    """
    body = fetch({"where": str(params["where"]), "returnIdsOnly": "true"})
    owed = Counter(i for v in body.get("objectIds") or [] if (i := oid_of(v)) is not None)
    left, offset = owed.total(), 0
    while left > 0:
        body = fetch({**params, "resultOffset": offset, "resultRecordCount": page_size})
        features = body.get("features") or []
        offset += len(features)
        keep = _owed(features, owed, oid_field)
        left -= len(keep)
        if keep:
            yield keep
        if not keep or exceeded(body) is False or len(features) < page_size:
            break
    rest = sorted(i for i, n in owed.items() if n > 0)
    for page in id_pages(fetch_ids, params, oid_field=oid_field, ids=rest, step=page_size):
        keep = _owed(page, owed, oid_field)
        if keep:
            yield keep


def _owed(features: list[dict[str, Any]], owed: Counter[int], oid_field: str) -> list[dict[str, Any]]:
    """The features whose id is still owed (each taken off the count)."""
    keep = []
    for feature in features:
        oid = oid_of((feature.get("attributes") or {}).get(oid_field))
        if oid is not None and owed[oid] > 0:
            owed[oid] -= 1
            keep.append(feature)
    return keep


def object_ids(fetch: Fetch, where: str, after: int | None = None) -> list[int]:
    """Every distinct object id matching ``where`` (above ``after``), ascending, by ``returnIdsOnly``.

    Example:
        >>> object_ids(lambda p: {"objectIds": [9, 3, 3, 7.0]}, "1=1", after=3)
        [7, 9]
    """
    body = fetch({"where": where, "returnIdsOnly": "true"})
    ids = {i for v in body.get("objectIds") or [] if (i := oid_of(v)) is not None}
    return sorted(i for i in ids if after is None or i > after)


def id_pages(
    fetch: Fetch, params: dict[str, str | int], *, oid_field: str, ids: list[int], step: int
) -> Iterator[list[dict[str, Any]]]:
    """Pages of the rows with these object ids, ``step`` ids a request (``objectIds``).

    Every row of an id comes, also where several rows share one (servers whose ids are hashes
    give identical rows one id). An answer cut by the server (``exceededTransferLimit``) is asked
    again in halves; ids an answer left out (a page capped without the flag) are asked again,
    and an id that alone brings nothing was deleted meanwhile.

    Example:
        >>> rows = {1: [{"attributes": {"OID": 1}}], 2: [{"attributes": {"OID": 2}}] * 2}
        >>> def fetch(p):
        ...     return {"features": [f for i in str(p["objectIds"]).split(",") for f in rows.get(int(i), [])]}
        >>> [len(p) for p in id_pages(fetch, {}, oid_field="OID", ids=[1, 2, 3], step=2)]
        [3]
    """
    pending = [ids[i : i + step] for i in range(0, len(ids), step)][::-1]
    while pending:
        batch = pending.pop()
        body = fetch({**params, "objectIds": ",".join(str(i) for i in batch)})
        features = body.get("features") or []
        if exceeded(body) and len(batch) > 1:
            half = len(batch) // 2
            pending += [batch[half:], batch[:half]]
            continue
        if features:
            yield features
        if len(batch) > 1 and features:
            missing = sorted(set(batch) - _oids(features, oid_field))
            width = max(1, len(features) // 2)
            pending += [missing[i : i + width] for i in range(0, len(missing), width)][::-1]


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
    ids = _oids(first, oid_field), _oids(second, oid_field)
    if not ids[0] or not ids[1]:
        # Fewer than two rows (any way of paging reads them), or ids left out: a repeat met
        # while paging still switches to ranges.
        return True
    return ids[0] != ids[1]


def layer_pages(
    fetch: Fetch,
    count_of: Callable[[str], int],
    oid: str | None,
    params: dict[str, str | int],
    *,
    order_by: str | None,
    offsets: bool,
    step: int,
    on_repeat: Callable[[], None],
    count: int | None = None,
    fetch_ids: Fetch | None = None,
) -> Iterator[list[dict[str, Any]]]:
    """Every page of a query: by offsets when ``offsets`` (falling back to batches of object ids
    when pages repeat or come out of id order; ``on_repeat`` is told), else by object-id ranges
    (by batches of ids where the ids are spread too thin for ranges); one answer for a layer
    without ids. ``count`` is the rows ``params["where"]`` matches, when the caller has it;
    ``fetch_ids`` sends the long ``objectIds`` lists (a POST), default ``fetch``.
    """
    where = str(params["where"])
    if oid is None:  # no object id to page by: one request, which must hold every row
        body = fetch(params)
        if exceeded(body):
            raise PortalRequestError(
                "The layer has no object id field to page by and more rows than one answer holds "
                f"({len(body.get('features') or [])}); narrow the pull with a where clause.",
                code="arcgis.paging",
            )
        yield body.get("features") or []
        return
    by_ids = fetch_ids or fetch
    if offsets:
        by_oid = not order_by or order_by.startswith(f"{oid} ")
        try:
            yield from offset_pages(
                fetch,
                {**params, "orderByFields": order_by or f"{oid} ASC"},
                page_size=step,
                count=count_of(where) if count is None else count,
                oid_field=oid,
                by_oid=by_oid,
            )
            return
        except PagesRepeat as exc:
            on_repeat()
            if not by_oid:
                raise PortalRequestError(
                    "The server ignored resultOffset part-way through an ordered pull; pull again "
                    "(the connector now pages this layer by object ids).",
                    code="arcgis.paging",
                ) from exc
            if exc.unordered:
                yield from unordered_pages(fetch, by_ids, params, oid_field=oid, page_size=step)
                return
            ids = object_ids(fetch, where, exc.last_oid)
            yield from id_pages(by_ids, params, oid_field=oid, ids=ids, step=step)
            return
    bounds = id_bounds(fetch, where, oid)
    span = 0 if bounds is None else bounds[1] - bounds[0] + 1
    if span > step and span > 4 * (count_of(where) if count is None else count) + step:
        # Sparse ids (hashes, or a few rows left of many): ranges would be mostly empty requests.
        ids = object_ids(fetch, where)
        yield from id_pages(by_ids, params, oid_field=oid, ids=ids, step=step)
        return
    yield from range_pages(
        fetch, {**params, "where": where}, oid_field=oid, bounds=bounds, step=step, count_of=count_of
    )
