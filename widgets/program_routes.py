"""The program's routes: the dashboard, goal and department pages, the goal tree and program as
JSON, and a KPI's breakdown as CSV, JSON, SVG and PNG.

They answer through the same response cache as every widget route (the ``respond`` of
:func:`widgets.routes.widget_router`); the only inputs are ids, a department's slug and the
dashboard's filters, each checked (:mod:`widgets.filters`).

Example:
    >>> add_program_routes(router, service, pages, respond, options, no_options)  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response

from btvstat_open.errors import NotFound
from catalog import breakdown as breakdowns
from catalog.models import Kpi
from catalog.program import program_document
from widgets.breakdown_chart import breakdown_svg
from widgets.filters import Filters, parse_filters
from widgets.images import image_png
from widgets.pages import Pages
from widgets.program import goals_json, program_tree
from widgets.program_pages import ProgramPages
from widgets.security import Kind
from widgets.service import ChartOptions, WidgetService

__all__ = ["Respond", "add_program_routes"]


class Respond(Protocol):
    """Build (or reuse) a cached response: see ``respond`` in :func:`widgets.routes.widget_router`."""

    def __call__(
        self,
        request: Request,
        kind: Kind,
        media_type: str,
        build: Callable[[], bytes],
        *,
        kpis: list[Kpi] | None = None,
        cache_control: str = ...,
        extra: tuple[tuple[str, str], ...] = (),
    ) -> Response: ...


def add_program_routes(
    router: APIRouter,
    service: WidgetService,
    pages: Pages,
    respond: Respond,
    options: Callable[..., ChartOptions],
    no_options: Callable[[Request], None],
) -> None:
    """Add the program's routes to ``router``."""
    program = ProgramPages(pages)

    def page(request: Request, build: Callable[[], str]) -> Response:
        """An HTML page about the whole program (it depends on every public KPI's data)."""
        kpis = service.public_kpis()
        return respond(request, "page", "text/html; charset=utf-8", lambda: build().encode(), kpis=kpis)

    @router.get(
        "/", response_class=Response, summary="Dashboard: the program at a glance, then the goal tree"
    )
    def dashboard(request: Request) -> Response:
        query = dict(request.query_params)
        filters = parse_filters(query, departments=program.department_slugs()) if query else Filters()
        return page(request, lambda: program.dashboard(filters))

    @router.get("/goals/{goal_id}", response_class=Response, summary="A goal: its rollup, sub-goals and KPIs")
    def goal_page(goal_id: str, request: Request) -> Response:
        no_options(request)
        return page(request, lambda: program.goal(goal_id))

    @router.get("/departments", response_class=Response, summary="Every department with its KPIs' status")
    def departments_page(request: Request) -> Response:
        no_options(request)
        return page(request, program.departments)

    @router.get(
        "/departments/{slug}", response_class=Response, summary="One department's KPIs, actions, meetings"
    )
    def department_page(slug: str, request: Request) -> Response:
        no_options(request)
        return page(request, lambda: program.department(slug))

    @router.get("/api/goals", summary="The goal tree with each goal's rollup, as JSON")
    def api_goals(request: Request) -> Response:
        no_options(request)
        kpis = service.public_kpis()

        def build() -> bytes:
            roots = program_tree(service.settings, [service.facts(kpi) for kpi in kpis])
            settings = service.settings
            return orjson.dumps(
                {
                    "as_of": service.today().isoformat(),
                    "levels": settings.goal_levels,
                    "goal_status": settings.goal_status,
                    "goals": goals_json(roots),
                }
            )

        return respond(request, "data", "application/json", build, kpis=kpis)

    @router.get("/program.json", summary="The whole program (catalog export --format program)")
    def program_json(request: Request) -> Response:
        no_options(request)
        catalog = service.catalog
        if catalog is None:
            raise NotFound("No catalog is loaded; start the server with --catalog DIR or --demo.")

        def build() -> bytes:
            kpis = service.public_kpis()
            series = {kpi.id: service.series(kpi) for kpi in kpis}
            return orjson.dumps(
                program_document(catalog, service.store, today=service.today(), series=series)
            )

        return respond(request, "data", "application/json", build, kpis=service.public_kpis())

    @router.get("/kpi/{kpi_id}/breakdown.json", summary="A KPI's breakdown by group (suppressed: no value)")
    def breakdown_json(kpi_id: str, request: Request) -> Response:
        kpi = breakdown_kpi(kpi_id)
        no_options(request)

        def build() -> bytes:
            return orjson.dumps(breakdowns.breakdown_document(kpi, service.breakdown(kpi)))

        return respond(request, "data", "application/json", build, kpis=[kpi])

    @router.get("/kpi/{kpi_id}/breakdown.csv", summary="A KPI's breakdown by group as CSV")
    def breakdown_csv(kpi_id: str, request: Request) -> Response:
        kpi = breakdown_kpi(kpi_id)
        no_options(request)
        disposition = (("content-disposition", f'attachment; filename="{kpi.id}-breakdown.csv"'),)

        def build() -> bytes:
            return breakdowns.breakdown_csv(service.breakdown(kpi)).encode()

        return respond(request, "data", "text/csv; charset=utf-8", build, kpis=[kpi], extra=disposition)

    def breakdown_image(kpi: Kpi, opts: ChartOptions) -> str:
        return breakdown_svg(kpi, service.breakdown_rows(kpi), theme=opts.theme, width=opts.width)

    @router.get("/kpi/{kpi_id}/breakdown.svg", summary="A KPI's breakdown chart as SVG")
    def breakdown_svg_route(kpi_id: str, request: Request) -> Response:
        kpi, opts = breakdown_kpi(kpi_id), options(request, ("theme", "width"))
        return respond(
            request, "image", "image/svg+xml", lambda: breakdown_image(kpi, opts).encode(), kpis=[kpi]
        )

    @router.get("/kpi/{kpi_id}/breakdown.png", summary="A KPI's breakdown chart as PNG")
    def breakdown_png(kpi_id: str, request: Request) -> Response:
        kpi, opts = breakdown_kpi(kpi_id), options(request, ("theme", "width"))
        return respond(
            request, "image", "image/png", lambda: image_png(breakdown_image(kpi, opts)), kpis=[kpi]
        )

    def breakdown_kpi(kpi_id: str) -> Kpi:
        kpi = service.kpi(kpi_id)
        if kpi.breakdown is None:
            raise NotFound(
                f"KPI {kpi.id!r} has no breakdown; a KPI file's `breakdown:` key adds one.",
                code="breakdown.missing",
            )
        return kpi
