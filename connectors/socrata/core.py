"""What the Socrata connector's read and write halves share: settings, HTTP, metadata verbs.

:class:`SocrataCore` holds the validated settings and the one HTTP session, and answers
the metadata questions (describe, count, latest change, dataset listing) that both pulls
and pushes start from.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any, Literal

import requests

from btvstat_open.errors import InvalidDatasetId, PortalNotFound, TruncatedBody, UsageError
from connectors.base import Connector, DatasetDescription, DatasetSummary
from connectors.retry import RetryPolicy
from connectors.socrata.auth import Credentials
from connectors.socrata.client import parse_json, socrata_client
from connectors.socrata.metadata import description_from_view, summaries_from_catalog
from connectors.socrata.paging import timestamp_literal

__all__ = ["Api", "SocrataCore", "check_dataset_id"]

Api = Literal["auto", "soda2", "soda3"]
PageFormat = Literal["csv", "json"]
_DATASET_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


def check_dataset_id(dataset_id: str) -> str:
    """``dataset_id`` when it can be a Socrata id (it becomes part of a URL path).

    Example:
        >>> check_dataset_id("abcd-1234")
        'abcd-1234'
    """
    if not _DATASET_ID.match(dataset_id or ""):
        raise InvalidDatasetId(f"Invalid dataset id {dataset_id!r}: Socrata ids look like 'abcd-1234'.")
    return dataset_id


class SocrataCore(Connector):
    """Settings, the HTTP session and the metadata verbs of a Socrata portal.

    ``page_size`` rows per page (default 50,000), ``concurrency`` pages in flight (default 4),
    ``timeout`` seconds per request, ``retries`` per request, ``backoff`` the first retry's
    longest wait and ``max_wait`` the longest of any; ``api`` picks SODA 2.1, SODA 3 or (``auto``)
    SODA 3 when credentials are given; ``push_batch_size`` rows per write request;
    ``page_format`` how SODA 2.1 pages are read (CSV is the faster to parse).
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
        timeout: float = 60.0,
        page_size: int = 50_000,
        concurrency: int = 4,
        retries: int = 6,
        backoff: float = 0.25,
        max_wait: float = 30.0,
        api: Api = "auto",
        push_batch_size: int = 10_000,
        page_format: PageFormat = "csv",
        session: requests.Session | None = None,
    ) -> None:
        if not re.match(r"^https?://[^/\s]+", url or ""):
            raise UsageError(
                f"Portal URL {url!r} must start with http:// or https://, e.g. https://data.example.gov"
            )
        if page_size < 1 or concurrency < 1 or push_batch_size < 1 or retries < 0 or timeout <= 0:
            raise UsageError(
                "page_size, push_batch_size and concurrency must be at least 1, retries at least 0, "
                "timeout positive."
            )
        if api not in ("auto", "soda2", "soda3"):
            raise UsageError(f"Unknown api {api!r}; use 'auto', 'soda2' or 'soda3'.")
        if page_format not in ("csv", "json"):
            raise UsageError(f"Unknown page_format {page_format!r}; use 'csv' or 'json'.")
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
        self.page_format: PageFormat = page_format
        self.http = socrata_client(
            self.url,
            self.credentials,
            session=session,
            timeout=timeout,
            retry=RetryPolicy(retries=retries, base=backoff, max_wait=max_wait),
            pool_size=concurrency * 2,
        )
        # None: not tried yet; False: the portal answered 404, so SODA 2.1 is used from then on.
        self._soda3: bool | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.url!r}, {self.credentials!r}, api={self.api!r})"

    def close(self) -> None:
        """Close the HTTP session."""
        self.http.close()

    @property
    def _use_soda3(self) -> bool:
        if self._soda3 is False or self.api == "soda2":
            return False
        return self.api == "soda3" or self.credentials.any

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

    def _describe_or_blank(self, dataset_id: str) -> DatasetDescription:
        """The description without a count, or a blank one where the portal has no ``/api/views``.

        Some proxies and derived APIs have none: rows are then typed from the ``X-SODA2-*``
        headers of each page, and the row identifier is unknown.
        """
        try:
            return self.describe(dataset_id, count=False)
        except PortalNotFound:
            return DatasetDescription(dataset_id, dataset_id, ())

    def describe_if_changed(
        self, dataset_id: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> DatasetDescription | None:
        """The metadata, or None when the portal says it has not changed (HTTP 304)."""
        check_dataset_id(dataset_id)
        headers = {}
        # The ETag is exact; a Last-Modified date only has whole seconds, so it is the fallback.
        if etag:
            headers["If-None-Match"] = etag
        elif last_modified:
            headers["If-Modified-Since"] = last_modified
        resp, view = self.http.request(
            "GET", f"/api/views/{dataset_id}.json", headers=headers, parse=parse_json, ok_statuses=(304,)
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
        rows = self.http.get_json(f"/resource/{check_dataset_id(dataset_id)}.json", params)
        return dict(rows[0]) if isinstance(rows, list) and rows else {}

    def count(self, dataset_id: str, where: str | None = None) -> int:
        """How many rows match ``where`` (all rows without it).

        Example:
            >>> portal.count("kc-311-potholes", "status = 'OPEN'")  # doctest: +SKIP
            1681
        """
        row = self._query_one(dataset_id, "count(*) AS row_count", where)
        return int(row.get("row_count") or row.get("count") or 0)

    def row_stats(
        self, dataset_id: str, *, since: str | None = None, before: str | None = None
    ) -> tuple[int, str | None]:
        """The row count and the latest ``:updated_at`` (as the portal writes it), in one request.

        ``since``/``before`` count only rows updated at or after ``since`` and before ``before``.

        Example:
            >>> portal.row_stats("abcd-1234")  # doctest: +SKIP
            (4493, '2024-05-01T12:00:00.000Z')
        """
        window = [f":updated_at >= {timestamp_literal(since)}"] if since else []
        window += [f":updated_at < {timestamp_literal(before)}"] if before else []
        row = self._query_one(
            dataset_id,
            "count(*) AS row_count, max(:updated_at) AS max_updated_at",
            " AND ".join(window) or None,
        )
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
