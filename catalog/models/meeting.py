"""A Stat meeting file (``meetings/*.yaml`` in a catalog): who is reviewed, what is asked.

Example:
    >>> meeting = Meeting.model_validate({
    ...     "id": "2020-03-04-public-works", "date": "2020-03-04", "title": "Public Works review",
    ...     "departments": ["Public Works"],
    ...     "new_items": [{"kpi": "pothole-days-to-close-p90", "note": "Tail of slow closures"}],
    ...     "questions": {"pothole-days-to-close": ["Why did the week of Jan 13 spike?"]},
    ... })
    >>> (meeting.date.isoformat(), meeting.new_items[0].kpi)
    ('2020-03-04', 'pothole-days-to-close-p90')
"""

from __future__ import annotations

import datetime as dt

from pydantic import Field

from catalog.models.base import ID_PATTERN, Strict

__all__ = ["Meeting", "NewItem"]


class NewItem(Strict):
    """A KPI raised at a meeting for the first time, with why."""

    kpi: str
    note: str | None = None


class Meeting(Strict):
    """One meeting: its standing items (departments' public KPIs and ``kpis``), new items, questions.

    The packet is computed as of ``as_of`` when given, else as of the meeting's ``date``.
    """

    id: str = Field(pattern=ID_PATTERN, max_length=64)
    date: dt.date
    title: str
    departments: list[str] = Field(default_factory=list)
    kpis: list[str] = Field(default_factory=list)
    new_items: list[NewItem] = Field(default_factory=list)
    questions: dict[str, list[str]] = Field(default_factory=dict)
    summary: str | None = None
    as_of: dt.date | None = None
