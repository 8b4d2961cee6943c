"""Personal API tokens (``/tokens``) and the entries API (``POST /api/entries``).

A department's script sends ``Authorization: Bearer btvp_...`` and a JSON array of entries,
``[{"kpi": ID, "period_start": "YYYY-MM-DD", "value": N, "comment": "..."}]`` (a rate:
``numerator`` and ``denominator``). Every entry is checked first; on any error nothing is
submitted and the answer lists each bad entry by its position. Entries wait for approval as
the forms' do.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from btvstat_open.errors import BadRequestBody, BtvstatError, UsageError
from btvstat_open.people.context import Asker, PeopleContext, client_address
from btvstat_open.people.forms import check_form_value
from btvstat_open.people.pages import internal, page
from btvstat_open.people.routes import common, forbidden, posted, signed_in
from btvstat_open.people.submissions import Forbidden, ValueEntry
from btvstat_open.web.handlers import json_response

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
_MAX_ENTRIES = 1000


def _ctx(request: Request) -> PeopleContext:
    ctx: PeopleContext = request.app.state.people
    return ctx


def _tokens_page(request: Request, asker: Asker, secret: str = "", status: int = 200) -> Response:
    ctx = _ctx(request)
    departments = asker.grants.departments("updater")
    values = common(
        request,
        asker,
        tokens=ctx.tokens.mine(asker.grants.person.email),
        secret=secret,
        departments=sorted(departments) if departments is not None else sorted(_all_departments(ctx)),
    )
    return page("tokens.html", status=status, **values)


def _all_departments(ctx: PeopleContext) -> set[str]:
    return {k.department for k in ctx.catalog.kpis.values()}


@router.get("/tokens")
def tokens(request: Request) -> Response:
    """The person's API tokens and a form to make one."""
    asker = signed_in(request)
    if isinstance(asker, Response):
        return asker
    if not asker.grants.can("updater"):
        return forbidden(request, asker, "API tokens are for people who enter values (updaters).")
    return _tokens_page(request, asker)


@router.post("/tokens")
def create_token(request: Request, label: str = Form(""), csrf: str = Form("")) -> Response:
    """Make a token for the person's departments (shown once)."""
    asker = posted(request, csrf)
    if isinstance(asker, Response):
        return asker
    ctx = _ctx(request)
    departments = asker.grants.departments("updater")
    if departments is not None and not departments:
        return forbidden(request, asker, "API tokens are for people who enter values (updaters).")
    scope = sorted(departments if departments is not None else _all_departments(ctx))
    secret = ctx.tokens.create(asker.grants.person, label.strip() or "token", scope)
    return _tokens_page(request, asker, secret)


@router.post("/tokens/{token_id}/revoke")
def revoke_token(request: Request, token_id: str, csrf: str = Form("")) -> Response:
    """Revoke one of the person's tokens."""
    asker = posted(request, csrf)
    if isinstance(asker, Response):
        return asker
    _ctx(request).tokens.revoke(token_id[:32], asker.grants.person.email)
    return _tokens_page(request, asker)


@router.post("/api/entries")
async def api_entries(request: Request) -> Response:
    """Submit entered values with a personal API token (all or nothing)."""
    ctx = _ctx(request)
    asker = ctx.who_is_asking(request)
    if asker is None or asker.token is None:
        body = {
            "code": "authentication_required",
            "error": True,
            "message": "Send Authorization: Bearer <token>.",
        }
        return internal(json_response(body, 401, {"www-authenticate": 'Bearer realm="btvstat-open"'}))
    raw = await request.body()
    if len(raw) > 1024 * 1024:
        raise BadRequestBody("The body is over 1 MB; send at most 1000 entries per request.")
    entries = _entries(raw)
    checked: list[ValueEntry] = []
    errors: list[dict[str, Any]] = []
    for number, item in enumerate(entries):
        try:
            checked.append(check_form_value(ctx, asker, _item(item), _fields(item)))
        except BtvstatError as exc:
            errors.append({"row": number, "status": exc.http_status, "message": exc.message})
    if errors:
        status = 403 if any(e["status"] == 403 for e in errors) else 400
        body = {
            "code": "entries.bad",
            "error": True,
            "message": "Nothing was submitted.",
            "data": {"errors": errors},
        }
        return internal(json_response(body, status))
    address = client_address(request)
    try:
        ids = [ctx.submissions.submit_value(asker.grants, e, address=address, via="api") for e in checked]
    except Forbidden as exc:
        return internal(json_response(exc.to_socrata(), 403))
    return internal(json_response({"submitted": ids, "state": "pending"}, 201))


def _entries(raw: bytes) -> list[dict[str, Any]]:
    import orjson

    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise BadRequestBody("The body is not JSON: send an array of entries.") from None
    if not isinstance(data, list) or not all(isinstance(i, dict) for i in data):
        raise BadRequestBody(
            'Send a JSON array of objects: [{"kpi": ..., "period_start": ..., "value": ...}].'
        )
    if len(data) > _MAX_ENTRIES:
        raise BadRequestBody(f"At most {_MAX_ENTRIES} entries per request.")
    return data


def _item(entry: dict[str, Any]) -> str:
    kpi, start = entry.get("kpi"), entry.get("period_start")
    if not isinstance(kpi, str) or not isinstance(start, str):
        raise UsageError('Each entry needs "kpi" and "period_start" (YYYY-MM-DD).')
    return f"{kpi}|{start}"


def _fields(entry: dict[str, Any]) -> dict[str, str]:
    out = {}
    for name in ("value", "numerator", "denominator", "comment", "reason"):
        value = entry.get(name)
        if isinstance(value, bool) or not isinstance(value, (str, int, float, type(None))):
            raise UsageError(f'"{name}" must be a number or text.')
        out[name] = "" if value is None else str(value)
    return out
