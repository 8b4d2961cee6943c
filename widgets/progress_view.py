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

from catalog.dated_goals import GoalProgress
from catalog.models import Kpi
from widgets.summary import format_value

__all__ = ["PACE_LABELS", "goal_progress_label", "progress_view"]

PACE_LABELS = {
    "reached": "target reached",
    "ahead": "ahead of the path",
    "on_path": "on the path",
    "behind": "behind the path",
    "no_data": "no value yet",
}


def _day(day: date) -> str:
    return f"{day:%b} {day.day}, {day.year}"


def _percent(share: float | None) -> str:
    return "no value" if share is None else f"{share * 100:.0f}%"


def progress_view(kpi: Kpi, found: GoalProgress | None, note: str | None = None) -> dict[str, Any] | None:
    """The labels a page shows for a KPI's progress (``None`` without a dated goal); for a goal's
    own dated goal, ``kpi`` is the KPI that measures it and ``note`` the goal's."""
    if found is None:
        return None
    target = f"{format_value(found.target.value, kpi)} by {_day(found.target.date)}"
    card = f"{_percent(found.progress)} of the way to {target} · {PACE_LABELS[found.pace]}"
    expected = ""
    if found.latest_date is not None and found.expected_value is not None:
        expected = (
            f"The path expects {format_value(found.expected_value, kpi)} "
            f"({_percent(found.expected_progress)}) by {_day(found.latest_date)}."
        )
    p = found.projection
    if p.status == "reached":
        projection = "The target has been reached."
    elif p.status == "projected" and p.date and p.earliest and p.latest:
        projection = (
            f"At the recent trend the target is reached around {_day(p.date)} "
            f"(between {_day(p.earliest)} and {_day(p.latest)})."
        )
    else:
        projection = f"Not projectable: {p.reason}."
    return {
        "card": card,
        "pace": found.pace,
        "pace_label": PACE_LABELS[found.pace],
        "percent": _percent(found.progress),
        "baseline": f"{format_value(found.baseline.value, kpi)} on {_day(found.baseline.date)}",
        "target": target,
        "latest": ""
        if found.latest_date is None
        else f"{format_value(found.latest_value, kpi)} on {_day(found.latest_date)}",
        "expected": expected,
        "path": [(_day(point.date), format_value(point.value, kpi)) for point in found.path],
        "projection": projection,
        "method": f"Method: {p.method}; {p.points} value{'s' if p.points != 1 else ''} used.",
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
    kpis = f"{n} KPI{'s' if n != 1 else ''}"
    return (
        f"Dated goals: {_percent(rolled['progress'])} of the way on average over {kpis}"
        f" · {'mostly' if rule == 'majority' else 'at worst'} {PACE_LABELS[rolled['pace']]}"
    )
