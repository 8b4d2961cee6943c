"""Writes: create a dataset, upsert, replace, delete a row, drop a dataset. All need the write token.

Each request is one store transaction: it happens whole or not at all. Bodies are bounded by
``max_body_bytes`` and ``max_write_rows`` (413 beyond), and every value is typed before
anything is written (400 listing each bad row and field).
"""

from __future__ import annotations

import dataclasses
import re
import secrets
from typing import Any

import orjson
from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from btvstat_open.errors import BadRequestBody, ClientGone, NotFound, RequestTooLarge
from btvstat_open.fieldnames import field_name
from btvstat_open.portal.auth import JSON_ONLY, require_write_token
from btvstat_open.portal.bodies import parse_body
from btvstat_open.portal.context import Portal, PortalContext
from btvstat_open.portal.decode import decode_rows
from btvstat_open.portal.meta import view_json
from btvstat_open.portal.metadata_change import change_from_body
from btvstat_open.portal.routes_meta import view_name
from btvstat_open.portal.routes_read import split_resource
from btvstat_open.store import MetadataChange, Store, WriteResult
from btvstat_open.types import Column
from btvstat_open.web.handlers import json_response

__all__ = ["new_view_id", "read_body", "router"]

_ID_CHARS = "abcdefghijkmnpqrstuvwxyz23456789"
_FIELD = re.compile(r"^[a-z_][a-z0-9_]*$")


def new_view_id() -> str:
    """A fresh Socrata-style ``4x4`` id such as ``k7ds-2mfa``.

    Example:
        >>> bool(re.match(r"^[a-z0-9]{4}-[a-z0-9]{4}$", new_view_id()))
        True
    """
    pick = "".join(secrets.choice(_ID_CHARS) for _ in range(8))
    return f"{pick[:4]}-{pick[4:]}"


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refusing (413) anything over ``limit`` bytes without reading it all."""
    declared = request.headers.get("content-length")
    if declared and declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise RequestTooLarge(
            f"The body has {declared} bytes; this server accepts at most {limit}. "
            "Send the rows in smaller batches."
        )
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise RequestTooLarge(
                    f"The body is over {limit} bytes, this server's limit. Send the rows in smaller batches."
                )
            chunks.append(chunk)
    except ClientDisconnect:  # hung up (or closed by the body timeout) before the body was in
        raise ClientGone("The client closed the connection before its request body was complete.") from None
    return b"".join(chunks)


def _create_columns(payload: dict[str, Any]) -> list[Column]:
    raw_columns = payload.get("columns") or []
    if not isinstance(raw_columns, list):
        raise BadRequestBody('"columns" must be a list of {"fieldName", "name", "dataTypeName"} objects.')
    columns: list[Column] = []
    for position, raw in enumerate(raw_columns):
        if not isinstance(raw, dict) or not isinstance(raw.get("dataTypeName"), str):
            raise BadRequestBody(
                f'Column {position} needs at least a "dataTypeName" (and a "name" or "fieldName").'
            )
        name = raw.get("name") or raw.get("fieldName")
        if not isinstance(name, str) or not name:
            raise BadRequestBody(f'Column {position} needs a "name" or a "fieldName".')
        field = raw.get("fieldName") or field_name(name)
        if not isinstance(field, str) or not _FIELD.match(field):
            raise BadRequestBody(
                f"Column {position} has field name {field!r}; use lowercase letters, digits and '_' "
                f"(for example {field_name(str(field))!r})."
            )
        description = raw.get("description") if isinstance(raw.get("description"), str) else ""
        columns.append(Column(field, name, raw["dataTypeName"], description or ""))
    return columns


def _row_identifier(payload: dict[str, Any], columns: list[Column]) -> str | None:
    metadata = payload.get("metadata") if isinstance(payload.get("metadata"), dict) else {}
    raw = (metadata or {}).get("rowIdentifier", payload.get("rowIdentifier"))
    if raw is None or raw == "":
        return None
    if isinstance(raw, int) or (isinstance(raw, str) and raw.isascii() and raw.isdigit()):
        position = int(raw)
        if 1 <= position <= len(columns):
            return columns[position - 1].field_name
    if isinstance(raw, str):
        return raw
    raise BadRequestBody(f"rowIdentifier {raw!r} must be a field name.")


def _parse_json_object(body: bytes) -> dict[str, Any]:
    try:
        payload = orjson.loads(body or b"{}")
    except orjson.JSONDecodeError as exc:
        raise BadRequestBody(f"The body is not valid JSON: {exc}.") from None
    if not isinstance(payload, dict):
        raise BadRequestBody("The body must be a JSON object.")
    return payload


def _create(store: Store, payload: dict[str, Any]) -> dict[str, Any]:
    name = payload.get("name")
    if not isinstance(name, str) or not name.strip():
        raise BadRequestBody('A new dataset needs a "name".')
    columns = _create_columns(payload)
    dataset_id = payload.get("id")
    if dataset_id is None:
        dataset_id = new_view_id()
        while store.exists(dataset_id):
            dataset_id = new_view_id()
    elif not isinstance(dataset_id, str):
        raise BadRequestBody('"id" must be a text such as "abcd-1234".')
    description = payload.get("description") if isinstance(payload.get("description"), str) else ""
    # As on Socrata, a dataset created over the API is unpublished until it is published
    # (its rows are readable all the same; see publish_view).
    kept = change_from_body({k: payload[k] for k in ("tags", "category", "attribution") if k in payload})
    info = store.create(
        dataset_id,
        name,
        columns,
        description=description or "",
        row_identifier=_row_identifier(payload, columns),
        change=dataclasses.replace(kept, published=False),
    )
    return view_json(info)


def _write(
    ctx: PortalContext, dataset_id: str, body: bytes, content_type: str, *, replace: bool
) -> WriteResult:
    info = ctx.info(dataset_id)
    dataset_id = info.id  # the readable id, whichever the URL gave
    rows = parse_body(body, content_type)
    if len(rows) > ctx.settings.max_write_rows:
        raise RequestTooLarge(
            f"The body has {len(rows)} rows; this server accepts at most {ctx.settings.max_write_rows} "
            "per request. Send the rows in smaller batches."
        )
    decoded = decode_rows(rows, info, allow_deleted=not replace)
    # An engine failure comes out of the store as its own error (nothing written, no engine text).
    if replace:
        return ctx.store.replace(dataset_id, decoded.table)
    return ctx.store.upsert(dataset_id, decoded.table, deleted=decoded.deleted)


async def _write_request(ctx: PortalContext, resource: str, request: Request, *, replace: bool) -> Response:
    """Check the token, read the bounded body, write it off the event loop, answer with counts."""
    require_write_token(request, ctx.settings)
    dataset_id, _ = split_resource(resource)
    body = await read_body(request, ctx.settings.max_body_bytes)
    content_type = request.headers.get("content-type", "")
    result = await run_in_threadpool(_write, ctx, dataset_id, body, content_type, replace=replace)
    return json_response(result.to_socrata())


router = APIRouter()
"""Routes that change data; each needs the write token."""


@router.post("/api/views.json", tags=["Writes"], summary="Create a dataset")
async def create_view(request: Request, ctx: Portal) -> Response:
    """Create an empty dataset as sodapy's ``create`` sends it (name, description, columns, metadata)."""
    require_write_token(request, ctx.settings, JSON_ONLY)
    payload = _parse_json_object(await read_body(request, ctx.settings.max_body_bytes))
    return json_response(await run_in_threadpool(_create, ctx.store, payload))


@router.post("/resource/{resource}", tags=["Writes"], summary="Upsert rows")
async def upsert_rows(resource: str, request: Request, ctx: Portal) -> Response:
    """Insert or update rows by row identifier (or ``:id``); ``":deleted": true`` deletes."""
    return await _write_request(ctx, resource, request, replace=False)


@router.put("/resource/{resource}", tags=["Writes"], summary="Replace all rows")
async def replace_rows(resource: str, request: Request, ctx: Portal) -> Response:
    """Replace every row of the dataset with the body's rows."""
    return await _write_request(ctx, resource, request, replace=True)


@router.delete("/resource/{dataset_id}/{row}", tags=["Writes"], summary="Delete one row")
def delete_row(dataset_id: str, row: str, request: Request, ctx: Portal) -> Response:
    """Delete the row with this row identifier value or ``:id``."""
    require_write_token(request, ctx.settings)
    dataset_id = ctx.info(dataset_id).id
    row_id = row.removesuffix(".json")
    deleted = ctx.store.delete_row(dataset_id, row_id)
    if not deleted:
        raise NotFound(f"Dataset {dataset_id!r} has no row {row_id!r}.", code="row.missing")
    return json_response(WriteResult(deleted=deleted).to_socrata())


@router.delete("/api/views/{resource}", tags=["Writes"], summary="Delete a dataset")
def drop_view(resource: str, request: Request, ctx: Portal) -> Response:
    """Delete a whole dataset and its rows."""
    require_write_token(request, ctx.settings)
    dataset_id = ctx.info(view_name(resource)).id
    ctx.store.drop(dataset_id)
    ctx.forget(dataset_id)
    return Response(status_code=200)


@router.post("/api/views/{dataset_id}/publication.json", tags=["Writes"], summary="Publish a dataset")
def publish_view(dataset_id: str, request: Request, ctx: Portal) -> Response:
    """Publish a dataset (``publicationStage`` becomes ``published``); answers with its metadata.

    Socrata publishes a working copy under a new id; here the dataset keeps its id and its
    rows, which were readable before publication too.
    """
    require_write_token(request, ctx.settings)
    dataset_id = ctx.info(dataset_id).id
    return json_response(view_json(ctx.store.update_metadata(dataset_id, MetadataChange(published=True))))
