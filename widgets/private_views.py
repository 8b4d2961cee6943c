"""The answers of a private KPI's routes to a signed-in person who may see it (:mod:`widgets.insiders`).

Each is built for the one request: never from or into the response cache, ``Cache-Control:
private, no-store``, ``Vary: Cookie``; a KPI the person may not see (or anyone not signed in) gets
the same 404 as a KPI that does not exist, so nobody learns a private KPI's id.
"""

from __future__ import annotations

import io

import orjson
import pyarrow.csv as pacsv
from fastapi import Request
from fastapi.responses import Response

from btvstat_open.errors import KpiNotFound
from catalog.models import Kpi
from widgets.images import image_png, image_svg
from widgets.insiders import (
    Insider,
    PendingValue,
    insider_of,
    pending_series,
    with_pending,
    with_pending_periods,
)
from widgets.route_context import WidgetContext
from widgets.security import Kind, security_headers
from widgets.service import ChartOptions

__all__ = ["PRIVATE_CACHE", "private_answer", "visible_kpi"]

PRIVATE_CACHE = "private, no-store"


def visible_kpi(ctx: WidgetContext, request: Request, kpi_id: str) -> tuple[Kpi, Insider | None]:
    """A public KPI (and None), or a private one the request's signed-in person may see (and them);
    anything else raises the KPI's 404."""
    try:
        return ctx.service.kpi(kpi_id), None
    except KpiNotFound:
        catalog = ctx.service.catalog
        kpi = None if catalog is None else catalog.kpis.get(kpi_id)
        insider = insider_of(request) if kpi is not None else None
        if kpi is None or insider is None or not insider.may_see(kpi):
            raise
        return kpi, insider


def private_answer(
    kind: Kind, media_type: str, body: bytes, *, extra: tuple[tuple[str, str], ...] = ()
) -> Response:
    """A response for one signed-in person: kept by no cache."""
    headers = dict(security_headers(kind))
    headers.update({"cache-control": PRIVATE_CACHE, "vary": "Cookie", **dict(extra)})
    return Response(body, media_type=media_type, headers=headers)


def _pending(kpi: Kpi, insider: Insider) -> list[PendingValue]:
    return sorted(insider.pending(kpi), key=lambda p: p.period_start)


def private_page(ctx: WidgetContext, request: Request, kpi: Kpi, insider: Insider) -> Response:
    """The KPI page, its chart marking the pending values, which it also lists."""
    pending = _pending(kpi, insider)
    html = ctx.pages.kpi_page(with_pending(kpi, pending), ctx.base(request), pending=pending, private=True)
    return private_answer("page", "text/html; charset=utf-8", html.encode())


def private_image(
    ctx: WidgetContext, kpi: Kpi, insider: Insider, options: ChartOptions, *, png: bool
) -> Response:
    """The chart as SVG or PNG, the pending values marked on it (its periods reach theirs)."""
    pending = _pending(kpi, insider)
    service = ctx.service
    if not pending or service.facts(kpi).empty_reason:
        svg = service.svg(kpi, options)
    else:
        svg = image_svg(
            service.drawn(with_pending(kpi, pending)),
            with_pending_periods(service.series(kpi), pending),
            theme=options.theme,
            width=options.width,
            height=options.height,
            today=service.today(),
            fiscal_year_start=service.settings.fiscal_year_start,
        )
    if png:
        return private_answer("image", "image/png", image_png(svg))
    return private_answer("image", "image/svg+xml", svg.encode())


def private_series(kpi: Kpi, insider: Insider, ctx: WidgetContext, *, csv: bool) -> Response:
    """The series with its ledger columns and the pending values (``pending_value``)."""
    table = pending_series(ctx.service.published(kpi), _pending(kpi, insider))
    if not csv:
        return private_answer("data", "application/json", orjson.dumps(table.to_pylist()))
    out = io.BytesIO()
    pacsv.write_csv(table, out)
    disposition = (("content-disposition", f'attachment; filename="{kpi.id}.csv"'),)
    return private_answer("data", "text/csv; charset=utf-8", out.getvalue(), extra=disposition)
