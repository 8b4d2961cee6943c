"""Metadata routes: ``/api/views/{id}.json``, ``/api/catalog/v1`` and ``/data.json`` (:data:`router`),
and the Socrata APIs this server answers with a 501 (:data:`unsupported`)."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Query
from starlette.requests import Request
from starlette.responses import Response

from btvstat_open.dcat import catalog_document, dataset_entries
from btvstat_open.errors import ApiNotImplemented, NotFound
from btvstat_open.portal.context import Portal, epoch_seconds, http_date
from btvstat_open.portal.discovery import DiscoveryQuery, discover, split_values
from btvstat_open.portal.meta import catalog_result, view_json
from btvstat_open.portal.stream import not_modified
from btvstat_open.web.conditional import document_response, newest_modified
from btvstat_open.web.handlers import json_response

__all__ = ["base_url", "router", "unsupported", "view_name"]

_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


def view_name(resource: str) -> str:
    """The dataset id in ``/api/views/{id}.json`` (``.json`` optional).

    Example:
        >>> view_name("abcd-1234.json")
        'abcd-1234'
    """
    dataset_id, dot, fmt = resource.rpartition(".")
    if not dot:
        return resource
    if fmt != "json":
        raise NotFound(
            f"Unknown format {fmt!r}; dataset metadata is JSON (.json).", code="format.unsupported"
        )
    return dataset_id


def base_url(request: Request) -> str:
    """The server's base URL as the client reached it, without a trailing slash."""
    return str(request.base_url).rstrip("/")


router = APIRouter()


@router.get("/api/views/{resource}", tags=["SODA 2.1"], summary="Dataset metadata")
def get_view(resource: str, request: Request, ctx: Portal) -> Response:
    """Name, description, columns (fieldName, name, dataTypeName, position) and timestamps."""
    asked = view_name(resource)
    info = ctx.readable(asked, request)
    by = "-4x4" if asked != info.id else ""  # the document names the id the client asked by
    etag = f'"{info.id}-v{info.version}-view{by}"'
    changed = max(info.rows_updated_at, info.view_last_modified)
    cache = "no-cache" if info.public else "private, no-store"
    headers = {"ETag": etag, "Last-Modified": http_date(changed), "Cache-Control": cache}
    if not_modified(request, etag, epoch_seconds(changed)):
        return Response(status_code=304, headers=headers)
    return json_response(view_json(info, asked), headers=headers)


@router.get("/api/catalog/v1", tags=["Discovery"], summary="Search the datasets")
def discovery(
    request: Request,
    ctx: Portal,
    q: str | None = None,
    ids: list[str] = Query(default=[]),  # noqa: B008
    only: list[str] = Query(default=[]),  # noqa: B008
    tags: list[str] = Query(default=[]),  # noqa: B008
    domains: list[str] = Query(default=[]),  # noqa: B008
    order: str = "relevance",
    limit: int | None = Query(default=None, ge=0, le=10_000),
    offset: int = Query(default=0, ge=0),
) -> Response:
    """Socrata Discovery API results (``q``, ``ids``, ``only``, ``tags``, ``domains``, ``order``,
    ``limit``, ``offset``); see :mod:`btvstat_open.portal.discovery`."""
    count = limit if limit else ctx.settings.catalog_default_limit
    domain = ctx.settings.domain or request.url.netloc
    query = DiscoveryQuery(
        q=q,
        ids=split_values(ids),
        tags=split_values(tags),
        domains=split_values(domains),
        only=split_values(only),
        order=order,
    )
    found = discover(ctx.visible(request), query, domain=domain)  # private ones need the token
    page = found[offset : offset + count]
    results = [catalog_result(info, base_url=base_url(request), domain=domain) for info in page]
    return json_response({"results": results, "resultSetSize": len(found), "timings": {}})


@router.get("/data.json", tags=["Catalog"], summary="DCAT-US 1.1 catalog")
def get_data_json(request: Request, ctx: Portal) -> Response:
    """Every dataset as a DCAT-US 1.1 (Project Open Data) entry.

    With an ETag of its bytes and the newest dataset change as ``Last-Modified``: a harvester
    that kept its copy gets a 304.
    """
    # The widgets app replaces it with the catalog's document (KPI series too): ctx.data_json.
    if ctx.data_json is not None:
        return _conditional(request, ctx.data_json())
    settings = ctx.settings
    entries = dataset_entries(
        ctx.store,
        base_url(request),
        publisher=settings.publisher,
        contact_name=settings.contact_name,
        contact_email=settings.contact_email,
    )
    document = catalog_document(
        entries,
        title=settings.catalog_title,
        publisher=settings.publisher,
        catalog_url=f"{base_url(request)}/data.json",
    )
    return _conditional(request, document)


def _conditional(request: Request, document: dict[str, Any]) -> Response:
    """The document with its ETag and, as ``Last-Modified``, its newest entry's ``modified``."""
    return document_response(request, orjson.dumps(document), newest_modified(document.get("dataset", [])))


unsupported = APIRouter()
"""Socrata APIs this server does not offer, answered with a 501 that says so (not a 404).

The publishing API (``/api/publishing/v1``, socrata-py's revisions) and non-data files
(``/api/imports2``, sodapy's ``create_non_data_file``) are out of scope: datasets are
created with ``POST /api/views.json`` and written with ``/resource`` upserts instead.
"""


def _refuse(what: str) -> None:
    raise ApiNotImplemented(
        f"{what} is not offered by this server. Create datasets with POST /api/views.json and "
        "write rows with POST or PUT /resource/{id}.json (sodapy's create, upsert and replace)."
    )


@unsupported.api_route("/api/publishing/v1", methods=_METHODS, include_in_schema=False)
@unsupported.api_route("/api/publishing/v1/{rest:path}", methods=_METHODS, include_in_schema=False)
def publishing(rest: str = "") -> None:
    """Refuse the publishing API."""
    _refuse("The publishing API (/api/publishing/v1: revisions, sources)")


@unsupported.api_route("/api/imports2", methods=_METHODS, include_in_schema=False)
@unsupported.api_route("/api/imports2/{rest:path}", methods=_METHODS, include_in_schema=False)
def imports(rest: str = "") -> None:
    """Refuse non-data files."""
    _refuse("Non-data files (/api/imports2)")
