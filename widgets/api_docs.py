"""The API's documentation: the widget routes' truthful descriptions and the ``/docs`` page.

:data:`WIDGET_ROUTES` describes how each widget route answers (pages are HTML, and a missing KPI's
page is an HTML 404; charts are SVG or PNG; series are CSV or JSON; errors otherwise in Socrata's
JSON shape), for :func:`btvstat_open.web.openapi.describe`. :func:`docs_page` is Swagger UI
from this server's own files.

Example:
    >>> sorted(WIDGET_ROUTES[("get", "/kpi/{kpi_id}.png")].ok)
    ['image/png']
"""

from __future__ import annotations

import html
from typing import Final

from btvstat_open.web.openapi import CSV, HTML, JSON, OBJECT, ROWS, TEXT, RouteDoc
from widgets.assets import Assets

__all__ = ["WIDGET_ROUTES", "docs_page"]

_BINARY: Final = {"type": "string", "format": "binary"}


def _get(media: str, *, errors: tuple[int, ...] = (400, 404, 500), html_404: bool = False) -> RouteDoc:
    schema = {JSON: OBJECT, HTML: TEXT, CSV: TEXT}.get(media, _BINARY)
    if html_404:
        return RouteDoc({media: schema}, errors=(400, 500), html_errors=(404,), not_modified=True)
    return RouteDoc({media: schema}, errors=errors, not_modified=True)


WIDGET_ROUTES: Final[dict[tuple[str, str], RouteDoc]] = {
    ("get", "/"): _get(HTML, errors=(400, 500)),
    ("get", "/kpi/{kpi_id}"): _get(HTML, html_404=True),
    ("get", "/embed/{kpi_id}"): _get(HTML, html_404=True),
    ("get", "/kpi/{kpi_id}.vl.json"): _get(JSON),
    ("get", "/kpi/{kpi_id}.svg"): _get("image/svg+xml"),
    ("get", "/kpi/{kpi_id}.png"): _get("image/png"),
    ("get", "/kpi/{kpi_id}.csv"): _get(CSV),
    ("get", "/kpi/{kpi_id}.json"): RouteDoc({JSON: ROWS}, errors=(400, 404, 500), not_modified=True),
    ("get", "/embed.js"): _get("text/javascript", errors=(500,)),
    ("get", "/datasets/{dataset_id}.csv"): _get(CSV),
    ("get", "/datasets/{dataset_id}.parquet"): _get("application/vnd.apache.parquet"),
    ("get", "/api/kpis"): _get(JSON, errors=(400, 500)),
    ("get", "/datapackage.json"): _get(JSON),
    ("get", "/healthz"): RouteDoc({JSON: OBJECT}),
    ("get", "/goals/{goal_id}"): _get(HTML, html_404=True),
    ("get", "/departments"): _get(HTML, errors=(400, 500)),
    ("get", "/checks"): _get(HTML, errors=(400, 500)),
    ("get", "/departments/{slug}"): _get(HTML, html_404=True),
    ("get", "/api/goals"): _get(JSON, errors=(400, 500)),
    ("get", "/program.json"): _get(JSON, errors=(400, 500)),
    ("get", "/kpi/{kpi_id}/breakdown.json"): _get(JSON),
    ("get", "/kpi/{kpi_id}/breakdown.csv"): _get(CSV),
    ("get", "/kpi/{kpi_id}/breakdown.svg"): _get("image/svg+xml"),
    ("get", "/kpi/{kpi_id}/breakdown.png"): _get("image/png"),
    ("get", "/meetings"): _get(HTML, errors=(400, 500)),
    ("get", "/meetings/{meeting_id}"): _get(HTML, html_404=True),
    ("get", "/meetings/{meeting_id}.pdf"): _get("application/pdf", html_404=True),
}


def docs_page(title: str, assets: Assets) -> str:
    """The ``/docs`` page: Swagger UI from this server's own files, started by ``docs.js`` (no inline code).

    Example:
        >>> "/static/swagger-ui-bundle.js?v=" in docs_page("City <KPIs>", Assets())
        True
        >>> "City &lt;KPIs&gt; API" in docs_page("City <KPIs>", Assets())
        True
    """
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)} API</title>"
        '<link rel="icon" href="data:,">'
        f'<link rel="stylesheet" href="{assets.url("swagger-ui.css")}"></head>'
        '<body><main id="swagger-ui"></main>'
        f'<script src="{assets.url("swagger-ui-bundle.js")}"></script>'
        f'<script src="{assets.url("docs.js")}"></script></body></html>\n'
    )
