"""Changing a dataset's metadata, and Socrata's Metadata API.

- ``PUT /api/views/{id}.json`` with a JSON body (sodapy's ``update_metadata``): name,
  description, tags, category, attribution and column descriptions; answers with the
  updated ``/api/views`` document.
- ``PUT /api/views/{id}.json?method=setPermission&value=public.read|private`` (sodapy's
  ``set_permission``): a private dataset is a 404 to anyone without the write token, in
  every read route, the catalog, ``data.json`` and the Metadata API.
- ``GET /api/views/metadata/v1`` and ``GET|PATCH /api/views/metadata/v1/{id}``: the Metadata
  API's flat documents (ISO timestamps, ``dataUri``, ``webUri``, ``customFields``).

Each change is one store transaction; it bumps the dataset's version (new ETags) but not its
``rowsUpdatedAt``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import orjson
from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from btvstat_open.errors import BadRequestBody
from btvstat_open.portal.auth import require_write_token
from btvstat_open.portal.context import Portal, PortalContext, as_utc
from btvstat_open.portal.meta import view_json
from btvstat_open.portal.metadata_change import change_from_body, permission_change
from btvstat_open.portal.routes_meta import base_url, view_name
from btvstat_open.portal.routes_write import read_body
from btvstat_open.store import DatasetInfo, MetadataChange
from btvstat_open.web.handlers import json_response

__all__ = ["metadata_document", "router"]


def _stamp(moment: Any) -> str:
    """The Metadata API's timestamps: ``2020-01-07T12:00:00+0000``."""
    return str(as_utc(moment).strftime("%Y-%m-%dT%H:%M:%S+0000"))


def metadata_document(info: DatasetInfo, *, base: str, domain: str) -> dict[str, Any]:
    """A dataset as the Metadata API (``/api/views/metadata/v1/{id}``) describes it.

    Example:
        >>> metadata_document(info, base="http://x", domain="x")["webUri"]
        'http://x/d/kc-311-potholes'
    """
    ident = quote(info.id, safe="")
    return {
        "id": info.id,
        "fourByFour": info.four_by_four,
        "name": info.name,
        "description": info.description,
        "attribution": info.attribution,
        "attributionLink": None,
        "category": info.category,
        "tags": list(info.tags),
        "createdAt": _stamp(info.created_at),
        "dataUpdatedAt": _stamp(info.rows_updated_at),
        "metadataUpdatedAt": _stamp(info.view_last_modified),
        "updatedAt": _stamp(max(info.rows_updated_at, info.view_last_modified)),
        "dataUri": f"{base}/resource/{ident}",
        "webUri": f"{base}/d/{ident}",
        "domain": domain,
        "externalId": None,
        "license": None,
        "provenance": "OFFICIAL",
        "hideFromCatalog": False,
        "hideFromDataJson": not info.public,
        "customFields": {},
    }


def _json_body(raw: bytes) -> Any:
    try:
        return orjson.loads(raw or b"{}")
    except orjson.JSONDecodeError as exc:
        raise BadRequestBody(f"The body is not valid JSON: {exc}.", code="metadata.bad-body") from None


def _apply(ctx: PortalContext, dataset_id: str, change: MetadataChange) -> DatasetInfo:
    # A 404 for an unknown dataset before anything is written; the readable id for the write.
    return ctx.store.update_metadata(ctx.info(dataset_id).id, change)


def _domain(ctx: PortalContext, request: Request) -> str:
    return ctx.settings.domain or request.url.netloc


router = APIRouter()
"""Routes that change metadata and the Metadata API."""


@router.put("/api/views/{resource}", tags=["Writes"], summary="Update metadata or set permission")
async def update_view(
    resource: str,
    request: Request,
    ctx: Portal,
    method: str | None = Query(default=None, examples=["setPermission"]),
    value: str | None = Query(default=None, examples=["public.read"]),
) -> Response:
    """Update name, description, tags, category, attribution, column descriptions (JSON body),
    or, with ``?method=setPermission&value=public.read|private``, who may read the dataset."""
    require_write_token(request, ctx.settings)
    dataset_id = view_name(resource)
    if method is not None:
        if method != "setPermission":
            raise BadRequestBody(
                f"Unknown method {method!r}; this server knows method=setPermission.",
                code="metadata.bad-method",
            )
        await run_in_threadpool(_apply, ctx, dataset_id, permission_change(value))
        return Response(status_code=200)
    change = change_from_body(_json_body(await read_body(request, ctx.settings.max_body_bytes)))
    return json_response(view_json(await run_in_threadpool(_apply, ctx, dataset_id, change)))


@router.get("/api/views/metadata/v1", tags=["Metadata API"], summary="Every dataset's metadata")
def list_metadata(
    request: Request,
    ctx: Portal,
    limit: int | None = Query(default=None, ge=1, le=10_000),
    offset: int = Query(default=0, ge=0),
) -> Response:
    """The Metadata API document of every dataset the caller may see, by id."""
    infos = ctx.visible(request)
    page = infos[offset : offset + limit] if limit is not None else infos[offset:]
    base, domain = base_url(request), _domain(ctx, request)
    return json_response([metadata_document(i, base=base, domain=domain) for i in page])


@router.get("/api/views/metadata/v1/{dataset_id}", tags=["Metadata API"], summary="One dataset's metadata")
def get_metadata(dataset_id: str, request: Request, ctx: Portal) -> Response:
    """The Metadata API document of one dataset."""
    info = ctx.readable(dataset_id, request)
    return json_response(metadata_document(info, base=base_url(request), domain=_domain(ctx, request)))


@router.patch("/api/views/metadata/v1/{dataset_id}", tags=["Metadata API"], summary="Update metadata")
async def patch_metadata(dataset_id: str, request: Request, ctx: Portal) -> Response:
    """Change the fields the body names (name, description, tags, category, attribution).

    Needs the write token.
    """
    require_write_token(request, ctx.settings)
    change = change_from_body(_json_body(await read_body(request, ctx.settings.max_body_bytes)))
    info = await run_in_threadpool(_apply, ctx, dataset_id, change)
    return json_response(metadata_document(info, base=base_url(request), domain=_domain(ctx, request)))
