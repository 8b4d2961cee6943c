"""A KPI file: what it measures, from which dataset, how it is computed, its target.

The field names are the YAML keys of the catalog format (README.md's tours and "Catalog rules",
docs/equity-and-freshness.md); unknown keys are errors (``extra="forbid"``). Cross-field rules (a rate needs
a numerator, a percentile needs ``percentile``, ...) are checked by :mod:`catalog.checks` for
:mod:`catalog.loader`, which knows the line of every key and so can say where the problem is.

Example:
    >>> kpi = Kpi.model_validate({
    ...     "id": "potholes", "title": "Pothole requests", "department": "Public Works",
    ...     "source": {"dataset": "kc-311-potholes", "date_column": "creation_date"},
    ...     "measure": {"calculation": "count"},
    ... })
    >>> (kpi.period.size, kpi.source.portal, kpi.chart, kpi.goals)
    ('month', 'local', 'line', [])
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import Field, model_validator

from catalog.models.base import KPI_ID_PATTERN, Calculation, Chart, Direction, Kind, PeriodSize, Strict, Tag
from catalog.models.dated_goal import DatedGoal
from catalog.models.peer import Peers
from catalog.models.people import EntrySettings
from catalog.models.tracking import Action, Breakdown, Freshness, Note, TargetEntry

__all__ = ["Kpi", "Measure", "Period", "RateTerm", "Source", "Target"]


class Source(Strict):
    """Where a KPI's rows come from and which column dates them.

    ``entry: manual`` (written ``source: {entry: manual}``) means the KPI's department enters a
    value per period: the approved values are the store dataset ``entries-<kpi id>`` (see
    :mod:`catalog.entries`), which the loader names here, so everything else reads it as any
    other local dataset.
    """

    portal: str = "local"
    dataset: str
    date_column: str
    where: str | None = None
    entry: Literal["manual"] | None = None


class RateTerm(Strict):
    """The numerator or denominator of a rate: a count or a sum, with its own SoQL filter."""

    calculation: Literal["count", "sum"] = "count"
    column: str | None = None
    where: str | None = None


class Measure(Strict):
    """How each period's value is computed from the rows in it."""

    calculation: Calculation
    column: str | None = None
    percentile: float | None = Field(default=None, gt=0, lt=100)
    numerator: RateTerm | None = None
    denominator: RateTerm | None = None
    as_percent: bool = False
    cumulative: bool = False
    # A period whose value comes from fewer source rows than this has no value (as a breakdown's cell).
    min_count: int | None = Field(default=None, ge=1)


class Period(Strict):
    """The period size and the range of the series."""

    size: PeriodSize = "month"
    start: date | None = None
    include_current: bool = False


class Target(Strict):
    """The target and how a value is judged against it: one ``value``, or a ``history``.

    With ``history``, each period is judged against the entry in force at its start (the last
    entry whose ``from`` is on or before it, with its own tolerance or else this one); before the
    first entry there is no target.

    Example:
        >>> target = Target.model_validate({"tolerance": 2, "history": [
        ...     {"from": "2019-07-01", "value": 10}, {"from": "2020-02-01", "value": 7, "tolerance": 1}]})
        >>> [(t.value, t.tolerance) if t else None for t in
        ...  (target.in_force(date(2019, 1, 1)), target.in_force(date(2019, 8, 1)),
        ...   target.in_force(date(2020, 2, 1)))]
        [None, (10.0, 2.0), (7.0, 1.0)]
    """

    value: float | None = None
    rule: Literal["above_below", "proximity"] = "above_below"
    tolerance: float = Field(default=0.0, ge=0)
    history: list[TargetEntry] | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _value_or_history(self) -> Target:
        if self.value is not None and self.history is not None:
            raise ValueError(
                "a target has either value (one target) or history (targets over time), not both: "
                "remove value, or move it into history as {from: DATE, value: N}"
            )
        if self.value is None and self.history is None:
            raise ValueError(
                "a target needs value: N (one target) or history: [{from: DATE, value: N}, ...] "
                "(targets over time); or remove target"
            )
        return self

    def in_force(self, day: date) -> Target | None:
        """The single-valued target in force on ``day`` (``None`` before the first history entry)."""
        if self.history is None:
            return self
        current = None
        for entry in sorted(self.history, key=lambda e: e.start):
            if entry.start <= day:
                current = entry
        if current is None:
            return None
        tolerance = self.tolerance if current.tolerance is None else current.tolerance
        return Target(value=current.value, rule=self.rule, tolerance=tolerance)


class Kpi(Strict):
    """One KPI, exactly the keys of a KPI YAML file."""

    id: str = Field(pattern=KPI_ID_PATTERN, max_length=64)
    title: str
    department: str
    outcome_area: str | None = None
    description: str = ""
    methodology: str = ""
    analysis: str | None = None
    source: Source
    measure: Measure
    period: Period = Field(default_factory=Period)
    unit: str = ""
    decimals: int = Field(default=1, ge=0, le=6)
    direction: Direction = "none"
    target: Target | None = None
    chart: Chart = "line"
    tags: list[Tag] = Field(default_factory=list)
    public: bool = True
    goals: list[str] = Field(default_factory=list)
    kind: Kind | None = None
    notes: list[Note] = Field(default_factory=list)
    actions: list[Action] = Field(default_factory=list)
    breakdown: Breakdown | None = None
    freshness: Freshness | None = None
    # -- entered values (source: {entry: manual}) --
    entry: EntrySettings | None = None
    # -- progress toward a dated goal (catalog.dated_goals) --
    dated_goal: DatedGoal | None = None
    # -- the same measure in other cities' open data (catalog.peers) --
    peers: Peers | None = None

    @model_validator(mode="before")
    @classmethod
    def _manual_source(cls, data: Any) -> Any:
        """``source: {entry: manual}`` names the KPI's entries dataset; the measure defaults to it."""
        if not isinstance(data, dict) or not isinstance(data.get("source"), dict):
            return data
        if data["source"].get("entry") != "manual":
            return data
        from catalog.entries import manual_measure, manual_source

        return {
            **data,
            "source": manual_source(str(data.get("id", "")), data["source"]),
            "measure": manual_measure(data.get("measure")),
        }
