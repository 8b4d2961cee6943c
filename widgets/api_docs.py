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
from dataclasses import replace
from typing import Final

from btvstat_open.web.openapi import CSV, HTML, JSON, OBJECT, ROWS, TEXT, RouteDoc
from widgets.assets import Assets

__all__ = ["WIDGET_ROUTES", "docs_page"]

_BINARY: Final = {"type": "string", "format": "binary"}


def _get(
    media: str, *, errors: tuple[int, ...] = (400, 404, 500), html_404: bool = False, ranges: bool = False
) -> RouteDoc:
    schema = {JSON: OBJECT, HTML: TEXT, CSV: TEXT}.get(media, _BINARY)
    if html_404:
        return RouteDoc({media: schema}, errors=(400, 500), html_errors=(404,), not_modified=True)
    return RouteDoc({media: schema}, errors=errors, not_modified=True, ranges=ranges)


def _pooled(doc: RouteDoc) -> RouteDoc:
    """A route built on a bounded pool (pages, packets, renders, queries): a 503 when it is full."""
    return replace(doc, errors=(*doc.errors, 503))


WIDGET_ROUTES: Final[dict[tuple[str, str], RouteDoc]] = {
    ("get", "/"): _pooled(_get(HTML, errors=(400, 500))),
    ("get", "/kpi/{kpi_id}"): _get(HTML, html_404=True),
    ("get", "/embed/{kpi_id}"): _get(HTML, html_404=True),
    ("get", "/kpi/{kpi_id}.vl.json"): _get(JSON),
    ("get", "/kpi/{kpi_id}.svg"): _pooled(_get("image/svg+xml")),
    ("get", "/kpi/{kpi_id}.png"): _pooled(_get("image/png")),
    ("get", "/kpi/{kpi_id}.csv"): _get(CSV),
    ("get", "/kpi/{kpi_id}.json"): RouteDoc({JSON: ROWS}, errors=(400, 404, 500), not_modified=True),
    ("get", "/kpi/{kpi_id}/revisions.json"): RouteDoc(
        {JSON: ROWS}, errors=(400, 404, 500), not_modified=True
    ),
    ("get", "/embed.js"): _get("text/javascript", errors=(500,)),
    ("get", "/datasets/{dataset_id}.csv"): _pooled(_get(CSV, ranges=True)),
    ("get", "/datasets/{dataset_id}.parquet"): _pooled(_get("application/vnd.apache.parquet", ranges=True)),
    ("get", "/api/kpis"): _get(JSON, errors=(400, 500)),
    ("get", "/datapackage.json"): _get(JSON),
    ("get", "/healthz"): RouteDoc({JSON: OBJECT}),
    ("get", "/goals/{goal_id}"): _pooled(_get(HTML, html_404=True)),
    ("get", "/departments"): _pooled(_get(HTML, errors=(400, 500))),
    ("get", "/checks"): _pooled(_get(HTML, errors=(400, 500))),
    ("get", "/departments/{slug}"): _pooled(_get(HTML, html_404=True)),
    ("get", "/api/goals"): _pooled(_get(JSON, errors=(400, 500))),
    ("get", "/program.json"): _pooled(_get(JSON, errors=(400, 500))),
    ("get", "/kpi/{kpi_id}/breakdown.json"): _get(JSON),
    ("get", "/kpi/{kpi_id}/breakdown.csv"): _get(CSV),
    ("get", "/kpi/{kpi_id}/breakdown.svg"): _pooled(_get("image/svg+xml")),
    ("get", "/kpi/{kpi_id}/breakdown.png"): _pooled(_get("image/png")),
    # a KPI's comparison with peer cities (widgets.peer_routes)
    ("get", "/kpi/{kpi_id}/peers.json"): _get(JSON),
    ("get", "/kpi/{kpi_id}/peers.svg"): _pooled(_get("image/svg+xml")),
    ("get", "/meetings"): _pooled(_get(HTML, errors=(400, 500))),
    ("get", "/meetings/{meeting_id}"): _pooled(_get(HTML, html_404=True)),
    ("get", "/meetings/{meeting_id}.pdf"): _pooled(_get("application/pdf", html_404=True)),
    # a kept revision at an address a static copy of the site can have (widgets.sitebuild)
    ("get", "/meetings/{meeting_id}/revisions/{number}"): _pooled(_get(HTML, html_404=True)),
    ("get", "/meetings/{meeting_id}/revisions/{number}.pdf"): _pooled(_get("application/pdf", html_404=True)),
    # stories (widgets.story_routes)
    ("get", "/stories"): _pooled(_get(HTML, errors=(400, 500))),
    ("get", "/stories/{story_id}"): _pooled(_get(HTML, html_404=True)),
    # feeds (widgets.feed_routes)
    ("get", "/program.atom"): _get("application/atom+xml", errors=(400, 500)),
    ("get", "/kpi/{kpi_id}.atom"): _get("application/atom+xml"),
    ("get", "/departments/{slug}.atom"): _get("application/atom+xml"),
    ("get", "/goals/{goal_id}.atom"): _get("application/atom+xml"),
    ("get", "/meetings.ics"): _get("text/calendar", errors=(400, 500)),
    ("get", "/actions.ics"): _get("text/calendar", errors=(400, 500)),
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
