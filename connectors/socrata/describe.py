"""The metadata half of the Socrata connector: describe, count, latest change, dataset listing.

:class:`SocrataMetadata` holds the connector's :class:`~connectors.http.HttpClient` and
answers the metadata questions that both pulls and pushes start from. Answers that are not
SODA's (another portal kind's JSON, a list where a dataset belongs) are refused with a
:class:`~btvstat_open.errors.PortalResponseError` naming the kind, never read as empty.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import requests

from btvstat_open.errors import PortalNotFound
from btvstat_open.store import check_dataset_id
from connectors.base import DatasetDescription, DatasetSummary
from connectors.http import HttpClient, parse_json
from connectors.socrata.answers import not_soda, rows_or_refuse, view_or_refuse
from connectors.socrata.metadata import description_from_view, summaries_from_catalog
from connectors.socrata.paging import timestamp_literal

__all__ = ["SocrataMetadata"]


class SocrataMetadata:
    """What a Socrata portal says about its datasets, over ``/api/views``, ``/resource`` and the catalog.

    Example:
        >>> from connectors.http import HttpClient
        >>> meta = SocrataMetadata(HttpClient(portal_url))  # portal_url: the demo served on 127.0.0.1
        >>> meta.describe("la-library-monthly").columns[0].data_type
        'floating_timestamp'
    """

    def __init__(self, http: HttpClient) -> None:
        self.http = http

    def describe(self, dataset_id: str, *, count: bool = True) -> DatasetDescription:
        """Columns, row identifier, last-modified stamp and (with ``count``) the row count."""
        desc = self.describe_if_changed(dataset_id)
        assert desc is not None
        if count and desc.row_count is None:
            desc = replace(desc, row_count=self.count(dataset_id))
        return desc

    def describe_or_blank(self, dataset_id: str) -> DatasetDescription:
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
        path = f"/api/views/{check_dataset_id(dataset_id)}.json"
        headers = {}
        # The ETag is exact; a Last-Modified date only has whole seconds, so it is the fallback.
        if etag:
            headers["If-None-Match"] = etag
        elif last_modified:
            headers["If-Modified-Since"] = last_modified

        def parse(resp: requests.Response) -> DatasetDescription:
            view = view_or_refuse(parse_json(resp), f"GET {path}", self.http.url)
            return description_from_view(
                view, etag=resp.headers.get("ETag"), last_modified_header=resp.headers.get("Last-Modified")
            )

        resp, desc = self.http.request("GET", path, headers=headers, parse=parse, ok_statuses=(304,))
        return None if resp.status_code == 304 else desc

    def query_one(self, dataset_id: str, select: str, where: str | None = None) -> dict[str, Any]:
        """The first row of a SoQL query (an aggregate), or ``{}`` when it has none."""
        params: dict[str, str | int] = {"$select": select}
        if where:
            params["$where"] = where
        path = f"/resource/{check_dataset_id(dataset_id)}.json"

        def parse(resp: requests.Response) -> list[Any]:
            return rows_or_refuse(parse_json(resp), f"GET {path}", self.http.url)

        _, rows = self.http.request("GET", path, params=params, parse=parse)
        return dict(rows[0]) if rows else {}

    def count(self, dataset_id: str, where: str | None = None) -> int:
        """How many rows match ``where`` (all rows without it)."""
        row = self.query_one(dataset_id, "count(*) AS row_count", where)
        return int(row.get("row_count") or row.get("count") or 0)

    def row_stats(
        self, dataset_id: str, *, since: str | None = None, before: str | None = None
    ) -> tuple[int, str | None]:
        """The row count and the latest ``:updated_at`` (as the portal writes it), in one request.

        ``since``/``before`` count only rows updated at or after ``since`` and before ``before``.
        """
        window = [f":updated_at >= {timestamp_literal(since)}"] if since else []
        window += [f":updated_at < {timestamp_literal(before)}"] if before else []
        row = self.query_one(
            dataset_id,
            "count(*) AS row_count, max(:updated_at) AS max_updated_at",
            " AND ".join(window) or None,
        )
        latest = row.get("max_updated_at")
        return int(row.get("row_count") or 0), str(latest) if latest else None

    def datasets(self, q: str | None = None, limit: int = 100) -> list[DatasetSummary]:
        """Datasets from the discovery API (``/api/catalog/v1``)."""
        params: dict[str, str | int] = {"limit": limit}
        if q:
            params["q"] = q
        path = "/api/catalog/v1"

        def parse(resp: requests.Response) -> list[DatasetSummary]:
            body = parse_json(resp)
            if not isinstance(body, dict) or not isinstance(body.get("results"), list):
                raise not_soda(body, f"GET {path}", self.http.url, "a catalog object with results")
            return summaries_from_catalog(body)

        _, found = self.http.request("GET", path, params=params, parse=parse)
        return found or []
