"""The program's routes: the dashboard, goal and department pages, the goal tree and program as
JSON, and a KPI's breakdown as CSV, JSON, SVG and PNG.

They answer through the same response cache as every widget route
(:meth:`~widgets.route_context.WidgetContext.respond`); the only inputs are ids, a department's
slug and the dashboard's filters, each checked (:mod:`widgets.filters`).

Example:
    >>> [r.path for r in router.routes][:3]
    ['/', '/goals/{goal_id}', '/departments']
"""

from __future__ import annotations

from collections.abc import Callable

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response

from btvstat_open.errors import NotFound
from catalog import breakdown as breakdowns
from catalog.models import Kpi
from catalog.program_document import program_document
from widgets.breakdown_chart import breakdown_svg
from widgets.dashboard_pages import ProgramPages
from widgets.filters import Filters, parse_filters
from widgets.images import image_png
from widgets.overview import goals_json, program_tree
from widgets.route_context import WidgetContext, Widgets
from widgets.service import ChartOptions

__all__ = ["router"]

router = APIRouter()
"""The program's routes (the widget router includes them first)."""


def _page_now(
    ctx: WidgetContext,
    request: Request,
    build: Callable[[ProgramPages], str],
    keep: bool,
    kpis: list[Kpi] | None = None,
) -> Response:
    """An HTML page about the program: it depends on these KPIs' data (default: every public KPI's)."""
    kpis = ctx.service.public_kpis() if kpis is None else kpis
    program = ctx.program
    return ctx.respond(
        request, "page", "text/html; charset=utf-8", lambda: build(program).encode(), kpis=kpis, keep=keep
    )


async def _page(
    ctx: WidgetContext,
    request: Request,
    build: Callable[[ProgramPages], str],
    *,
    keep: bool = True,
    kpis: list[Kpi] | None = None,
) -> Response:
    """:func:`_page_now` on the page pool (a 503 with ``Retry-After`` when it is full)."""
    return await ctx.pools.pages.run(_page_now, ctx, request, build, keep, kpis)


@router.get("/", response_class=Response, summary="Dashboard: the program at a glance, then the goal tree")
async def dashboard(request: Request, ctx: Widgets) -> Response:
    query = dict(request.query_params)
    filters = parse_filters(query, departments=ctx.program.department_slugs()) if query else Filters()
    # Words (q) filter the page without caching it: each made-up word would be an entry.
    return await _page(ctx, request, lambda p: p.dashboard(filters), keep=not filters.q.strip())


@router.get("/goals/{goal_id}", response_class=Response, summary="A goal: its rollup, sub-goals and KPIs")
async def goal_page(goal_id: str, request: Request, ctx: Widgets) -> Response:
    ctx.no_options(request)
    shown = ctx.program.shown_on_goal(goal_id)  # its KPIs only: another goal's data is not on it
    return await _page(ctx, request, lambda p: p.goal(goal_id), kpis=shown)


@router.get("/departments", response_class=Response, summary="Every department with its KPIs' status")
async def departments_page(request: Request, ctx: Widgets) -> Response:
    ctx.no_options(request)
    return await _page(ctx, request, lambda p: p.departments())


@router.get("/checks", response_class=Response, summary="Data checks: what failed, what is held back")
async def checks_page(request: Request, ctx: Widgets) -> Response:
    ctx.no_options(request)
    return await _page(ctx, request, lambda p: p.checks())


@router.get(
    "/departments/{slug}", response_class=Response, summary="One department's KPIs, actions, meetings"
)
async def department_page(slug: str, request: Request, ctx: Widgets) -> Response:
    ctx.no_options(request)
    return await _page(ctx, request, lambda p: p.department(slug))


@router.get("/api/goals", summary="The goal tree with each goal's rollup, as JSON")
async def api_goals(request: Request, ctx: Widgets) -> Response:
    ctx.no_options(request)
    service = ctx.service
    kpis = service.public_kpis()

    def build() -> bytes:
        roots = program_tree(service.settings, service.all_facts(kpis))  # the missing ones on threads
        settings = service.settings
        return orjson.dumps(
            {
                "as_of": service.today().isoformat(),
                "levels": settings.goal_levels,
                "goal_status": settings.goal_status,
                "goals": goals_json(roots),
            }
        )

    return await ctx.respond_on(ctx.pools.pages, request, "data", "application/json", build, kpis=kpis)


@router.get("/program.json", summary="The whole program (catalog export --format program)")
async def program_json(request: Request, ctx: Widgets) -> Response:
    ctx.no_options(request)
    service = ctx.service
    catalog = service.catalog
    if catalog is None:
        raise NotFound("No catalog is loaded; start the server with --catalog DIR or --demo.")

    def build() -> bytes:
        kpis = service.public_kpis()
        with service.store.pinned_versions():  # every KPI reads the same few datasets
            series = {kpi.id: service.series(kpi) for kpi in kpis}
            document = program_document(catalog, service.store, today=service.today(), series=series)
        return orjson.dumps(document)

    kpis = service.public_kpis()
    return await ctx.respond_on(ctx.pools.pages, request, "data", "application/json", build, kpis=kpis)


def _breakdown_kpi(ctx: WidgetContext, kpi_id: str) -> Kpi:
    kpi = ctx.service.kpi(kpi_id)
    if kpi.breakdown is None:
        raise NotFound(
            f"KPI {kpi.id!r} has no breakdown; a KPI file's `breakdown:` key adds one.",
            code="breakdown.missing",
        )
    return kpi


@router.get("/kpi/{kpi_id}/breakdown.json", summary="A KPI's breakdown by group (suppressed: no value)")
def breakdown_json(kpi_id: str, request: Request, ctx: Widgets) -> Response:
    kpi = _breakdown_kpi(ctx, kpi_id)
    ctx.no_options(request)

    def build() -> bytes:
        return orjson.dumps(breakdowns.breakdown_document(kpi, ctx.service.breakdown(kpi)))

    return ctx.respond(request, "data", "application/json", build, kpis=[kpi])


@router.get("/kpi/{kpi_id}/breakdown.csv", summary="A KPI's breakdown by group as CSV")
def breakdown_csv(kpi_id: str, request: Request, ctx: Widgets) -> Response:
    kpi = _breakdown_kpi(ctx, kpi_id)
    ctx.no_options(request)
    disposition = (("content-disposition", f'attachment; filename="{kpi.id}-breakdown.csv"'),)

    def build() -> bytes:
        return breakdowns.breakdown_csv(ctx.service.breakdown(kpi)).encode()

    return ctx.respond(request, "data", "text/csv; charset=utf-8", build, kpis=[kpi], extra=disposition)


def _breakdown_image(ctx: WidgetContext, kpi: Kpi, opts: ChartOptions) -> str:
    return breakdown_svg(kpi, ctx.service.breakdown_rows(kpi), theme=opts.theme, width=opts.width)


@router.get("/kpi/{kpi_id}/breakdown.svg", summary="A KPI's breakdown chart as SVG")
async def breakdown_svg_route(kpi_id: str, request: Request, ctx: Widgets) -> Response:
    kpi, opts = _breakdown_kpi(ctx, kpi_id), ctx.options(request, ("theme", "width"))
    build = lambda: _breakdown_image(ctx, kpi, opts).encode()  # noqa: E731
    return await ctx.respond_on(ctx.pools.renders, request, "image", "image/svg+xml", build, kpis=[kpi])


@router.get("/kpi/{kpi_id}/breakdown.png", summary="A KPI's breakdown chart as PNG")
async def breakdown_png(kpi_id: str, request: Request, ctx: Widgets) -> Response:
    kpi, opts = _breakdown_kpi(ctx, kpi_id), ctx.options(request, ("theme", "width"))
    build = lambda: image_png(_breakdown_image(ctx, kpi, opts))  # noqa: E731
    return await ctx.respond_on(ctx.pools.renders, request, "image", "image/png", build, kpis=[kpi])
