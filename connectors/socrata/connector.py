"""The Socrata connector: SODA 2.1 and SODA 3 reads typed by metadata; batched publishing.

:class:`SocrataConnector` is thin: it checks its settings and delegates to the parts it
holds, each a plain class taking the same :class:`~connectors.http.HttpClient`:

* ``http``: the HTTP client (:func:`connectors.socrata.client.socrata_client`), one session;
* ``meta``: :class:`~connectors.socrata.describe.SocrataMetadata` (describe, count, list);
* ``reads``: :class:`~connectors.socrata.reads.SocrataReads` (pulls: the CSV export or
  pages fetched by its :class:`~connectors.paging.OffsetPager`);
* ``writes``: :class:`~connectors.socrata.writes.SocrataWrites` (push, create).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any, Unpack

import pyarrow as pa
import requests

from btvstat_open.errors import UsageError
from btvstat_open.types import Column
from connectors.base import Connector, DatasetDescription, DatasetSummary, PullOptions, PushMode, PushResult
from connectors.options import HttpOptions
from connectors.paging import OffsetPager
from connectors.socrata.auth import Credentials
from connectors.socrata.client import socrata_client
from connectors.socrata.describe import SocrataMetadata
from connectors.socrata.push import BodyFormat
from connectors.socrata.reads import Api, PageFormat, SocrataReads
from connectors.socrata.writes import SocrataWrites

__all__ = ["Api", "SocrataConnector"]


def _check_settings(
    url: str,
    page_size: int,
    concurrency: int,
    push_batch_size: int,
    api: str,
    page_format: str,
) -> None:
    """Refuse settings a connector cannot work with, before any request."""
    if not re.match(r"^https?://[^/\s]+", url or ""):
        raise UsageError(
            f"Portal URL {url!r} must start with http:// or https://, e.g. https://data.example.gov"
        )
    if page_size < 1 or concurrency < 1 or push_batch_size < 1:
        raise UsageError("page_size, push_batch_size and concurrency must be at least 1.")
    if api not in ("auto", "soda2", "soda3"):
        raise UsageError(f"Unknown api {api!r}; use 'auto', 'soda2' or 'soda3'.")
    if page_format not in ("csv", "json"):
        raise UsageError(f"Unknown page_format {page_format!r}; use 'csv' or 'json'.")


class SocrataConnector(Connector):
    """A Socrata portal (or btvstat-open's local portal), spoken to over SODA 2.1 and SODA 3.

    ``page_size`` rows per page (default 50,000), ``concurrency`` pages in flight (default 4),
    ``timeout`` seconds per request (default 60), ``retries`` per request (default 6), ``backoff``
    the first retry's longest wait and ``max_wait`` the longest of any; ``api`` picks SODA 2.1,
    SODA 3 or (``auto``) SODA 3 when credentials are given; ``push_batch_size`` rows per write
    request; ``page_format`` how SODA 2.1 pages are read (CSV is the faster to parse);
    ``session`` a ``requests.Session`` of the caller's (proxies, certificates, a cache), used
    as it is and left open by :meth:`close`.

    Example:
        >>> portal = SocrataConnector("https://data.example.gov", app_token="tok", page_size=1000)
        >>> portal.kind, portal.page_size, portal.supports("push")
        ('socrata', 1000, True)
        >>> demo = SocrataConnector(portal_url)  # the demo served on 127.0.0.1
        >>> demo.pull("kc-311-potholes", where="status = 'OPEN'", since="2024-01-01").num_rows
        1681
    """

    kind = "socrata"
    capabilities = frozenset({"push", "create", "changes"})

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
        timeout: float | None = None,
        page_size: int = 50_000,
        concurrency: int = 4,
        retries: int | None = None,
        backoff: float | None = None,
        max_wait: float | None = None,
        api: Api = "auto",
        push_batch_size: int = 10_000,
        page_format: PageFormat = "csv",
        session: requests.Session | None = None,
    ) -> None:
        http = HttpOptions.of(
            session=session, timeout=timeout, retries=retries, backoff=backoff, max_wait=max_wait
        )
        _check_settings(url, page_size, concurrency, push_batch_size, api, page_format)
        self.url = url.rstrip("/")
        self.credentials = Credentials(
            app_token=app_token,
            username=username,
            password=password,
            api_key_id=api_key_id,
            api_key_secret=api_key_secret,
            oauth_token=oauth_token,
        )
        self.http = socrata_client(
            self.url,
            self.credentials,
            session=http.session,
            timeout=http.timeout,
            retry=http.retry,
            pool_size=concurrency * 2,
        )
        self.meta = SocrataMetadata(self.http)
        pager = OffsetPager(page_size=page_size, concurrency=concurrency)
        self.reads = SocrataReads(
            self.http, self.meta, pager, api=api, credentials=self.credentials.any, page_format=page_format
        )
        self.writes = SocrataWrites(self.http, self.meta, push_batch_size=push_batch_size)

    @property
    def page_size(self) -> int:
        """Rows per page."""
        return self.reads.pager.page_size

    @property
    def concurrency(self) -> int:
        """Pages in flight at once."""
        return self.reads.pager.concurrency

    @property
    def api(self) -> Api:
        """Which SODA version pulls use: ``auto``, ``soda2`` or ``soda3``."""
        return self.reads.api

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.url!r}, {self.credentials!r}, api={self.api!r})"

    def close(self) -> None:
        """Close the HTTP session (unless it is the caller's)."""
        self.http.close()

    # -- metadata -------------------------------------------------------------------------------
    def describe(self, dataset_id: str, *, count: bool = True) -> DatasetDescription:
        """Columns, row identifier, last-modified stamp and (with ``count``) the row count.

        Example:
            >>> portal.describe("la-library-monthly").columns[0].data_type
            'floating_timestamp'
        """
        return self.meta.describe(dataset_id, count=count)

    def describe_if_changed(
        self, dataset_id: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> DatasetDescription | None:
        """The metadata, or None when the portal says it has not changed (HTTP 304)."""
        return self.meta.describe_if_changed(dataset_id, etag=etag, last_modified=last_modified)

    def count(self, dataset_id: str, where: str | None = None) -> int:
        """How many rows match ``where`` (all rows without it).

        Example:
            >>> portal.count("kc-311-potholes", "status = 'OPEN'")
            1681
        """
        return self.meta.count(dataset_id, where)

    def row_stats(
        self, dataset_id: str, *, since: str | None = None, before: str | None = None
    ) -> tuple[int, str | None]:
        """The row count and the latest ``:updated_at`` (as the portal writes it), in one request.

        Example:
            >>> portal.row_stats("kc-311-potholes")  # the latest :updated_at: when the demo was loaded
            (4493, '...Z')
        """
        return self.meta.row_stats(dataset_id, since=since, before=before)

    def datasets(self, q: str | None = None, limit: int = 100) -> list[DatasetSummary]:
        """Datasets from the discovery API (``/api/catalog/v1``).

        Example:
            >>> [d.id for d in portal.datasets(q="pothole")]
            ['kc-311-potholes']
        """
        return self.meta.datasets(q, limit)

    # -- reads ----------------------------------------------------------------------------------
    def iter_batches(self, dataset_id: str, **options: Unpack[PullOptions]) -> Iterator[pa.RecordBatch]:
        """Matching rows as typed record batches (see :class:`~connectors.socrata.reads.SocrataReads`)."""
        return self.reads.iter_batches(dataset_id, **options)

    def iter_changes(
        self, dataset_id: str, *, columns: Sequence[str], since: str | None = None
    ) -> Iterator[pa.RecordBatch]:
        """Rows with ``:id``, ``:updated_at`` and ``columns`` updated at or after ``since``, keyset-paged."""
        return self.reads.iter_changes(dataset_id, columns=columns, since=since)

    # -- writes ---------------------------------------------------------------------------------
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
        """Upsert or replace rows in batches (see :meth:`SocrataWrites.push`).

        Example:
            >>> writer = SocrataConnector(push_url, username="btvstat", password=write_token)  # local
            >>> table = pa.table({"row_key": ["a", "b"], "value": [1.0, 2.0]})
            >>> writer.push(table, writable_id, mode="replace").created
            2
        """
        return self.writes.push(data, dataset_id, mode=mode, row_id=row_id, batch_size=batch_size, body=body)

    def create(
        self,
        name: str,
        columns: Sequence[Column],
        *,
        dataset_id: str | None = None,
        row_identifier: str | None = None,
        description: str = "",
    ) -> DatasetDescription:
        """Create an empty dataset (see :meth:`SocrataWrites.create`); push to the returned ``.id``."""
        return self.writes.create(
            name, columns, dataset_id=dataset_id, row_identifier=row_identifier, description=description
        )
