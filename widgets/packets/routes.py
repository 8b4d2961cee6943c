"""The meeting routes: ``/meetings`` (upcoming and past, with highlights), ``/meetings/{id}`` (the
packet as a page) and ``/meetings/{id}.pdf``.

Builds run on the server's pools (the list on ``pages``, a packet and its PDF on ``packets``: a
full pool is a 503 with ``Retry-After``). They answer through the widget routes' shared response cache
(:meth:`~widgets.route_context.WidgetContext.respond`), keyed by the request
and holding the versions of the datasets behind the packet, on top of :class:`PacketService`'s own
cache of packets, pages and PDFs.

Example:
    >>> [r.path for r in router.routes][:3]
    ['/meetings', '/meetings/{meeting_id}.pdf', '/meetings/{meeting_id}/revisions/{number}.pdf']
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from btvstat_open.errors import UsageError
from catalog.status import Status
from widgets.route_context import WidgetContext, Widgets
from widgets.summary import STATUS_SYMBOLS

__all__ = ["router"]


def _no_query(request: Request) -> None:
    options = [name for name in request.query_params if name != "lang"]  # lang: the locale, read before
    if options:
        name = options[0][:40]
        raise UsageError(f"Unknown query option {name!r}; this address takes none.", code="query.bad-option")


def _number(text: str) -> int:
    """A revision number from an address (1, 2, ...); anything else is a 400 that says so."""
    if not (text.isascii() and text.isdigit()) or not 0 < int(text) < 100_000:  # "¹" is a digit too
        raise UsageError(
            f"revision={text[:20]!r} is not a revision number (1, 2, ...).", code="query.bad-revision"
        )
    return int(text)


def _revision(request: Request) -> int | None:
    """``?revision=N``: a kept revision of the packet (the only option a packet address takes)."""
    options = dict(request.query_params)
    options.pop("lang", None)  # the locale (btvstat_open.web.locales reads it)
    text = options.pop("revision", None)
    if options:
        name = next(iter(options))[:40]
        raise UsageError(
            f"Unknown query option {name!r}; this address takes only revision=N.", code="query.bad-option"
        )
    return None if text is None else _number(text)


router = APIRouter()
"""The meeting routes (a kept revision also at ``/meetings/{id}/revisions/{n}``, a static site's address)."""


@router.get("/meetings", response_class=Response, summary="Stat meetings, upcoming and past")
async def meetings(request: Request, ctx: Widgets) -> Response:
    _no_query(request)
    packets, pages = ctx.packets, ctx.pages

    def build() -> bytes:
        upcoming, past = packets.summaries()
        context: dict[str, Any] = {
            "upcoming": upcoming,
            "past": past,
            "statuses": [(s, s.label) for s in Status],
            "symbols": STATUS_SYMBOLS,
        }
        return pages.render("meetings.html", data_note=None, **context).encode()

    kpis = packets.all_kpis()
    return await ctx.respond_on(
        ctx.pools.pages, request, "page", "text/html; charset=utf-8", build, kpis=kpis
    )


@router.get("/meetings/{meeting_id}.pdf", summary="A meeting's packet as a tagged PDF")
async def packet_pdf(meeting_id: str, request: Request, ctx: Widgets) -> Response:
    """The kept packet once its meeting's day has come (``?revision=N`` for an earlier one)."""
    return await _pdf(meeting_id, _revision(request), request, ctx)


@router.get("/meetings/{meeting_id}/revisions/{number}.pdf", summary="A kept revision of a packet as PDF")
async def revision_pdf(meeting_id: str, number: str, request: Request, ctx: Widgets) -> Response:
    """What ``/meetings/{id}.pdf?revision=N`` answers, at an address a static copy of the site has."""
    _no_query(request)
    return await _pdf(meeting_id, _number(number), request, ctx)


@router.get("/meetings/{meeting_id}/revisions/{number}", summary="A kept revision of a packet as a page")
async def revision_page(meeting_id: str, number: str, request: Request, ctx: Widgets) -> Response:
    """What ``/meetings/{id}?revision=N`` answers, at an address a static copy of the site has."""
    _no_query(request)
    return await _page(meeting_id, _number(number), request, ctx)


async def _pdf(meeting_id: str, revision: int | None, request: Request, ctx: WidgetContext) -> Response:
    packets = ctx.packets
    meeting = packets.meeting(meeting_id)
    disposition = (("content-disposition", f'inline; filename="{meeting.id}.pdf"'),)
    return await ctx.respond_on(
        ctx.pools.packets,
        request,
        "data",
        "application/pdf",
        lambda: packets.pdf(meeting.id, revision),
        kpis=packets.kpis(meeting),
        extra=disposition,
    )


@router.get("/meetings/{meeting_id}", response_class=Response, summary="A meeting's packet as a page")
async def packet_page(meeting_id: str, request: Request, ctx: Widgets) -> Response:
    """The kept packet's page once its meeting's day has come (``?revision=N`` for an earlier one)."""
    return await _page(meeting_id, _revision(request), request, ctx)


async def _page(meeting_id: str, revision: int | None, request: Request, ctx: WidgetContext) -> Response:
    packets = ctx.packets
    meeting = packets.meeting(meeting_id)
    return await ctx.respond_on(
        ctx.pools.packets,
        request,
        "packet",
        "text/html; charset=utf-8",
        lambda: packets.html(meeting.id, revision=revision).encode(),
        kpis=packets.kpis(meeting),
    )
