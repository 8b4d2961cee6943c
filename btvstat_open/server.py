"""The one server: the widgets' app with the local portal's SODA routes added, and ``serve``.

The widgets (:mod:`widgets.app`) and the local portal (:mod:`btvstat_open.portal`) are siblings
that do not import each other; this module, above both, puts them in one FastAPI app, so a city
serves its dashboard, embeds, downloads and SODA API from one address, on one set of heavy-work
pools. Its ``/openapi.json`` describes both route tables.

Example:
    >>> import tempfile
    >>> app = create_app(Store(tempfile.mkdtemp()))
    >>> paths = app.openapi()["paths"]
    >>> "/resource/{resource}" in paths, "/kpi/{kpi_id}.svg" in paths
    (True, True)
"""

from __future__ import annotations

import argparse
import gc
import sys
from datetime import date

from fastapi import FastAPI

from btvstat_open.errors import UsageError
from btvstat_open.people import install_people, plain_http_warning
from btvstat_open.portal.app import PageSite, install_portal
from btvstat_open.portal.openapi import PORTAL_ROUTES
from btvstat_open.settings import Settings
from btvstat_open.store import Store
from btvstat_open.web.openapi import install_openapi, merged
from catalog import load_catalog
from catalog.asof import frozen_at
from catalog.models import Catalog
from widgets.api_docs import WIDGET_ROUTES
from widgets.app import create_widgets_app

__all__ = ["create_app", "run_serve"]

DESCRIPTION = "City performance KPIs: dashboard, embeddable charts, downloads and a SODA API."


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
    over the catalog's own ``as_of``. With a catalog, ``/data.json`` lists its KPI series too, and
    the dataset pages (``/d/{id}``) take the site's title, publisher and stylesheet.

    Example:
        >>> import tempfile
        >>> app = create_app(Store(tempfile.mkdtemp()), settings=Settings(write_token="t"))
        >>> sorted({app.url_path_for(name) for name in ("get_data_json", "discovery")})
        ['/api/catalog/v1', '/data.json']
    """
    settings = settings or Settings.from_env()
    part = create_widgets_app(store, catalog, settings, as_of=as_of)
    app = part.app
    app.description = DESCRIPTION
    site = part.site
    page_site = PageSite(title=site.title, publisher=site.publisher, stylesheet=part.stylesheet)
    # After the widgets' routes, as before the split; on their pools (one budget for the server).
    install_portal(app, store, settings, data_json=part.data_json, page_site=page_site, pools=part.pools)
    install_openapi(app, merged(PORTAL_ROUTES, WIDGET_ROUTES))
    if catalog is not None:  # people: sign-in, entered values, approvals, audit
        install_people(app, store, catalog, settings, stylesheet=part.stylesheet)
    return app


def _catalog(args: argparse.Namespace, store: Store) -> Catalog | None:
    if getattr(args, "demo", False):
        from catalog.demo import DEMO_DIR, load_demo_data

        if args.catalog:
            raise UsageError("Use either --demo or --catalog DIR, not both.")
        # Writes to demo datasets are kept across restarts; say so, so nobody wonders why a
        # demo dataset differs from the bundled one.
        load_demo_data(store, notice=lambda line: print(line, file=sys.stderr, flush=True))
        demo = load_catalog(DEMO_DIR, store)
        from btvstat_open.people.demo import seed_demo_people

        print("\n".join(seed_demo_people(store, demo)), flush=True)
        return demo
    if args.catalog:
        return load_catalog(args.catalog, store)
    return None


def run_serve(args: argparse.Namespace) -> int:
    """Serve the dashboard, embeds and the SODA API with uvicorn until interrupted (``serve``).

    Example:
        >>> from btvstat_open.cli import build_parser
        >>> run_serve(build_parser().parse_args(["serve", "--port", "0"]))
        Traceback (most recent call last):
        ...
        btvstat_open.errors.UsageError: --port 0 is not a TCP port; use a number from 1 to 65535.
    """
    import uvicorn

    from btvstat_open.serving import server_config

    if not 0 < args.port < 65536:
        raise UsageError(f"--port {args.port} is not a TCP port; use a number from 1 to 65535.")
    store = Store(args.store)
    catalog = _catalog(args, store)
    as_of = getattr(args, "as_of", None)
    if catalog is not None:
        # --as-of freezes "today" for every page, image and download the server makes.
        catalog = frozen_at(catalog, as_of)
    elif as_of is not None:
        raise UsageError("--as-of needs a catalog: add --demo or --catalog DIR.")
    settings = Settings.from_env()
    app = create_app(store, catalog, settings)
    host = f"[{args.host}]" if ":" in args.host else args.host
    title = (
        catalog.settings.title if catalog else "the local portal (no catalog: use --demo or --catalog DIR)"
    )
    print(f"Serving {title} at http://{host}:{args.port} (Ctrl+C to stop)", flush=True)
    if catalog is not None and (warning := plain_http_warning(args.host)):
        print(warning, file=sys.stderr, flush=True)
    # Everything loaded so far (libraries, catalog, app) lives as long as this process: move it out
    # of the collector's reach, so a full collection while serving scans only new objects (~150,000
    # start-up objects made each one a pause of 150-250 ms). Process-wide, so here at the start of
    # the process and not in create_app (tests and embedders build many apps in one process).
    gc.collect()
    gc.freeze()
    # Timeouts for slow clients and a connection cap (the http_* settings, docs/settings.md).
    uvicorn.Server(server_config(app, settings, args.host, args.port, log_level="warning")).run()
    return 0
