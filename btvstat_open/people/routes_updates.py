"""The program routes of the Updates and Approvals pages: commentary, action progress, and
actions the program office adds."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from btvstat_open.errors import BtvstatError, UsageError
from btvstat_open.i18n import _
from btvstat_open.people.commentary import add_action, submit_action, submit_comment
from btvstat_open.people.context import PeopleContext, client_address
from btvstat_open.people.forms import updates_values
from btvstat_open.people.pages import page, redirect
from btvstat_open.people.routes import approvals_page, common, forbidden, posted
from btvstat_open.people.submissions import Forbidden

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


def _ctx(request: Request) -> PeopleContext:
    ctx: PeopleContext = request.app.state.people
    return ctx


@router.post("/updates/comment")
def submit_commentary(
    request: Request, kpi: str = Form(""), period: str = Form(""), text: str = Form(""), csrf: str = Form("")
) -> Response:
    """Submit the analysis of a KPI period."""
    asker = posted(request, csrf)
    if isinstance(asker, Response):
        return asker
    ctx = _ctx(request)
    try:
        start = _day(period, "period")
        if start is None:
            raise UsageError(_("The form names no period; reload the page."))
        submit_comment(ctx.submissions, asker.grants, kpi, start, text, address=client_address(request))
    except Forbidden as exc:
        return forbidden(request, asker, exc.message)
    except BtvstatError as exc:
        values = updates_values(ctx, asker, {f"comment|{kpi}": exc.message})
        return page("updates.html", status=400, **common(request, asker, **values))
    return redirect("/updates?notice=commentary")


@router.post("/updates/action")
def submit_action_update(
    request: Request,
    kpi: str = Form(""),
    action: str = Form(""),
    status: str = Form(""),
    note: str = Form(""),
    csrf: str = Form(""),
) -> Response:
    """Submit an action's new status and progress note."""
    asker = posted(request, csrf)
    if isinstance(asker, Response):
        return asker
    ctx = _ctx(request)
    try:
        submit_action(
            ctx.submissions, asker.grants, kpi, action, status, note, address=client_address(request)
        )
    except Forbidden as exc:
        return forbidden(request, asker, exc.message)
    except BtvstatError as exc:
        values = updates_values(ctx, asker, {f"action|{kpi}|{action}": exc.message})
        return page("updates.html", status=400, **common(request, asker, **values))
    return redirect("/updates?notice=action-update")


def _day(text: str, field: str) -> date | None:
    if not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(_("%(field)s: write the date as YYYY-MM-DD.") % {"field": field}) from None


@router.post("/approvals/actions")
def add_kpi_action(
    request: Request, kpi: str = Form(""), title: str = Form(""), due: str = Form(""), csrf: str = Form("")
) -> Response:
    """An approver adds an action to a KPI (published at once)."""
    asker = posted(request, csrf, approver=True)
    if isinstance(asker, Response):
        return asker
    ctx = _ctx(request)
    try:
        add_action(
            ctx.store,
            ctx.catalog,
            asker.grants,
            kpi,
            title,
            _day(due, "due"),
            address=client_address(request),
        )
    except Forbidden as exc:
        return forbidden(request, asker, exc.message)
    except BtvstatError as exc:
        return approvals_page(request, asker, {-1: exc.message}, status=400)
    return redirect("/approvals?notice=action-added")
