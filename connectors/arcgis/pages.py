"""Which way a layer query is paged, and the pages keyed by object ids.

:func:`layer_pages` picks the way (see :mod:`connectors.arcgis.paging` for offsets and ranges):
offsets where they work, batches of object ids where the server ignores the order or the ids
are too sparse for ranges, ranges elsewhere. :func:`unordered_pages` pages by offsets a server
that ignores ``orderByFields`` and checks every row against the id list; :func:`id_pages` reads
rows by batches of ids (``objectIds``), keeping every row of an id that several rows share.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

from btvstat_open.errors import PortalRequestError, PortalResponseError
from connectors.arcgis.decode import oid_of
from connectors.arcgis.paging import (
    Fetch,
    PagesRepeat,
    exceeded,
    id_bounds,
    offset_pages,
    oids_of,
    range_pages,
)

__all__ = ["id_pages", "layer_pages", "object_ids", "unordered_pages"]


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
            missing = sorted(set(batch) - oids_of(features, oid_field))
            width = max(1, len(features) // 2)
            pending += [missing[i : i + width] for i in range(0, len(missing), width)][::-1]


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
    if step < 1:
        raise PortalResponseError(
            f"The layer says it answers at most {step} rows per request (maxRecordCount): no page "
            "size can make progress. Ask the layer's owner to fix the service's maxRecordCount.",
            code="arcgis.paging",
        )
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
