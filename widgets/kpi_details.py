"""The program's parts of a KPI page: target history, notes, actions, goals, freshness, breakdown.

Example:
    >>> from catalog.models import Kpi
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
from catalog.targets import history_records
from widgets.summary import format_value

__all__ = ["action_rows", "sort_actions", "target_history"]


def target_history(kpi: Kpi, today: date) -> list[dict[str, Any]]:
    """Every target the KPI has had or will have (:func:`catalog.targets.history_records`), oldest
    first, formatted, with its state as of ``today``."""
    return [
        {
            "from": record["from"] or "",
            "value": format_value(record["value"], kpi),
            "tolerance": format_value(record["tolerance"], kpi),
            "note": record["note"] or "",
            "state": "Future" if record["future"] else "In force" if record["in_force"] else "Past",
        }
        for record in history_records(kpi.target, today)
    ]


def action_rows(kpi: Kpi, overdue: tuple[Action, ...]) -> list[dict[str, Any]]:
    """The KPI's actions for the ``actions_table`` template macro: overdue first, then open, then closed."""
    rows = [{"kpi": kpi, "action": a, "overdue": a in overdue} for a in kpi.actions]
    return sort_actions(rows)


def sort_actions(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Overdue first, then open, then done or dropped (stable within each)."""
    return sorted(rows, key=lambda row: (not row["overdue"], row["action"].status != "open"))
