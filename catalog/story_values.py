"""A story's numbers: every block computed as of the story's date, from the data as known then.

A story is told on its date: each KPI it shows is measured as of that day (rows dated after it are
left out, and each dataset is read as the store held it at the end of the day, see
:mod:`catalog.asof`), and each goal summary rolls up the statuses its KPIs held then. So a
published story keeps its numbers whatever the data does later, as a kept packet does; only a
dataset whose history begins after the story's date is read in its first recorded version, and
the page says so (:func:`catalog.asof.history_note`).

Example:
    >>> from catalog.demo import DEMO_DIR, demo_store
    >>> from catalog.loader import load_catalog
    >>> catalog = load_catalog(DEMO_DIR)
    >>> with demo_store() as store:
    ...     told = story_values(catalog, store, catalog.stories["2020-02-potholes"])
    >>> told.as_of.isoformat(), told.items["pothole-days-to-close"].change.value
    ('2020-02-19', 10.0)
    >>> told.goals["fix-potholes-fast"].status
    'off_track'
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date

from btvstat_open.store import Store
from catalog.asof import history_note
from catalog.goals import GoalNode, goal_tree, goals_by_id, rollup
from catalog.models import Catalog, Story
from catalog.packet import KpiItem, kpi_item
from catalog.stories import story_kpis

__all__ = ["GoalSummary", "StoryValues", "story_values"]


@dataclass(frozen=True)
class GoalSummary:
    """A goal as of the story's day: its rollup status, the count per status, and its public KPIs."""

    node: GoalNode
    status: str
    counts: dict[str, int]
    kpi_ids: tuple[str, ...]


@dataclass(frozen=True)
class StoryValues:
    """A story with the values of its blocks as of its date (``items`` by KPI id, ``goals`` by id)."""

    story: Story
    as_of: date
    items: dict[str, KpiItem]
    goals: dict[str, GoalSummary]
    data_note: str | None


def story_values(catalog: Catalog, store: Store, story: Story) -> StoryValues:
    """Every block of ``story`` computed as of its date (see the module docstring).

    A KPI whose dataset is not in the store yet is left out of ``items`` (its block says so).
    """
    day = story.meta.date
    kpis = story_kpis(catalog, story)
    items = {k.id: kpi_item(catalog, store, k, day) for k in kpis if store.exists(k.source.dataset)}
    public = [k for k in catalog.kpis.values() if k.public]
    nodes = goals_by_id(goal_tree(catalog.settings, public))
    goals: dict[str, GoalSummary] = {}
    for block in story.blocks:
        node = nodes.get(block.ref) if block.kind == "goal-summary" else None
        if node is None:
            continue
        ids = tuple(node.all_kpi_ids())
        statuses = [items[k].status if k in items else "no_data" for k in ids]
        goals[node.id] = GoalSummary(
            node, rollup(statuses, catalog.settings.goal_status), dict(Counter(statuses)), ids
        )
    note = history_note(store, (k.source.dataset for k in kpis), day, html=True)  # shown on a page
    return StoryValues(story, day, items, goals, note)
