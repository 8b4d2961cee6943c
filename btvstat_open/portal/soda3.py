"""SODA 3: ``POST|GET /api/v3/views/{id}/query.json`` and ``GET /api/v3/views/{id}/export.csv``.

The query body is Socrata's: ``{"query": "SELECT ...", "page": {"pageNumber": n, "pageSize":
m}, "includeSynthetic": false}``; a GET carries the same as query parameters (``query``,
``pageNumber``, ``pageSize``, ``includeSynthetic``). Rows come back as SODA 2.1 JSON rows;
``includeSynthetic: true`` adds the system fields to ``*``. Paging imposes an order (the
query's own ``ORDER BY``, else ``:id``) so pages never overlap.

Socrata requires an app token on SODA 3. Here it is optional unless the
``soda3_require_app_token`` setting is on, in which case a request without ``X-App-Token``
(or the write token) is a 403, as on Socrata; the token's value is not checked.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson
from fastapi import APIRouter, Query
from starlette.requests import Request
from starlette.responses import Response

from btvstat_open.errors import BadRequestBody, BtvstatError
from btvstat_open.portal.auth import presented_token
from btvstat_open.portal.context import Portal, PortalContext
from btvstat_open.portal.routes_read import QueryPlan, export_response, respond_with_query, soql_plan
from btvstat_open.portal.routes_write import read_body

__all__ = ["AppTokenRequired", "router", "soda3_plan"]

_BODY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "query": {"type": "string", "example": "SELECT status, count(*) GROUP BY status"},
        "page": {
            "type": "object",
            "properties": {"pageNumber": {"type": "integer"}, "pageSize": {"type": "integer"}},
        },
        "includeSynthetic": {"type": "boolean"},
    },
}


class AppTokenRequired(BtvstatError):
    """A SODA 3 request without an app token on a server that requires one."""

    http_status = 403
    exit_code = 2
    default_code = "permission_denied"


def _check_app_token(ctx: PortalContext, request: Request) -> None:
    if not ctx.settings.soda3_require_app_token:
        return
    if request.headers.get("x-app-token") or presented_token(request.headers.get("authorization")):
        return
    raise AppTokenRequired("SODA 3 requests need an application token: send it in the X-App-Token header.")


def _page(body: dict[str, Any]) -> tuple[int, int] | None:
    page = body.get("page")
    if page is None:
        return None
    if not isinstance(page, dict):
        raise BadRequestBody('"page" must be {"pageNumber": n, "pageSize": m}.', code="query.bad-page")
    number, size = page.get("pageNumber", 1), page.get("pageSize")
    if not isinstance(number, int) or isinstance(number, bool) or number < 1:
        raise BadRequestBody('"pageNumber" must be a whole number from 1.', code="query.bad-page")
    if not isinstance(size, int) or isinstance(size, bool) or size < 1:
        raise BadRequestBody('"pageSize" must be a whole number from 1.', code="query.bad-page")
    return number, size


def _query_body(raw: bytes) -> dict[str, Any]:
    """The JSON object of a query request; an empty body means ``SELECT *``."""
    if not raw.strip():
        return {}
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadRequestBody(f"The body is not valid JSON: {exc}.", code="query.bad-body") from None
    if not isinstance(body, dict):
        raise BadRequestBody(
            'The body must be a JSON object such as {"query": "SELECT *"}.', code="query.bad-body"
        )
    return body


def _whole_number(name: str, text: str) -> int:
    if not (text.strip().isascii() and text.strip().isdigit()):  # "¹" is a digit, not a number
        raise BadRequestBody(f'"{name}" must be a whole number from 1, not {text!r}.', code="query.bad-page")
    return int(text)


def query_from_params(params: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """The query body a GET's parameters stand for.

    ``query``, ``pageNumber``, ``pageSize`` and ``includeSynthetic``, as Socrata names them.

    Example:
        >>> query_from_params([("query", "SELECT *"), ("pageNumber", "2"), ("pageSize", "10")])
        {'query': 'SELECT *', 'page': {'pageNumber': 2, 'pageSize': 10}}
    """
    given = dict(params)
    body: dict[str, Any] = {}
    if given.get("query", "").strip():  # an empty query is none, as an empty SoQL clause is
        body["query"] = given["query"]
    if "pageSize" in given or "pageNumber" in given:
        if "pageSize" not in given:
            raise BadRequestBody('"pageNumber" needs a "pageSize" too.', code="query.bad-page")
        body["page"] = {
            "pageNumber": _whole_number("pageNumber", given.get("pageNumber", "1")),
            "pageSize": _whole_number("pageSize", given["pageSize"]),
        }
    if "includeSynthetic" in given:
        body["includeSynthetic"] = given["includeSynthetic"].strip().lower() == "true"
    return body


router = APIRouter()
"""Routes for the SODA 3 query and export endpoints."""


@router.post(
    "/api/v3/views/{dataset_id}/query.json",
    tags=["SODA 3"],
    summary="Query with SoQL",
    openapi_extra={"requestBody": {"content": {"application/json": {"schema": _BODY_SCHEMA}}}},
)
async def query(dataset_id: str, request: Request, ctx: Portal) -> Response:
    """Run ``{"query": ..., "page": {...}}`` and answer with JSON rows."""
    _check_app_token(ctx, request)
    # Read the body here, bounded like a write's, instead of letting the framework read it whole.
    body = _query_body(await read_body(request, ctx.settings.max_body_bytes))
    return await respond_with_query(ctx, request, lambda: soda3_plan(ctx, request, dataset_id, body))


@router.get("/api/v3/views/{dataset_id}/query.json", tags=["SODA 3"], summary="Query with SoQL (GET)")
async def query_get(
    dataset_id: str,
    request: Request,
    ctx: Portal,
    query: str | None = Query(default=None, examples=["SELECT status, count(*) GROUP BY status"]),
    pageNumber: int | None = Query(default=None, ge=1),
    pageSize: int | None = Query(default=None, ge=1),
    includeSynthetic: bool | None = None,
) -> Response:
    """The POST query as query parameters: ``?query=SELECT ...&pageNumber=1&pageSize=100``."""
    _check_app_token(ctx, request)
    body = query_from_params(request.query_params.items())
    return await respond_with_query(ctx, request, lambda: soda3_plan(ctx, request, dataset_id, body))


@router.get("/api/v3/views/{dataset_id}/export.csv", tags=["SODA 3"], summary="Export a dataset")
async def export(dataset_id: str, request: Request, ctx: Portal) -> Response:
    """The whole dataset as CSV, ordered by ``:id``, streamed."""
    _check_app_token(ctx, request)
    return await export_response(ctx, request, dataset_id)


def soda3_plan(ctx: PortalContext, request: Request, dataset_id: str, body: dict[str, Any]) -> QueryPlan:
    """Compile a SODA 3 query body into a plan answered with JSON rows (on a query worker)."""
    text = body.get("query", "SELECT *")
    if not isinstance(text, str):
        raise BadRequestBody('"query" must be a SoQL text such as "SELECT * WHERE x > 1".')
    pairs: list[tuple[str, str]] = [("$query", text)]
    synthetic = body.get("includeSynthetic", False)
    if not isinstance(synthetic, bool):
        raise BadRequestBody('"includeSynthetic" must be true or false.', code="query.bad-body")
    if synthetic:
        pairs.append(("$$exclude_system_fields", "false"))
    page = _page(body)
    max_limit = ctx.settings.max_limit or None
    # With a page, the page bounds the rows; the query itself must not be capped, or
    # pages past the cap would come back empty and cut a paged pull short.
    cap = None if page is not None else max_limit
    plan = soql_plan(ctx, request, dataset_id, "json", pairs, limits=(cap, cap))
    if page is not None:
        number, size = page
        if max_limit is not None and size > max_limit:
            raise BadRequestBody(f'"pageSize" may be at most {max_limit}.', code="query.bad-page")
        plan.sql = f"SELECT * FROM ({plan.sql}) AS soda3_page LIMIT {size:d} OFFSET {(number - 1) * size:d}"
    plan.etag_key = orjson.dumps(body, option=orjson.OPT_SORT_KEYS).decode()
    return plan
