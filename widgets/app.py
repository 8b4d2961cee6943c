"""The one FastAPI app: the local portal's SODA routes plus the dashboard, KPI pages and embeds.

Responses built from the catalog (pages, embeds, images, specs, series) are cached in memory
with their ETag, Cache-Control and security headers; :class:`~widgets.cache.CachedResponseMiddleware`
answers repeat requests from that cache before routing. A dataset change (its version in the store)
makes the next request rebuild, so new data shows up without a restart.

Example:
    >>> from btvstat_open.store import Store
    >>> from catalog import load_catalog
    >>> from catalog.demo import DEMO_DIR, load_demo_data
    >>> store = Store(scratch / "store")  # scratch: any empty folder
    >>> _ = load_demo_data(store)
    >>> app = create_app(store, load_catalog(DEMO_DIR, store))
    >>> app.title
    'City performance dashboard (demo)'
    >>> # uvicorn.run(app, host="127.0.0.1", port=8000)
    >>> store.close()
"""

from __future__ import annotations

import contextvars
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import date
from typing import Any

import anyio
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from btvstat_open.budget import Pools, StreamAbortedMiddleware
from btvstat_open.errors import BtvstatError, NotFound
from btvstat_open.portal.app import PageSite, install_error_handlers, install_portal
from btvstat_open.portal.openapi import PORTAL_ROUTES, install_openapi, merged
from btvstat_open.settings import Settings
from btvstat_open.store import Store
from catalog.models import Catalog
from widgets.api_docs import WIDGET_ROUTES, docs_page
from widgets.assets import Assets
from widgets.cache import CachedResponse, CachedResponseMiddleware, CacheKey, DataVersions, LruCache
from widgets.packets.service import PacketService
from widgets.pages import Pages
from widgets.route_context import WidgetContext, Widgets, response_key
from widgets.routes import router as widget_routes
from widgets.security import SecurityHeadersMiddleware, frame_ancestors, security_headers
from widgets.service import WidgetService
from widgets.warmup import warm_up_in_background

__all__ = ["create_app"]

_base_url: contextvars.ContextVar[str] = contextvars.ContextVar("base_url", default="http://127.0.0.1:8000")


class _BaseUrlMiddleware:
    """Remembers the request's base URL for documents that name their own links (data.json)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] in ("/data.json", "/datapackage.json"):
            _base_url.set(str(Request(scope).base_url).rstrip("/"))
        await self.app(scope, receive, send)


def create_app(
    store: Store,
    catalog: Catalog | None = None,
    settings: Settings | None = None,
    *,
    as_of: date | None = None,
) -> FastAPI:
    """One app serving the SODA portal, the dashboard, KPI pages, embeds, images and downloads.

    ``catalog`` may be None (the portal alone, with an empty dashboard); ``settings`` defaults to
    :meth:`Settings.from_env`; ``as_of`` (``serve --as-of``) fixes the day pages are computed as of,
    over the catalog's own ``as_of``. The routes are module-level routers; what they share is on
    ``app.state`` (``widget_routes``, ``portal``).

    Example:
        >>> app = create_app(store, catalog)
        >>> app.url_path_for("kpi_csv", kpi_id="pothole-days-to-close")
        '/kpi/pothole-days-to-close.csv'
    """
    settings = settings or Settings.from_env()
    ctx = _widget_context(store, catalog, settings, as_of)
    app = FastAPI(
        lifespan=_lifespan(catalog),
        title=catalog.settings.title if catalog else "btvstat-open",
        description="City performance KPIs: dashboard, embeddable charts, downloads and a SODA API.",
        version="1",
        docs_url=None,
        redoc_url=None,
    )
    install_error_handlers(app)
    _install_page_errors(app, ctx.pages)
    app.state.widget_routes = ctx
    app.include_router(widget_routes)
    site = ctx.pages.site
    page_site = PageSite(title=site.title, publisher=site.publisher, stylesheet=ctx.assets.url("site.css"))
    data_json = _data_json(catalog, store)
    install_portal(app, store, settings, data_json=data_json, page_site=page_site, pools=ctx.pools)
    app.include_router(_docs)
    install_openapi(app, merged(PORTAL_ROUTES, WIDGET_ROUTES))
    app.add_middleware(StreamAbortedMiddleware)
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(_BaseUrlMiddleware)
    # Outermost: cached responses skip everything else (they carry their own headers).
    versions = ctx.service.versions
    app.add_middleware(CachedResponseMiddleware, cache=ctx.responses, versions=versions, key=response_key)
    app.state.widgets = ctx.service
    app.state.pools = ctx.pools
    app.state.responses = ctx.responses
    app.state.packets = ctx.packets
    return app


def _widget_context(
    store: Store, catalog: Catalog | None, settings: Settings, as_of: date | None
) -> WidgetContext:
    """The service, pages, caches and pools one app's widget routes share."""
    versions = DataVersions(store)
    service = WidgetService(store, catalog, versions=versions, as_of=as_of)
    origins = list(catalog.settings.embed.allowed_origins) if catalog else []
    assets = Assets()
    responses: LruCache[CacheKey, CachedResponse] = LruCache(4096)
    return WidgetContext(
        service,
        Pages(service, assets, allowed_origins=origins),
        assets,
        responses,
        ancestors=frame_ancestors(origins),
        base_url=_base_url,
        # One set of pools for the portal's reads and the widgets' renders.
        pools=Pools.from_settings(settings),
        export_seconds=settings.export_timeout_seconds,
        packets=PacketService(store, catalog, versions, service.today),
    )


def _lifespan(catalog: Catalog | None) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Start the chart renderer before taking requests, on made-up charts only: no KPI is
        # rendered before it is asked for (see widgets.warmup).
        if catalog is not None:
            await anyio.to_thread.run_sync(warm_up_in_background().join)
        yield

    return lifespan


def _data_json(catalog: Catalog | None, store: Store) -> Callable[[], dict[str, Any]] | None:
    """With a catalog, ``/data.json`` lists the KPI series too (see :func:`catalog.exports.dcat_us`)."""
    if catalog is None:
        return None
    from catalog.exports import dcat_us

    return lambda: dcat_us(catalog, store, _base_url.get())


_docs = APIRouter()


@_docs.get("/docs", include_in_schema=False)
def docs(request: Request, ctx: Widgets) -> HTMLResponse:
    """Swagger UI over ``/openapi.json``, from this server's own files."""
    return HTMLResponse(docs_page(request.app.title, ctx.assets), headers=dict(security_headers("docs")))


def _install_page_errors(app: FastAPI, pages: Pages) -> None:
    """HTML routes answer a missing KPI, goal or department with an HTML page; data routes keep
    Socrata's JSON errors."""
    json_handler = app.exception_handlers.get(BtvstatError)

    async def kpi_not_found(request: Request, exc: Exception) -> Response:
        path = request.url.path
        # The routes documented with an HTML 404 (pages, and a packet's PDF, whose reader is a person)
        # answer one; the matched route decides, not the path's look (a goal id may hold a dot).
        route = getattr(request.scope.get("route"), "path", None)
        doc = WIDGET_ROUTES.get((request.method.lower(), route)) if route else None
        is_page = doc is not None and 404 in doc.html_errors
        if is_page and isinstance(exc, NotFound):
            what = {"goals": "Goal", "departments": "Department", "meetings": "Meeting"}.get(
                path.split("/")[1], "KPI"
            )
            body = pages.error(f"{what} not found", exc.message)
            return HTMLResponse(body, status_code=404, headers=dict(security_headers("page")))
        if json_handler is not None:
            result: Response = await json_handler(request, exc)  # type: ignore[misc]
            return result
        return JSONResponse(exc.to_socrata() if isinstance(exc, NotFound) else {}, status_code=404)

    app.add_exception_handler(NotFound, kpi_not_found)
