"""Stories in the program's documents: Atom feed entries and the ``stories`` list of ``/program.json``.

A published story is in a feed from its date on: in the program's feed, and in the feed of each
KPI, department and goal whose KPIs it shows (its KPI blocks and the KPIs under its goal
summaries). A draft is in none. Registered in :data:`catalog.feeds.FEED_SOURCES` on import.

Example:
    >>> from catalog.demo import DEMO_DIR
    >>> from catalog.loader import load_catalog
    >>> catalog = load_catalog(DEMO_DIR)
    >>> [e.title for e in story_entries(catalog, [catalog.get("pothole-days-to-close")], date(2020, 3, 2))]
    ['Story: The freeze-thaw pothole surge, three weeks on']
    >>> story_entries(catalog, [catalog.get("airport-passengers")], date(2020, 3, 2))
    []
    >>> [s["path"] for s in story_records(catalog, date(2020, 2, 18))]
    []
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from btvstat_open.i18n import _
from btvstat_open.store import Store
from catalog.feeds import FEED_SOURCES, FeedEntry
from catalog.models import Catalog, Kpi
from catalog.stories import public_stories, story_kpis

__all__ = ["story_entries", "story_records"]


def story_records(catalog: Catalog, today: date) -> list[dict[str, Any]]:
    """The public stories as of ``today`` (newest first), as ``/program.json`` lists them."""
    return [
        {
            "id": story.id,
            "title": story.meta.title,
            "date": story.meta.date.isoformat(),
            "author": story.meta.author,
            "summary": story.meta.summary,
            "path": f"/stories/{story.id}",
            "kpis": [k.id for k in story_kpis(catalog, story)],
            "goals": [b.ref for b in story.blocks if b.kind == "goal-summary"],
        }
        for story in public_stories(catalog, today)
    ]


def story_entries(
    catalog: Catalog, kpis: Sequence[Kpi], today: date, store: Store | None = None
) -> list[FeedEntry]:
    """The feed entries of the public stories about ``kpis`` (every one, for the whole program)."""
    ids = {k.id for k in kpis}
    whole = ids == {k.id for k in catalog.kpis.values() if k.public}  # the program's own feed
    entries = []
    for story in public_stories(catalog, today):
        if not whole and not ids & {k.id for k in story_kpis(catalog, story)}:
            continue
        meta = story.meta
        entries.append(
            FeedEntry(
                f"urn:btvstat-open:story:{story.id}",
                _("Story: %(title)s") % {"title": meta.title},
                meta.date,
                f"/stories/{story.id}",
                meta.summary
                or _("A story by %(author)s, as of %(day)s.")
                % {"author": meta.author, "day": meta.date.isoformat()},
            )
        )
    return entries


FEED_SOURCES.append(story_entries)
