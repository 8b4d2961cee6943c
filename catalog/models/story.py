"""A story (``stories/*.md`` in a catalog): a Markdown page with KPI blocks, told as of its date.

The front matter (YAML between ``---`` lines) is :class:`StoryMeta`; the text after it is read by
:mod:`catalog.stories` into :class:`Story` parts: HTML already sanitised, and :class:`StoryBlock`
references to a KPI's card, chart or breakdown or to a goal's summary.

Example:
    >>> meta = StoryMeta.model_validate({"title": "Potholes in February", "date": "2020-02-28",
    ...                                  "author": "Public Works", "status": "published"})
    >>> (meta.date.isoformat(), meta.status, meta.summary)
    ('2020-02-28', 'published', None)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from pydantic import Field

from catalog.models.base import Strict

__all__ = ["BLOCK_KINDS", "Story", "StoryBlock", "StoryMeta"]

#: The blocks a story may place: what each shows, by the id it names.
BLOCK_KINDS: dict[str, str] = {
    "kpi-card": "a KPI's card: its latest value, period, target, status and change",
    "kpi-chart": "a KPI's chart, with its targets and notes",
    "kpi-breakdown": "a KPI's breakdown table for its latest period (the KPI needs a breakdown:)",
    "goal-summary": "a goal's rollup status and the latest status of each KPI under it",
}


class StoryMeta(Strict):
    """A story's front matter. ``status: draft`` is never shown to the public."""

    title: str = Field(min_length=1, max_length=200)
    date: dt.date
    author: str = Field(min_length=1, max_length=200)
    status: Literal["draft", "published"]
    summary: str | None = Field(default=None, max_length=1000)


@dataclass(frozen=True)
class StoryBlock:
    """A block placed in a story: ``kind`` (a key of :data:`BLOCK_KINDS`), the ``ref`` id, the line."""

    kind: str
    ref: str
    line: int


@dataclass(frozen=True)
class Story:
    """A loaded story: its ``id`` (the file name without ``.md``), front matter, and its parts in
    order, each sanitised HTML (a ``str``) or a :class:`StoryBlock`."""

    id: str
    meta: StoryMeta
    parts: tuple[str | StoryBlock, ...]
    #: the body in other languages (``stories/<id>.<locale>.md``): ``(locale, parts)`` pairs
    bodies: tuple[tuple[str, tuple[str | StoryBlock, ...]], ...] = ()
    #: the language of ``parts`` when it is not the reader's (a fallback to the default language)
    body_lang: str | None = None

    @property
    def blocks(self) -> list[StoryBlock]:
        """The story's blocks, in order."""
        return [part for part in self.parts if isinstance(part, StoryBlock)]

    @property
    def published(self) -> bool:
        """Whether the story is ``status: published`` (public from its date on: :meth:`public_on`)."""
        return self.meta.status == "published"

    def public_on(self, today: dt.date) -> bool:
        """Whether anyone may read the story on ``today``: published, and its date has come.

        Example:
            >>> meta = StoryMeta(title="T", date=dt.date(2020, 2, 19), author="A", status="published")
            >>> story = Story("s", meta, ())
            >>> story.public_on(dt.date(2020, 2, 18)), story.public_on(meta.date)
            (False, True)
        """
        return self.published and self.meta.date <= today
