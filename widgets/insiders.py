"""Private KPIs for signed-in people: who may see them, and their values waiting for approval.

The widgets know nothing of sign-in; the server (:mod:`btvstat_open.server`) sets
``app.state.insider_lookup`` to a function that finds the :class:`Insider` of a request (its
session's person and what their role lets them see), or None for everyone else. The routes of a
private KPI's page, chart and series answer only an insider who may see the KPI, never from or
into the response cache, and ``private, no-store``; to anyone else they are the 404 of a KPI that
does not exist. Values waiting for approval are shown only where the person's role allows
(``pending`` is empty otherwise), each marked as pending: a dotted rule on the chart, a list on
the page, and the ``pending_value`` column of the series.

Example:
    >>> from datetime import date, datetime, UTC
    >>> wait = PendingValue(date(2020, 2, 1), date(2020, 2, 29), 12.0, "ann@example.gov",
    ...                     datetime(2020, 3, 3, tzinfo=UTC))
    >>> [note.text for note in with_pending(kpi, [wait]).notes][-1]
    'Pending approval: 12.0'
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pyarrow as pa
from starlette.requests import Request

from catalog.models import Kpi
from catalog.models.tracking import Note

__all__ = ["Insider", "PendingValue", "insider_of", "pending_series", "with_pending", "with_pending_periods"]


@dataclass(frozen=True)
class PendingValue:
    """A value entered for a period and waiting for an approver."""

    period_start: date
    period_end: date
    value: float | None
    submitted_by: str
    submitted_at: datetime


@dataclass(frozen=True)
class Insider:
    """A signed-in person: which private KPIs they may see, and the pending values they may read."""

    email: str
    may_see: Callable[[Kpi], bool]
    pending: Callable[[Kpi], list[PendingValue]]


def insider_of(request: Request) -> Insider | None:
    """The request's insider (through ``app.state.insider_lookup``), or None."""
    lookup: Callable[[Request], Insider | None] | None = getattr(request.app.state, "insider_lookup", None)
    return None if lookup is None else lookup(request)


def _number(kpi: Kpi, value: float | None) -> str:
    return "no value" if value is None else f"{value:,.{kpi.decimals}f}"


def with_pending(kpi: Kpi, pending: Sequence[PendingValue]) -> Kpi:
    """The KPI with a dated note per pending value, so its charts mark each as pending."""
    if not pending:
        return kpi
    notes = [Note(date=p.period_start, text=f"Pending approval: {_number(kpi, p.value)}") for p in pending]
    return kpi.model_copy(update={"notes": [*kpi.notes, *notes]})


def with_pending_periods(series: pa.Table, pending: Sequence[PendingValue]) -> pa.Table:
    """The series with a row (no approved value: ``no_data``) for each pending period it lacks, so
    a chart spans the pending values too."""
    rows: list[dict[str, Any]] = series.to_pylist()
    known = {row["period_start"] for row in rows}
    for item in pending:
        if item.period_start not in known:
            blank: dict[str, Any] = {name: None for name in series.column_names}
            blank["status"] = "no_data"
            rows.append({**blank, "period_start": item.period_start, "period_end": item.period_end})
    if len(rows) == series.num_rows:
        return series
    rows.sort(key=lambda row: row["period_start"])
    return pa.Table.from_pylist(rows, schema=series.schema)


def pending_series(series: pa.Table, pending: Sequence[PendingValue]) -> pa.Table:
    """The series (:func:`with_pending_periods`) with ``pending_value`` and ``pending_submitted_at``
    columns.

    Example:
        >>> from datetime import UTC
        >>> at = datetime(2030, 2, 2, tzinfo=UTC)
        >>> wait = PendingValue(date(2030, 1, 1), date(2030, 1, 31), 5.0, "a", at)
        >>> pending_series(series, [wait]).to_pylist()[-1]["pending_value"]
        5.0
    """
    by_start = {p.period_start: p for p in pending}
    rows: list[dict[str, Any]] = with_pending_periods(series, pending).to_pylist()
    for row in rows:
        found = by_start.get(row["period_start"])
        row["pending_value"] = None if found is None else found.value
        row["pending_submitted_at"] = None if found is None else found.submitted_at
    fields = [*series.schema, pa.field("pending_value", pa.float64())]
    fields.append(pa.field("pending_submitted_at", pa.timestamp("us", "UTC")))
    return pa.Table.from_pylist(rows, schema=pa.schema(fields))
