"""The ``serve`` and ``render`` commands.

Example:
    $ btvstat-open serve --demo --store .btvstat/demo-store
    Serving City performance dashboard (demo) at http://127.0.0.1:8000 (Ctrl+C to stop)
    $ btvstat-open render pothole-days-to-close --catalog catalog/demo -o potholes.svg
    $ btvstat-open serve --demo --as-of 2020-02-03   # the dashboard as it stood that day
"""

from __future__ import annotations

import argparse
import gc
import sys
from pathlib import Path

from btvstat_open.errors import UsageError
from btvstat_open.store import Store
from catalog import load_catalog
from catalog.asof import frozen_at, today_for
from catalog.models import Catalog

__all__ = ["run_render", "run_serve"]

_FORMATS = (".svg", ".png", ".html")


def _catalog(args: argparse.Namespace, store: Store) -> Catalog | None:
    if getattr(args, "demo", False):
        from catalog.demo import DEMO_DIR, load_demo_data

        if args.catalog:
            raise UsageError("Use either --demo or --catalog DIR, not both.")
        # Writes to demo datasets are kept across restarts; say so, so nobody wonders why a
        # demo dataset differs from the bundled one.
        load_demo_data(store, notice=lambda line: print(line, file=sys.stderr, flush=True))
        return load_catalog(DEMO_DIR, store)
    if args.catalog:
        return load_catalog(args.catalog, store)
    return None


def run_serve(args: argparse.Namespace) -> int:
    """Serve the dashboard, embeds and the SODA API with uvicorn until interrupted.

    Example:
        >>> run_serve(build_parser().parse_args(["serve", "--demo"]))  # doctest: +SKIP
    """
    import uvicorn

    from btvstat_open.serving import server_config
    from btvstat_open.settings import Settings
    from widgets.app import create_app

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
    # Everything loaded so far (libraries, catalog, app) lives as long as this process: move it out
    # of the collector's reach, so a full collection while serving scans only new objects (~150,000
    # start-up objects made each one a pause of 150-250 ms). Process-wide, so here and not in
    # create_app (tests and embedders build many apps in one process).
    gc.collect()
    gc.freeze()
    # Timeouts for slow clients and a connection cap (the http_* settings, docs/settings.md).
    uvicorn.Server(server_config(app, settings, args.host, args.port, log_level="warning")).run()
    return 0


def run_render(args: argparse.Namespace) -> int:
    """Render one KPI's chart to ``.svg``, ``.png`` or a self-contained ``.html`` file.

    Example:
        >>> from btvstat_open.cli import build_parser  # store_dir: a store with the demo data
        >>> out = scratch / "p.svg"
        >>> argv = ["render", "pothole-days-to-close", "--catalog", "catalog/demo", "-o", str(out)]
        >>> run_render(build_parser().parse_args([*argv, "--store", store_dir]))
        0
    """
    from catalog import measure
    from widgets.charts import chart_spec
    from widgets.images import image_png, image_svg
    from widgets.render import render_html

    output = Path(args.output)
    suffix = output.suffix.lower()
    if suffix not in _FORMATS:
        raise UsageError(f"Cannot render to {output.name!r}: the file name must end in .svg, .png or .html.")
    store = Store(args.store)
    catalog = load_catalog(args.catalog, store)
    kpi = catalog.get(args.kpi_id)
    today = today_for(catalog.settings, getattr(args, "as_of", None))
    fsm = catalog.settings.fiscal_year_start
    series = measure(kpi, store, catalog.settings, today=today)
    partial = output.with_name(output.name + ".partial")
    if suffix == ".html":
        # The page has the title.
        spec = chart_spec(kpi, series, width="container", title=False, today=today, fiscal_year_start=fsm)
        partial.write_text(render_html(spec, title=kpi.title, description=kpi.description), encoding="utf-8")
    else:  # the same images the server's .svg and .png routes draw
        svg = image_svg(kpi, series, today=today, fiscal_year_start=fsm)
        if suffix == ".svg":
            partial.write_text(svg, encoding="utf-8")
        else:
            partial.write_bytes(image_png(svg))
    partial.replace(output)
    print(f"Wrote {output}", file=sys.stderr)
    return 0
