"""Targets over time: which entries of ``target.history`` are in force, past, or still to come.

Each period is scored against the entry in force at its start (:meth:`catalog.models.Target.in_force`,
used by :func:`catalog.measure.measure`). Entries whose ``from`` is after today are **future
targets**: charts draw them dashed and they never score a period (no period of a series starts
after today, since rows dated after today are left out).

Example:
    >>> from datetime import date
    >>> from catalog.models import Target
    >>> target = Target.model_validate({"tolerance": 2, "history": [
    ...     {"from": "2019-07-01", "value": 10}, {"from": "2020-07-01", "value": 5, "note": "FY2021"}]})
    >>> [(e.start.isoformat(), e.value) for e in future_targets(target, date(2020, 3, 2))]
    [('2020-07-01', 5.0)]
"""

from __future__ import annotations

from datetime import date
from typing import Any

from catalog.models import Target, TargetEntry

__all__ = ["future_targets", "history_records"]


def future_targets(target: Target | None, today: date) -> list[TargetEntry]:
    """The history entries that start after ``today``, oldest first (none for a single value).

    Example:
        >>> future_targets(Target(value=7), date(2020, 3, 2))
        []
    """
    if target is None or target.history is None:
        return []
    return sorted((e for e in target.history if e.start > today), key=lambda e: e.start)


def history_records(target: Target | None, today: date) -> list[dict[str, Any]]:
    """Every target as JSON-ready records, oldest first: ``from``, ``value``, ``tolerance`` (the
    one that applies), ``note``, ``future`` (starts after today) and ``in_force`` (today's target).

    A single ``value`` is one record with ``from`` null.

    Example:
        >>> target = Target.model_validate({"tolerance": 2, "history": [
        ...     {"from": "2019-07-01", "value": 10}, {"from": "2020-02-01", "value": 7, "tolerance": 1}]})
        >>> [(r["from"], r["tolerance"], r["in_force"]) for r in history_records(target, date(2020, 3, 2))]
        [('2019-07-01', 2.0, False), ('2020-02-01', 1.0, True)]
    """
    if target is None:
        return []
    if target.history is None:
        return [
            {
                "from": None,
                "value": target.value,
                "tolerance": target.tolerance,
                "note": None,
                "future": False,
                "in_force": True,
            }
        ]
    entries = sorted(target.history, key=lambda e: e.start)
    current = max((e.start for e in entries if e.start <= today), default=None)
    return [
        {
            "from": e.start.isoformat(),
            "value": e.value,
            "tolerance": target.tolerance if e.tolerance is None else e.tolerance,
            "note": e.note,
            "future": e.start > today,
            "in_force": e.start == current,
        }
        for e in entries
    ]
