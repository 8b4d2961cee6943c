"""The local SODA-compatible portal as a FastAPI router and app.

The one server (:func:`btvstat_open.server.create_app`) installs the portal's routes in the
widgets' app (:func:`install_portal`; it replaces ``/data.json`` with the catalog's, which also
lists KPI series); the portal never imports the widgets. :func:`create_portal_app` serves the
portal alone.

Example:
    >>> import tempfile
    >>> app = create_portal_app(Store(tempfile.mkdtemp()), Settings(write_token="t"))
    >>> sorted({app.url_path_for(name) for name in ("get_data_json", "discovery")})
    ['/api/catalog/v1', '/data.json']
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, FastAPI

from btvstat_open.portal import (
    dataset_page,
    legacy,
    routes_meta,
    routes_read,
    routes_rows,
    routes_views,
    routes_write,
    soda3,
)
from btvstat_open.portal.context import PortalContext
from btvstat_open.portal.dataset_page import DatasetPages, PageSite
from btvstat_open.portal.openapi import PORTAL_ROUTES
from btvstat_open.store import Store
from btvstat_open.web.budget import Pools, StreamAbortedMiddleware
from btvstat_open.web.handlers import install_error_handlers
from btvstat_open.web.methods import MethodsMiddleware
from btvstat_open.web.openapi import install_openapi
from btvstat_open.web.settings import Settings

__all__ = ["PageSite", "create_portal_app", "install_error_handlers", "install_portal", "router"]


# Every portal route, in the order they are matched (PUT /api/views/{id} before the metadata
# routes, the one-row routes after the dataset routes, the 501s last).
router = APIRouter()
for _routes in (
    routes_views.router,
    routes_meta.router,
    routes_read.router,
    soda3.router,
    routes_write.router,
    routes_rows.router,
    dataset_page.router,
    legacy.router,
    routes_meta.unsupported,
):
    router.include_router(_routes)


def install_portal(
    app: FastAPI,
    store: Store,
    settings: Settings,
    *,
    data_json: Callable[[], dict[str, Any]] | None = None,
    page_site: PageSite | None = None,
    pools: Pools | None = None,
) -> PortalContext:
    """Serve every portal route (SODA 2.1, SODA 3, metadata, discovery, writes, ``/data.json``,
    ``/d/{id}``) from ``app``, over ``store``; returns the routes' shared context.

    The routes are module-level (:data:`router`); what they share lives on ``app.state``
    (``portal``: the :class:`PortalContext`, ``dataset_pages``). ``data_json`` replaces the default
    ``/data.json`` (the store's datasets) with another DCAT-US document, e.g. one that also lists
    KPI series; ``page_site`` gives the dataset pages (``/d/{id}``) the site's title, publisher and
    stylesheet, so they look like the rest of it. ``pools`` are the heavy-work pools reads run on
    (by default new ones sized by ``settings``); serve the app with
    :class:`~btvstat_open.web.budget.StreamAbortedMiddleware` (see :func:`create_portal_app`).

    Example:
        >>> import tempfile
        >>> app = FastAPI()
        >>> ctx = install_portal(app, Store(tempfile.mkdtemp()), Settings())
        >>> app.state.portal is ctx, app.url_path_for("get_view", resource="x.json")
        (True, '/api/views/x.json')
    """
    ctx = PortalContext(store, settings, pools, data_json=data_json)
    app.state.portal = ctx
    app.state.dataset_pages = DatasetPages(page_site)
    app.include_router(router)
    return ctx


def create_portal_app(store: Store, settings: Settings | None = None) -> FastAPI:
    """A FastAPI app serving only the local portal (settings from the environment by default).

    Example:
        >>> app = create_portal_app(store)
        >>> # uvicorn.run(app, host="127.0.0.1", port=8000)
    """
    settings = settings or Settings.from_env()
    app = FastAPI(
        title="btvstat-open local portal",
        description="A SODA-compatible open-data portal over a local DuckDB store.",
        version="1",
        # No Swagger UI here: FastAPI's loads from a CDN. The widgets app serves /docs from its own files.
        docs_url=None,
        redoc_url=None,
    )
    install_error_handlers(app)
    pools = Pools.from_settings(settings)
    install_portal(app, store, settings, pools=pools)
    app.add_middleware(StreamAbortedMiddleware)
    app.add_middleware(MethodsMiddleware)
    app.state.pools = pools

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        # On the event loop, never behind the heavy pools: it answers however busy they are.
        return {"status": "ok"}

    install_openapi(app, PORTAL_ROUTES)

    return app
