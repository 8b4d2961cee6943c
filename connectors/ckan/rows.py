"""Rows of a CKAN resource: DataStore pages (``datastore_search`` or ``datastore_search_sql``) or a CSV file.

Both DataStore paths page by offset in a stable order (the caller's, then ``_id``) and stop on
``total`` or a short page: ``_links.next`` is there even past the end. A resource outside the
DataStore is downloaded whole and typed by the project's CSV inference.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from btvstat_open import read_file
from btvstat_open.errors import PortalAuthError, PortalRequestError, UsageError
from btvstat_open.types import Column
from connectors.ckan.api import CkanResource, action
from connectors.ckan.fields import CSV_TYPES, columns_from_fields, csv_records_to_batch, records_to_batch
from connectors.ckan.query import quote_name
from connectors.counts import checked
from connectors.http import HttpClient
from connectors.paging import OffsetPager, Page

__all__ = ["RowQuery", "file_batches", "file_table", "search_pages", "sql_pages"]

_SQL_REFUSED = (
    "this CKAN site does not run datastore_search_sql (sites often switch it off), and "
    "datastore_search filters by equality only"
)


@dataclass
class RowQuery:
    """A pull's query as the DataStore takes it (see :mod:`connectors.ckan.query`).

    ``sql`` is a translated ``where`` for ``datastore_search_sql``; ``raw`` the ``where`` as given.
    """

    select: list[str] | None = None
    order: list[tuple[str, bool]] = field(default_factory=list)
    filters: dict[str, Any] = field(default_factory=dict)
    sql: str | None = None
    raw: str | None = None
    q: str | None = None

    def sort(self) -> str:
        """The sort: the caller's order, then ``_id`` so pages are stable."""
        return ", ".join([*(f"{quote_name(n)} {'DESC' if d else 'ASC'}" for n, d in self.order), '"_id" ASC'])


def _pages(
    fetch: Callable[[int], dict[str, Any]],
    select: list[str] | None,
    pager: OffsetPager,
    recount: Callable[[], int | None],
    what: str,
    known_total: int | None = None,
) -> Iterator[pa.RecordBatch]:
    """Every page by ``fetch(offset)``, ``pager.concurrency`` at a time, until a short page or ``total``.

    ``known_total`` is the count when a request before the pages gave it (then pages need not).
    A page's ``records`` are objects, or one CSV text (``records_format=csv``).

    A site that caps pages below the ``limit`` asked (``ckan.datastore.search.rows_max``) says
    so in the answer's ``limit``: the pages that follow are that size. The rows must add up to
    page 0's ``total`` (or, where the answer has none, ``recount()``): see
    :func:`connectors.counts.checked`.
    """
    # page 0's total (or the known one): no request is made for a page past it
    total: list[int] = [] if known_total is None else [known_total]
    applied: list[int] = []  # page 0's limit as the site applied it
    active = [pager]

    def page(number: int) -> Page:
        offset = active[0].offset(number)
        if total and offset >= total[0]:
            return Page([], 0)
        result = fetch(offset)
        if number == 0:
            total.extend([int(result["total"])] if result.get("total") is not None and not total else [])
            applied.extend([int(result["limit"])] if str(result.get("limit") or "").isdigit() else [])
        records = result.get("records") or []
        columns = columns_from_fields(result.get("fields") or [])
        if select:  # in the order asked for
            by_name = {c.field_name: c for c in columns}
            columns = tuple(by_name.get(n) or Column(n, n, "text") for n in select)
        if isinstance(records, str):
            batch = csv_records_to_batch(records, result.get("fields") or [], columns)
            return Page([batch] if batch.num_rows or number == 0 else [], batch.num_rows)
        # Page 0 always gives a batch, so an empty result still has its typed columns.
        batches = [records_to_batch(records, columns)] if records or number == 0 else []
        return Page(batches, len(records))

    # Whole records (or records with their _id) are all different: equal pages mean ignored offsets.
    distinct = not select or "_id" in select

    def every_page() -> Iterator[pa.RecordBatch]:
        first = page(0)
        if applied and first.rows == applied[0] < pager.page_size:  # capped: page by the site's size
            active[0] = OffsetPager(page_size=applied[0], concurrency=pager.concurrency)
        yield from active[0].batches(page, first_page=first, distinct=distinct)

    return checked(
        every_page(), expected=lambda: total[0] if total else recount(), recount=recount, what=what
    )


def search_pages(
    http: HttpClient, resource: CkanResource, query: RowQuery, pager: OffsetPager
) -> Iterator[pa.RecordBatch]:
    """Pages of ``datastore_search`` (``filters``, ``fields``, ``sort``, ``q``).

    A first request with ``limit=0`` gives the fields and the count; where every field asked for
    reads back the same from CSV (:data:`~connectors.ckan.fields.CSV_TYPES`) and the site knows
    ``records_format`` (it echoes it), the pages are then asked as the site's own
    ``/datastore/dump`` asks them: ``records_format=csv`` (PostgreSQL
    writes the page; no JSON object per row) and ``include_total=false`` (no count per page).
    """
    params: dict[str, str | int] = {
        "resource_id": resource.id,
        "limit": pager.page_size,
        "sort": query.sort(),
    }
    if query.select:
        params["fields"] = ",".join(query.select)
    if query.filters:
        params["filters"] = orjson.dumps(query.filters).decode()
    if query.q:
        params["q"] = query.q

    def recount() -> int | None:
        total = action(http, "datastore_search", **{**params, "limit": 0}).get("total")
        return None if total is None else int(total)

    what = f"CKAN resource {resource.id}"
    head = action(http, "datastore_search", **{**params, "limit": 0})
    fields = head.get("fields") or []
    wanted = [f for f in fields if not query.select or f.get("id") in query.select]
    plain = all(str(f.get("type", "")).lower() in CSV_TYPES for f in wanted)
    # A site echoes the records_format it applied (CKAN 2.7+) and include_total (2.9+).
    if head.get("total") is None or head.get("records_format") != "objects" or not plain:
        return _pages(partial(_search, http, params), query.select, pager, recount, what)
    pages = {**params, "records_format": "csv"} | (
        {"include_total": "false"} if "include_total" in head else {}
    )
    return _pages(partial(_search, http, pages), query.select, pager, recount, what, int(head["total"]))


def _search(http: HttpClient, params: dict[str, str | int], offset: int) -> dict[str, Any]:
    result: dict[str, Any] = action(http, "datastore_search", **params, offset=offset)
    return result


def sql_pages(
    http: HttpClient, resource: CkanResource, query: RowQuery, pager: OffsetPager
) -> Iterator[pa.RecordBatch]:
    """Pages of ``datastore_search_sql``; a site that does not run it is a clear :class:`UsageError`."""
    names = ", ".join(quote_name(n) for n in query.select) if query.select else "*"

    def fetch(offset: int) -> dict[str, Any]:
        sql = (
            f"SELECT {names} FROM {quote_name(resource.id)} WHERE {query.sql} "
            f"ORDER BY {query.sort()} LIMIT {pager.page_size} OFFSET {offset}"
        )
        try:
            result: dict[str, Any] = action(http, "datastore_search_sql", sql=sql)
        except (PortalAuthError, PortalRequestError) as exc:
            # A site without SQL search does not know the action (400) or forbids it (403);
            # any other refusal (409: a bad field name) is the query's and says so itself.
            if exc.status not in (400, 403) and "not known" not in exc.message.lower():
                raise
            raise UsageError(
                f"CKAN cannot run the where clause {query.raw!r} here: {_SQL_REFUSED}. Use field = "
                "value joined by AND, or pull and filter after.",
                code="ckan.where",
            ) from exc
        return result

    def recount() -> int | None:
        sql = f"SELECT count(*) AS n FROM {quote_name(resource.id)} WHERE {query.sql}"
        records = action(http, "datastore_search_sql", sql=sql).get("records") or [{}]
        found = records[0].get("n")
        return None if found is None else int(found)

    return _pages(fetch, query.select, pager, recount, f"CKAN resource {resource.id}")


def file_table(http: HttpClient, resource: CkanResource) -> tuple[pa.Table, tuple[Column, ...]]:
    """A CSV resource downloaded whole and typed by the project's CSV inference."""
    if not resource.url:
        raise UsageError(f"Resource {resource.id!r} has no file URL to download.", code="ckan.no-url")
    fd, name = tempfile.mkstemp(prefix="btvstat-ckan-", suffix=".csv")
    os.close(fd)
    path = Path(name)
    try:
        http.download(resource.url, path)
        loaded = read_file(path)
    finally:
        with contextlib.suppress(OSError):
            path.unlink()
    return loaded.table, tuple(loaded.columns)


def _known(table: pa.Table, name: str) -> str:
    if name not in table.column_names:
        raise UsageError(f"No field {name!r}; the resource has: {', '.join(table.column_names)}.")
    return name


def file_batches(
    http: HttpClient, resource: CkanResource, query: RowQuery, pager: OffsetPager
) -> Iterator[pa.RecordBatch]:
    """A CSV resource's rows with equality filters, order and select applied after the download."""
    if query.sql is not None:
        raise UsageError(
            f"Resource {resource.id!r} is a file outside the DataStore: only field = value filters "
            f"(joined by AND) apply to it, not {query.raw!r}. Pull it whole and filter after.",
            code="ckan.where",
        )
    table, _ = file_table(http, resource)
    for name, value in query.filters.items():
        table = table.filter(pc.equal(table[_known(table, name)], pa.scalar(value)))
    if query.order:
        table = table.sort_by(
            [(_known(table, n), "descending" if d else "ascending") for n, d in query.order]
        )
    if query.select:
        table = table.select([_known(table, n) for n in query.select])
    batches = table.to_batches(max_chunksize=pager.page_size)
    yield from batches or [pa.RecordBatch.from_pylist([], schema=table.schema)]
