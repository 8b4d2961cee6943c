"""Feeds for residents: Atom feeds of a KPI, a department, a goal and the whole program, and
iCalendar feeds of meetings and of actions' due dates (:mod:`catalog.feeds` writes them).

They are public pages like the others: only public KPIs, cached through the same response cache
(:meth:`~widgets.route_context.WidgetContext.respond`), rebuilt when the data or the day changes.
The router is included before the pages', so ``/departments/{slug}.atom`` is not read as a slug.

Example:
    >>> [r.path for r in router.routes][:2]
    ['/program.atom', '/kpi/{kpi_id}.atom']
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from btvstat_open.errors import NotFound
from btvstat_open.i18n import _
from catalog.feeds import action_calendar, atom_feed, kpi_entries, meeting_calendar
from catalog.goals import GoalNode, goal_tree
from catalog.models import Catalog, Kpi
from widgets.overview import slugify
from widgets.route_context import WidgetContext, Widgets

__all__ = ["ATOM_TYPE", "CALENDAR_TYPE", "loaded_catalog", "router"]

ATOM_TYPE = "application/atom+xml"
CALENDAR_TYPE = "text/calendar; charset=utf-8"

router = APIRouter()


def loaded_catalog(ctx: WidgetContext) -> Catalog:
    """The loaded catalog; without one, every feed and story is :class:`NotFound`."""
    catalog = ctx.service.catalog
    if catalog is None:
        raise NotFound("No catalog is loaded; start the server with --catalog DIR or --demo.")
    return catalog


def _atom(ctx: WidgetContext, request: Request, title: str, page: str, kpis: list[Kpi]) -> Response:
    ctx.no_options(request)
    catalog = loaded_catalog(ctx)
    service = ctx.service

    def build() -> bytes:
        today = service.today()
        synced = {d for d in {k.source.dataset for k in kpis} if service.store.exists(d)}  # each once
        series = {k.id: service.series(k) for k in kpis if k.source.dataset in synced}
        entries = kpi_entries(catalog, kpis, series, today, service.store)
        s = catalog.settings
        return atom_feed(
            title, request.url.path, page, entries, today, site_url=s.site_url, author=s.publisher
        )

    return ctx.respond(request, "data", ATOM_TYPE, build, kpis=kpis)


@router.get("/program.atom", summary="Atom feed of the whole program: status changes, notes, meetings")
def program_feed(request: Request, ctx: Widgets) -> Response:
    title = _("%(title)s: what changed") % {"title": loaded_catalog(ctx).settings.title}
    return _atom(ctx, request, title, "/", ctx.service.public_kpis())


@router.get("/kpi/{kpi_id}.atom", summary="Atom feed of a KPI: status changes, notes, meetings")
def kpi_feed(kpi_id: str, request: Request, ctx: Widgets) -> Response:
    kpi = ctx.service.kpi(kpi_id)
    return _atom(ctx, request, kpi.title, f"/kpi/{kpi.id}", [kpi])


@router.get("/departments/{slug}.atom", summary="Atom feed of a department's KPIs")
def department_feed(slug: str, request: Request, ctx: Widgets) -> Response:
    kpis = [k for k in ctx.service.public_kpis() if slugify(k.department) == slug]
    if not kpis:
        raise NotFound(
            f"No department {slug[:80]!r} with public KPIs. The departments are listed at /departments.",
            code="department.missing",
        )
    return _atom(ctx, request, kpis[0].department, f"/departments/{slug}", kpis)


def _find(nodes: list[GoalNode], goal_id: str) -> GoalNode | None:
    for node in nodes:
        if node.id == goal_id:
            return node
        found = _find(list(node.children), goal_id)
        if found is not None:
            return found
    return None


@router.get("/goals/{goal_id}.atom", summary="Atom feed of a goal's KPIs (its sub-goals' too)")
def goal_feed(goal_id: str, request: Request, ctx: Widgets) -> Response:
    catalog = loaded_catalog(ctx)
    kpis = ctx.service.public_kpis()
    node = _find(goal_tree(catalog.settings, kpis), goal_id)
    if node is None:
        raise NotFound(f"No goal {goal_id[:80]!r}. The goals are listed at /.", code="goal.missing")
    wanted = set(node.all_kpi_ids())
    return _atom(ctx, request, node.goal.title, f"/goals/{goal_id}", [k for k in kpis if k.id in wanted])


@router.get("/meetings.ics", summary="iCalendar feed of the Stat meetings")
def meetings_calendar(request: Request, ctx: Widgets) -> Response:
    ctx.no_options(request)
    catalog = loaded_catalog(ctx)
    build = lambda: meeting_calendar(catalog, ctx.service.today(), site_url=catalog.settings.site_url)  # noqa: E731
    return ctx.respond(request, "data", CALENDAR_TYPE, build, kpis=[])


@router.get("/actions.ics", summary="iCalendar feed of open actions' due dates")
def actions_calendar(request: Request, ctx: Widgets) -> Response:
    ctx.no_options(request)
    catalog = loaded_catalog(ctx)
    kpis = ctx.service.public_kpis()
    site = catalog.settings.site_url
    build = lambda: action_calendar(catalog, kpis, ctx.service.today(), site_url=site)  # noqa: E731
    return ctx.respond(request, "data", CALENDAR_TYPE, build, kpis=kpis)
