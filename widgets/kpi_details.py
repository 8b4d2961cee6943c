"""The program's parts of a KPI page: target history, notes, actions, goals, freshness, breakdown.

Example:
    >>> from catalog.models import Action, Kpi
    >>> k = Kpi.model_validate({"id": "x", "title": "X", "department": "D", "unit": "days",
    ...     "source": {"dataset": "d", "date_column": "c"}, "measure": {"calculation": "count"},
    ...     "target": {"tolerance": 2, "history": [{"from": "2019-07-01", "value": 10},
    ...         {"from": "2020-07-01", "value": 7, "note": "FY2021 budget"}]}})
    >>> [(e["from"], e["value"], e["state"]) for e in target_history(k, date(2020, 3, 1))]
    [('2019-07-01', '10.0 days', 'In force'), ('2020-07-01', '7.0 days', 'Future')]
"""

from __future__ import annotations

from datetime import date
from typing import Any

from catalog.models import Action, Kpi
from widgets.summary import format_value

__all__ = ["action_rows", "sort_actions", "target_history"]


def target_history(kpi: Kpi, today: date) -> list[dict[str, Any]]:
    """Every target the KPI has had or will have, oldest first, with its state as of ``today``."""
    target = kpi.target
    if target is None:
        return []
    if target.history is None:
        value = format_value(target.value, kpi)
        return [{"from": "", "value": value, "tolerance": format_value(target.tolerance, kpi), "note": "",
                 "state": "In force"}]  # fmt: skip
    entries = sorted(target.history, key=lambda e: e.start)
    current = max((e.start for e in entries if e.start <= today), default=None)
    return [
        {
            "from": entry.start.isoformat(),
            "value": format_value(entry.value, kpi),
            "tolerance": format_value(target.tolerance if entry.tolerance is None else entry.tolerance, kpi),
            "note": entry.note or "",
            "state": "Future" if entry.start > today else "In force" if entry.start == current else "Past",
        }
        for entry in entries
    ]


def action_rows(kpi: Kpi, overdue: tuple[Action, ...]) -> list[dict[str, Any]]:
    """The KPI's actions for :func:`actions_table`: overdue first, then open, then closed."""
    rows = [{"kpi": kpi, "action": a, "overdue": a in overdue} for a in kpi.actions]
    return sort_actions(rows)


def sort_actions(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Overdue first, then open, then done or dropped (stable within each)."""
    return sorted(rows, key=lambda row: (not row["overdue"], row["action"].status != "open"))
