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

import contextlib
from collections.abc import Iterator
from typing import Any, ClassVar, Unpack
from urllib.parse import urlsplit

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import requests

from btvstat_open import read_file
from btvstat_open.errors import (
    DatasetNotFound,
    PortalAuthError,
    PortalNotFound,
    PortalRequestError,
    UsageError,
)
from btvstat_open.types import Column
from connectors.base import Capability, Connector, DatasetDescription, DatasetSummary, PullOptions
from connectors.ckan.api import (
    ACTION,
    CkanResource,
    action,
    ckan_error_message,
    decoded_metadata,
    parse_stamp,
    resolve,
)
from connectors.ckan.fields import columns_from_fields, records_to_batch
from connectors.ckan.query import parse_order, parse_select, plan_where, quote_name
from connectors.portal_http import PortalHttp
from connectors.socrata.retry import RetryPolicy

__all__ = ["CkanConnector"]

_SQL_REFUSED = (
    "this CKAN site does not run datastore_search_sql (sites often switch it off), and "
    "datastore_search filters by equality only"
)


class CkanConnector(Connector):
    """A CKAN site (Action API v3 and, where the site runs it, the DataStore).

    Example:
        >>> portal = CkanConnector("https://data.gov.sg")
        >>> portal.kind, portal.supports("changes")
        ('ckan', False)
        >>> portal.pull("a807b7ab-6cad-4aa6-87d0-e283a7353a0f").num_rows  # doctest: +SKIP
        59
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
        retry: RetryPolicy | None = None,
        timeout: float = 60.0,
        page_size: int = 5_000,
        api_key: str | None = None,
    ) -> None:
        self.url = url.rstrip("/").split(ACTION.rstrip("/"))[0].split("/api/action")[0]
        self.page_size = page_size
        self.http = PortalHttp(
            self.url, session=session, retry=retry, timeout=timeout, error_message=ckan_error_message
        )
        if api_key:
            self.http.session.headers["Authorization"] = api_key

    def close(self) -> None:
        """Release the connector's connections."""
        self.http.close()

    # -- metadata ----------------------------------------------------------------------------
    def resource(self, dataset_id: str) -> CkanResource:
        """The resource ``dataset_id`` means (a resource id, or a package's DataStore resource).

        Example:
            >>> portal.resource("2016-regione-asia-est-oceania-classi-di-eta").id  # doctest: +SKIP
            'a5cd573b-5565-48f1-9b2d-8726004cb020'
        """
        return resolve(self.http, dataset_id)

    def package(self, name_or_id: str) -> dict[str, Any]:
        """A package's metadata, with JSON held inside strings (ckanext-scheming) decoded.

        Example:
            >>> name = "fatal-avalanche-accidents-in-switzerland-since-1936-37"
            >>> meta = portal.package(name)  # doctest: +SKIP
            >>> meta["spatial"]["type"]  # doctest: +SKIP
            'Polygon'
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

    @staticmethod
    def _etag(resource: CkanResource, total: int | None) -> str:
        modified = resource.package.get("metadata_modified") or ""
        return f'"{modified}|{resource.last_modified or ""}|{"" if total is None else total}"'

    def _description(
        self, dataset_id: str, resource: CkanResource, columns: tuple[Column, ...], total: int | None
    ) -> DatasetDescription:
        package = resource.package
        title = str(package.get("title") or package.get("name") or resource.name)
        return DatasetDescription(
            id=dataset_id,
            name=title,
            columns=columns,
            description=str(package.get("notes") or ""),
            row_count=total,
            last_modified=parse_stamp(package.get("metadata_modified")),
            rows_updated_at=parse_stamp(resource.last_modified),
            etag=self._etag(resource, total if resource.datastore_active else None),
            last_modified_header=package.get("metadata_modified"),
        )

    def describe(self, dataset_id: str) -> DatasetDescription:
        """Columns (from the DataStore's fields, or the CSV's inferred types), row count, validators.

        Example:
            >>> portal.describe("a807b7ab-6cad-4aa6-87d0-e283a7353a0f").columns[1].data_type  # doctest: +SKIP
            'number'
        """
        resource = self.resource(dataset_id)
        if resource.datastore_active:
            columns, total = self._store_info(resource)
        else:
            table, columns = self._file_table(resource)
            total = table.num_rows
        return self._description(dataset_id, resource, columns, total)

    def describe_if_changed(
        self, dataset_id: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> DatasetDescription | None:
        """None when the validators are those of ``etag`` (a file resource is then not downloaded)."""
        resource = self.resource(dataset_id)
        if resource.datastore_active:
            columns, total = self._store_info(resource)
            if etag is not None and etag == self._etag(resource, total):
                return None
            return self._description(dataset_id, resource, columns, total)
        if etag is not None and etag == self._etag(resource, None):
            return None
        table, columns = self._file_table(resource)
        return self._description(dataset_id, resource, columns, table.num_rows)

    def datasets(self, q: str | None = None, limit: int = 100) -> list[DatasetSummary]:
        """Packages with a table to pull (DataStore or CSV), by ``package_search``; ids are package names.

        Example:
            >>> [d.id for d in portal.datasets("mobile", limit=5)]  # doctest: +SKIP
            ['mobile-data-usage']
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
            >>> where = "quarter = '2004-Q3'"
            >>> batches = portal.iter_batches("mobile-data-usage", where=where)  # doctest: +SKIP
            >>> next(batches).num_rows  # doctest: +SKIP
            1
        """
        if options.get("since") is not None:
            raise UsageError(
                "CKAN rows carry no update time, so a pull cannot ask for rows since a moment. "
                "Filter on a date field with where (e.g. \"opened >= '2024-01-01'\"), or sync: a sync "
                "re-pulls the resource when its metadata_modified changes.",
                code="ckan.since",
            )
        select = parse_select(options.get("select"))
        order = parse_order(options.get("order"))
        plan = plan_where(options.get("where"))
        resource = self.resource(dataset_id)
        if q and (plan.sql is not None or not resource.datastore_active):
            raise UsageError(
                "CKAN runs a full-text q only in datastore_search, with field = value filters: drop q, "
                "or write the where as equalities joined by AND.",
                code="ckan.q",
            )
        if not resource.datastore_active:
            yield from self._file_batches(
                resource, select, order, plan.filters, plan.sql, options.get("where")
            )
        elif plan.sql is not None:
            yield from self._sql_pages(resource, select, order, plan.sql, str(options.get("where")))
        else:
            yield from self._search_pages(resource, select, order, plan.filters, q)

    def _search_pages(
        self,
        resource: CkanResource,
        select: list[str] | None,
        order: list[tuple[str, bool]],
        filters: dict[str, Any],
        q: str | None,
    ) -> Iterator[pa.RecordBatch]:
        sort = ", ".join([*(f"{quote_name(n)} {'desc' if d else 'asc'}" for n, d in order), '"_id" asc'])
        params: dict[str, str | int] = {"resource_id": resource.id, "limit": self.page_size, "sort": sort}
        if select:
            params["fields"] = ",".join(select)
        if filters:
            params["filters"] = orjson.dumps(filters).decode()
        if q:
            params["q"] = q
        offset = 0
        while True:
            result = action(self.http, "datastore_search", **params, offset=offset)
            records = result.get("records") or []
            columns = _picked(columns_from_fields(result.get("fields") or []), select)
            if records or offset == 0:
                yield records_to_batch(records, columns)
            offset += len(records)
            total = result.get("total")
            # Stop on total or a short page: _links.next is there even past the end.
            if len(records) < self.page_size or (total is not None and offset >= int(total)):
                return

    def _sql_pages(
        self,
        resource: CkanResource,
        select: list[str] | None,
        order: list[tuple[str, bool]],
        where: str,
        raw: str,
    ) -> Iterator[pa.RecordBatch]:
        names = ", ".join(quote_name(n) for n in select) if select else "*"
        sort = ", ".join([*(f"{quote_name(n)} {'DESC' if d else 'ASC'}" for n, d in order), '"_id" ASC'])
        offset = 0
        while True:
            sql = (
                f"SELECT {names} FROM {quote_name(resource.id)} WHERE {where} "
                f"ORDER BY {sort} LIMIT {self.page_size} OFFSET {offset}"
            )
            try:
                result = action(self.http, "datastore_search_sql", sql=sql)
            except (PortalAuthError, PortalRequestError) as exc:
                # A site without SQL search does not know the action (400) or forbids it (403);
                # any other refusal (409: a bad field name) is the query's and says so itself.
                if exc.status not in (400, 403) and "not known" not in exc.message.lower():
                    raise
                raise UsageError(
                    f"CKAN cannot run the where clause {raw!r} here: {_SQL_REFUSED}. Use field = "
                    "value joined by AND, or pull and filter after.",
                    code="ckan.where",
                ) from exc
            records = result.get("records") or []
            columns = _picked(columns_from_fields(result.get("fields") or []), select)
            if records or offset == 0:
                yield records_to_batch(records, columns)
            offset += len(records)
            if len(records) < self.page_size:
                return

    # -- resources outside the DataStore -----------------------------------------------------
    def _file_table(self, resource: CkanResource) -> tuple[pa.Table, tuple[Column, ...]]:
        if not resource.url:
            raise UsageError(f"Resource {resource.id!r} has no file URL to download.", code="ckan.no-url")
        path = self.http.download(resource.url, suffix=".csv")
        try:
            loaded = read_file(path)
        finally:
            with contextlib.suppress(OSError):
                path.unlink()
        return loaded.table, tuple(loaded.columns)

    def _file_batches(
        self,
        resource: CkanResource,
        select: list[str] | None,
        order: list[tuple[str, bool]],
        filters: dict[str, Any],
        sql: str | None,
        raw: str | None,
    ) -> Iterator[pa.RecordBatch]:
        if sql is not None:
            raise UsageError(
                f"Resource {resource.id!r} is a file outside the DataStore: only field = value filters "
                f"(joined by AND) apply to it, not {raw!r}. Pull it whole and filter after.",
                code="ckan.where",
            )
        table, _ = self._file_table(resource)
        for name, value in filters.items():
            table = table.filter(pc.equal(table[_known(table, name)], pa.scalar(value)))
        if order:
            table = table.sort_by([(_known(table, n), "descending" if d else "ascending") for n, d in order])
        if select:
            table = table.select([_known(table, n) for n in select])
        batches = table.to_batches(max_chunksize=self.page_size)
        yield from batches or [pa.RecordBatch.from_pylist([], schema=table.schema)]


def _known(table: pa.Table, name: str) -> str:
    if name not in table.column_names:
        raise UsageError(f"No field {name!r}; the resource has: {', '.join(table.column_names)}.")
    return name


def _picked(columns: tuple[Column, ...], select: list[str] | None) -> tuple[Column, ...]:
    if not select:
        return columns
    by_name = {c.field_name: c for c in columns}
    return tuple(by_name.get(n) or Column(n, n, "text") for n in select)
