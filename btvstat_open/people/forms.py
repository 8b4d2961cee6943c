"""What the update and approval pages show, and reading an entered value from a form.

Example:
    >>> parse_number("1,234.5", "value"), parse_number("", "value")
    (1234.5, None)
    >>> parse_number("abc", "value")
    Traceback (most recent call last):
    ...
    btvstat_open.errors.UsageError: value: 'abc' is not a number; write digits, e.g. 12 or 12.5.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from datetime import date
from typing import Any

from btvstat_open.errors import UsageError
from btvstat_open.i18n import _, format_date, lazy
from btvstat_open.people.commentary import action_items, comment_items
from btvstat_open.people.context import Asker, PeopleContext
from btvstat_open.people.due import DueItem, due_items, entry_periods
from btvstat_open.people.submissions import Forbidden, Submission, ValueEntry

__all__ = [
    "STATES",
    "WRONG",
    "check_form_value",
    "parse_number",
    "private_kpis",
    "progress_by_department",
    "show_entry",
    "show_submission",
    "updates_values",
]

#: The one answer for an unknown account and a wrong password (or code).
WRONG = lazy("The e-mail, password or one-time code is not right.")
STATES = {
    "due": lazy("Due"),
    "late": lazy("Late"),
    "pending": lazy("Submitted, waiting for approval"),
    "sent_back": lazy("Sent back"),
    "approved": lazy("Approved"),
}


def parse_number(text: str, field: str) -> float | None:
    """A number typed in a form (thousands commas allowed); empty is None."""
    cleaned = text.strip().replace(",", "")
    if not cleaned:
        return None
    try:
        number = float(cleaned)
    except ValueError:
        raise UsageError(
            _("%(field)s: %(text)s is not a number; write digits, e.g. 12 or 12.5.")
            % {"field": field, "text": repr(text.strip()[:40])}
        ) from None
    if not math.isfinite(number):
        raise UsageError(_("%(field)s: write a finite number.") % {"field": field})
    return number


def show_submission(item: Submission) -> str:
    """A submission's value as shown to the people who decide on it."""
    if item.numerator is not None and item.denominator is not None:
        return f"{item.numerator:.12g} / {item.denominator:.12g}"
    return "" if item.value is None else f"{item.value:.12g}"


def show_entry(entry: ValueEntry) -> str:
    """An entry's value as the workbook preview shows it.

    Example:
        >>> from datetime import date
        >>> show_entry(ValueEntry("k", date(2020, 1, 1), date(2020, 1, 31), numerator=3, denominator=4))
        '3 / 4'
    """
    if entry.numerator is not None and entry.denominator is not None:
        return f"{entry.numerator:.12g} / {entry.denominator:.12g}"
    return "" if entry.value is None else f"{entry.value:.12g}"


def _items(ctx: PeopleContext, asker: Asker) -> list[DueItem]:
    departments = asker.grants.departments("viewer")
    kpis = [k for k in ctx.catalog.kpis.values() if departments is None or k.department in departments]
    subs = ctx.submissions.latest(departments)
    return due_items(ctx.store, ctx.catalog, kpis, subs, ctx.today)


def updates_values(ctx: PeopleContext, asker: Asker, errors: Mapping[str, str]) -> dict[str, Any]:
    """The values of the ``/updates`` page."""
    kpis = ctx.catalog.kpis

    def editable(item: DueItem) -> bool:
        if asker.grants.can("approver", item.department):
            return True  # a locked or approved period: a revision, with a reason
        open_ = item.state != "approved" and item.locked is None
        return open_ and asker.grants.can("updater", item.department)

    writable = asker.grants.departments("updater")
    own = [k for k in kpis.values() if writable is None or k.department in writable]
    if writable is not None and not writable:
        own = []
    return {
        "private": private_kpis(ctx, asker),
        "comments": comment_items(ctx.store, ctx.catalog, own, ctx.today),
        "actions": action_items(ctx.store, own),
        "items": _items(ctx, asker),
        "errors": dict(errors),
        "states": STATES,
        "titles": {k.id: k.title for k in kpis.values()},
        "units": {k.id: k.unit for k in kpis.values()},
        "rates": {k.id: k.measure.calculation == "rate" for k in kpis.values()},
        "editable": editable,
        "shown": show_submission,
    }


def private_kpis(ctx: PeopleContext, asker: Asker) -> list[dict[str, Any]]:
    """The private KPIs (``public: false``) of the person's departments, with their latest value:
    no public page shows them; signed-in viewers see them here."""
    from catalog.measure import measure

    departments = asker.grants.departments("viewer")
    rows = []
    for kpi in ctx.catalog.kpis.values():
        if kpi.public or (departments is not None and kpi.department not in departments):
            continue
        series = measure(kpi, ctx.store, ctx.catalog.settings, today=ctx.today).to_pylist()
        latest = next((r for r in reversed(series) if r["value"] is not None), None)
        rows.append(
            {
                "kpi": kpi,
                "period": latest["period_start"] if latest else None,
                "value": f"{latest['value']:,.{kpi.decimals}f}" if latest else "no data",
                "status": (latest["status"] if latest else "no_data").replace("_", " "),
            }
        )
    return rows


def check_form_value(ctx: PeopleContext, asker: Asker, item: str, fields: Mapping[str, str]) -> ValueEntry:
    """The entry typed for ``item`` (``kpi|period start``), checked as a submission would be."""
    kpi_id, _bar, start = item.partition("|")
    kpi = ctx.catalog.kpis.get(kpi_id)
    if kpi is None:
        raise UsageError(_("There is no KPI %(kpi)s.") % {"kpi": repr(kpi_id[:64])})
    if not asker.grants.can("updater", kpi.department):
        raise Forbidden(_("You do not enter values for %(department)s.") % {"department": kpi.department})
    try:
        period_start = date.fromisoformat(start)
    except ValueError:
        raise UsageError(_("The form names no period; reload the page.")) from None
    periods = dict(entry_periods(kpi, ctx.today, ctx.catalog.settings.fiscal_year_start))
    if period_start not in periods:
        raise UsageError(
            _("%(day)s does not start a period of %(kpi)s that can be entered yet.")
            % {"day": format_date(period_start), "kpi": kpi.id}
        )
    entry = ValueEntry(
        kpi.id,
        period_start,
        periods[period_start],
        value=parse_number(fields.get("value", ""), "value"),
        numerator=parse_number(fields.get("numerator", ""), "numerator"),
        denominator=parse_number(fields.get("denominator", ""), "denominator"),
        comment=fields.get("comment", "").strip()[:4000],
        reason=fields.get("reason", "").strip()[:2000],
    )
    ctx.submissions.check_value(asker.grants, entry)
    return entry


def progress_by_department(ctx: PeopleContext, departments: frozenset[str] | None) -> dict[str, Any]:
    """Each department's due items by state, for the approvals page."""
    kpis = [k for k in ctx.catalog.kpis.values() if departments is None or k.department in departments]
    items = due_items(ctx.store, ctx.catalog, kpis, ctx.submissions.latest(departments), ctx.today)
    counts: dict[str, Counter[str]] = {}
    for item in items:
        counts.setdefault(item.department, Counter())[item.state] += 1
    return {
        "progress": {d: dict(c) for d, c in sorted(counts.items())},
        "progress_states": list(STATES),
        "states": STATES,
    }
