"""The Socrata connector: SODA 2.1 and SODA 3 reads, typed by metadata; batched publishing.

Which path a pull takes:

* every row and column (no select, where, order or since): the portal's CSV export,
  streamed to a temporary file and parsed in blocks: SODA 3's ``/api/v3/views/{id}/export.csv``
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
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import orjson
import pyarrow as pa
import requests

from btvstat_open.errors import InvalidDatasetId, PortalNotFound, UsageError
from btvstat_open.types import arrow_type
from connectors.base import Connector, DatasetDescription, DatasetSummary, PushMode, PushResult
from connectors.socrata.auth import Credentials
from connectors.socrata.client import SocrataHttp, TruncatedBody
from connectors.socrata.decode import csv_batches, guess_json_type, json_rows_to_batch
from connectors.socrata.metadata import (
    SYSTEM_TYPES,
    columns_from_headers,
    description_from_view,
    summaries_from_catalog,
)
from connectors.socrata.paging import Page, Query, fetch_pages, soql_field, soql_literal
from connectors.socrata.push import BodyFormat, push_table, read_push_data
from connectors.socrata.retry import RetryPolicy

__all__ = ["Api", "SocrataConnector"]

Api = Literal["auto", "soda2", "soda3"]
_DATASET_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
_SIMPLE_SELECT = re.compile(r"^\s*(?:`?([:\w]+)`?)(?:\s+as\s+`?(\w+)`?)?\s*$", re.IGNORECASE)


def _check_id(dataset_id: str) -> str:
    if not _DATASET_ID.match(dataset_id or ""):
        raise InvalidDatasetId(f"Invalid dataset id {dataset_id!r}: Socrata ids look like 'abcd-1234'.")
    return dataset_id


def _json_body(resp: requests.Response) -> Any:
    return orjson.loads(resp.content)


class SocrataConnector(Connector):
    """A Socrata portal (or btvstat-open's local portal), spoken to over SODA 2.1 and SODA 3.

    ``page_size`` rows per page (default 50,000), ``concurrency`` pages in flight (default 4),
    ``timeout`` seconds per request, ``retries`` per request.

    Example:
        >>> portal = SocrataConnector("https://data.example.gov", app_token="...")  # doctest: +SKIP
        >>> portal.pull("abcd-1234", where="type = 'Pothole'", since="2024-01-01")  # doctest: +SKIP
    """

    def __init__(
        self,
        url: str,
        *,
        app_token: str | None = None,
        username: str | None = None,
        password: str | None = None,
        api_key_id: str | None = None,
        api_key_secret: str | None = None,
        oauth_token: str | None = None,
        timeout: float = 60.0,
        page_size: int = 50_000,
        concurrency: int = 4,
        retries: int = 6,
        backoff: float = 0.25,
        max_wait: float = 30.0,
        api: Api = "auto",
        push_batch_size: int = 10_000,
        page_format: Literal["csv", "json"] = "csv",
    ) -> None:
        if not re.match(r"^https?://[^/\s]+", url or ""):
            raise UsageError(
                f"Portal URL {url!r} must start with http:// or https://, e.g. https://data.example.gov"
            )
        if page_size < 1 or concurrency < 1 or retries < 0 or timeout <= 0:
            raise UsageError(
                "page_size and concurrency must be at least 1, retries at least 0, timeout positive."
            )
        if api not in ("auto", "soda2", "soda3"):
            raise UsageError(f"Unknown api {api!r}; use 'auto', 'soda2' or 'soda3'.")
        self.url = url.rstrip("/")
        self.credentials = Credentials(
            app_token=app_token,
            username=username,
            password=password,
            api_key_id=api_key_id,
            api_key_secret=api_key_secret,
            oauth_token=oauth_token,
        )
        self.page_size = page_size
        self.concurrency = concurrency
        self.api: Api = api
        self.push_batch_size = push_batch_size
        if page_format not in ("csv", "json"):
            raise UsageError(f"Unknown page_format {page_format!r}; use 'csv' or 'json'.")
        self.page_format = page_format
        self.http = SocrataHttp(
            self.url,
            self.credentials,
            timeout=timeout,
            retry=RetryPolicy(retries=retries, base=backoff, max_wait=max_wait),
            pool_size=concurrency * 2,
        )
        # None: not tried yet; False: the portal answered 404, so SODA 2.1 is used from then on.
        self._soda3: bool | None = None

    def __repr__(self) -> str:
        return f"SocrataConnector({self.url!r}, {self.credentials!r}, api={self.api!r})"

    def close(self) -> None:
        """Close the HTTP session."""
        self.http.close()

    def __enter__(self) -> SocrataConnector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def _use_soda3(self) -> bool:
        if self._soda3 is False or self.api == "soda2":
            return False
        return self.api == "soda3" or self.credentials.any

    # -- metadata ----------------------------------------------------------------------------
    def describe(self, dataset_id: str, *, count: bool = True) -> DatasetDescription:
        """Columns, row identifier, last-modified stamp and (with ``count``) the row count.

        Example:
            >>> portal.describe("7ray-xvet").columns[0].data_type  # doctest: +SKIP
            'floating_timestamp'
        """
        desc = self.describe_if_changed(dataset_id)
        assert desc is not None
        if count and desc.row_count is None:
            desc = replace(desc, row_count=self.count(dataset_id))
        return desc

    def describe_if_changed(
        self, dataset_id: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> DatasetDescription | None:
        """The metadata, or None when the portal says it has not changed (HTTP 304)."""
        _check_id(dataset_id)
        headers = {}
        # The ETag is exact; a Last-Modified date only has whole seconds, so it is the fallback.
        if etag:
            headers["If-None-Match"] = etag
        elif last_modified:
            headers["If-Modified-Since"] = last_modified
        resp, view = self.http.request(
            "GET", f"/api/views/{dataset_id}.json", headers=headers, parse=_json_body, ok_statuses=(304,)
        )
        if resp.status_code == 304:
            return None
        if not isinstance(view, Mapping):
            raise TruncatedBody(f"/api/views/{dataset_id}.json did not return an object")
        return description_from_view(
            view, etag=resp.headers.get("ETag"), last_modified_header=resp.headers.get("Last-Modified")
        )

    def _query_one(self, dataset_id: str, select: str, where: str | None = None) -> dict[str, Any]:
        params: dict[str, str | int] = {"$select": select}
        if where:
            params["$where"] = where
        rows = self.http.get_json(f"/resource/{_check_id(dataset_id)}.json", params)
        return dict(rows[0]) if isinstance(rows, list) and rows else {}

    def count(self, dataset_id: str, where: str | None = None) -> int:
        """How many rows match ``where`` (all rows without it).

        Example:
            >>> portal.count("kc-311-potholes", "status = 'OPEN'")  # doctest: +SKIP
            1681
        """
        row = self._query_one(dataset_id, "count(*) AS row_count", where)
        return int(row.get("row_count") or row.get("count") or 0)

    def row_stats(self, dataset_id: str) -> tuple[int, str | None]:
        """The row count and the latest ``:updated_at`` (as the portal writes it), in one request."""
        row = self._query_one(dataset_id, "count(*) AS row_count, max(:updated_at) AS max_updated_at")
        latest = row.get("max_updated_at")
        return int(row.get("row_count") or 0), str(latest) if latest else None

    def datasets(self, q: str | None = None, limit: int = 100) -> list[DatasetSummary]:
        """Datasets from the discovery API (``/api/catalog/v1``).

        Example:
            >>> [d.id for d in portal.datasets(q="pothole")]  # doctest: +SKIP
            ['kc-311-potholes']
        """
        params: dict[str, str | int] = {"limit": limit}
        if q:
            params["q"] = q
        return summaries_from_catalog(self.http.get_json("/api/catalog/v1", params))

    # -- pulling -----------------------------------------------------------------------------
    def iter_batches(
        self,
        dataset_id: str,
        *,
        select: str | None = None,
        where: str | None = None,
        order: str | None = None,
        since: str | datetime | None = None,
    ) -> Iterator[pa.RecordBatch]:
        """Matching rows as typed record batches, streamed page by page (see the module doc)."""
        _check_id(dataset_id)
        query = Query(select=select, where=where, order=order, since=since)
        try:
            desc = self.describe(dataset_id, count=False)
        except PortalNotFound:
            # No /api/views for this id (some proxies and derived APIs): type the rows from
            # the X-SODA2-* headers of each page instead, and skip the export.
            desc = DatasetDescription(dataset_id, dataset_id, ())
        if query.is_full and desc.columns:
            exported = self._export_batches(dataset_id, desc)
            if exported is not None:
                yield from exported
                return
        if self._use_soda3:
            try:
                first = self._soda3_page(dataset_id, desc, query, 0)
            except PortalNotFound:
                self._soda3 = False
            else:
                self._soda3 = True
                yield from fetch_pages(
                    lambda n: self._soda3_page(dataset_id, desc, query, n),
                    page_size=self.page_size,
                    concurrency=self.concurrency,
                    first_page=first,
                )
                return
        yield from fetch_pages(
            lambda n: self._soda2_page(dataset_id, desc, query, n),
            page_size=self.page_size,
            concurrency=self.concurrency,
        )

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

    def _export_batches(self, dataset_id: str, desc: DatasetDescription) -> Iterator[pa.RecordBatch] | None:
        """Download the whole-dataset CSV export to a temporary file; None when there is no export."""
        fd, name = tempfile.mkstemp(prefix="btvstat-export-", suffix=".csv")
        os.close(fd)
        tmp = Path(name)
        routes = [f"/api/views/{dataset_id}/rows.csv"]
        if self._use_soda3:
            routes.insert(0, f"/api/v3/views/{dataset_id}/export.csv")
        for route in routes:
            params: dict[str, str | int] = {"accessType": "DOWNLOAD"} if "rows.csv" in route else {}
            try:
                self.http.download(route, tmp, params=params)
            except PortalNotFound:
                if "export.csv" in route:
                    self._soda3 = False
                continue
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise
            return self._read_export(tmp, desc)
        tmp.unlink(missing_ok=True)
        return None

    def _read_export(self, tmp: Path, desc: DatasetDescription) -> Iterator[pa.RecordBatch]:
        try:
            display = {c.name: c.field_name for c in desc.columns}
            for batch in csv_batches(tmp, self._types(desc), display_names=display):
                yield self._project(batch, desc)
        finally:
            tmp.unlink(missing_ok=True)

    def _soda2_page(self, dataset_id: str, desc: DatasetDescription, query: Query, number: int) -> Page:
        params = query.soda2_params(self.page_size, number * self.page_size)

        def parse_csv(resp: requests.Response) -> Page:
            batches = list(csv_batches(resp.content, self._types(desc, resp.headers)))
            if not query.select and desc.columns:
                batches = [self._project(b, desc) for b in batches]
            return Page(batches, sum(b.num_rows for b in batches))

        def parse_json(resp: requests.Response) -> Page:
            return self._json_page(desc, query, resp)

        parse = parse_json if self.page_format == "json" else parse_csv
        path = f"/resource/{dataset_id}.{self.page_format}"
        _, page = self.http.request("GET", path, params=params, parse=parse)
        assert page is not None
        return page

    def _json_page(self, desc: DatasetDescription, query: Query, resp: requests.Response) -> Page:
        """A page of JSON row objects as one typed batch."""
        rows = orjson.loads(resp.content)
        if isinstance(rows, dict):
            rows = rows.get("rows") or rows.get("results") or rows.get("data") or []
        if not isinstance(rows, list):
            raise TruncatedBody("the portal did not return a list of rows")
        fields = self._selected_fields(desc, query, resp, rows)
        types = self._types(desc, resp.headers)
        batch = json_rows_to_batch(rows, [(f, types.get(f) or guess_json_type(rows, f)) for f in fields])
        return Page([batch] if rows else [], len(rows))

    def _selected_fields(
        self, desc: DatasetDescription, query: Query, resp: requests.Response, rows: list[Any]
    ) -> list[str]:
        if not query.select and desc.columns:
            return [c.field_name for c in desc.columns]
        header = columns_from_headers(resp.headers)
        if header:
            names = list(header)
            return names if query.select else [n for n in names if not n.startswith(":")]
        if not query.select:
            keys: dict[str, None] = {}
            for row in rows:
                keys.update(dict.fromkeys(k for k in row if not k.startswith(":")))
            return list(keys)
        simple: list[str] = []
        for part in query.select.split(","):
            match = _SIMPLE_SELECT.match(part)
            if not match:
                break
            simple.append(match.group(2) or match.group(1))
        else:
            return simple
        seen: dict[str, None] = {}
        for row in rows:
            seen.update(dict.fromkeys(row))
        return list(seen)

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
            >>> changes = portal.iter_changes("abcd-1234", columns=["status"])  # doctest: +SKIP
        """
        _check_id(dataset_id)
        try:
            desc = self.describe(dataset_id, count=False)
        except PortalNotFound:
            desc = DatasetDescription(dataset_id, dataset_id, ())
        wanted = [c for c in columns if c not in (":id", ":updated_at")]
        select = ", ".join([":id", ":updated_at", *(soql_field(c) for c in wanted)])
        last_id: str | None = None
        while True:
            where = f":id > {soql_literal(last_id)}" if last_id is not None else None
            query = Query(select=select, where=where, order=":id", since=since)
            page = self._soda2_page(dataset_id, desc, query, 0)
            yield from page.batches
            if page.rows < self.page_size:
                return
            last_id = str(page.batches[-1].column(":id")[-1].as_py())

    # -- pushing -----------------------------------------------------------------------------
    def push(
        self,
        data: Any,
        dataset_id: str,
        *,
        mode: PushMode = "upsert",
        row_id: str | None = None,
        batch_size: int | None = None,
        body: BodyFormat = "json",
    ) -> PushResult:
        """Upsert or replace rows in batches; rows with a true ``:deleted`` are deleted.

        Re-running a push after a failure is safe: ``replace`` starts from a clean replace,
        and keyed upserts (a row identifier or ``:id`` in every row) overwrite what they wrote.

        Example:
            >>> portal.push(table, "abcd-1234", mode="replace").created  # doctest: +SKIP
            4493
        """
        _check_id(dataset_id)
        table = read_push_data(data)
        try:
            desc = self.describe(dataset_id, count=False)
        except PortalNotFound:
            # No metadata route (the write route may still exist): the row identifier is unknown.
            desc = DatasetDescription(dataset_id, dataset_id, ())
        if row_id is not None:
            if row_id not in table.column_names:
                raise UsageError(
                    f"--row-id {row_id!r} is not a column of the data; columns: {table.column_names}"
                )
            if row_id != ":id" and desc.row_identifier != row_id:
                raise UsageError(
                    f"Dataset {dataset_id!r} identifies rows by {desc.row_identifier or ':id'!r}, "
                    f"not {row_id!r}; set its row identifier on the portal or leave --row-id out."
                )
        key = row_id or desc.row_identifier or ":id"
        keyed = key in table.column_names and table.column(key).null_count == 0

        def send(method: str, path: str, payload: bytes, content_type: str, idempotent: bool) -> Any:
            _, answer = self.http.request(
                method,
                path,
                data=payload,
                headers={"Content-Type": content_type},
                parse=_json_body,
                idempotent=idempotent,
            )
            return answer

        return push_table(
            send,
            table,
            dataset_id,
            mode=mode,
            batch_size=batch_size or self.push_batch_size,
            body=body,
            keyed=keyed,
        )

    def delete_rows(self, dataset_id: str, row_ids: list[str], *, key: str | None = None) -> PushResult:
        """Delete rows by row identifier (or ``:id``) with one ``:deleted`` upsert per batch."""
        field = key or self.describe(dataset_id, count=False).row_identifier or ":id"
        table = pa.table({field: pa.array(row_ids, pa.string()), ":deleted": pa.array([True] * len(row_ids))})
        return self.push(table, dataset_id, mode="upsert")
