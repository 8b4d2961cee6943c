"""The ``render`` command (``serve``, which needs the portal too, is :mod:`btvstat_open.server`'s).

Example:
    $ btvstat-open render pothole-days-to-close --catalog catalog/demo -o potholes.svg
    $ btvstat-open render pothole-days-to-close --catalog catalog/demo --as-of 2020-02-03 -o p.png
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from btvstat_open.atomic import write_atomically
from btvstat_open.errors import UsageError
from btvstat_open.store import open_store
from catalog import load_catalog
from catalog.asof import today_for
from catalog.commands import say_history

__all__ = ["run_render"]

_FORMATS = (".svg", ".png", ".html")


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
    from catalog.explain import why_empty
    from widgets.charts import chart_spec
    from widgets.empty_chart import empty_spec, empty_svg
    from widgets.images import image_png, image_svg
    from widgets.render import render_html
    from widgets.themes import branded, use_palettes

    output = Path(args.output)
    suffix = output.suffix.lower()
    if suffix not in _FORMATS:
        raise UsageError(f"Cannot render to {output.name!r}: the file name must end in .svg, .png or .html.")
    store = open_store(args.store)
    catalog = load_catalog(args.catalog, store)
    kpi = catalog.get(args.kpi_id)
    today = today_for(catalog.settings, getattr(args, "as_of", None))
    fsm = catalog.settings.fiscal_year_start
    series = measure(kpi, store, catalog.settings, today=today)
    reason = why_empty(kpi, store, catalog.settings, today=today, series=series)
    with use_palettes(branded(catalog.settings.theme)):  # the catalog's brand colour, as served
        if suffix == ".html":
            # The page has the title.
            spec = (
                empty_spec(kpi, reason, title=False)
                if reason
                else chart_spec(
                    kpi, series, width="container", title=False, today=today, fiscal_year_start=fsm
                )
            )
            write_atomically(output, render_html(spec, title=kpi.title, description=kpi.description))
        else:  # the same images the server's .svg and .png routes draw
            # A KPI with no value: no empty axes, the same note the server's images show.
            svg = (
                empty_svg(kpi, reason)
                if reason
                else image_svg(kpi, series, today=today, fiscal_year_start=fsm)
            )
            write_atomically(output, svg if suffix == ".svg" else image_png(svg))
    print(f"Wrote {output}", file=sys.stderr)
    say_history(store, [kpi.source.dataset], today)
    return 0
