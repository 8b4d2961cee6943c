"""A KPI's comparison with peer cities as JSON and as an SVG chart (the KPI page shows both).

Neither is kept in the response cache: a peer's failed sync changes its flag without changing any
dataset's version, so each request builds them anew (a repeat with the same ETag is still a 304).

Example:
    >>> [r.path for r in router.routes]
    ['/kpi/{kpi_id}/peers.json', '/kpi/{kpi_id}/peers.svg']
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response

from btvstat_open.errors import NotFound
from catalog.models import Kpi
from catalog.peers import Comparison
from widgets.peer_chart import peer_svg
from widgets.peer_view import peer_rows
from widgets.route_context import WidgetContext, Widgets

__all__ = ["comparison_document", "router"]

router = APIRouter()


def _found(ctx: WidgetContext, kpi_id: str) -> tuple[Kpi, Comparison]:
    kpi = ctx.service.kpi(kpi_id)
    found = ctx.service.comparison(kpi)
    if found is None:
        raise NotFound(
            f"KPI {kpi.id!r} has no peers; a KPI file's `peers:` key adds them.", code="peers.missing"
        )
    return kpi, found


def comparison_document(kpi: Kpi, found: Comparison) -> dict[str, Any]:
    """The comparison as JSON: the rule, the scale, and each city's rows and table line."""
    return {
        "kpi": kpi.id,
        "rule": found.rule,
        "comparable": found.comparable,
        "scale": found.scale,
        "unit": found.unit,
        "cities": [
            {**row, "points": line.points}
            for row, line in zip(peer_rows(kpi, found), found.lines, strict=True)
        ],
    }


@router.get("/kpi/{kpi_id}/peers.json", summary="A KPI's comparison with peer cities")
def peers_json(kpi_id: str, request: Request, ctx: Widgets) -> Response:
    kpi, found = _found(ctx, kpi_id)
    ctx.no_options(request)
    build = lambda: orjson.dumps(comparison_document(kpi, found))  # noqa: E731
    return ctx.respond(request, "data", "application/json", build, kpis=[kpi], keep=False)


@router.get("/kpi/{kpi_id}/peers.svg", summary="A KPI's comparison with peer cities as an SVG chart")
async def peers_svg(kpi_id: str, request: Request, ctx: Widgets) -> Response:
    kpi, found = _found(ctx, kpi_id)
    opts = ctx.options(request, ("theme", "width"))
    build = lambda: peer_svg(kpi, found, theme=opts.theme, width=opts.width).encode()  # noqa: E731
    return await ctx.respond_on(
        ctx.pools.renders, request, "image", "image/svg+xml", build, kpis=[kpi], keep=False
    )
