"""Progress toward a dated goal (``dated_goal:`` of a KPI): how far, on the path or not, and when.

The rules, as README.md ("Dated goals") states them:

* a period's value counts on its **last day** (``period_end``); the **latest value** is that of
  the last period with a value;
* **progress** = (latest value - baseline value) / (target value - baseline value): 0 at the
  baseline, 1 (100%) at the target, above 1 past it, below 0 when the KPI moved away;
* the **expected path** joins baseline, waypoints and target with straight lines (before the
  baseline it is the baseline value, after the target's date the target value); **expected
  progress** is the path's value on the latest value's day, as a progress;
* **pace**: ``reached`` when progress >= 1, else ``ahead`` / ``behind`` when progress is above /
  below the expected progress (by more than 1e-9), else ``on_path``; ``no_data`` without a value;
* the **projected date** (:func:`project`): a least-squares line through the values since the
  baseline (the last ``projection.window`` of them, x = their days), extended to the target value;
  its range comes from the slope plus or minus two standard errors. "Not projectable" when there
  are fewer than ``projection.min_points`` values, when the line is flat, when the slope is within
  two standard errors of zero (too noisy), when the line moves away from the target, or when it
  reaches it more than 200 years on.

A goal of the tree may have its own dated goal, measured by one KPI under it (``dated_goal.kpi`` in
``catalog.yaml``; :func:`goal_progress`). It also rolls its KPIs' dated goals up
(:func:`rollup_progress`): its progress is the mean of its KPIs' progress, each capped at 1 (a KPI
past its target counts as done, not more); its pace is the pace most of them hold (ties to the
worse; ``goal_status: worst`` takes the worst), worst first ``behind``, ``on_path``, ``ahead``, ``reached``.

Example:
    >>> from catalog.models import DatedGoal
    >>> goal = DatedGoal.model_validate({"baseline": {"date": "2020-01-01", "value": 100},
    ...                                  "target": {"date": "2030-01-01", "value": 0}})
    >>> round(expected_value(goal.points(), date(2025, 1, 1)), 3)
    49.986
    >>> found = progress(goal, [(date(2024, 12, 31), 40.0)])
    >>> (round(found.progress, 2), found.pace)
    (0.6, 'ahead')
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any

import pyarrow as pa

from catalog.models import DatedGoal, DatedPoint, Goal, Kpi

__all__ = [
    "PACES",
    "GoalProgress",
    "Projected",
    "expected_value",
    "goal_progress",
    "kpi_path",
    "kpi_progress",
    "progress",
    "project",
    "rollup_progress",
    "series_points",
    "target_points",
]

# Worst first: a tie in a majority goes to the earlier one.
PACES = ("behind", "on_path", "ahead", "reached")
EPS = 1e-9
MAX_DAYS = 200 * 365
Day = date  # ``Projected.date`` shadows the type inside its class


@dataclass(frozen=True)
class Projected:
    """When the trend reaches the target: ``status`` is ``reached``, ``projected`` (with ``date``,
    ``earliest`` and ``latest``) or ``not_projectable`` (with ``reason``)."""

    status: str
    method: str
    points: int
    date: Day | None = None
    earliest: Day | None = None
    latest: Day | None = None
    slope_per_year: float | None = None
    reason: str | None = None

    def record(self) -> dict[str, Any]:
        """JSON-ready: dates as ISO strings."""
        out = asdict(self)
        for key in ("date", "earliest", "latest"):
            out[key] = out[key].isoformat() if out[key] else None
        return out


@dataclass(frozen=True)
class GoalProgress:
    """A KPI's progress toward its dated goal as of its latest value."""

    baseline: DatedPoint
    target: DatedPoint
    path: tuple[DatedPoint, ...]
    latest_date: date | None
    latest_value: float | None
    progress: float | None
    expected_value: float | None
    expected_progress: float | None
    pace: str
    projection: Projected

    def record(self) -> dict[str, Any]:
        """JSON-ready (``/program.json``, packets)."""

        def point(p: DatedPoint) -> dict[str, Any]:
            return {"date": p.date.isoformat(), "value": p.value}

        return {
            "baseline": point(self.baseline),
            "target": point(self.target),
            "path": [point(p) for p in self.path],
            "latest_date": self.latest_date.isoformat() if self.latest_date else None,
            "latest_value": self.latest_value,
            "progress": self.progress,
            "expected_value": self.expected_value,
            "expected_progress": self.expected_progress,
            "pace": self.pace,
            "projection": self.projection.record(),
        }


def expected_value(path: Sequence[DatedPoint], day: date) -> float:
    """The expected path's value on ``day`` (straight lines between the path's corners).

    Example:
        >>> path = [DatedPoint(date=date(2020, 1, 1), value=0), DatedPoint(date=date(2020, 1, 11), value=10)]
        >>> [expected_value(path, date(y, 1, d)) for y, d in ((2020, 4), (2019, 1), (2021, 1))]
        [3.0, 0.0, 10.0]
    """
    if day <= path[0].date:
        return path[0].value
    for left, right in itertools.pairwise(path):
        if day <= right.date:
            share = (day - left.date).days / (right.date - left.date).days
            return left.value + share * (right.value - left.value)
    return path[-1].value


def series_points(series: pa.Table) -> list[tuple[date, float]]:
    """The series' values on their periods' last days, in order, periods without a value left out."""
    ends = series.column("period_end").to_pylist()
    values = series.column("value").to_pylist()
    return [(d, float(v)) for d, v in zip(ends, values, strict=True) if v is not None and not math.isnan(v)]


def progress(
    goal: DatedGoal, points: Sequence[tuple[date, float]], history: list[DatedPoint] | None = None
) -> GoalProgress:
    """Progress toward ``goal`` of the values ``points`` (day, value), oldest first (module docstring).

    Example:
        >>> goal = DatedGoal.model_validate({"baseline": {"date": "2020-01-01", "value": 10},
        ...                                  "target": {"date": "2021-01-01", "value": 20}})
        >>> progress(goal, []).pace, progress(goal, [(date(2020, 6, 30), 25.0)]).pace
        ('no_data', 'reached')
    """
    path = tuple(goal.points(history))
    b, t = goal.baseline.value, goal.target.value
    projected = project(goal, points)
    if not points:
        return GoalProgress(
            goal.baseline, goal.target, path, None, None, None, None, None, "no_data", projected
        )
    day, value = points[-1]
    done = (value - b) / (t - b)
    expected = expected_value(path, day)
    due = (expected - b) / (t - b)
    if done >= 1 - EPS:
        pace = "reached"
    elif done > due + EPS:
        pace = "ahead"
    elif done < due - EPS:
        pace = "behind"
    else:
        pace = "on_path"
    return GoalProgress(goal.baseline, goal.target, path, day, value, done, expected, due, pace, projected)


def project(goal: DatedGoal, points: Sequence[tuple[date, float]]) -> Projected:
    """The projected date of reaching the target (module docstring): least squares, slope +/- 2 SE.

    Example:
        >>> goal = DatedGoal.model_validate({"baseline": {"date": "2020-01-01", "value": 0},
        ...                                  "target": {"date": "2020-12-31", "value": 100}})
        >>> start = date(2020, 1, 1)
        >>> found = project(goal, [(start + timedelta(days=d), d + (d % 3)) for d in range(0, 50, 10)])
        >>> found.status, found.date
        ('projected', datetime.date(2020, 4, 8))
        >>> project(goal, [(date(2020, 1, 2), 1.0)]).reason
        'only 1 value since the baseline; the projection needs 4'
    """
    rules = goal.projection
    since = [(d, v) for d, v in points if d >= goal.baseline.date][-rules.window :]
    n = len(since)
    # The method names the values it used: fewer than the window early in a series.
    counted = f"{n} value" if n == 1 else f"{n} values"
    method = (
        f"least-squares line through the last {counted} since the baseline (at most {rules.window}), "
        "range from its slope plus or minus two standard errors"
    )
    b, t = goal.baseline.value, goal.target.value
    if since and (since[-1][1] - b) / (t - b) >= 1 - EPS:
        return Projected("reached", method, n)
    if n < rules.min_points:
        plural = "value" if n == 1 else "values"
        reason = f"only {n} {plural} since the baseline; the projection needs {rules.min_points}"
        return Projected("not_projectable", method, n, reason=reason)
    xs = [float((d - goal.baseline.date).days) for d, _ in since]
    ys = [v for _, v in since]
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx
    residual = sum((y - my - slope * (x - mx)) ** 2 for x, y in zip(xs, ys, strict=True))
    se = math.sqrt(residual / (n - 2) / sxx)
    per_year = slope * 365.25
    if slope == 0:
        return Projected("not_projectable", method, n, slope_per_year=0.0, reason="the trend is flat")
    if abs(slope) <= 2 * se:
        reason = f"too noisy: the slope ({per_year:.4g} a year) is within two standard errors of zero"
        return Projected("not_projectable", method, n, slope_per_year=per_year, reason=reason)
    if slope * (t - b) < 0:
        reason = "the trend moves away from the target"
        return Projected("not_projectable", method, n, slope_per_year=per_year, reason=reason)
    sign = 1.0 if slope > 0 else -1.0
    days = [mx + (t - my) / m for m in (slope, slope + 2 * se * sign, slope - 2 * se * sign)]
    if max(days) > MAX_DAYS:
        reason = "the trend reaches the target more than 200 years on"
        return Projected("not_projectable", method, n, slope_per_year=per_year, reason=reason)
    # A line through noisy values can cross the target before the latest value, which has not
    # reached it: the target is then not reached before the latest day.
    latest = since[-1][0]
    when, early, late = (max(latest, goal.baseline.date + timedelta(days=round(x))) for x in days)
    return Projected("projected", method, n, when, min(early, late), max(early, late), per_year)


def target_points(kpi: Kpi) -> list[DatedPoint] | None:
    """The KPI's target history as points (for ``waypoints: target_history``), else ``None``."""
    if kpi.target is None or kpi.target.history is None:
        return None
    return [DatedPoint(date=e.start, value=e.value) for e in kpi.target.history]


def kpi_path(kpi: Kpi) -> list[DatedPoint]:
    """The corners of the KPI's expected path (none without ``dated_goal``)."""
    return [] if kpi.dated_goal is None else kpi.dated_goal.points(target_points(kpi))


def kpi_progress(kpi: Kpi, series: pa.Table | None) -> GoalProgress | None:
    """The KPI's progress from its measured series (``None`` without ``dated_goal``)."""
    if kpi.dated_goal is None:
        return None
    points = series_points(series) if series is not None else []
    return progress(kpi.dated_goal, points, target_points(kpi))


def goal_progress(goal: Goal, series: Mapping[str, pa.Table | None]) -> GoalProgress | None:
    """A goal's own dated goal, measured by its ``dated_goal.kpi`` (``series`` by KPI id);
    ``None`` without one.

    Example:
        >>> g = Goal.model_validate({"id": "a", "title": "A", "dated_goal": {"kpi": "k",
        ...     "baseline": {"date": "2020-01-01", "value": 0},
        ...     "target": {"date": "2021-01-01", "value": 10}}})
        >>> goal_progress(g, {}).pace
        'no_data'
    """
    if goal.dated_goal is None:
        return None
    table = series.get(goal.dated_goal.kpi)
    return progress(goal.dated_goal, series_points(table) if table is not None else [])


def rollup_progress(
    tree_kpis: Mapping[str, Iterable[str]], found: Mapping[str, GoalProgress], rule: str = "majority"
) -> dict[str, dict[str, Any]]:
    """Each goal's progress rollup (module docstring), by goal id, from ``tree_kpis`` (goal id ->
    every KPI under it) and each KPI's progress; goals without a KPI with progress are left out.

    Example:
        >>> goal = DatedGoal.model_validate({"baseline": {"date": "2020-01-01", "value": 0},
        ...                                  "target": {"date": "2021-01-01", "value": 10}})
        >>> a, b = progress(goal, [(date(2020, 7, 1), 2.0)]), progress(goal, [(date(2020, 7, 1), 12.0)])
        >>> rollup_progress({"g": ["a", "b"]}, {"a": a, "b": b})["g"]
        {'progress': 0.6, 'pace': 'behind', 'counts': {'behind': 1, 'reached': 1}, 'kpis': 2}
    """
    out: dict[str, dict[str, Any]] = {}
    for goal_id, ids in tree_kpis.items():
        mine = [found[k] for k in dict.fromkeys(ids) if k in found and found[k].progress is not None]
        if not mine:
            continue
        counts = Counter(p.pace for p in mine)
        if rule == "worst":
            pace = next(p for p in PACES if counts[p])
        else:
            most = max(counts.values())
            pace = next(p for p in PACES if counts[p] == most)
        mean = sum(min(p.progress or 0.0, 1.0) for p in mine) / len(mine)
        out[goal_id] = {"progress": mean, "pace": pace, "counts": dict(counts), "kpis": len(mine)}
    return out
