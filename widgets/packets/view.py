"""A packet in words: every value, change, flag and date of a :class:`~catalog.packet.Packet` as text.

The templates only place these strings; the wording lives here so the page and the PDF read the
same. Charts are the server's own SVG images (:func:`widgets.images.image_svg`), inlined.
A suppressed breakdown cell is never given its value or its count: it reads "suppressed" and
"fewer than N".

Example:
    >>> from datetime import date
    >>> long_date(date(2020, 3, 4))
    'March 4, 2020'
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from markupsafe import Markup

from btvstat_open.i18n import _, format_date, format_decimal, in_current_locale, lazy, ngettext
from btvstat_open.i18n.formats import in_digits
from catalog.breakdown import publishable_rows
from catalog.changes import Comparison, Latest
from catalog.dated_goals import kpi_progress
from catalog.explain import target_in_force
from catalog.models import Action, Kpi
from catalog.packet import FollowUp, KpiItem, Packet
from catalog.status import Status
from widgets.charts import describe
from widgets.empty_chart import empty_svg, empty_text
from widgets.images import image_svg
from widgets.peer_chart import peer_svg
from widgets.peer_view import peer_rows
from widgets.progress_view import progress_view
from widgets.summary import STATUS_LABELS, STATUS_SYMBOLS, Row, format_value, period_label, rows

__all__ = ["CHART_HEIGHT", "CHART_WIDTH", "ItemView", "item_view", "long_date", "packet_context"]

CHART_WIDTH, CHART_HEIGHT = 640, 160
VIEW_THREADS = 4  # a packet's items put in words (and charts drawn) at once
_ACTION_STATUS = {"open": lazy("Open"), "done": lazy("Done"), "dropped": lazy("Dropped")}


def long_date(day: date) -> str:
    """A date as people write it in a memo, in the current locale (``March 4, 2020``)."""
    return format_date(day, "long")


@dataclass(frozen=True)
class ItemView:
    """One KPI item's strings (and its chart, SVG markup made by the server)."""

    anchor: str
    kpi: Kpi
    status: str
    status_label: str
    status_symbol: str
    value: str
    period: str
    target: str
    change_previous: str
    change_year: str
    chart: Markup
    chart_description: str
    breakdown: dict[str, Any] | None
    flags: list[str]
    overdue: list[str]
    notes: list[tuple[str, str]]
    questions: list[str]
    raised: str | None
    updates: list[str] = field(default_factory=list)  # the department's approved commentary
    empty_reason: str | None = None
    #: progress toward the KPI's dated goal as of the packet's day (widgets.progress_view), or None
    progress: dict[str, Any] | None = None
    #: the comparison with peer cities as of the packet's day (table rows, rule, chart), or None
    peers: dict[str, Any] | None = None


def _change(kpi: Kpi, earlier: Comparison | None, suffix: str, missing: str) -> str:
    if earlier is None or earlier.change is None:
        return missing
    change = earlier.change
    arrow = "▲" if change > 0 else "▼" if change < 0 else "="
    since = period_label(kpi.period.size, earlier.period_start, earlier.period_end)
    change_text = format_value(change, kpi, signed=True, difference=True)
    text = f"{arrow} " + _("%(change)s from %(period)s") % {"change": change_text, "period": since} + suffix
    if earlier.better is not None:
        text += " " + (_("(better)") if earlier.better else _("(worse)"))
    return text


def _changes(kpi: Kpi, latest: Latest | None) -> tuple[str, str]:
    if latest is None or latest.value is None:
        return _("No data to compare"), _("No data to compare")
    previous = _change(kpi, latest.previous, "", _("No earlier period to compare"))
    year_suffix, no_year = ", " + _("a year earlier"), _("No value for the same period a year earlier")
    year = _change(kpi, latest.year_ago, year_suffix, no_year)
    return previous, year


def _breakdown(item: KpiItem) -> dict[str, Any] | None:
    """The latest period of the breakdown that has a shown value, as table rows."""
    table, spec = item.breakdown, item.kpi.breakdown
    if table is None or spec is None or table.num_rows == 0:
        return None
    records = publishable_rows(table)  # never a suppressed value or count
    shown = [r["period_start"] for r in records if not r["suppressed"] and r["value"] is not None]
    latest = max(shown) if shown else max(r["period_start"] for r in records)
    in_period = [r for r in records if r["period_start"] == latest]
    body = [
        {
            "group": r["group"],
            "value": _("Suppressed") if r["suppressed"] else format_value(r["value"], item.kpi),
            "records": in_digits(r["count_label"]),
            "suppressed": bool(r["suppressed"]),
        }
        for r in in_period
    ]
    disparity = next((r["disparity"] for r in in_period if r["disparity"] is not None), None)
    first = in_period[0]
    return {
        "label": spec.label or spec.column,
        "period": period_label(
            item.kpi.period.size,
            date.fromisoformat(first["period_start"]),
            date.fromisoformat(first["period_end"]),
        ),
        "rows": body,
        "min_count": spec.min_count,
        "disparity": format_decimal(disparity, 2) + "×" if disparity is not None else "",
        "any_suppressed": any(r["suppressed"] for r in body),
    }


def _flags(item: KpiItem, day: date) -> list[str]:
    flags = []
    fresh = item.fresh
    if fresh.stale:
        updated = fresh.data_updated_at
        if updated and updated.date() <= day:
            stale = _("Stale: the data was last updated %(day)s; it is expected %(expect)s.")
            flags.append(
                stale % {"day": long_date(updated.date()), "expect": _(fresh.expect) if fresh.expect else ""}
            )
        else:
            flags.append(
                _("Stale: the data was not updated; it is expected %(expect)s.")
                % {"expect": _(fresh.expect) if fresh.expect else ""}
            )
    if fresh.behind:
        ended = fresh.latest_period_end
        if ended:
            behind = _("Behind: the latest period with data ends %(day)s; new data is expected %(expect)s.")
            flags.append(
                behind % {"day": long_date(ended), "expect": _(fresh.expect) if fresh.expect else ""}
            )
        else:
            missing = _("Behind: the latest period with data is missing; new data is expected %(expect)s.")
            flags.append(missing % {"expect": _(fresh.expect) if fresh.expect else ""})
    if item.unattended:
        flags.append(_("Unattended: off track for the last two periods with no open action."))
    if item.checks:
        flags.append(_("Data check failed: %(failures)s.") % {"failures": "; ".join(item.checks)})
    return flags


def _action_line(action: Action) -> str:
    if action.due:
        return _("%(action)s, due %(day)s") % {"action": action.title, "day": long_date(action.due)}
    return action.title


_INNER_ARIA = re.compile(r' (?:role|aria-roledescription|aria-label)="[^"]*"')


def inline_chart(svg: str) -> Markup:
    """The server's chart SVG for inlining: labelled once, as a whole.

    The root keeps ``role="img"``, its ``aria-label``, ``<title>`` and ``<desc>``; the roles and
    labels Vega puts on the marks inside are dropped, so assistive technology meets one image with
    one description instead of unlabelled graphics inside it.

    Example:
        >>> str(inline_chart('<svg role="img" aria-label="A"><g role="graphics-object"/></svg>'))
        '<svg role="img" aria-label="A"><g/></svg>'
    """
    head, _, body = svg.partition(">")
    return Markup(head + ">" + _INNER_ARIA.sub("", body))  # noqa: S704 (our own SVG, escaped by image_svg)


def _provisional(series_rows: list[Row]) -> str:
    """`` (provisional)`` when the latest period with a value has not ended yet."""
    latest = next((r for r in reversed(series_rows) if r.value is not None), None)
    return " (provisional)" if latest is not None and latest.provisional else ""


def item_view(item: KpiItem, day: date, fiscal_year_start: int) -> ItemView:
    """A KPI item's strings and chart as of ``day`` (a packet's items, a story's blocks)."""
    kpi, latest = item.kpi, item.change
    series_rows = rows(kpi, item.series, today=day)
    svg = (
        empty_svg(kpi, item.empty_reason, width=CHART_WIDTH)  # no empty axes: why there is no chart
        if item.empty_reason
        else image_svg(  # targets after the packet's day drawn dashed, as on the KPI page that day
            kpi,
            item.series,
            theme="light",
            width=CHART_WIDTH,
            height=CHART_HEIGHT,
            today=day,
            fiscal_year_start=fiscal_year_start,
        )
    )
    target = _("No target set")
    in_force = target_in_force(kpi, day)
    if latest is not None and latest.target is not None:
        target = format_value(latest.target, kpi)
    elif in_force is not None and in_force.value is not None:  # no data yet, but a target applies
        target = format_value(in_force.value, kpi)
    elif kpi.target is not None:
        target = _("No target in force")
    previous, year = _changes(kpi, latest)
    has_value = latest is not None and latest.value is not None
    return ItemView(
        anchor=f"kpi-{kpi.id}",
        kpi=kpi,
        status=item.status,
        status_label=STATUS_LABELS.get(item.status, item.status) + _provisional(series_rows),
        status_symbol=STATUS_SYMBOLS.get(item.status, ""),
        value=format_value(latest.value if latest else None, kpi),
        period=period_label(kpi.period.size, latest.period_start, latest.period_end)
        if has_value and latest
        else "",
        target=target,
        change_previous=previous,
        change_year=year,
        chart=inline_chart(svg),
        chart_description=empty_text(item.empty_reason) if item.empty_reason else describe(kpi, series_rows),
        breakdown=_breakdown(item),
        flags=_flags(item, day),
        overdue=[_action_line(a) for a in item.overdue],
        notes=[(long_date(n.date), n.text) for n in item.notes],
        questions=list(item.questions),
        updates=list(item.updates),
        raised=item.raised,
        empty_reason=item.empty_reason,
        progress=progress_view(kpi, kpi_progress(kpi, item.series)),
        peers=_peers(item),
    )


def _peers(item: KpiItem) -> dict[str, Any] | None:
    """The comparison with peer cities: its table rows, rule, scale and chart (server SVG)."""
    found = item.peers
    if found is None:
        return None
    return {
        "rows": peer_rows(item.kpi, found),
        "found": found,
        "chart": inline_chart(peer_svg(item.kpi, found, width=CHART_WIDTH)),
    }


def _follow_up_view(entry: FollowUp, packet: Packet) -> dict[str, Any]:
    action = entry.action
    words = {"opened": _("opened"), "due": _("came due"), "closed": _("closed")}
    since = (
        _("since the last meeting")
        if packet.previous
        else _("up to %(day)s") % {"day": long_date(packet.as_of)}
    )
    said = [words[e] for e in entry.events]
    happened = (
        (" " + _("and") + " ").join([", ".join(said[:-1]), said[-1]]) if len(said) > 1 else "".join(said)
    )
    late = ""
    if entry.overdue and action.due is not None:
        days = (packet.as_of - action.due).days
        late = ngettext(
            "Overdue: due %(day)s, %(num)d day late", "Overdue: due %(day)s, %(num)d days late", days
        ) % {"day": long_date(action.due), "num": days}
    return {
        "title": action.title,
        "owner": action.owner or _("No owner named"),
        "kpi": entry.kpi,
        "anchor": f"kpi-{entry.kpi.id}",
        "status": _(_ACTION_STATUS[action.status]),
        "opened": long_date(action.opened),
        "due": long_date(action.due) if action.due else _("No due date"),
        "closed": long_date(action.closed) if action.closed else "",
        "overdue": late,
        "carried": (
            _("Carried over from the meeting of %(day)s") % {"day": long_date(packet.previous.date)}
            if entry.carried_over and packet.previous
            else ""
        ),
        "events": f"{happened.capitalize()} {since}" if happened else "",
    }


def packet_context(packet: Packet, fiscal_year_start: int = 7) -> dict[str, Any]:
    """Everything the packet template shows, as strings, lists and chart markup.

    ``fiscal_year_start`` is the catalog's (charts name fiscal years by it).
    """
    day = packet.as_of
    meeting = packet.meeting
    # Charts are drawn by vl-convert outside Python's lock: a few items at once.
    with ThreadPoolExecutor(max_workers=VIEW_THREADS, thread_name_prefix="packet-views") as pool:
        view = in_current_locale(item_view)  # the packet's language in every thread
        views = list(pool.map(lambda item: view(item, day, fiscal_year_start), packet.items))
    standing, new_items = views[: len(packet.standing)], views[len(packet.standing) :]
    counts = packet.counts()
    highlights = [(s.label, counts[s]) for s in Status if counts.get(s)]
    return {
        "meeting": meeting,
        "date": long_date(meeting.date),
        "as_of": long_date(day),
        "as_of_iso": day.isoformat(),
        "data_note": packet.data_note,
        "revision": packet.revision,
        "kept_before": packet.kept_before,
        "changes": packet.changes,
        "revised": packet.revised,
        "departments": meeting.departments,
        "previous": packet.previous,
        "previous_date": long_date(packet.previous.date) if packet.previous else "",
        "follow_ups": [_follow_up_view(f, packet) for f in packet.follow_ups],
        "standing": standing,
        "new_items": new_items,
        "highlights": highlights,
        "overdue_count": counts["overdue"],
        "item_count": len(standing) + len(new_items),
    }
