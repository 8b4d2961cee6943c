"""The Opendatasoft connector: Explore API v2.1 catalog, dataset schema and Parquet/CSV exports.

The records endpoint answers at most 100 rows a request and refuses ``offset + limit`` past
10,000, so every pull (small ones too: a pull has no row limit to make the records endpoint
the cheaper one) uses an export instead: one request for every matching row, streamed to a
temporary file (retried whole if it is cut off), then read in typed batches. The export is
``/exports/parquet`` when the dataset's ``/exports`` listing offers it (asked once per dataset
per connector), else ``/exports/csv``; both are cast to the dataset schema's columns.
``where``, ``select`` and ``order`` pass to the portal as ODSQL ``where``, ``select`` and
``order_by``: ODSQL is close to SoQL for comparisons, AND/OR/NOT, ``IN``, ``IS NULL`` and
``ORDER BY``-style lists; see docs/connectors.md for where they differ.

Exports carry no record timestamps in v2.1, so there is no ``changes`` capability: a sync
re-pulls the dataset whole when ``data_processed`` or ``metadata_processed`` moves.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar, Unpack
from urllib.parse import quote, urlsplit

import orjson
import pyarrow as pa
import requests

from btvstat_open.errors import (
    DatasetNotFound,
    LoadError,
    PortalNotFound,
    PortalRequestError,
    PortalResponseError,
    UsageError,
)
from btvstat_open.instants import parse_instant
from btvstat_open.types import Column
from connectors.base import Capability, Connector, DatasetDescription, DatasetSummary, PullOptions
from connectors.counts import checked
from connectors.http import ErrorBody, HttpClient, read_error_body
from connectors.opendatasoft.exports import columns_from_fields, read_export
from connectors.opendatasoft.parquet import read_parquet_export
from connectors.options import HttpOptions

__all__ = ["API", "OpendatasoftConnector", "formats_offered"]

API = "/api/explore/v2.1"


def read_ods_error(resp: requests.Response) -> ErrorBody:
    """An Opendatasoft error body (``{"error_code": "ODSQLError", "message": ...}``) for the HTTP client.

    Example:
        >>> r = requests.Response()
        >>> r._content = b'{"error_code": "ODSQLError", "message": "Unknown field"}'
        >>> read_ods_error(r)
        ErrorBody(message='Unknown field', code='ODSQLError', data=None)
    """
    found = read_error_body(resp)  # the message, as every kind writes it
    with contextlib.suppress(orjson.JSONDecodeError):
        body = orjson.loads(resp.content or b"null")
        if isinstance(body, dict) and body.get("error_code"):
            return replace(found, code=str(body["error_code"]))
    return found


def formats_offered(body: Any) -> frozenset[str]:
    """The formats an ``/exports`` answer lists (its ``links``' ``rel``s); CSV when it lists none.

    Example:
        >>> sorted(formats_offered({"links": [{"rel": "self"}, {"rel": "csv"}, {"rel": "parquet"}]}))
        ['csv', 'parquet']
        >>> sorted(formats_offered(None))
        ['csv']
    """
    links = body.get("links") if isinstance(body, dict) else None
    found = {
        str(link.get("rel")).lower()
        for link in links or []
        if isinstance(link, dict) and link.get("rel") not in (None, "self")
    }
    return frozenset(found or {"csv"})


#: Seconds a request may take: whole-dataset exports are slow to start, so longer than other kinds'.
EXPORT_TIMEOUT = 120.0


class OpendatasoftConnector(Connector):
    """An Opendatasoft portal (Explore API v2.1).

    ``timezone`` is the zone ``datetime`` fields are written in (an IANA name such as
    ``America/New_York``); pulled values are that zone's wall times.

    Example:
        >>> burlington = OpendatasoftConnector("https://data.burlingtonvt.gov", timezone="America/New_York")
        >>> burlington.kind, burlington.supports("push")
        ('opendatasoft', False)
        >>> site = OpendatasoftConnector(ods_url)  # a stand-in portal
        >>> site.pull("cases", where="amount > 10").num_rows
        36
    """

    kind: ClassVar[str] = "opendatasoft"
    capabilities: ClassVar[frozenset[Capability]] = frozenset()
    unsupported_reasons: ClassVar[dict[str, str]] = {
        "push": (
            "btvstat-open reads from Opendatasoft but does not write to it; "
            "publish to a Socrata-style portal."
        ),
        "create": (
            "btvstat-open does not create Opendatasoft datasets; create it in the portal's back office."
        ),
        "changes": (
            "Opendatasoft exports carry no record timestamps, so changed rows cannot be listed; a sync "
            "re-pulls the dataset whole when its data_processed or metadata_processed stamp moves."
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
        timezone: str = "UTC",
        api_key: str | None = None,
    ) -> None:
        self.url = url.rstrip("/").split("/api/explore")[0].split("/explore/")[0]
        self.timezone = timezone
        timeout = EXPORT_TIMEOUT if timeout is None else timeout
        http = HttpOptions.of(
            session=session, timeout=timeout, retries=retries, backoff=backoff, max_wait=max_wait
        )
        self.http = HttpClient(
            self.url,
            read_error=read_ods_error,
            session=http.session,
            retry=http.retry,
            timeout=http.timeout,
            headers={"Authorization": f"Apikey {api_key}"} if api_key else None,
        )
        # Which export formats each dataset offers: one question per dataset per connector.
        self._formats: dict[str, frozenset[str]] = {}

    def __repr__(self) -> str:
        return f"OpendatasoftConnector({self.url!r})"

    def close(self) -> None:
        """Release the connector's connections."""
        self.http.close()

    def _dataset(self, dataset_id: str) -> dict[str, Any]:
        try:
            body = self.http.get_json(self._path(dataset_id))
        except PortalNotFound as exc:
            raise DatasetNotFound(
                dataset_id, f"{self.url} has no Opendatasoft dataset {dataset_id!r}. Check the dataset id."
            ) from exc
        if not isinstance(body, dict) or "fields" not in body:
            raise UsageError(f"{self.url} did not answer like an Opendatasoft Explore v2.1 portal.")
        return body

    def describe(self, dataset_id: str) -> DatasetDescription:
        """Columns from the dataset's schema, the record count and the processing stamps.

        Example:
            >>> site = OpendatasoftConnector(ods_url)  # a stand-in portal
            >>> site.describe("cases").columns[0].data_type
            'text'
        """
        body = self._dataset(dataset_id)
        meta = (body.get("metas") or {}).get("default") or {}
        count = meta.get("records_count")
        return DatasetDescription(
            id=str(body.get("dataset_id") or dataset_id),
            name=str(meta.get("title") or dataset_id),
            columns=columns_from_fields(body.get("fields") or []),
            description=str(meta.get("description") or ""),
            row_count=int(count) if count is not None else None,
            last_modified=parse_instant(meta.get("modified")),
            rows_updated_at=parse_instant(meta.get("data_processed")),
            etag=f'"{meta.get("data_processed") or ""}|{meta.get("metadata_processed") or ""}"',
            last_modified_header=meta.get("modified"),
        )

    def describe_if_changed(
        self, dataset_id: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> DatasetDescription | None:
        """None when the processing stamps are those of ``etag``."""
        desc = self.describe(dataset_id)
        return None if etag is not None and desc.etag == etag else desc

    def datasets(self, q: str | None = None, limit: int = 100) -> list[DatasetSummary]:
        """Datasets of the catalog (a full-text ``q`` search when given), at most ``limit``.

        Example:
            >>> site = OpendatasoftConnector(ods_url)  # a stand-in portal
            >>> [d.id for d in site.datasets("cases")]
            ['cases']
        """
        params: dict[str, str | int] = {}
        if q:
            params["where"] = '"' + q.replace("\\", "\\\\").replace('"', '\\"') + '"'
        host = urlsplit(self.url).hostname
        out: list[DatasetSummary] = []
        for item in self._catalog(params, limit):
            meta = (item.get("metas") or {}).get("default") or {}
            dataset_id = str(item["dataset_id"])
            out.append(
                DatasetSummary(
                    id=dataset_id,
                    name=str(meta.get("title") or dataset_id),
                    description=str(meta.get("description") or ""),
                    domain=host,
                    updated_at=meta.get("modified"),
                    columns=tuple(str(f["name"]) for f in item.get("fields") or []),
                    link=f"{self.url}/explore/dataset/{dataset_id}/",
                )
            )
        return out

    def _catalog(self, params: dict[str, str | int], limit: int) -> Iterator[dict[str, Any]]:
        """Catalog entries, 100 a request (the API's most), until ``limit`` or the end."""
        offset = 0
        while offset < limit:
            size = min(100, limit - offset)
            body = self.http.get_json(f"{API}/catalog/datasets", {**params, "limit": size, "offset": offset})
            results = body.get("results") or []
            yield from results
            offset += len(results)
            if len(results) < size:
                return

    def iter_batches(self, dataset_id: str, **options: Unpack[PullOptions]) -> Iterator[pa.RecordBatch]:
        """Rows of one export as typed record batches (``where``/``select``/``order`` are ODSQL).

        The export is Parquet when the portal offers it for the dataset (``export_formats``),
        else CSV; both give the same table.

        Without ``order`` the rows come in the portal's order, which differs between exports;
        give ``order`` for a stable one. ``since`` is refused (no record timestamps).

        Example:
            >>> site = OpendatasoftConnector(ods_url)  # a stand-in portal
            >>> batches = site.iter_batches("cases", select="case_id, amount")
            >>> next(batches).num_columns
            2
        """
        if options.get("since") is not None:
            raise UsageError(
                "Opendatasoft exports carry no record timestamps, so a pull cannot ask for rows since "
                "a moment. Filter on a date field with where (e.g. \"modified >= '2024-01'\"), or sync: "
                "a sync re-pulls the dataset when it is processed again.",
                code="opendatasoft.since",
            )
        desc = self.describe(dataset_id)
        yield from checked(
            self._export_batches(dataset_id, desc.columns, options),
            expected=desc.row_count
            if not options.get("where")
            else self.count(dataset_id, options.get("where")),
            recount=lambda: self.count(dataset_id, options.get("where")),
            what=f"Opendatasoft dataset {dataset_id!r} at {self.url}",
        )

    def count(self, dataset_id: str, where: str | None = None) -> int | None:
        """How many records match ``where`` (ODSQL), by the records endpoint's ``total_count``.

        Example:
            >>> OpendatasoftConnector(ods_url).count("cases", "amount > 10")  # a stand-in portal
            36
        """
        params: dict[str, str | int] = {"limit": 0}
        if where and where.strip():
            params["where"] = where
        total = self.http.get_json(f"{self._path(dataset_id)}/records", params).get("total_count")
        return None if total is None else int(total)

    def _export_batches(
        self, dataset_id: str, columns: tuple[Column, ...], options: PullOptions
    ) -> Iterator[pa.RecordBatch]:
        """The rows of one export (Parquet where offered, else CSV), typed by ``columns``."""
        fmt = "parquet" if "parquet" in self.export_formats(dataset_id) else "csv"
        params: dict[str, str | int] = {"timezone": self.timezone}
        if fmt == "csv":
            params.update({"delimiter": ";", "with_bom": "false"})
        for option, name in (("where", "where"), ("select", "select"), ("order", "order_by")):
            value = options.get(option)
            if isinstance(value, str) and value.strip():
                params[name] = value
        fd, temp = tempfile.mkstemp(prefix="btvstat-ods-", suffix=f".{fmt}")
        os.close(fd)
        path = Path(temp)
        export = f"{self._path(dataset_id)}/exports/{fmt}"
        try:
            self.http.download(export, path, params=params)
            if fmt == "parquet":
                yield from read_parquet_export(path, columns, self.timezone)
            else:
                yield from read_export(path, columns)
        except (pa.ArrowException, LoadError) as exc:  # complete but malformed or a bomb: not retried
            raise PortalResponseError(
                f"The {'Parquet' if fmt == 'parquet' else 'CSV'} export of {dataset_id!r} from {self.url} "
                f"does not parse ({exc}). "
                "Report it to the portal, or pull with a select that leaves the column out.",
                code="opendatasoft.bad-export",
            ) from exc
        finally:
            with contextlib.suppress(OSError):
                path.unlink()

    def export_formats(self, dataset_id: str) -> frozenset[str]:
        """The export formats the portal offers for a dataset (asked once, then remembered).

        A portal without the ``/exports`` listing (or refusing it) is taken to offer CSV only.

        Example:
            >>> site = OpendatasoftConnector(ods_url)  # a stand-in portal
            >>> "csv" in site.export_formats("cases")
            True
        """
        known = self._formats.get(dataset_id)
        if known is None:
            try:
                body = self.http.get_json(f"{self._path(dataset_id)}/exports")
            except (PortalNotFound, PortalRequestError):
                body = None
            known = formats_offered(body)
            self._formats[dataset_id] = known
        return known

    def _path(self, dataset_id: str) -> str:
        return f"{API}/catalog/datasets/{quote(dataset_id, safe='')}"
