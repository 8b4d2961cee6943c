"""The local SODA-compatible portal as a FastAPI router and app.

The one server (:func:`btvstat_open.server.create_app`) adds :func:`portal_router` to the widgets'
app (and replaces ``/data.json`` with the catalog's, which also lists KPI series); the portal
never imports the widgets. :func:`create_portal_app` serves the portal alone.

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

from btvstat_open.budget import Pools, StreamAbortedMiddleware
from btvstat_open.portal.context import PortalContext
from btvstat_open.portal.dataset_page import PageSite, page_router
from btvstat_open.portal.openapi import PORTAL_ROUTES
from btvstat_open.portal.routes_meta import meta_router, unsupported_router
from btvstat_open.portal.routes_read import read_router
from btvstat_open.portal.routes_rows import row_router
from btvstat_open.portal.routes_views import views_router
from btvstat_open.portal.routes_write import write_router
from btvstat_open.portal.soda3 import soda3_router
from btvstat_open.settings import Settings
from btvstat_open.store import Store
from btvstat_open.web.handlers import install_error_handlers
from btvstat_open.web.openapi import install_openapi

__all__ = ["PageSite", "create_portal_app", "install_error_handlers", "portal_router"]


def portal_router(
    store: Store,
    settings: Settings,
    *,
    data_json: Callable[[], dict[str, Any]] | None = None,
    page_site: PageSite | None = None,
    pools: Pools | None = None,
) -> APIRouter:
    """Every portal route (SODA 2.1, SODA 3, metadata, discovery, writes, ``/data.json``, ``/d/{id}``).

    ``data_json`` replaces the default ``/data.json`` (the store's datasets) with another
    DCAT-US document, e.g. one that also lists KPI series; ``page_site`` gives the dataset pages
    (``/d/{id}``) the site's title, publisher and stylesheet, so they look like the rest of it.
    ``pools`` are the heavy-work pools reads run on (by default new ones sized by ``settings``);
    serve the router in an app with :class:`~btvstat_open.budget.StreamAbortedMiddleware` (see
    :func:`create_portal_app`).

    Example:
        >>> app = FastAPI()  # doctest: +SKIP
        >>> app.include_router(portal_router(store, Settings.from_env()))  # doctest: +SKIP
    """
    ctx = PortalContext(store, settings, pools)
    router = APIRouter()
    router.include_router(views_router(ctx))
    router.include_router(meta_router(ctx, data_json))
    router.include_router(read_router(ctx))
    router.include_router(soda3_router(ctx))
    router.include_router(write_router(ctx))
    router.include_router(row_router(ctx))
    router.include_router(page_router(ctx, page_site))
    router.include_router(unsupported_router())
    return router


def create_portal_app(store: Store, settings: Settings | None = None) -> FastAPI:
    """A FastAPI app serving only the local portal (settings from the environment by default).

    Example:
        >>> app = create_portal_app(store)  # doctest: +SKIP
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
    app.include_router(portal_router(store, settings, pools=pools))
    app.add_middleware(StreamAbortedMiddleware)
    app.state.pools = pools

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        # On the event loop, never behind the heavy pools: it answers however busy they are.
        return {"status": "ok"}

    install_openapi(app, PORTAL_ROUTES)

    return app
