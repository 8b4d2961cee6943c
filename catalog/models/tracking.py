"""The program's parts of a KPI file: target history, notes, actions, breakdown, freshness.

The rules that use them (which target is in force, overdue actions, suppression, stale data) are in
README.md ("run the program", "Catalog rules") and docs/equity-and-freshness.md; these models only
fix the YAML shape.

Example:
    >>> entry = TargetEntry.model_validate({"from": "2020-02-01", "value": 7, "note": "FY2020 budget"})
    >>> (entry.start.isoformat(), entry.value, entry.tolerance)
    ('2020-02-01', 7.0, None)
    >>> Freshness(expect="P2W").expect, Freshness(expect="monthly").expect
    ('P2W', 'monthly')
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal

from pydantic import ConfigDict, Field, field_validator

from catalog.models.base import ID_PATTERN, Strict

__all__ = ["EXPECT_DURATION", "EXPECT_NAMES", "Action", "Breakdown", "Freshness", "Note", "TargetEntry"]

ActionStatus = Literal["open", "done", "dropped"]
EXPECT_NAMES = ("daily", "weekly", "monthly", "quarterly", "yearly")
# ISO 8601 durations of whole days and up (P1D, P2W, P1M, P1Y2M, ...); times of day make no sense here.
EXPECT_DURATION = re.compile(r"^P(?=\d)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?$")


class TargetEntry(Strict):
    """One target of ``target.history``: in force from ``from`` until the next entry's ``from``."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    start: dt.date = Field(alias="from")
    value: float
    tolerance: float | None = Field(default=None, ge=0)
    note: str | None = None


class Note(Strict):
    """A dated annotation: drawn on the chart as a rule, listed on the KPI page."""

    date: dt.date
    text: str


class Action(Strict):
    """What a department does about a KPI; ``closed`` is the day it was done or dropped."""

    id: str = Field(pattern=ID_PATTERN, max_length=64)
    title: str
    owner: str | None = None
    opened: dt.date
    due: dt.date | None = None
    status: ActionStatus = "open"
    closed: dt.date | None = None


class Breakdown(Strict):
    """The same measure per group of ``column`` (equity); small groups are suppressed."""

    column: str
    label: str | None = None
    min_count: int = Field(default=10, ge=1)


class Freshness(Strict):
    """How often the KPI's data is expected to change: a name or an ISO 8601 duration."""

    expect: str

    @field_validator("expect")
    @classmethod
    def _known_interval(cls, value: str) -> str:
        if value in EXPECT_NAMES or EXPECT_DURATION.match(value):
            return value
        names = ", ".join(EXPECT_NAMES)
        raise ValueError(f"freshness.expect must be one of {names} or an ISO 8601 duration such as P2W")
