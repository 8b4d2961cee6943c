"""The one FastAPI app: the local portal's SODA routes plus the dashboard, KPI pages and embeds.

Responses built from the catalog (pages, embeds, images, specs, series) are cached in memory
with their ETag, Cache-Control and security headers; :class:`~widgets.cache.CachedResponseMiddleware`
answers repeat requests from that cache before routing. A dataset change (its version in the store)
makes the next request rebuild, so new data shows up without a restart.

Example:
    >>> from btvstat_open.store import Store
    >>> from catalog import load_catalog
    >>> from catalog.demo import DEMO_DIR, load_demo_data
    >>> store = Store(tempfile.mkdtemp())  # doctest: +SKIP
    >>> _ = load_demo_data(store)  # doctest: +SKIP
    >>> app = create_app(store, load_catalog(DEMO_DIR, store))  # doctest: +SKIP
    >>> # uvicorn.run(app, host="127.0.0.1", port=8000)
"""

from __future__ import annotations

import contextvars
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from typing import Any

import anyio
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from btvstat_open.budget import Pools, StreamAbortedMiddleware
from btvstat_open.errors import BtvstatError, NotFound
from btvstat_open.portal.app import PageSite, install_error_handlers, portal_router
from btvstat_open.portal.openapi import PORTAL_ROUTES, install_openapi, merged
from btvstat_open.settings import Settings
from btvstat_open.store import Store
from catalog.models import Catalog
from widgets.api_docs import WIDGET_ROUTES, docs_page
from widgets.assets import Assets
from widgets.cache import CachedResponse, CachedResponseMiddleware, CacheKey, DataVersions, LruCache
from widgets.packets.service import PacketService
from widgets.pages import Pages
from widgets.routes import response_key, widget_router
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
    over the catalog's own ``as_of``.

    Example:
        >>> app = create_app(store, catalog)  # doctest: +SKIP
        >>> sorted(r.path for r in app.routes if r.path.startswith("/kpi"))[:2]  # doctest: +SKIP
        ['/kpi/{kpi_id}', '/kpi/{kpi_id}.csv']
    """
    settings = settings or Settings.from_env()
    versions = DataVersions(store)
    service = WidgetService(store, catalog, versions=versions, as_of=as_of)
    origins = list(catalog.settings.embed.allowed_origins) if catalog else []
    ancestors = frame_ancestors(origins)
    assets = Assets()
    pages = Pages(service, assets, allowed_origins=origins)
    responses: LruCache[CacheKey, CachedResponse] = LruCache(4096)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Start the chart renderer before taking requests, on made-up charts only: no KPI is
        # rendered before it is asked for (see widgets.warmup).
        if catalog is not None:
            await anyio.to_thread.run_sync(warm_up_in_background().join)
        yield

    app = FastAPI(
        lifespan=lifespan,
        title=catalog.settings.title if catalog else "btvstat-open",
        description="City performance KPIs: dashboard, embeddable charts, downloads and a SODA API.",
        version="1",
        docs_url=None,
        redoc_url=None,
    )
    install_error_handlers(app)
    _install_page_errors(app, pages)

    data_json = None
    if catalog is not None:
        from catalog.exports import dcat_us

        def data_json() -> dict[str, Any]:
            return dcat_us(catalog, store, _base_url.get())

    pools = Pools.from_settings(settings)  # one set for the portal's reads and the widgets' renders
    packets = PacketService(store, catalog, versions, service.today)
    app.include_router(
        widget_router(
            service,
            pages,
            assets,
            responses,
            ancestors=ancestors,
            base_url=_base_url,
            pools=pools,
            export_seconds=settings.export_timeout_seconds,
            packets=packets,
        )
    )
    site = pages.site
    page_site = PageSite(title=site.title, publisher=site.publisher, stylesheet=assets.url("site.css"))
    app.include_router(portal_router(store, settings, data_json=data_json, page_site=page_site, pools=pools))

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(docs_page(app.title, assets), headers=dict(security_headers("docs")))

    install_openapi(app, merged(PORTAL_ROUTES, WIDGET_ROUTES))
    app.add_middleware(StreamAbortedMiddleware)
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(_BaseUrlMiddleware)
    # Outermost: cached responses skip everything else (they carry their own headers).
    app.add_middleware(CachedResponseMiddleware, cache=responses, versions=versions, key=response_key)
    app.state.widgets = service
    app.state.pools = pools
    app.state.responses = responses
    app.state.packets = packets
    return app


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
