"""One-row writes and truncation, as soda-js's producer sends them. All need the write token.

- ``POST /resource/{id}/{row}``: update the row whose row identifier (or ``:id``) is ``row`` with
  the body's fields; fields not in the body keep their values (a mini-upsert, so an unknown
  ``row`` creates it, as an upsert would).
- ``PUT /resource/{id}/{row}``: replace that row: fields not in the body become null.
- ``DELETE /resource/{id}``: remove every row, keeping the dataset and its columns.

The body is one JSON object (an array holding one object is accepted too), sent as
``application/json`` (415 otherwise, so a browser form cannot write). Each request is one
store transaction and answers with Socrata's write counts.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from btvstat_open.errors import BadRequestBody
from btvstat_open.portal.auth import JSON_ONLY, require_write_token
from btvstat_open.portal.context import Portal, PortalContext
from btvstat_open.portal.decode import decode_rows
from btvstat_open.portal.routes_read import split_resource
from btvstat_open.portal.routes_write import read_body
from btvstat_open.store import DatasetInfo, WriteResult
from btvstat_open.web.handlers import json_response

__all__ = ["one_row", "router"]


def one_row(body: bytes, info: DatasetInfo, row: str, *, replace: bool) -> dict[str, Any]:
    """The body's row keyed by ``row``; with ``replace``, every column the body leaves out is null.

    Example:
        >>> one_row(b'{"status": "OPEN"}', info, "2020000001", replace=False)  # keyed by case_id
        {'status': 'OPEN', 'case_id': '2020000001'}
    """
    try:
        payload = orjson.loads(body or b"{}")
    except orjson.JSONDecodeError as exc:
        raise BadRequestBody(f"The body is not valid JSON: {exc}.") from None
    if isinstance(payload, list) and len(payload) == 1:
        payload = payload[0]
    if not isinstance(payload, dict):
        raise BadRequestBody('The body must be one row as a JSON object, such as {"field": "value"}.')
    key = info.row_identifier or ":id"
    given = payload.get(key)
    if given is not None and str(given) != row:
        raise BadRequestBody(
            f"The body says {key} is {given!r} but the URL names row {row!r}; "
            "send the row to its own URL (or leave the key out of the body)."
        )
    filled = {c.field_name: None for c in info.columns} if replace else {}
    return {**filled, **payload, key: row}


def _write_one(ctx: PortalContext, dataset_id: str, body: bytes, row: str, *, replace: bool) -> WriteResult:
    info = ctx.info(dataset_id)
    dataset_id = info.id  # the readable id, whichever the URL gave
    decoded = decode_rows([one_row(body, info, row, replace=replace)], info, allow_deleted=False)
    return ctx.store.upsert(dataset_id, decoded.table)  # an engine failure: the store's own error


async def _row_request(
    ctx: PortalContext, dataset_id: str, row: str, request: Request, *, replace: bool
) -> Response:
    require_write_token(request, ctx.settings, JSON_ONLY)
    body = await read_body(request, ctx.settings.max_body_bytes)
    row_id = row.removesuffix(".json")
    result = await run_in_threadpool(_write_one, ctx, dataset_id, body, row_id, replace=replace)
    return json_response(result.to_socrata())


router = APIRouter()
"""Routes that update or replace one row, or empty a dataset."""


@router.post("/resource/{dataset_id}/{row}", tags=["Writes"], summary="Update one row")
async def update_row(dataset_id: str, row: str, request: Request, ctx: Portal) -> Response:
    """Change the fields the body gives on the row with this row identifier value or ``:id``."""
    return await _row_request(ctx, dataset_id, row, request, replace=False)


@router.put("/resource/{dataset_id}/{row}", tags=["Writes"], summary="Replace one row")
async def replace_row(dataset_id: str, row: str, request: Request, ctx: Portal) -> Response:
    """Replace the row with this row identifier value or ``:id`` by the body (other fields null)."""
    return await _row_request(ctx, dataset_id, row, request, replace=True)


@router.delete("/resource/{resource}", tags=["Writes"], summary="Delete every row")
def truncate(resource: str, request: Request, ctx: Portal) -> Response:
    """Remove every row of the dataset; its metadata and columns stay."""
    require_write_token(request, ctx.settings)
    dataset_id, _ = split_resource(resource)
    info = ctx.info(dataset_id)
    dataset_id = info.id
    empty = decode_rows([], info, allow_deleted=False).table
    result = ctx.store.replace(dataset_id, empty)
    return json_response(result.to_socrata())
