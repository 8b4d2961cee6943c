"""A dated goal: where a KPI started (``baseline``), where it must be by a date (``target``), and the
path between them (straight, or through ``waypoints``).

The computation (progress, the expected path, ahead of or behind it, the projected date) is
:mod:`catalog.dated_goals`; this model only fixes the YAML shape and its own consistency
(the target after the baseline, waypoints between them, a target that differs from the baseline).

Example:
    >>> goal = DatedGoal.model_validate({
    ...     "baseline": {"date": "2020-01-01", "value": 100},
    ...     "target": {"date": "2030-01-01", "value": 20},
    ...     "waypoints": [{"date": "2025-01-01", "value": 50}]})
    >>> [(p.date.isoformat(), p.value) for p in goal.points()]
    [('2020-01-01', 100.0), ('2025-01-01', 50.0), ('2030-01-01', 20.0)]
    >>> goal.projection.window, goal.projection.min_points
    (12, 4)
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field, model_validator

from catalog.models.base import KPI_ID_PATTERN, Strict

__all__ = ["DatedGoal", "DatedPoint", "GoalDatedGoal", "Projection"]


class DatedPoint(Strict):
    """A value on a day: the baseline, the target or a waypoint."""

    date: dt.date
    value: float


class Projection(Strict):
    """How the date of reaching the target is projected: a least-squares line over the last
    ``window`` periods with a value; fewer than ``min_points`` values, or a slope whose two
    standard errors reach zero, is "not projectable"."""

    window: int = Field(default=12, ge=2, le=520)
    min_points: int = Field(default=4, ge=3)


class DatedGoal(Strict):
    """``dated_goal:`` of a KPI: baseline, target, optional waypoints and the projection's window."""

    baseline: DatedPoint
    target: DatedPoint
    # A list of points, or ``target_history``: the KPI's target history entries between the two dates.
    waypoints: list[DatedPoint] | Literal["target_history"] = Field(default_factory=list)
    projection: Projection = Field(default_factory=Projection)
    note: str | None = None

    @model_validator(mode="after")
    def _ordered(self) -> DatedGoal:
        if self.target.date <= self.baseline.date:
            raise ValueError(
                f"the target's date {self.target.date} must come after the baseline's {self.baseline.date}: "
                "fix one of the dates"
            )
        if self.target.value == self.baseline.value:
            raise ValueError("the target's value equals the baseline's: there is no way to go; change one")
        days = [w.date for w in self.waypoints] if isinstance(self.waypoints, list) else []
        if days != sorted(set(days)) or any(not self.baseline.date < d < self.target.date for d in days):
            raise ValueError(
                "waypoints must be in date order, one per date, between the baseline's and the target's dates"
            )
        return self

    def points(self, history: list[DatedPoint] | None = None) -> list[DatedPoint]:
        """The path's corners in date order: the baseline, each waypoint, the target.

        With ``waypoints: target_history``, ``history`` (the KPI's target entries) gives the
        waypoints: those strictly between the baseline's and the target's dates.
        """
        if isinstance(self.waypoints, list):
            middle = self.waypoints
        else:
            inside = (p for p in history or [] if self.baseline.date < p.date < self.target.date)
            middle = sorted({p.date: p for p in inside}.values(), key=lambda p: p.date)
        return [self.baseline, *middle, self.target]


class GoalDatedGoal(DatedGoal):
    """``dated_goal:`` of a goal in ``catalog.yaml``: a dated goal measured by ``kpi``, one of the
    KPIs under the goal (the loader checks it), whose series gives the latest value.

    Example:
        >>> GoalDatedGoal.model_validate({"kpi": "water-use", "baseline": {"date": "2008-06-30", "value": 61},
        ...     "target": {"date": "2015-06-30", "value": 45}}).kpi
        'water-use'
    """

    kpi: str = Field(pattern=KPI_ID_PATTERN, max_length=64)
