"""``btvstat-open build-site -o DIR --catalog DIR [--store DIR] [--as-of DATE] [--base-url URL]``.

Builds the public site as files (:func:`widgets.sitebuild.build_site`) from the one server's app
(:func:`btvstat_open.server.create_app`), so the pages, images and downloads are the server's own
answers, and the local portal's public documents (``/data.json``, a dataset's metadata) are there too.

Example:
    $ btvstat-open build-site -o public --catalog catalog/demo --base-url https://performance.example.gov
    Wrote 352 files (352 written, 0 unchanged, 0 removed; 352 rendered, 0 kept) in public
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path
from typing import Final

from fastapi import FastAPI

from btvstat_open.portal.openapi import PORTAL_ROUTES
from btvstat_open.server import create_app
from btvstat_open.store import Store, open_store
from btvstat_open.web.settings import Settings
from catalog import load_catalog
from catalog.asof import parse_as_of
from widgets.api_docs import WIDGET_ROUTES
from widgets.sitebuild import BuildReport, build_site
from widgets.sitebuild.build import prepare_folder

__all__ = ["PUBLIC_ROUTES", "run_build_site", "site_app"]

DEFAULT_BASE_URL = "http://127.0.0.1:8000"
# The local portal's documents a static site can hold: the DCAT-US catalog, the dataset list and
# each dataset's metadata (a KPI page links to it). Its queries (/resource, SODA 3) need a server.
_PORTAL_DOCUMENTS = ("/data.json", "/api/catalog/v1", "/api/views/{resource}")
PUBLIC_ROUTES: Final = frozenset(
    {path for method, path in WIDGET_ROUTES if method == "get" and path != "/healthz"}
    | {path for method, path in PORTAL_ROUTES if method == "get" and path in _PORTAL_DOCUMENTS}
    | {"/static/{name}", "/theme/{name}", "/docs", "/openapi.json"}
)


def run_build_site(args: argparse.Namespace) -> int:
    """Build the site into ``args.output``; print the counts (and any link that leads nowhere)."""
    as_of = parse_as_of(args.as_of) if args.as_of else None
    prepare_folder(Path(args.output))  # a folder it may not write is refused before any work
    with open_store(args.store) as store:
        app = site_app(store, args.catalog, Settings.from_env(), as_of=as_of)
        catalog = app.state.widget_routes.service.catalog
        base = args.base_url or (
            str(catalog.settings.site_url) if catalog.settings.site_url else DEFAULT_BASE_URL
        )
        report = build_site(app, args.output, base_url=base, public=PUBLIC_ROUTES, pdfs=not args.no_pdf)
    print_report(report, args.output)
    return 0


def site_app(
    store: Store, catalog_dir: str | Path, settings: Settings | None = None, *, as_of: date | None = None
) -> FastAPI:
    """The app a build drives (:func:`create_app`), its catalog loaded with the store's versions
    looked up once (each KPI's checks ask after the same few datasets)."""
    with store.pinned_versions():
        catalog = load_catalog(catalog_dir, store)
    return create_app(store, catalog, settings, as_of=as_of)


def print_report(report: BuildReport, output: str) -> None:
    """The counts on stderr, then one line per link that leads nowhere on the static site."""
    print(f"{report.line()} in {output}", file=sys.stderr)
    for problem in report.broken:
        print(f"warning: broken link {problem}", file=sys.stderr)
