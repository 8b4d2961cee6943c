"""The spreadsheet round trip on the Updates page: download the workbook of what is due,
upload it back (every cell checked, errors as row, column and fix), preview, then submit."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Form, Request, UploadFile
from starlette.responses import Response

from btvstat_open.errors import BtvstatError
from btvstat_open.i18n import _
from btvstat_open.people.context import Asker, PeopleContext, client_address
from btvstat_open.people.forms import check_form_value, show_entry, updates_values
from btvstat_open.people.pages import internal, page, redirect
from btvstat_open.people.routes import common, forbidden, posted, signed_in
from btvstat_open.people.submissions import Forbidden
from btvstat_open.people.workbook import check_rows, due_workbook, read_rows

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_MAX_UPLOAD = 5 * 1024 * 1024


def _ctx(request: Request) -> PeopleContext:
    ctx: PeopleContext = request.app.state.people
    return ctx


@router.get("/updates/sheet.xlsx")
def download_sheet(request: Request) -> Response:
    """The workbook of the person's open items."""
    asker = signed_in(request)
    if isinstance(asker, Response):
        return asker
    if not asker.grants.can("updater"):
        return forbidden(request, asker, "The workbook is for people who enter values (updaters).")
    values = updates_values(_ctx(request), asker, {})
    items = [i for i in values["items"] if values["editable"](i) and i.state != "approved"]
    body = due_workbook(items, values["titles"], values["rates"])
    response = Response(body, media_type=XLSX)
    response.headers["content-disposition"] = 'attachment; filename="updates.xlsx"'
    return internal(response)


@router.post("/updates/sheet")
async def upload_sheet(request: Request, file: UploadFile, csrf: str = Form("")) -> Response:
    """Check an uploaded workbook: its errors, or a preview of what it would submit."""
    asker = posted(request, csrf)
    if isinstance(asker, Response):
        return asker
    ctx = _ctx(request)
    data = await file.read(_MAX_UPLOAD + 1)
    try:
        rows = read_rows(data)
    except BtvstatError as exc:
        return _sheet_page(request, asker, status=400, problem=exc.message)
    entries, errors = check_rows(rows, lambda item, fields: check_form_value(ctx, asker, item, fields))
    if errors:
        return _sheet_page(request, asker, status=400, errors=errors)
    if not entries:
        return _sheet_page(
            request, asker, status=400, problem=_("No row has a value: fill in the Value cells.")
        )
    key = ctx.keep_preview(asker.grants.person.email, entries)
    return _sheet_page(request, asker, preview=entries, preview_id=key)


@router.post("/updates/sheet/submit")
def submit_sheet(request: Request, preview: str = Form(""), csrf: str = Form("")) -> Response:
    """Submit a previewed workbook (all its entries, or none)."""
    asker = posted(request, csrf)
    if isinstance(asker, Response):
        return asker
    ctx = _ctx(request)
    entries = ctx.take_preview(asker.grants.person.email, preview)
    if entries is None:
        return _sheet_page(
            request, asker, status=400, problem=_("The preview expired; upload the workbook again.")
        )
    try:
        ids = ctx.submissions.submit_values(
            asker.grants, entries, address=client_address(request), via="workbook"
        )
    except Forbidden as exc:
        return forbidden(request, asker, exc.message)
    except BtvstatError as exc:
        return _sheet_page(request, asker, status=400, problem=exc.message)
    return redirect(f"/updates?notice=values&n={len(ids)}")


def _sheet_page(request: Request, asker: Asker, status: int = 200, **values: Any) -> Response:
    ctx = _ctx(request)
    values = {"errors": [], "problem": "", "preview": [], "preview_id": "", **values}
    titles = {k.id: k.title for k in ctx.catalog.kpis.values()}
    return page(
        "sheet.html", status=status, **common(request, asker, titles=titles, shown=show_entry, **values)
    )
