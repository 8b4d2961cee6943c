"""The CKAN connector: discovery by ``package_search``, rows from the DataStore or a resource's CSV file.

DATASET_ID is a resource id, or a package name (or id) meaning its DataStore resource (see
:func:`connectors.ckan.api.resolve`). DataStore rows are paged with ``limit``/``offset`` in
``_id`` order and typed from the DataStore's ``fields``; paging stops on ``total`` or a short
page, never on ``_links.next`` (CKAN sends it even past the end). A resource outside the
DataStore is downloaded whole and typed by the project's CSV inference.

CKAN rows carry no update time, so there is no ``changes`` capability: a sync re-pulls the
resource whole when its validators move (the package's ``metadata_modified``, the
resource's ``last_modified`` and the DataStore's row count).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar, Unpack
from urllib.parse import urlsplit

import pyarrow as pa
import requests

from btvstat_open.errors import (
    DatasetNotFound,
    PortalAuthError,
    PortalNotFound,
    PortalRequestError,
    UsageError,
)
from btvstat_open.instants import parse_instant
from btvstat_open.types import Column
from connectors.base import Capability, Connector, DatasetDescription, DatasetSummary, PullOptions
from connectors.ckan.api import (
    ACTION,
    CkanResource,
    action,
    decoded_metadata,
    read_ckan_error,
    resolve,
)
from connectors.ckan.fields import columns_from_fields
from connectors.ckan.fingerprint import fingerprint_sql, rows_fingerprint, sql_refused
from connectors.ckan.query import parse_order, parse_select, plan_where
from connectors.ckan.rows import RowQuery, file_batches, file_table, search_pages, sql_pages
from connectors.http import HttpClient
from connectors.options import HttpOptions
from connectors.paging import OffsetPager
from connectors.transport import join_url, origin_of

__all__ = ["CkanConnector"]


class CkanConnector(Connector):
    """A CKAN site (Action API v3 and, where the site runs it, the DataStore).

    Example:
        >>> site = CkanConnector(ckan_url)  # e.g. "https://data.gov.sg"; here a stand-in site
        >>> site.kind, site.supports("changes")
        ('ckan', False)
        >>> site.pull(ckan_resource).num_rows  # a resource id, or the name of its package
        120
    """

    kind: ClassVar[str] = "ckan"
    capabilities: ClassVar[frozenset[Capability]] = frozenset()
    unsupported_reasons: ClassVar[dict[str, str]] = {
        "push": "btvstat-open reads from CKAN but does not write to it; publish to a Socrata-style portal.",
        "create": "btvstat-open does not create CKAN datasets; create the package on the CKAN site.",
        "changes": (
            "CKAN DataStore rows carry no update time, so changed rows cannot be listed; a sync "
            "re-pulls the resource whole when its metadata_modified changes."
        ),
    }

    def __init__(
        self,
        url: str,
        *,
        session: requests.Session | None = None,
        timeout: float | None = None,
        retries: int | None = None,
        backoff: float | None = None,
        max_wait: float | None = None,
        page_size: int = 32_000,
        concurrency: int = 4,
        api_key: str | None = None,
    ) -> None:
        self.url = url.rstrip("/").split(ACTION.rstrip("/"))[0].split("/api/action")[0]
        self.pager = OffsetPager(page_size=page_size, concurrency=concurrency)
        http = HttpOptions.of(
            session=session, timeout=timeout, retries=retries, backoff=backoff, max_wait=max_wait
        )
        retry = http.retry
        self.http = HttpClient(
            self.url,
            session=http.session,
            retry=retry,
            timeout=http.timeout,
            read_error=read_ckan_error,
            headers={"Authorization": api_key} if api_key else None,
        )
        # Resource files on other hosts: the same session, but never the site's API key.
        self.files = HttpClient(self.url, session=self.http.session, retry=retry, timeout=http.timeout)

    def __repr__(self) -> str:
        return f"CkanConnector({self.url!r})"

    def close(self) -> None:
        """Release the connector's connections."""
        self.http.close()

    def _client_for(self, resource: CkanResource) -> HttpClient:
        """The client for a resource's file: the site's own, or the keyless one for another origin.

        The URL is resolved against the site as a link is (``1/x.csv`` and ``.evil.example/x`` stay
        on the site), and the site's client sends its key to the site's own origin only anyway.
        """
        same = origin_of(join_url(self.url, resource.url)) == origin_of(self.url)
        return self.http if same else self.files

    # -- metadata ----------------------------------------------------------------------------
    def resource(self, dataset_id: str) -> CkanResource:
        """The resource ``dataset_id`` means (a resource id, or a package's DataStore resource).

        Example:
            >>> site = CkanConnector(ckan_url)  # a stand-in CKAN site
            >>> site.resource("cases").id  # the package "cases" holds one DataStore resource
            '5b1c7a8e-0000-4000-8000-000000000001'
        """
        return resolve(self.http, dataset_id)

    def package(self, name_or_id: str) -> dict[str, Any]:
        """A package's metadata, with JSON held inside strings (ckanext-scheming) decoded.

        Example:
            >>> site = CkanConnector(ckan_url)  # a stand-in CKAN site
            >>> meta = site.package("cases")
            >>> meta["title"], len(meta["resources"])
            ('Cases', 1)
        """
        try:
            package = action(self.http, "package_show", id=name_or_id)
        except PortalNotFound as exc:
            raise DatasetNotFound(name_or_id, f"{self.url} has no CKAN package {name_or_id!r}.") from exc
        return decoded_metadata(package)

    def _store_info(self, resource: CkanResource) -> tuple[tuple[Column, ...], int | None]:
        result = action(self.http, "datastore_search", resource_id=resource.id, limit=0)
        total = result.get("total")
        return columns_from_fields(result.get("fields") or []), int(total) if total is not None else None

    def fingerprint(self, dataset_id: str) -> str:
        """A DataStore resource's content fingerprint (see :mod:`connectors.ckan.fingerprint`).

        Example:
            >>> site = CkanConnector(ckan_url)  # a stand-in CKAN site
            >>> site.fingerprint("cases").startswith("sql:120:")
            True
        """
        resource = self.resource(dataset_id)
        if not resource.datastore_active:
            raise UsageError(f"{dataset_id!r} is not in the DataStore: its file has no fingerprint here.")
        return self._fingerprint(resource)

    def _fingerprint(self, resource: CkanResource) -> str:
        try:
            result = action(self.http, "datastore_search_sql", sql=fingerprint_sql(resource.id))
        except (PortalAuthError, PortalRequestError, PortalNotFound) as exc:
            # A 404 here is the action's (the resource was just found): the site has no SQL search.
            if not isinstance(exc, PortalNotFound) and not sql_refused(exc):
                raise
            return rows_fingerprint(search_pages(self.http, resource, RowQuery(), self.pager))
        row = (result.get("records") or [{}])[0]
        return f"sql:{row.get('n')}:{row.get('fp')}"

    @staticmethod
    def _etag(resource: CkanResource, total: int | None, content: str | None = None) -> str:
        modified = resource.package.get("metadata_modified") or ""
        counted = "" if total is None else total
        return f'"{modified}|{resource.last_modified or ""}|{counted}{"|" + content if content else ""}"'

    def _description(
        self,
        dataset_id: str,
        resource: CkanResource,
        columns: tuple[Column, ...],
        total: int | None,
        content: str | None = None,
    ) -> DatasetDescription:
        package = resource.package
        title = str(package.get("title") or package.get("name") or resource.name)
        return DatasetDescription(
            id=dataset_id,
            name=title,
            columns=columns,
            description=str(package.get("notes") or ""),
            row_count=total,
            last_modified=parse_instant(package.get("metadata_modified")),
            rows_updated_at=parse_instant(resource.last_modified),
            etag=self._etag(resource, total if resource.datastore_active else None, content),
            last_modified_header=package.get("metadata_modified"),
        )

    def describe(self, dataset_id: str) -> DatasetDescription:
        """Columns (from the DataStore's fields, or the CSV's inferred types), row count, validators.

        Example:
            >>> site = CkanConnector(ckan_url)  # a stand-in CKAN site
            >>> site.describe(ckan_resource).columns[1].data_type
            'number'
        """
        resource = self.resource(dataset_id)
        if resource.datastore_active:
            columns, total = self._store_info(resource)
            return self._description(dataset_id, resource, columns, total, self._fingerprint(resource))
        table, columns = file_table(self._client_for(resource), resource)
        return self._description(dataset_id, resource, columns, table.num_rows)

    def describe_if_changed(
        self, dataset_id: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> DatasetDescription | None:
        """None when the validators are those of ``etag`` (a file resource is then not downloaded).

        A DataStore resource's validators hold its content fingerprint, so rows updated in place
        (which move neither the metadata nor the count) are seen: one ``datastore_search_sql``
        request, or where the site refuses it, every row read and hashed.
        """
        resource = self.resource(dataset_id)
        if resource.datastore_active:
            columns, total = self._store_info(resource)
            content = self._fingerprint(resource)
            if etag is not None and etag == self._etag(resource, total, content):
                return None
            return self._description(dataset_id, resource, columns, total, content)
        if etag is not None and etag == self._etag(resource, None):
            return None
        table, columns = file_table(self._client_for(resource), resource)
        return self._description(dataset_id, resource, columns, table.num_rows)

    def datasets(self, q: str | None = None, limit: int = 100) -> list[DatasetSummary]:
        """Packages with a table to pull (DataStore or CSV), by ``package_search``; ids are package names.

        Example:
            >>> site = CkanConnector(ckan_url)  # a stand-in CKAN site
            >>> [d.id for d in site.datasets("cases", limit=5)]
            ['cases']
        """
        result = action(self.http, "package_search", q=q or "*:*", rows=limit)
        host = urlsplit(self.url).hostname
        out = []
        for package in result.get("results") or []:
            resources = [CkanResource.from_json(r, package) for r in package.get("resources") or []]
            if not any(r.is_table for r in resources):
                continue
            name = str(package.get("name") or package["id"])
            out.append(
                DatasetSummary(
                    id=name,
                    name=str(package.get("title") or name),
                    description=str(package.get("notes") or ""),
                    domain=host,
                    updated_at=package.get("metadata_modified"),
                    link=f"{self.url}/dataset/{name}",
                )
            )
        return out

    # -- rows --------------------------------------------------------------------------------
    def iter_batches(
        self, dataset_id: str, *, q: str | None = None, **options: Unpack[PullOptions]
    ) -> Iterator[pa.RecordBatch]:
        """Rows as typed record batches, one per page, in ``_id`` order unless ``order`` says otherwise.

        ``where``: equality joined by AND runs as DataStore ``filters``; other comparisons need
        the site's ``datastore_search_sql``. ``select``: field names. ``since``: refused (rows
        carry no update time). ``q``: the DataStore's full-text search (with ``filters`` only).

        Example:
            >>> site = CkanConnector(ckan_url)  # a stand-in CKAN site
            >>> batches = site.iter_batches("cases", where="closed = true")
            >>> next(batches).num_rows
            40
        """
        if options.get("since") is not None:
            raise UsageError(
                "CKAN rows carry no update time, so a pull cannot ask for rows since a moment. "
                "Filter on a date field with where (e.g. \"opened >= '2024-01-01'\"), or sync: a sync "
                "re-pulls the resource when its metadata_modified changes.",
                code="ckan.since",
            )
        select, order = parse_select(options.get("select")), parse_order(options.get("order"))
        plan = plan_where(options.get("where"))
        resource = self.resource(dataset_id)
        if q and (plan.sql is not None or not resource.datastore_active):
            raise UsageError(
                "CKAN runs a full-text q only in datastore_search, with field = value filters: drop q, "
                "or write the where as equalities joined by AND.",
                code="ckan.q",
            )
        query = RowQuery(select, order, plan.filters, plan.sql, options.get("where"), q)
        if not resource.datastore_active:
            yield from file_batches(self._client_for(resource), resource, query, self.pager)
        elif plan.sql is not None:
            yield from sql_pages(self.http, resource, query, self.pager)
        else:
            yield from search_pages(self.http, resource, query, self.pager)
