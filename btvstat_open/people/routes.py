"""The people routes: ``/login``, ``/logout``, ``/updates``, ``/approvals``, ``/audit`` and the
entries API for a department's scripts.

Every route finds who is asking and checks the role on each request; every POST from a page
checks the session's CSRF token (sign-in checks a token of its own, from a cookie set with the
form). Pages are never cached. Sign-in gives one answer for an unknown account and a wrong
password, and is throttled per account and per address.
"""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import APIRouter, Form, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import PlainTextResponse, Response

from btvstat_open.errors import BtvstatError
from btvstat_open.i18n import _, current_locale
from btvstat_open.people.access import needs_totp
from btvstat_open.people.accounts import verify
from btvstat_open.people.audit import audit_csv, entries, record
from btvstat_open.people.context import COOKIE, Asker, PeopleContext, client_address
from btvstat_open.people.forms import (
    WRONG,
    check_form_value,
    progress_by_department,
    show_submission,
    updates_values,
)
from btvstat_open.people.locks import lock_meeting
from btvstat_open.people.oidc import STATE_COOKIE, OidcFailed
from btvstat_open.people.pages import Look, internal, notice_text, page, redirect, redirect_to
from btvstat_open.people.sessions import csrf_matches
from btvstat_open.people.submissions import Forbidden
from btvstat_open.web.locales import bare_path, language_links

__all__ = ["approvals_page", "common", "forbidden", "posted", "router", "signed_in", "signed_in_approver"]

router = APIRouter(include_in_schema=False)
LOGIN_COOKIE = "__Host-btvstat-signin"


def _ctx(request: Request) -> PeopleContext:
    ctx: PeopleContext = request.app.state.people
    return ctx


def common(request: Request, asker: Asker | None, **values: Any) -> dict[str, Any]:
    ctx = _ctx(request)
    csrf = asker.session.csrf if asker and asker.session else ""
    settings = ctx.catalog.settings
    locales = list(settings.locales)
    return {
        "site_title": settings.title,
        "publisher": settings.publisher,
        "stylesheet": getattr(request.app.state, "people_stylesheet", None),
        "look": getattr(request.app.state, "people_look", None) or Look(),
        "languages": language_links(locales, current_locale(), bare_path()) if len(locales) > 1 else [],
        "asker": asker,
        "csrf": csrf,
        "notice": notice_text(request.query_params.get("notice", ""), request.query_params.get("n", "")),
        **values,
    }


def signed_in(request: Request) -> Asker | Response:
    asker = _ctx(request).who_is_asking(request)
    if asker is None or asker.session is None:
        return redirect(f"/login?next={request.url.path}")
    return asker


def forbidden(request: Request, asker: Asker, message: str) -> Response:
    values = common(request, asker, heading=_("Not allowed"), message=message)
    return page("message.html", status=403, **values)


def _csrf_ok(asker: Asker, token: str | None) -> bool:
    return asker.session is not None and csrf_matches(asker.session.csrf, token)


def posted(request: Request, csrf: str, *, approver: bool = False) -> Asker | Response:
    """The signed-in person of a form POST (with the right role) whose CSRF token matches."""
    asker = signed_in_approver(request) if approver else signed_in(request)
    if isinstance(asker, Response):
        return asker
    if not _csrf_ok(asker, csrf):
        return forbidden(request, asker, _("The form expired; reload the page and try again."))
    return asker


@router.get("/login")
def login_form(request: Request, next: str = "/updates") -> Response:
    """The sign-in form, with a fresh sign-in CSRF token in a cookie and the form."""
    token = secrets.token_urlsafe(24)
    ctx = _ctx(request)
    values = common(request, None, next=next, error="", email="", oidc=ctx.oidc and _("single sign-on"))
    response = page("login.html", **{**values, "csrf": token})
    response.set_cookie(LOGIN_COOKIE, token, max_age=1800, httponly=True, secure=True, samesite="strict")
    return response


@router.post("/login")
def login(
    request: Request,
    email: str = Form(""),
    password: str = Form(""),
    code: str = Form(""),
    csrf: str = Form(""),
    next: str = Form("/updates"),
) -> Response:
    """Check a local account's password (and code); start a new session on success."""
    ctx = _ctx(request)
    address = client_address(request)
    expected = request.cookies.get(LOGIN_COOKIE, "")
    values = common(request, None, next=next, email=email[:254], oidc=None)
    if not expected or not csrf_matches(expected, csrf):
        return page(
            "login.html",
            status=400,
            **{**values, "csrf": expected, "error": _("The form expired; try again.")},
        )
    if not ctx.throttle.allowed(email, address):
        record(ctx.store, email[:254], "sign_in_throttled", address=address)
        error = _("Too many failed attempts; wait 15 minutes and try again.")
        return page("login.html", status=429, **{**values, "csrf": expected, "error": error})
    account = verify(ctx.accounts, email, password[:1024], code)
    if account is None:
        ctx.throttle.failed(email, address)
        record(ctx.store, email[:254], "sign_in_failed", detail="password", address=address)
        return page("login.html", status=401, **{**values, "csrf": expected, "error": _(WRONG)})
    grants = ctx.grants(account.person)
    if ctx.settings.require_totp and needs_totp(grants) and not account.totp:
        record(ctx.store, account.email, "sign_in_failed", detail="no second factor", address=address)
        error = _(
            "Your role needs a one-time code: ask an administrator to run `btvstat-open user reset --totp`."
        )
        return page("login.html", status=401, **{**values, "csrf": expected, "error": error})
    ctx.throttle.succeeded(email)
    cookie = ctx.sessions.start(account.person, via="password", replaces=request.cookies.get(COOKIE))
    record(ctx.store, account.email, "sign_in", detail="password", address=address)
    return _session_redirect(next, cookie, ctx)


@router.get("/login/sso")
def login_sso(request: Request, next: str = "/updates") -> Response:
    """Send the browser to the identity provider (OpenID Connect)."""
    ctx = _ctx(request)
    if ctx.oidc is None:
        message = _("This site has no identity provider; sign in with a local account.")
        return page(
            "message.html",
            status=404,
            **common(request, None, heading=_("No single sign-on"), message=message),
        )
    try:
        url, state = ctx.oidc.start(str(request.url_for("auth_callback")), next)
    except BtvstatError as exc:
        return page(
            "message.html",
            status=502,
            **common(request, None, heading=_("Sign-in failed"), message=exc.message),
        )
    response = redirect_to(url)
    response.set_cookie(STATE_COOKIE, state, max_age=600, httponly=True, secure=True, samesite="lax")
    return response


@router.get("/auth/callback")
def auth_callback(request: Request, state: str = "", code: str = "", error: str = "") -> Response:
    """The identity provider's redirect: check it, start a session."""
    ctx = _ctx(request)
    address = client_address(request)
    if ctx.oidc is None:
        return redirect("/login")
    cookie = request.cookies.get(STATE_COOKIE)
    try:
        if error:
            raise OidcFailed(f"The identity provider refused the sign-in ({error[:60]}).")
        person = ctx.oidc.finish(cookie, state, code)
    except BtvstatError as exc:
        record(ctx.store, "(identity provider)", "sign_in_failed", detail=exc.message, address=address)
        values = common(request, None, heading=_("Sign-in failed"), message=exc.message)
        return page("message.html", status=401, **values)
    session = ctx.sessions.start(person, via="oidc", replaces=request.cookies.get(COOKIE))
    groups = ", ".join(person.groups)
    record(ctx.store, person.email, "sign_in", detail=f"identity provider; groups: {groups}", address=address)
    response = _session_redirect(ctx.oidc.next_path(cookie), session, ctx)
    response.delete_cookie(STATE_COOKIE, secure=True, httponly=True, samesite="lax")
    return response


def _session_redirect(next: str, cookie: str, ctx: PeopleContext) -> Response:
    response = redirect(next)
    max_age = ctx.settings.session_hours * 3600
    response.set_cookie(COOKIE, cookie, max_age=max_age, httponly=True, secure=True, samesite="lax")
    response.delete_cookie(LOGIN_COOKIE, secure=True, httponly=True, samesite="strict")
    return response


@router.post("/logout")
def logout(request: Request, csrf: str = Form("")) -> Response:
    """End the session (a POST with the CSRF token: a link elsewhere cannot sign anyone out)."""
    asker = posted(request, csrf)
    if isinstance(asker, Response):
        return asker
    ctx = _ctx(request)
    ctx.sessions.end(request.cookies.get(COOKIE, ""))
    record(ctx.store, asker.grants.person.email, "sign_out", address=client_address(request))
    response = redirect("/login?notice=signed-out")
    response.delete_cookie(COOKIE, secure=True, httponly=True, samesite="lax")
    return response


@router.get("/updates")
def updates(request: Request) -> Response:
    """The signed-in person's due items, each with its form."""
    asker = signed_in(request)
    if isinstance(asker, Response):
        return asker
    if not asker.grants.can("viewer"):
        return forbidden(request, asker, "No access rule names you; ask the program office to add you.")
    return page("updates.html", **common(request, asker, **updates_values(_ctx(request), asker, {})))


@router.post("/updates/value")
async def submit_value(request: Request) -> Response:
    """Submit a value (and comment) for one due item; it waits for approval.

    On the event loop: the session is kept in memory and the value waits for its group commit
    (:meth:`~btvstat_open.people.batching.GroupCommit.run_async`) without holding a thread; the
    pages of a refusal are drawn on the thread pool.
    """
    form = await request.form(max_files=0, max_fields=20)
    fields = {name: _field(form, name) for name in _VALUE_FIELDS}
    ctx = _ctx(request)
    if ctx.sessions.kept(request.cookies.get(COOKIE)):
        asker = posted(request, fields["csrf"])
    else:  # the session is read from the store: on the thread pool, the loop serves the others
        asker = await run_in_threadpool(posted, request, fields["csrf"])
    if isinstance(asker, Response):
        return asker
    item = fields["item"]
    try:
        entry = check_form_value(ctx, asker, item, fields)
        await ctx.submissions.submit_values_async(asker.grants, [entry], address=client_address(request))
    except Forbidden as exc:
        return await run_in_threadpool(forbidden, request, asker, exc.message)
    except BtvstatError as exc:
        values = await run_in_threadpool(updates_values, ctx, asker, {item: exc.message})
        return await run_in_threadpool(page, "updates.html", 400, **common(request, asker, **values))
    return redirect("/updates?notice=submitted")


_VALUE_FIELDS = ("item", "value", "numerator", "denominator", "comment", "reason", "csrf")


def _field(form: Any, name: str) -> str:
    value = form.get(name, "")
    return value if isinstance(value, str) else ""


def signed_in_approver(request: Request) -> Asker | Response:
    asker = signed_in(request)
    if isinstance(asker, Response):
        return asker
    if not asker.grants.can("approver"):
        return forbidden(request, asker, "Only the program office (approvers) may see this page.")
    return asker


@router.get("/approvals")
def approvals(request: Request, errors: dict[int, str] | None = None) -> Response:
    """Pending submissions of the approver's departments, and each department's progress."""
    asker = signed_in_approver(request)
    if isinstance(asker, Response):
        return asker
    return approvals_page(request, asker, {})


def approvals_page(request: Request, asker: Asker, errors: dict[int, str], status: int = 200) -> Response:
    ctx = _ctx(request)
    departments = asker.grants.departments("approver")
    pending = ctx.submissions.latest(departments, states=("pending",))
    meetings = [m for m in ctx.catalog.meetings.values() if m.date <= ctx.today]
    values = common(
        request, asker, pending=pending, errors=errors, shown=show_submission, meetings=meetings,
        titles={k.id: k.title for k in ctx.catalog.kpis.values()},
        **progress_by_department(ctx, departments),
    )  # fmt: skip
    return page("approvals.html", status=status, **values)


@router.post("/approvals/lock")
def lock(request: Request, meeting: str = Form(""), csrf: str = Form("")) -> Response:
    """Lock the periods a meeting reviewed."""
    asker = posted(request, csrf, approver=True)
    if isinstance(asker, Response):
        return asker
    ctx = _ctx(request)
    try:
        made = lock_meeting(ctx.store, ctx.catalog, asker.grants, meeting, address=client_address(request))
    except Forbidden as exc:
        return forbidden(request, asker, exc.message)
    except BtvstatError as exc:
        return approvals_page(request, asker, {0: exc.message}, status=400)
    ctx.submissions.changed()
    return redirect(f"/approvals?notice=locked&n={made}")


@router.post("/approvals/{submission_id}/{decision}")
def decide(
    request: Request, submission_id: int, decision: str, reason: str = Form(""), csrf: str = Form("")
) -> Response:
    """Approve, or send back with a reason."""
    asker = posted(request, csrf, approver=True)
    if isinstance(asker, Response):
        return asker
    ctx = _ctx(request)
    address = client_address(request)
    try:
        if decision == "approve":
            ctx.submissions.approve(asker.grants, submission_id, address=address)
        elif decision == "send-back":
            ctx.submissions.send_back(asker.grants, submission_id, reason, address=address)
        else:
            return forbidden(request, asker, "Unknown decision: approve or send-back.")
    except Forbidden as exc:
        return forbidden(request, asker, exc.message)
    except BtvstatError as exc:
        return approvals_page(request, asker, {submission_id: exc.message}, status=400)
    return redirect("/approvals?notice=done")


@router.get("/audit")
def audit(request: Request) -> Response:
    """The newest audit entries (approvers and admins)."""
    asker = signed_in_approver(request)
    if isinstance(asker, Response):
        return asker
    return page("audit.html", **common(request, asker, entries=entries(_ctx(request).store)))


@router.get("/audit.csv")
def audit_export(request: Request) -> Response:
    """The audit as CSV."""
    asker = signed_in_approver(request)
    if isinstance(asker, Response):
        return asker
    body = audit_csv(entries(_ctx(request).store, limit=1_000_000))
    response = PlainTextResponse(body, media_type="text/csv; charset=utf-8")
    response.headers["content-disposition"] = 'attachment; filename="audit.csv"'
    return internal(response)
