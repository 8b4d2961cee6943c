"""The widget routes: dashboard, KPI pages, embeds, images, specs, series and dataset downloads.

No route accepts a spec, an expression or HTML: the only inputs are a KPI or dataset id (looked
up in the catalog or the store) and a few validated options (``theme``, ``height``, ``width``,
``plain``); anything else is a 400 that says what is allowed. Every route answers through the
app's response cache (:meth:`~widgets.route_context.WidgetContext.respond`); renders not in the
cache run on the render pool and downloads on the query pool.

Example:
    >>> sorted(r.path for r in router.routes if getattr(r, "path", "").startswith("/kpi/{kpi_id}."))[:2]
    ['/kpi/{kpi_id}.csv', '/kpi/{kpi_id}.json']
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

import orjson
import pyarrow.csv as pacsv
from fastapi import APIRouter, Request
from fastapi.responses import Response

from btvstat_open.errors import NotFound
from btvstat_open.web.conditional import last_modified_header, newest_change
from catalog.ledger import published
from catalog.models import Kpi
from widgets import dashboard_routes, feed_routes, peer_routes, story_routes
from widgets.cache import DAY
from widgets.charts import Width
from widgets.downloads import dataset_response
from widgets.overview import kpi_list
from widgets.packets import routes as meeting_routes
from widgets.private_views import private_image, private_page, private_series, visible_kpi
from widgets.route_context import WidgetContext, Widgets
from widgets.security import security_headers
from widgets.service import ChartOptions

__all__ = ["IMMUTABLE", "router"]

IMMUTABLE = "public, max-age=31536000, immutable"
_CHART_OPTIONS = ("theme", "width", "height")

router = APIRouter()
"""Every widget route: the program's first (the dashboard at ``/``), the meetings' last."""
# Feeds first: /departments/{slug}.atom and /kpi/{id}.atom before the pages' catch-all paths.
router.include_router(feed_routes.router)
router.include_router(dashboard_routes.router)
router.include_router(peer_routes.router)  # a KPI's comparison with peer cities


@router.get("/kpi/{kpi_id}.vl.json", summary="A KPI's chart as a Vega-Lite spec")
def kpi_spec(kpi_id: str, request: Request, ctx: Widgets) -> Response:
    service = ctx.service
    kpi, opts = service.kpi(kpi_id), ctx.options(request, _CHART_OPTIONS)

    def build() -> bytes:
        width: Width = opts.width if "width" in request.query_params else "container"
        return orjson.dumps(service.spec(kpi, theme=opts.theme, width=width, height=opts.height, title=True))

    return ctx.respond(request, "data", "application/json", build, kpis=[kpi])


def _image(
    ctx: WidgetContext,
    kpi_id: str,
    request: Request,
    media_type: str,
    draw: Callable[[Kpi, ChartOptions], bytes],
) -> Response:
    (kpi, insider), opts = visible_kpi(ctx, request, kpi_id), ctx.options(request, _CHART_OPTIONS)
    if insider is not None:  # a private KPI, for a signed-in person who may see it
        return private_image(ctx, kpi, insider, opts, png=media_type == "image/png")
    return ctx.respond(request, "image", media_type, lambda: draw(kpi, opts), kpis=[kpi])


@router.get("/kpi/{kpi_id}.svg", summary="A KPI's chart as an SVG image (rendered on the server)")
async def kpi_svg(kpi_id: str, request: Request, ctx: Widgets) -> Response:
    draw = lambda kpi, opts: ctx.service.svg(kpi, opts).encode()  # noqa: E731
    return await ctx.pools.renders.run(_image, ctx, kpi_id, request, "image/svg+xml", draw)


@router.get("/kpi/{kpi_id}.png", summary="A KPI's chart as a PNG image (rendered on the server)")
async def kpi_png(kpi_id: str, request: Request, ctx: Widgets) -> Response:
    return await ctx.pools.renders.run(_image, ctx, kpi_id, request, "image/png", ctx.service.png)


@router.get("/kpi/{kpi_id}.csv", summary="A KPI's series as CSV")
def kpi_csv(kpi_id: str, request: Request, ctx: Widgets) -> Response:
    kpi, insider = visible_kpi(ctx, request, kpi_id)
    ctx.no_options(request)
    if insider is not None:
        return private_series(kpi, insider, ctx, csv=True)

    def build() -> bytes:
        out = io.BytesIO()
        pacsv.write_csv(ctx.service.published(kpi), out)
        return out.getvalue()

    disposition = (("content-disposition", f'attachment; filename="{kpi.id}.csv"'),)
    return ctx.respond(request, "data", "text/csv; charset=utf-8", build, kpis=[kpi], extra=disposition)


@router.get("/kpi/{kpi_id}.json", summary="A KPI's series as JSON (one object per period)")
def kpi_json(kpi_id: str, request: Request, ctx: Widgets) -> Response:
    kpi, insider = visible_kpi(ctx, request, kpi_id)
    ctx.no_options(request)
    if insider is not None:
        return private_series(kpi, insider, ctx, csv=False)
    build = lambda: orjson.dumps(ctx.service.published(kpi).to_pylist())  # noqa: E731
    return ctx.respond(request, "data", "application/json", build, kpis=[kpi])


@router.get("/kpi/{kpi_id}/revisions.json", summary="A public KPI's published values and their revisions")
def kpi_revisions(kpi_id: str, request: Request, ctx: Widgets) -> Response:
    """The ledger's record of one public KPI (first value and when, the latest revision and why),
    at an address a static copy of the site has too (the KPI page links here)."""
    kpi = ctx.service.kpi(kpi_id)
    ctx.no_options(request)
    store = ctx.service.store
    build = lambda: orjson.dumps([asdict(p) for p in published(store, kpi.id).values()])  # noqa: E731
    return ctx.respond(request, "data", "application/json", build, kpis=[kpi])


@router.get("/kpi/{kpi_id}", response_class=Response, summary="A KPI's page")
def kpi_page(kpi_id: str, request: Request, ctx: Widgets) -> Response:
    kpi, insider = visible_kpi(ctx, request, kpi_id)
    ctx.no_options(request)
    if insider is not None:
        return private_page(ctx, request, kpi, insider)
    base = ctx.base(request)
    build = lambda: ctx.pages.kpi_page(kpi, base).encode()  # noqa: E731
    return ctx.respond(request, "page", "text/html; charset=utf-8", build, kpis=[kpi], names_host=True)


@router.get("/embed/{kpi_id}", response_class=Response, summary="A KPI's chart for an iframe")
def embed(kpi_id: str, request: Request, ctx: Widgets) -> Response:
    kpi, opts = ctx.service.kpi(kpi_id), ctx.options(request, ("theme", "height", "plain"), auto=True)
    build = lambda: ctx.pages.embed(kpi, opts).encode()  # noqa: E731
    return ctx.respond(request, "embed", "text/html; charset=utf-8", build, kpis=[kpi])


@router.get("/embed.js", response_class=Response, summary="Script that sizes embed iframes to their charts")
def embed_js(request: Request, ctx: Widgets) -> Response:
    asset = ctx.assets.get("embed.js")
    assert asset is not None  # shipped with the package
    return ctx.respond(
        request, "script", asset.media_type, lambda: asset.body, cache_control="public, max-age=3600"
    )


@router.get("/static/{name}", response_class=Response, include_in_schema=False)
def static(name: str, request: Request, ctx: Widgets) -> Response:
    assets = ctx.assets
    asset = assets.get(name)
    if asset is None:
        raise NotFound(f"No static file {name[:60]!r}.")
    versioned = name == assets.vega_name or request.query_params.get("v") == asset.digest
    gzip_ok = asset.gzipped is not None and "gzip" in request.headers.get("accept-encoding", "")
    body = asset.gzipped if gzip_ok and asset.gzipped is not None else asset.body
    headers = dict(security_headers("script"))
    headers.update(
        {
            "cache-control": IMMUTABLE if versioned else "public, max-age=300",
            "etag": f'"{asset.digest}"',
            "vary": "Accept-Encoding",
        }
    )
    if gzip_ok:
        headers["content-encoding"] = "gzip"
    if request.headers.get("if-none-match") == f'"{asset.digest}"':
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=asset.media_type, headers=headers)


@router.get("/datasets/{dataset_id}.csv", summary="A whole dataset as CSV (ranges answered)")
async def dataset_csv(dataset_id: str, request: Request, ctx: Widgets) -> Response:
    ctx.no_options(request)
    store = ctx.service.store
    return await dataset_response(
        store, dataset_id, "csv", request, ctx.pools.queries, ctx.export_seconds, ctx.files
    )


@router.get("/datasets/{dataset_id}.parquet", summary="A whole dataset as Parquet (ranges answered)")
async def dataset_parquet(dataset_id: str, request: Request, ctx: Widgets) -> Response:
    ctx.no_options(request)
    store = ctx.service.store
    return await dataset_response(
        store, dataset_id, "parquet", request, ctx.pools.queries, ctx.export_seconds, ctx.files
    )


@router.get("/api/kpis", summary="The catalog's public KPIs with their latest values, as JSON")
def api_kpis(request: Request, ctx: Widgets) -> Response:
    ctx.no_options(request)
    base = ctx.base(request)
    kpis = ctx.service.public_kpis()
    build = lambda: orjson.dumps(kpi_list(ctx.service, kpis, base))  # noqa: E731
    return ctx.respond(request, "data", "application/json", build, kpis=kpis, names_host=True)


@router.get("/datapackage.json", summary="The KPI series as a Frictionless Data Package")
def datapackage_json(request: Request, ctx: Widgets) -> Response:
    ctx.no_options(request)
    service = ctx.service
    if service.catalog is None:
        raise NotFound("No catalog is loaded; start the server with --catalog DIR or --demo.")
    from catalog.exports import datapackage

    base = ctx.base_url.get()
    catalog = service.catalog
    kpis = service.public_kpis()
    build = lambda: orjson.dumps(datapackage(catalog, service.store, base))  # noqa: E731
    # Last-Modified: the newest change of the datasets behind its KPI series (with its ETag: a 304).
    used = {kpi.source.dataset for kpi in kpis}
    modified = newest_change(i for i in service.store.datasets() if i.id in used)
    extra = () if modified is None else (("last-modified", last_modified_header(modified)),)
    return ctx.respond(request, "data", "application/json", build, kpis=kpis, names_host=True, extra=extra)


@router.get("/healthz", summary="Liveness: the server answers and the store is readable")
async def healthz(ctx: Widgets) -> dict[str, Any]:
    # On the event loop, never behind the heavy pools: it answers however busy they are
    # (the store's versions are a cached snapshot, re-read at most every 0.25 s).
    return {
        "status": "ok",
        "kpis": len(ctx.service.public_kpis()),
        "datasets": len([d for d in ctx.service.versions.current() if d != DAY]),
        # the response cache: how many built answers it holds and their bytes (response_cache_bytes)
        "cache": {"entries": len(ctx.responses), "bytes": ctx.responses.nbytes},
    }


router.include_router(meeting_routes.router)
router.include_router(story_routes.router)  # /stories, /stories/{id}
