"""Progress toward a dated goal in words: the card's line, the KPI page's and packet's section,
the goal page's rollup (the numbers are :mod:`catalog.dated_goals`').

Example:
    >>> from datetime import date
    >>> from catalog.dated_goals import progress
    >>> from catalog.models import DatedGoal, Kpi
    >>> kpi = Kpi.model_validate({"id": "x", "title": "X", "department": "D", "unit": "trees",
    ...     "decimals": 0, "source": {"dataset": "d", "date_column": "c"},
    ...     "measure": {"calculation": "count"}, "dated_goal": {
    ...         "baseline": {"date": "2012-12-31", "value": 100},
    ...         "target": {"date": "2022-12-31", "value": 300}}})
    >>> view = progress_view(kpi, progress(kpi.dated_goal, [(date(2017, 12, 31), 180.0)]))
    >>> view["card"]
    '40% of the way to 300 trees by Dec 31, 2022 · behind the path'
    >>> view["expected"]
    'The path expects 200 trees (50%) by Dec 31, 2017.'
"""

from __future__ import annotations

from datetime import date
from typing import Any

from btvstat_open.i18n import _, format_date, format_integer, format_percent, lazy, ngettext
from catalog.dated_goals import GoalProgress
from catalog.localized import join_marked, marked
from catalog.models import Kpi
from widgets.summary import format_value

__all__ = ["PACE_LABELS", "goal_progress_label", "progress_view"]

PACE_LABELS = {
    "reached": lazy("target reached"),
    "ahead": lazy("ahead of the path"),
    "on_path": lazy("on the path"),
    "behind": lazy("behind the path"),
    "no_data": lazy("no value yet"),
}


def _pace(pace: str) -> str:
    return _(PACE_LABELS[pace])


def _day(day: date) -> str:
    return format_date(day)


def _percent(share: float | None) -> str:
    return _("no value") if share is None else format_percent(share)


def _on(value: float | None, kpi: Kpi, day: date) -> str:
    return marked(_("%(value)s on %(day)s"), {"value": format_value(value, kpi), "day": _day(day)})


def progress_view(kpi: Kpi, found: GoalProgress | None, note: str | None = None) -> dict[str, Any] | None:
    """The labels a page shows for a KPI's progress (``None`` without a dated goal); for a goal's
    own dated goal, ``kpi`` is the KPI that measures it and ``note`` the goal's."""
    if found is None:
        return None
    target = marked(
        _("%(value)s by %(day)s"),
        {"value": format_value(found.target.value, kpi), "day": _day(found.target.date)},
    )
    card = marked(
        _("%(percent)s of the way to %(target)s"), {"percent": _percent(found.progress), "target": target}
    )
    card = join_marked([card, _pace(found.pace)], " · ")
    expected = ""
    if found.latest_date is not None and found.expected_value is not None:
        expected = marked(
            _("The path expects %(value)s (%(percent)s) by %(day)s."),
            {
                "value": format_value(found.expected_value, kpi),
                "percent": _percent(found.expected_progress),
                "day": _day(found.latest_date),
            },
        )
    p = found.projection
    if p.status == "reached":
        projection = _("The target has been reached.")
    elif p.status == "projected" and p.date and p.earliest and p.latest:
        projection = _(
            "At the recent trend the target is reached around %(day)s (between %(earliest)s and %(latest)s)."
        ) % {"day": _day(p.date), "earliest": _day(p.earliest), "latest": _day(p.latest)}
    else:
        projection = _("Not projectable: %(reason)s.") % {"reason": p.reason}
    return {
        "card": card,
        "pace": found.pace,
        "pace_label": _pace(found.pace),
        "percent": _percent(found.progress),
        "baseline": _on(found.baseline.value, kpi, found.baseline.date),
        "target": target,
        "latest": "" if found.latest_date is None else _on(found.latest_value, kpi, found.latest_date),
        "expected": expected,
        "path": [(_day(point.date), format_value(point.value, kpi)) for point in found.path],
        "projection": projection,
        "method": ngettext(
            "Method: %(method)s; %(num)d value used.", "Method: %(method)s; %(num)d values used.", p.points
        )
        % {"method": p.method, "num": p.points},
        "note": note or (kpi.dated_goal.note if kpi.dated_goal else None),
    }


def goal_progress_label(rolled: dict[str, Any] | None, rule: str = "majority") -> str:
    """A goal's progress rollup in words ("" when no KPI under it has a dated goal).

    Example:
        >>> goal_progress_label({"progress": 0.5, "pace": "behind", "counts": {"behind": 2}, "kpis": 2})
        'Dated goals: 50% of the way on average over 2 KPIs · mostly behind the path'
    """
    if not rolled:
        return ""
    n = rolled["kpis"]
    text = ngettext(
        "Dated goals: %(percent)s of the way on average over %(num)s KPI",
        "Dated goals: %(percent)s of the way on average over %(num)s KPIs",
        n,
    ) % {"percent": _percent(rolled["progress"]), "num": format_integer(n)}
    pace = _pace(rolled["pace"])
    mostly = _("mostly %(pace)s") if rule == "majority" else _("at worst %(pace)s")
    return f"{text} · " + mostly % {"pace": pace}
