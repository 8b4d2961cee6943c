"""SODA 2.1 reads: ``GET /resource/{id}.json|.csv|.geojson``, one row, and the full CSV export.

Reads are sync routes (FastAPI runs them in its thread pool); each query runs on its own
DuckDB cursor and streams. Every response carries ``X-SODA2-Fields``, ``X-SODA2-Types``,
``X-SODA2-Legacy-Types``, ``Last-Modified`` and an ``ETag`` made of the dataset's version and
the query, and a matching ``If-None-Match`` gets a 304 without running anything. A private
dataset is a 404 to a reader without the write token.

The export (``rows.csv``, SODA 3 ``export.csv``) is headed with the columns' display names
(``CASE ID``), as Socrata's "Export CSV" is; ``/resource/{id}.csv`` keeps field names.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from btvstat_open.errors import NotFound
from btvstat_open.portal.context import PortalContext, epoch_seconds, http_date
from btvstat_open.portal.encode import json_batch
from btvstat_open.portal.handlers import JSON_TYPE
from btvstat_open.portal.stream import (
    FORMATS,
    conditional_headers,
    not_modified,
    open_query,
    query_etag,
    query_response,
    soda_headers,
)
from btvstat_open.store import DatasetInfo, quote_ident
from btvstat_open.types import duckdb_type

__all__ = ["export_response", "export_sql", "read_router", "respond_with_query"]


def split_resource(resource: str) -> tuple[str, str]:
    """``"abcd-1234.json"`` -> ``("abcd-1234", "json")``; unknown formats are a 404.

    Example:
        >>> split_resource("kc-311.csv")
        ('kc-311', 'csv')
    """
    dataset_id, dot, fmt = resource.rpartition(".")
    if not dot:
        return resource, "json"
    if fmt not in FORMATS:
        raise NotFound(f"Unknown format {fmt!r}; ask for .json, .csv or .geojson.", code="format.unsupported")
    return dataset_id, fmt


def export_sql(info: DatasetInfo, *, system: bool = False) -> str:
    """SQL for the whole dataset ordered by ``:id`` (no user input in it).

    Example:
        >>> export_sql(info)  # doctest: +SKIP
        'SELECT "case_id", ... FROM "ds_kc-311" ORDER BY ":id"'
    """
    columns = info.all_columns if system else info.columns
    select = ", ".join(quote_ident(c.field_name) for c in columns) or '":id"'
    return f'SELECT {select} FROM {info.table} ORDER BY ":id"'


def respond_with_query(
    ctx: PortalContext,
    request: Request,
    info: DatasetInfo,
    fmt: str,
    sql: str,
    params: Sequence[Any],
    data_types: Sequence[str],
    *,
    extra_headers: dict[str, str] | None = None,
    etag_key: str | None = None,
    csv_header: Sequence[str] | None = None,
    one_row: str | None = None,
) -> Response:
    """Run a compiled query and answer with the chosen format and SODA headers (or a 304).

    ``etag_key`` adds what the URL does not show (a POST body) to the ETag; ``csv_header``
    replaces the field names heading a CSV. ``one_row`` names the row a single-row read asked
    for: JSON is then the row object itself, and no row is a 404.
    """
    etag = query_etag(info, request, f"{request.method} {request.url.path} {etag_key or ''}")
    last_modified_at = max(info.rows_updated_at, info.view_last_modified)
    headers = conditional_headers(info, etag, http_date(last_modified_at), ctx.settings.cache_max_age)
    if not_modified(request, etag, epoch_seconds(last_modified_at)):
        return Response(status_code=304, headers=headers)
    stream = open_query(ctx.store, sql, params, data_types, ctx.settings.batch_size)
    headers.update(soda_headers(stream.field_names, stream.data_types))
    headers.update(extra_headers or {})
    if one_row is not None:
        if stream.first.num_rows == 0:
            stream.close()
            raise NotFound(
                f"Dataset {info.id!r} has no row {one_row!r}; rows are named by the row identifier "
                f"({info.row_identifier or ':id'}) or :id.",
                code="row.missing",
                data={"id": one_row},
            )
        if fmt == "json":
            stream.close()
            body = json_batch(stream.first.slice(0, 1), stream.data_types)
            return Response(body, media_type=JSON_TYPE, headers=headers)
    return query_response(stream, fmt, headers, csv_header=csv_header)


def export_response(ctx: PortalContext, request: Request, info: DatasetInfo) -> Response:
    """The whole dataset as a CSV download ordered by ``:id`` (SODA 2.1 ``rows.csv`` and SODA 3 export).

    Example:
        >>> export_response(ctx, request, ctx.info("kc-311")).headers["content-disposition"]  # doctest: +SKIP
        'attachment; filename="kc-311.csv"'
    """
    return respond_with_query(
        ctx,
        request,
        info,
        "csv",
        export_sql(info),
        [],
        [c.data_type for c in info.columns],
        extra_headers={"Content-Disposition": f'attachment; filename="{info.id}.csv"'},
        csv_header=[c.name for c in info.columns],
    )


def row_sql(info: DatasetInfo, *, system: bool) -> str:
    """SQL for the row whose row identifier (or ``:id``) is the one parameter given twice.

    Example:
        >>> row_sql(info, system=False)  # doctest: +SKIP
        'SELECT "case_id", ... FROM "ds_kc-311" WHERE "case_id" = TRY_CAST(? AS VARCHAR) OR ":id" = ? LIMIT 1'
    """
    columns = info.all_columns if system else info.columns
    select = ", ".join(quote_ident(c.field_name) for c in columns) or '":id"'
    key = info.row_identifier or ":id"
    key_type = duckdb_type(info.column(key).data_type)
    return (
        f"SELECT {select} FROM {info.table} "
        f'WHERE {quote_ident(key)} = TRY_CAST(? AS {key_type}) OR ":id" = ? ORDER BY ":id" LIMIT 1'
    )


def read_router(ctx: PortalContext) -> APIRouter:
    """Routes for ``/resource/{id}.{fmt}``, ``/resource/{id}/{row}.{fmt}`` and the CSV export."""
    router = APIRouter()

    @router.get("/resource/{resource}", tags=["SODA 2.1"], summary="Query a dataset with SoQL")
    def read_resource(resource: str, request: Request) -> Response:
        """Rows of a dataset as JSON, CSV or GeoJSON, filtered and shaped by SoQL parameters."""
        from btvstat_open.portal.soql import QueryParams, compile_soql

        dataset_id, fmt = split_resource(resource)
        info = ctx.readable(dataset_id, request)
        params = QueryParams.from_request(list(request.query_params.multi_items()))
        compiled = compile_soql(
            params, info, default_limit=ctx.settings.default_limit, max_limit=ctx.settings.max_limit
        )
        return respond_with_query(
            ctx,
            request,
            info,
            fmt,
            compiled.sql,
            compiled.params,
            [c.data_type for c in compiled.columns],
        )

    @router.get("/api/views/{dataset_id}/rows.csv", tags=["SODA 2.1"], summary="Download a whole dataset")
    def export_rows(dataset_id: str, request: Request) -> Response:
        """Every row as CSV headed by display names, ordered by ``:id``, streamed.

        ``accessType=DOWNLOAD`` is accepted (and changes nothing).
        """
        return export_response(ctx, request, ctx.readable(dataset_id, request))

    @router.get("/resource/{dataset_id}/{row}", tags=["SODA 2.1"], summary="Read one row")
    def read_row(dataset_id: str, row: str, request: Request) -> Response:
        """The row with this row identifier value or ``:id``, as a JSON object (``.json``), CSV or GeoJSON.

        ``$$exclude_system_fields=false`` adds ``:id``, ``:created_at`` and ``:updated_at``.
        """
        from btvstat_open.portal.soql import QueryParams

        row_id, fmt = split_resource(row)
        info = ctx.readable(dataset_id, request)
        system = QueryParams.from_request(
            [(k, v) for k, v in request.query_params.multi_items() if k.startswith("$$")]
        ).system_fields
        columns = info.all_columns if system else info.columns
        return respond_with_query(
            ctx,
            request,
            info,
            fmt,
            row_sql(info, system=system),
            [row_id, row_id],
            [c.data_type for c in columns],
            one_row=row_id,
        )

    return router
