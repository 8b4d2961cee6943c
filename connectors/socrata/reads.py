"""Pulling from Socrata: the CSV export for whole datasets, pages for everything else.

Which path a pull takes:

* every row and column (no select, where, order or since): the portal's CSV export,
  parsed in blocks while it downloads (or, without a strong ETag to resume against,
  after saving it to a temporary file): SODA 3's ``/api/v3/views/{id}/export.csv``
  when credentials are given (or ``api="soda3"``), else ``/api/views/{id}/rows.csv``;
  a portal answering 404 falls back to the next path;
* anything else: pages ordered by ``:id``; SODA 3 ``query.json`` pages when credentials
  are given (or ``api="soda3"``), falling back to SODA 2.1 on 404; otherwise SODA 2.1
  ``/resource/{id}.csv`` pages, the fastest to parse.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, Unpack

import orjson
import pyarrow as pa
import requests

from btvstat_open.errors import PortalNotFound, PortalRequestError, PortalResponseError, TruncatedBody
from btvstat_open.soql.lexer import soql_literal
from btvstat_open.store import check_dataset_id
from btvstat_open.types import arrow_type
from connectors.base import DatasetDescription, PullOptions
from connectors.counts import checked
from connectors.http import HttpClient
from connectors.http_body import ResumableBody
from connectors.paging import KeysetPager, OffsetPager, Page
from connectors.socrata.answers import not_soda, rows_or_refuse
from connectors.socrata.decode import guess_json_type, json_rows_to_batch
from connectors.socrata.decode.from_csv import csv_batches
from connectors.socrata.describe import SocrataMetadata
from connectors.socrata.metadata import SYSTEM_TYPES, columns_from_headers
from connectors.socrata.paging import Query, soql_field
from connectors.transport import loads

__all__ = ["Api", "PageFormat", "SocrataReads"]

Api = Literal["auto", "soda2", "soda3"]
PageFormat = Literal["csv", "json"]

_SIMPLE_SELECT = re.compile(r"^\s*(?:`?([:\w]+)`?)(?:\s+as\s+`?(\w+)`?)?\s*$", re.IGNORECASE)


class SocrataReads:
    """The read verbs of the Socrata connector: ``iter_batches`` (and so ``pull``) and ``iter_changes``.

    It holds the connector's HTTP client, its metadata half (rows are typed from the
    dataset's metadata) and a pager. ``api`` picks SODA 2.1, SODA 3 or (``auto``) SODA 3 when
    ``credentials`` are given; ``page_format`` is how SODA 2.1 pages are read (CSV parses faster).

    Example:
        >>> from connectors.http import HttpClient
        >>> http = HttpClient(portal_url)  # portal_url: the demo served on 127.0.0.1
        >>> reads = SocrataReads(http, SocrataMetadata(http), OffsetPager(page_size=1000, concurrency=4))
        >>> reads.uses_soda3
        False
        >>> next(reads.iter_batches("kc-311-potholes", where="status = 'OPEN'")).num_rows
        1000
    """

    def __init__(
        self,
        http: HttpClient,
        meta: SocrataMetadata,
        pager: OffsetPager,
        *,
        api: Api = "auto",
        credentials: bool = False,
        page_format: PageFormat = "csv",
    ) -> None:
        self.http = http
        self.meta = meta
        self.pager = pager
        self.api: Api = api
        self.credentials = credentials
        self.page_format: PageFormat = page_format
        # None: not tried yet; False: the portal answered 404, so SODA 2.1 is used from then on.
        self._soda3: bool | None = None

    @property
    def page_size(self) -> int:
        """Rows per page."""
        return self.pager.page_size

    @property
    def uses_soda3(self) -> bool:
        """Whether the next pull tries SODA 3 first."""
        if self._soda3 is False or self.api == "soda2":
            return False
        return self.api == "soda3" or self.credentials

    def iter_batches(self, dataset_id: str, **options: Unpack[PullOptions]) -> Iterator[pa.RecordBatch]:
        """Matching rows as typed record batches, streamed page by page (see the module doc).

        Example:
            >>> batches = portal.iter_batches("kc-311-potholes", where="status = 'OPEN'")
            >>> sum(batch.num_rows for batch in batches)
            1681
        """
        check_dataset_id(dataset_id)
        query = Query(**options)
        desc = self.meta.describe_or_blank(dataset_id)
        if query.aggregated:
            yield from self._batches(dataset_id, desc, query)  # one row per group: nothing to count
            return
        where = query.where_clause()
        known = desc.row_count if query.is_full else None
        yield from checked(
            self._batches(dataset_id, desc, query),
            expected=lambda: known if known is not None else self._count(dataset_id, where),
            recount=lambda: self._count(dataset_id, where),
            what=f"Socrata dataset {dataset_id!r} at {self.http.url}",
        )

    def _count(self, dataset_id: str, where: str | None) -> int | None:
        """``count(*)`` of the rows ``where`` matches; None from a server that gives no count."""
        try:
            row = self.meta.query_one(dataset_id, "count(*) AS row_count", where)
        except (PortalRequestError, PortalResponseError):  # no SoQL count here (a proxy, an export)
            return None
        try:
            return int(row.get("row_count", row.get("count")))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return None

    def _batches(self, dataset_id: str, desc: DatasetDescription, query: Query) -> Iterator[pa.RecordBatch]:
        """The rows of a query: the export for a whole dataset, else pages (see the module doc)."""
        if query.is_full and desc.columns:
            exported = self._export_batches(dataset_id, desc)
            if exported is not None:
                yield from exported
                return
        # Whole rows (or rows with their :id) are all different: two equal pages mean ignored offsets.
        distinct = not query.group and (not query.select or ":id" in query.select)
        if self.uses_soda3:
            try:
                first = self._soda3_page(dataset_id, desc, query, 0)
            except PortalNotFound:
                self._soda3 = False
            else:
                self._soda3 = True
                yield from self.pager.batches(
                    lambda n: self._soda3_page(dataset_id, desc, query, n),
                    first_page=first,
                    distinct=distinct,
                )
                return
        yield from self.pager.batches(
            lambda n: self._soda2_page(dataset_id, desc, query, n), distinct=distinct
        )

    def iter_changes(
        self,
        dataset_id: str,
        *,
        columns: Sequence[str],
        since: str | None = None,
    ) -> Iterator[pa.RecordBatch]:
        """Rows with ``:id``, ``:updated_at`` and ``columns``, updated at or after ``since`` (all without).

        Pages are keyed on ``:id`` (``:id > last id seen``) rather than offsets, so rows that
        change while the pages are read cannot shift a page and be skipped: what the sync
        engine needs. Pages are read one after another.

        Example:
            >>> changes = portal.iter_changes("kc-311-potholes", columns=["status"])
            >>> next(changes).column_names
            [':id', ':updated_at', 'status']
        """
        check_dataset_id(dataset_id)
        desc = self.meta.describe_or_blank(dataset_id)
        wanted = [c for c in columns if c not in (":id", ":updated_at")]
        select = ", ".join([":id", ":updated_at", *(soql_field(c) for c in wanted)])

        def after(last_id: str | None) -> Page:
            where = f":id > {soql_literal(last_id)}" if last_id is not None else None
            query = Query(select=select, where=where, order=":id", since=since)
            return self._soda2_page(dataset_id, desc, query, 0)

        def last_key(page: Page) -> str:
            last = page.batches[-1]
            if ":id" not in last.schema.names:
                raise not_soda(None, f"GET /resource/{dataset_id}", self.http.url, "rows with :id")
            return str(last.column(":id")[-1].as_py())

        yield from KeysetPager(self.page_size).batches(after, last_key)

    # -- typing rows ------------------------------------------------------------------------
    def _types(self, desc: DatasetDescription, headers: Mapping[str, str] | None = None) -> dict[str, str]:
        """Field name -> type: response headers for computed fields, metadata over them, system fields."""
        types = columns_from_headers(headers or {})
        types.update({c.field_name: c.data_type for c in desc.columns})
        types.update(SYSTEM_TYPES)
        return types

    def _project(self, batch: pa.RecordBatch, desc: DatasetDescription) -> pa.RecordBatch:
        """A full pull's batch with exactly the dataset's columns, in order (missing ones null)."""
        arrays = []
        for col in desc.columns:
            index = batch.schema.get_field_index(col.field_name)
            if index >= 0:
                arrays.append(batch.column(index))
            else:
                arrays.append(pa.nulls(batch.num_rows, arrow_type(col.data_type)))
        return pa.RecordBatch.from_arrays(arrays, schema=desc.arrow_schema)

    # -- the whole-dataset export -------------------------------------------------------------
    def _export_batches(self, dataset_id: str, desc: DatasetDescription) -> Iterator[pa.RecordBatch] | None:
        """The whole-dataset CSV export as batches; None when the portal has no export.

        An answer with a strong ETag is parsed while it downloads (a dropped connection is
        resumed, see :class:`ResumableBody`); any other is saved to a temporary file first, so a
        retry starts from nothing.
        """
        routes = [f"/api/views/{dataset_id}/rows.csv"]
        if self.uses_soda3:
            routes.insert(0, f"/api/v3/views/{dataset_id}/export.csv")
        for route in routes:
            params: dict[str, str | int] = {"accessType": "DOWNLOAD"} if "rows.csv" in route else {}
            try:
                body = self.http.open_body(route, params=params)
            except PortalNotFound:
                if "export.csv" in route:
                    self._soda3 = False
                continue
            if body.resumable:
                return self._read_streamed(body, desc)
            body.close()
            return self._download_export(route, params, desc)
        return None

    def _read_streamed(self, body: ResumableBody, desc: DatasetDescription) -> Iterator[pa.RecordBatch]:
        with body.start():
            display = {c.name: c.field_name for c in desc.columns}
            batches = csv_batches(body, self._types(desc), display_names=display)
            for batch in _readable(batches, desc.id):
                yield self._project(batch, desc)

    def _download_export(
        self, route: str, params: dict[str, str | int], desc: DatasetDescription
    ) -> Iterator[pa.RecordBatch]:
        fd, name = tempfile.mkstemp(prefix="btvstat-export-", suffix=".csv")
        os.close(fd)
        tmp = Path(name)
        try:
            self.http.download(route, tmp, params=params)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return self._read_export(tmp, desc)

    def _read_export(self, tmp: Path, desc: DatasetDescription) -> Iterator[pa.RecordBatch]:
        try:
            display = {c.name: c.field_name for c in desc.columns}
            batches = csv_batches(tmp, self._types(desc), display_names=display)
            for batch in _readable(batches, desc.id):
                yield self._project(batch, desc)
        finally:
            tmp.unlink(missing_ok=True)

    # -- pages ----------------------------------------------------------------------------------
    def _soda2_page(self, dataset_id: str, desc: DatasetDescription, query: Query, number: int) -> Page:
        params = query.soda2_params(self.page_size, self.pager.offset(number))

        path = f"/resource/{dataset_id}.{self.page_format}"

        def parse_csv(resp: requests.Response) -> Page:
            if "json" in resp.headers.get("Content-Type", ""):  # another kind's answer, not CSV rows
                raise not_soda(orjson.loads(resp.content), f"GET {path}", self.http.url, "CSV rows")
            batches = list(csv_batches(resp.content, self._types(desc, resp.headers)))
            if not query.select and desc.columns:
                batches = [self._project(b, desc) for b in batches]
            return Page(batches, sum(b.num_rows for b in batches))

        def parse_json(resp: requests.Response) -> Page:
            return self._json_page(desc, query, resp)

        parse = parse_json if self.page_format == "json" else parse_csv
        _, page = self.http.request("GET", path, params=params, parse=parse)
        assert page is not None
        return page

    def _soda3_page(self, dataset_id: str, desc: DatasetDescription, query: Query, number: int) -> Page:
        body = {
            "query": query.soql(),
            "page": {"pageNumber": number + 1, "pageSize": self.page_size},
            "includeSynthetic": bool(query.select and ":" in query.select),
        }

        def parse(resp: requests.Response) -> Page:
            return self._json_page(desc, query, resp)

        _, page = self.http.request(
            "POST", f"/api/v3/views/{dataset_id}/query.json", json_body=body, parse=parse
        )
        assert page is not None
        return page

    def _json_page(self, desc: DatasetDescription, query: Query, resp: requests.Response) -> Page:
        """A page of JSON row objects as one typed batch."""
        what = f"{resp.request.method} {resp.request.path_url.split('?')[0]}"
        rows = rows_or_refuse(loads(resp.content, what), what, self.http.url)
        fields = _selected_fields(desc, query, resp.headers, rows)
        types = self._types(desc, resp.headers)
        batch = json_rows_to_batch(rows, [(f, types.get(f) or guess_json_type(rows, f)) for f in fields])
        return Page([batch] if rows else [], len(rows))


def _readable(batches: Iterator[pa.RecordBatch], dataset_id: str) -> Iterator[pa.RecordBatch]:
    """The export's batches; CSV that does not parse (read after the download) is a portal error."""
    try:
        yield from batches
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        raise TruncatedBody(
            f"The CSV export of {dataset_id!r} could not be read ({exc}); pull again, or pull with a "
            "where= filter to read it in pages"
        ) from exc


def _selected_fields(
    desc: DatasetDescription, query: Query, headers: Mapping[str, str], rows: list[Any]
) -> list[str]:
    """The columns of a JSON page, in order: metadata, then headers, the select list, or the rows' keys."""
    if not query.select and desc.columns:
        return [c.field_name for c in desc.columns]
    header = columns_from_headers(headers)
    if header:
        names = list(header)
        return names if query.select else [n for n in names if not n.startswith(":")]
    if not query.select:
        return _keys(rows, skip_system=True)
    simple: list[str] = []
    for part in query.select.split(","):
        match = _SIMPLE_SELECT.match(part)
        if not match:
            return _keys(rows, skip_system=False)
        simple.append(match.group(2) or match.group(1))
    return simple


def _keys(rows: list[Any], *, skip_system: bool) -> list[str]:
    """Every key found in the rows, in first-seen order (JSON rows leave nulls out)."""
    keys: dict[str, None] = {}
    for row in rows:
        keys.update(dict.fromkeys(k for k in row if not (skip_system and k.startswith(":"))))
    return list(keys)
