"""The widgets' FastAPI app: the dashboard, KPI pages, embeds, images and downloads.

Responses built from the catalog (pages, embeds, images, specs, series) are cached in memory
with their ETag, Cache-Control and security headers; :class:`~widgets.cache.CachedResponseMiddleware`
answers repeat requests from that cache before routing. A dataset change (its version in the store)
makes the next request rebuild, so new data shows up without a restart. The server that also
answers the local portal's SODA routes is :func:`btvstat_open.server.create_app`, above both.

Example:
    >>> from btvstat_open.store import Store
    >>> from catalog import load_catalog
    >>> from catalog.demo import DEMO_DIR, load_demo_data
    >>> store = Store(scratch / "store")  # scratch: any empty folder
    >>> _ = load_demo_data(store)
    >>> widgets = create_widgets_app(store, load_catalog(DEMO_DIR, store))
    >>> widgets.app.title
    'City performance dashboard (demo)'
    >>> # uvicorn.run(widgets.app, host="127.0.0.1", port=8000)
    >>> store.close()
"""

from __future__ import annotations

import contextvars
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

import anyio
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from btvstat_open.errors import BtvstatError, NotFound
from btvstat_open.i18n import _
from btvstat_open.store import Store
from btvstat_open.web.budget import Pools, StreamAbortedMiddleware
from btvstat_open.web.files import DownloadFiles
from btvstat_open.web.handlers import install_error_handlers
from btvstat_open.web.locales import LocaleMiddleware, bare_path
from btvstat_open.web.methods import MethodsMiddleware
from btvstat_open.web.openapi import install_openapi
from btvstat_open.web.settings import Settings
from catalog.models import Catalog, CatalogSettings
from widgets.api_docs import WIDGET_ROUTES, docs_page
from widgets.assets import Assets
from widgets.cache import CachedResponse, CachedResponseMiddleware, CacheKey, DataVersions, LruCache
from widgets.packets.layout import PdfProcesses
from widgets.packets.service import PacketService
from widgets.pages import Pages
from widgets.route_context import WidgetContext, Widgets, response_key
from widgets.routes import router as widget_routes
from widgets.security import SecurityHeadersMiddleware, frame_ancestors, security_headers
from widgets.service import WidgetService
from widgets.theme_routes import router as theme_routes
from widgets.themes import PaletteMiddleware, branded
from widgets.warmup import warm_up_in_background

__all__ = ["WidgetsApp", "create_widgets_app"]

_base_url: contextvars.ContextVar[str] = contextvars.ContextVar("base_url", default="http://127.0.0.1:8000")


class _BaseUrlMiddleware:
    """Remembers the request's base URL for documents that name their own links (data.json)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] in ("/data.json", "/datapackage.json"):
            _base_url.set(str(Request(scope).base_url).rstrip("/"))
        await self.app(scope, receive, send)


@dataclass(frozen=True)
class WidgetsApp:
    """The widgets' app, and what a server that adds other routes to it shares with them.

    ``pools`` are the heavy-work pools the widgets render and download on: routes added to the
    app use them too, so the whole server has one budget. ``site`` (the catalog's site settings)
    and ``stylesheet`` (the site's stylesheet URL) let pages served by other routes look like the
    rest of the site. ``data_json`` makes the catalog's DCAT-US document (its datasets and KPI
    series, linked from the address a request came to) for a ``/data.json`` route; None without
    a catalog.
    """

    app: FastAPI
    pools: Pools
    site: CatalogSettings
    stylesheet: str
    data_json: Callable[[], dict[str, Any]] | None
    #: the catalog's theme (widgets.theme_files), for pages served by other routes: its stylesheet,
    #: and its logo's URL and text alternative
    theme_stylesheet: str | None = None
    logo: tuple[str, str] | None = None


def create_widgets_app(
    store: Store,
    catalog: Catalog | None = None,
    settings: Settings | None = None,
    *,
    as_of: date | None = None,
) -> WidgetsApp:
    """The widgets' own app: the dashboard, KPI pages, embeds, images and downloads, with their
    error pages, ``/docs``, ``/openapi.json`` and middleware (response cache, security headers).

    ``catalog`` may be None (an empty dashboard); ``settings`` defaults to
    :meth:`Settings.from_env`; ``as_of`` (``serve --as-of``) fixes the day pages are computed as of,
    over the catalog's own ``as_of``. :func:`btvstat_open.server.create_app` adds the local portal's
    routes to this app, so one server answers both. The routes are module-level routers; what they
    share is on ``app.state.widget_routes`` (:class:`~widgets.route_context.WidgetContext`).

    Example:
        >>> import tempfile
        >>> widgets = create_widgets_app(Store(tempfile.mkdtemp()))
        >>> paths = widgets.app.openapi()["paths"]
        >>> "/kpi/{kpi_id}" in paths and "/kpi/{kpi_id}.csv" in paths
        True
        >>> [p for p in paths if p.startswith("/resource")]  # the portal's routes are not here
        []
    """
    settings = settings or Settings.from_env()
    ctx = _widget_context(store, catalog, settings, as_of)
    app = FastAPI(
        lifespan=_lifespan(catalog, ctx.packets.layout, warm=settings.warm_up),
        title=catalog.settings.title if catalog else "btvstat-open",
        description="City performance KPIs: dashboard, embeddable charts and downloads.",
        version="1",
        docs_url=None,
        redoc_url=None,
    )
    install_error_handlers(app)
    _install_page_errors(app, ctx.pages)
    app.state.widget_routes = ctx
    app.include_router(widget_routes)
    app.include_router(_docs)
    app.include_router(theme_routes)  # the catalog's logo, fonts and theme stylesheet
    install_openapi(app, WIDGET_ROUTES)
    app.add_middleware(StreamAbortedMiddleware)
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(_BaseUrlMiddleware)
    # Cached responses skip everything else (they carry their own headers).
    versions = ctx.service.versions
    app.add_middleware(CachedResponseMiddleware, cache=ctx.responses, versions=versions, key=response_key)
    app.add_middleware(MethodsMiddleware)  # HEAD and OPTIONS on every route, cached or not
    # Charts in the catalog's brand colour (theme: in catalog.yaml), on every worker too.
    app.add_middleware(PaletteMiddleware, palettes=branded(catalog.settings.theme if catalog else None))
    # Outermost: /{locale}/ prefixes, ?lang= and the first-visit hint set each request's locale.
    app.add_middleware(LocaleMiddleware, locales=ctx.pages.site.locales, pseudo=settings.pseudo_locale)
    app.state.widgets = ctx.service
    app.state.pools = ctx.pools
    app.state.responses = ctx.responses
    app.state.packets = ctx.packets
    stylesheet = ctx.assets.url("site.css")
    data_json = _data_json(catalog, store, ctx.service)
    brand = ctx.pages.brand
    logo = (brand.logo_url, brand.logo_alt) if brand.logo_url else None
    return WidgetsApp(app, ctx.pools, ctx.pages.site, stylesheet, data_json, brand.stylesheet, logo)


def _widget_context(
    store: Store, catalog: Catalog | None, settings: Settings, as_of: date | None
) -> WidgetContext:
    """The service, pages, caches and pools one app's widget routes share."""
    versions = DataVersions(store)
    service = WidgetService(store, catalog, versions=versions, as_of=as_of)
    origins = list(catalog.settings.embed.allowed_origins) if catalog else []
    assets = Assets()
    responses: LruCache[CacheKey, CachedResponse] = LruCache(
        4096, max_bytes=settings.response_cache_bytes, size=lambda entry: entry.nbytes
    )
    return WidgetContext(
        service,
        Pages(service, assets, allowed_origins=origins),
        assets,
        responses,
        ancestors=frame_ancestors(origins),
        base_url=_base_url,
        # One set of pools for the widgets' renders and any reads added later.
        pools=Pools.from_settings(settings),
        export_seconds=settings.export_timeout_seconds,
        packets=PacketService(
            store, catalog, versions, service.today, layout=PdfProcesses(settings.packet_workers)
        ),
        files=DownloadFiles(settings.downloads_dir),
    )


def _lifespan(
    catalog: Catalog | None, layout: Callable[[str], bytes], *, warm: bool
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Start the chart renderer before taking requests, on made-up charts only: no KPI is
        # rendered before it is asked for (see widgets.warmup). Setting warm_up off skips both.
        # The PDF processes start meanwhile (when there are meetings), so the first packet does not
        # wait for them either.
        pdf_warm = None
        if warm and catalog is not None and catalog.meetings and isinstance(layout, PdfProcesses):
            pdf_warm = layout.warm()
        if warm and catalog is not None:
            await anyio.to_thread.run_sync(warm_up_in_background().join)
        if pdf_warm is not None:
            await anyio.to_thread.run_sync(pdf_warm, 120)
        yield
        # What the parts installed beside the widgets ask to finish before the store closes
        # (``app.state.on_shutdown``: the notifications after the last approval).
        for finish in getattr(app.state, "on_shutdown", ()):
            await anyio.to_thread.run_sync(finish)
        if isinstance(layout, PdfProcesses):
            layout.close()  # the PDF processes end with the server

    return lifespan


def _data_json(
    catalog: Catalog | None, store: Store, service: WidgetService
) -> Callable[[], dict[str, Any]] | None:
    """With a catalog, ``/data.json`` lists the KPI series too (see :func:`catalog.exports.dcat_us`),
    as of the pages' day (so its ``modified`` agrees with the cards' "Data updated")."""
    if catalog is None:
        return None
    from catalog.exports import dcat_us

    return lambda: dcat_us(catalog, store, _base_url.get(), today=service.today(), series=service.series)


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
        # The routes documented with an HTML 404 (pages, and a packet's PDF, whose reader is a person)
        # answer one; the matched route decides, not the path's look (a goal id may hold a dot).
        route = getattr(request.scope.get("route"), "path", None)
        doc = WIDGET_ROUTES.get((request.method.lower(), route)) if route else None
        is_page = doc is not None and 404 in doc.html_errors
        if is_page and isinstance(exc, NotFound):
            heading = {
                "goals": _("Goal not found"),
                "departments": _("Department not found"),
                "meetings": _("Meeting not found"),
                "stories": _("Story not found"),
            }.get(bare_path().split("/")[1], _("KPI not found"))
            body = pages.error(heading, exc.message)
            return HTMLResponse(body, status_code=404, headers=dict(security_headers("page")))
        if json_handler is not None:
            result: Response = await json_handler(request, exc)  # type: ignore[misc]
            return result
        return JSONResponse(exc.to_socrata() if isinstance(exc, NotFound) else {}, status_code=404)

    app.add_exception_handler(NotFound, kpi_not_found)
