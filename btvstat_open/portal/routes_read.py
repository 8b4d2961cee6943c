"""SODA 2.1 reads: ``GET /resource/{id}.json|.csv|.geojson``, one row, and the full CSV export.

Reads run on the query pool within the query budget (see :mod:`btvstat_open.web.budget` and
:mod:`btvstat_open.web.replies`); each query runs on its own DuckDB cursor and streams.
Every response carries ``X-SODA2-Fields``, ``X-SODA2-Types``, ``X-SODA2-Legacy-Types``,
``Last-Modified`` and an ``ETag`` made of the dataset's version and the query, and a matching
``If-None-Match`` gets a 304 without running anything. A private dataset is a 404 to a reader
without the write token.

The export (``rows.csv``, SODA 3 ``export.csv``) is headed with the columns' display names
(``CASE ID``), as Socrata's "Export CSV" is; ``/resource/{id}.csv`` keeps field names.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import duckdb
from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from btvstat_open.encode import json_batch
from btvstat_open.errors import NotFound
from btvstat_open.portal.as_known import as_known, as_of_day, history_headers
from btvstat_open.portal.context import Portal, PortalContext, epoch_seconds, http_date
from btvstat_open.portal.stream import (
    FORMATS,
    BodyEncoder,
    conditional_headers,
    not_modified,
    open_query,
    query_etag,
    soda_headers,
)
from btvstat_open.store import DatasetInfo, quote_ident
from btvstat_open.types import duckdb_type
from btvstat_open.web.budget import check_columns
from btvstat_open.web.conditional import last_modified
from btvstat_open.web.files import file_response
from btvstat_open.web.replies import Reply, answer

__all__ = [
    "QueryPlan",
    "export_plan",
    "export_response",
    "export_sql",
    "respond_with_query",
    "router",
    "row_plan",
    "soql_plan",
]


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
        >>> export_sql(info)
        'SELECT "case_id", "source", ... FROM "ds_kc-311-potholes" ORDER BY ":id"'
    """
    columns = info.all_columns if system else info.columns
    select = ", ".join(quote_ident(c.field_name) for c in columns) or '":id"'
    return f'SELECT {select} FROM {info.table} ORDER BY ":id"'


@dataclass
class QueryPlan:
    """A compiled read, ready to run: its SQL, the output types, and how it is answered.

    ``etag_key`` adds what the URL does not show (a POST body) to the ETag; ``csv_header``
    replaces the field names heading a CSV. ``one_row`` names the row a single-row read asked
    for: JSON is then the row object itself, and no row is a 404.
    """

    info: DatasetInfo
    fmt: str
    sql: str
    params: Sequence[Any]
    data_types: Sequence[str]
    extra_headers: dict[str, str] = field(default_factory=dict)
    etag_key: str = ""
    csv_header: Sequence[str] | None = None
    one_row: str | None = None


async def respond_with_query(
    ctx: PortalContext, request: Request, plan: Callable[[], QueryPlan], *, export: bool = False
) -> Response:
    """Plan (``plan()`` runs on a query worker), run and answer a read within the query budget.

    The answer has the chosen format and SODA headers, or is a 304 without running anything. An
    ``export`` runs under the export time limit with no byte cap (its size is the dataset's own).
    """
    settings = ctx.settings
    seconds, limit = (
        (settings.export_timeout_seconds, "export_timeout_seconds")
        if export
        else (settings.query_timeout_seconds, "query_timeout_seconds")
    )
    return await answer(
        ctx.pools.queries,
        request,
        lambda: ctx.store.cursor().cursor(),
        lambda cursor: _reply(ctx, request, plan(), cursor, export=export),
        seconds=seconds,
        limit=limit,
    )


def _reply(
    ctx: PortalContext, request: Request, plan: QueryPlan, cursor: duckdb.DuckDBPyConnection, *, export: bool
) -> Reply | Response:
    """Run a planned query on ``cursor`` and encode its first batch (a 304 if the client is current)."""
    info = plan.info
    etag = query_etag(info, request, f"{request.method} {request.url.path} {plan.etag_key}")
    last_modified_at = max(info.rows_updated_at, info.view_last_modified)
    headers = conditional_headers(info, etag, http_date(last_modified_at), ctx.settings.cache_max_age)
    if not_modified(request, etag, epoch_seconds(last_modified_at)):
        return Response(status_code=304, headers=headers)
    stream = open_query(cursor, plan.sql, plan.params, plan.data_types, ctx.settings.batch_size)
    headers.update(soda_headers(stream.field_names, stream.data_types))
    headers.update(plan.extra_headers)
    if plan.one_row is not None:
        if stream.first.num_rows == 0:
            raise NotFound(
                f"Dataset {info.id!r} has no row {plan.one_row!r}; rows are named by the row identifier "
                f"({info.row_identifier or ':id'}) or :id.",
                code="row.missing",
                data={"id": plan.one_row},
            )
        if plan.fmt == "json":
            body = json_batch(stream.first.slice(0, 1), stream.data_types)
            return Reply(body, None, FORMATS["json"], headers, None)
    encoder = BodyEncoder(plan.fmt, stream.data_types, csv_header=plan.csv_header)
    first = encoder.first(stream.first)
    max_bytes = None if export else ctx.settings.max_response_bytes
    if stream.exhausted:
        return Reply(first + (encoder.next(None) or b""), None, FORMATS[plan.fmt], headers, max_bytes)
    return Reply(first, lambda: encoder.next(stream.next_batch()), FORMATS[plan.fmt], headers, max_bytes)


def export_plan(info: DatasetInfo) -> QueryPlan:
    """The whole dataset as a CSV download ordered by ``:id`` (SODA 2.1 ``rows.csv`` and SODA 3 export).

    Example:
        >>> export_plan(info).extra_headers["Content-Disposition"]
        'attachment; filename="kc-311-potholes.csv"'
    """
    return QueryPlan(
        info,
        "csv",
        export_sql(info),
        [],
        [c.data_type for c in info.columns],
        extra_headers={"Content-Disposition": f'attachment; filename="{info.id}.csv"'},
        csv_header=[c.name for c in info.columns],
    )


async def export_response(ctx: PortalContext, request: Request, dataset_id: str) -> Response:
    """The whole dataset as CSV, written once per version within the export budget, then answered
    from that file with ``Content-Length`` and ``Range`` (see :mod:`btvstat_open.web.files`).

    A read of the past (``$$as_of``, :mod:`btvstat_open.portal.as_known`) is streamed, uncached."""
    pairs = list(request.query_params.multi_items())
    if as_of_day(pairs) is not None:
        return await _export_as_known(ctx, request, dataset_id, pairs)
    info = await run_in_threadpool(ctx.readable, dataset_id, request)
    plan = export_plan(info)
    etag = query_etag(info, request, f"{request.method} {request.url.path} {plan.etag_key}")
    modified, modified_epoch = last_modified(info)
    headers = conditional_headers(info, etag, modified, ctx.settings.cache_max_age)
    if not_modified(request, etag, modified_epoch):
        return Response(status_code=304, headers=headers)
    headers.update(soda_headers([c.field_name for c in info.columns], list(plan.data_types)))
    headers.update(plan.extra_headers)
    path = await ctx.files.ensure(
        ctx.files.path(info, "export.csv"),
        ctx.pools.queries,
        request,
        lambda: ctx.store.cursor().cursor(),
        lambda cursor: _whole(ctx, request, plan, cursor),
        seconds=ctx.settings.export_timeout_seconds,
        limit="export_timeout_seconds",
    )
    return file_response(path, FORMATS["csv"], headers)


def _whole(ctx: PortalContext, request: Request, plan: QueryPlan, cursor: duckdb.DuckDBPyConnection) -> Reply:
    """The export's first chunk and the way to the rest (never a 304: that was answered before)."""
    reply = _reply(ctx, request, plan, cursor, export=True)
    assert isinstance(reply, Reply)
    return reply


async def _export_as_known(
    ctx: PortalContext, request: Request, dataset_id: str, pairs: list[tuple[str, str]]
) -> Response:
    """The whole dataset as known at the end of a past day, streamed within the export budget."""

    def plan() -> QueryPlan:
        info = as_known(ctx.store, ctx.settings, request, ctx.readable(dataset_id, request), pairs)
        planned = export_plan(info)
        planned.extra_headers.update(history_headers(info))
        return planned

    return await respond_with_query(ctx, request, plan, export=True)


def row_sql(info: DatasetInfo, *, system: bool) -> str:
    """SQL for the row whose row identifier (or ``:id``) is the one parameter given twice.

    Example:
        >>> row_sql(info, system=False)
        'SELECT "case_id", ... WHERE "case_id" = TRY_CAST(? AS DOUBLE) OR ":id" = ? ORDER BY ":id" LIMIT 1'
    """
    columns = info.all_columns if system else info.columns
    select = ", ".join(quote_ident(c.field_name) for c in columns) or '":id"'
    key = info.row_identifier or ":id"
    key_type = duckdb_type(info.require_column(key).data_type)
    return (
        f"SELECT {select} FROM {info.table} "
        f'WHERE {quote_ident(key)} = TRY_CAST(? AS {key_type}) OR ":id" = ? ORDER BY ":id" LIMIT 1'
    )


def row_plan(info: DatasetInfo, row: str, fmt: str, pairs: list[tuple[str, str]]) -> QueryPlan:
    """One row by row identifier value or ``:id``; ``$$exclude_system_fields=false`` adds system fields."""
    from btvstat_open.soql import QueryParams

    system = QueryParams.from_request([(k, v) for k, v in pairs if k.startswith("$$")]).system_fields
    columns = info.all_columns if system else info.columns
    return QueryPlan(
        info, fmt, row_sql(info, system=system), [row, row], [c.data_type for c in columns], one_row=row
    )


router = APIRouter()
"""Routes for ``/resource/{id}.{fmt}``, ``/resource/{id}/{row}.{fmt}`` and the CSV export."""


@router.get("/resource/{resource}", tags=["SODA 2.1"], summary="Query a dataset with SoQL")
async def read_resource(resource: str, request: Request, ctx: Portal) -> Response:
    """Rows of a dataset as JSON, CSV or GeoJSON, filtered and shaped by SoQL parameters."""
    dataset_id, fmt = split_resource(resource)
    pairs = list(request.query_params.multi_items())
    return await respond_with_query(ctx, request, lambda: soql_plan(ctx, request, dataset_id, fmt, pairs))


@router.get("/api/views/{dataset_id}/rows.csv", tags=["SODA 2.1"], summary="Download a whole dataset")
async def export_rows(dataset_id: str, request: Request, ctx: Portal) -> Response:
    """Every row as CSV headed by display names, ordered by ``:id``, streamed.

    ``accessType=DOWNLOAD`` is accepted (and changes nothing).
    """
    return await export_response(ctx, request, dataset_id)


@router.get("/resource/{dataset_id}/{row}", tags=["SODA 2.1"], summary="Read one row")
async def read_row(dataset_id: str, row: str, request: Request, ctx: Portal) -> Response:
    """The row with this row identifier value or ``:id``, as a JSON object (``.json``), CSV or GeoJSON.

    ``$$exclude_system_fields=false`` adds ``:id``, ``:created_at`` and ``:updated_at``.
    """
    row_id, fmt = split_resource(row)
    pairs = list(request.query_params.multi_items())
    return await respond_with_query(
        ctx, request, lambda: row_plan(ctx.readable(dataset_id, request), row_id, fmt, pairs)
    )


def soql_plan(
    ctx: PortalContext,
    request: Request,
    dataset_id: str,
    fmt: str,
    pairs: list[tuple[str, str]],
    *,
    limits: tuple[int | None, int | None] | None = None,
) -> QueryPlan:
    """Compile SoQL request parameters over a dataset (on a worker: it reads the store).

    ``limits`` is ``(default_limit, max_limit)``, by default the settings' (``max_limit`` 0 is
    no cap). More output columns than the budget allows is a 400; a private dataset is a 404
    without the write token.
    """
    from btvstat_open.soql import QueryParams, compile_soql

    info = as_known(ctx.store, ctx.settings, request, ctx.readable(dataset_id, request), pairs)
    settings = ctx.settings
    default_limit, max_limit = limits or (settings.default_limit, settings.max_limit or None)
    compiled = compile_soql(
        QueryParams.from_request(pairs), info, default_limit=default_limit, max_limit=max_limit
    )
    check_columns(len(compiled.columns), len(info.all_columns), settings.max_columns)
    types = [c.data_type for c in compiled.columns]
    return QueryPlan(info, fmt, compiled.sql, compiled.params, types, extra_headers=history_headers(info))
