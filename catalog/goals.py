"""The program's goal tree and each goal's rollup of its KPIs' latest status.

A goal's rollup counts the latest status of every KPI under it (its own and its descendants',
each KPI once). With ``goal_status: majority`` the goal takes the status most of those KPIs with
a target hold (ties go to the worse); with ``worst``, the worst. No KPI with a target: ``no_target``.

Example:
    >>> rollup_status(["on_track", "off_track", "on_track", "no_target"], "majority")
    'on_track'
    >>> rollup_status(["on_track", "off_track"], "majority"), rollup_status(["on_track"], "worst")
    ('off_track', 'on_track')
    >>> rollup_status(["no_target", "no_data"], "worst")
    'no_target'
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from catalog.models import CatalogSettings, Goal, Kpi

__all__ = ["GoalNode", "goal_tree", "rollup_status", "walk"]

# From worst to best: ties in a majority go to the one listed first.
_SCORED = ("off_track", "near_target", "on_track")


def rollup_status(statuses: Iterable[str], rule: str = "majority") -> str:
    """The status a goal takes from its KPIs' latest statuses (see the module docstring)."""
    counts = Counter(s for s in statuses if s in _SCORED)
    if not counts:
        return "no_target"
    if rule == "worst":
        return next(s for s in _SCORED if counts[s])
    most = max(counts.values())
    return next(s for s in _SCORED if counts[s] == most)


@dataclass
class GoalNode:
    """A goal with its level, sub-goals, own KPIs and the rollup over all KPIs under it."""

    goal: Goal
    level: int  # 1 for a goal without parent
    level_name: str
    children: list[GoalNode] = field(default_factory=list)
    kpi_ids: list[str] = field(default_factory=list)  # the KPIs that name this goal
    all_kpi_ids: list[str] = field(default_factory=list)  # and those of every descendant, once each
    status: str = "no_target"
    counts: dict[str, int] = field(default_factory=dict)  # latest status -> KPIs under the goal


def goal_tree(settings: CatalogSettings, kpis: Iterable[Kpi], latest: Mapping[str, str]) -> list[GoalNode]:
    """The top-level goals, each with its subtree and rollups; ``latest`` maps KPI id -> status.

    Example:
        >>> s = CatalogSettings.model_validate({"goals": [{"id": "a", "title": "A"},
        ...     {"id": "b", "title": "B", "parent": "a"}]})
        >>> k = Kpi.model_validate({"id": "k", "title": "K", "department": "D", "goals": ["b"],
        ...     "source": {"dataset": "d", "date_column": "c"}, "measure": {"calculation": "count"}})
        >>> [root] = goal_tree(s, [k], {"k": "off_track"})
        >>> (root.level_name, root.all_kpi_ids, root.status, root.children[0].level_name)
        ('Priority area', ['k'], 'off_track', 'Goal')
    """
    nodes = {g.id: GoalNode(g, 0, "") for g in settings.goals}
    for kpi in kpis:
        for goal_id in dict.fromkeys(kpi.goals):
            if goal_id in nodes:
                nodes[goal_id].kpi_ids.append(kpi.id)
    roots: list[GoalNode] = []
    for goal in settings.goals:
        parent = nodes.get(goal.parent) if goal.parent else None
        (parent.children if parent else roots).append(nodes[goal.id])
    levels = settings.goal_levels
    for root in roots:
        _fill(root, 1, levels, latest, settings.goal_status)
    return roots


def _fill(node: GoalNode, level: int, levels: Sequence[str], latest: Mapping[str, str], rule: str) -> None:
    node.level = level
    node.level_name = levels[min(level, len(levels)) - 1]
    under = dict.fromkeys(node.kpi_ids)
    for child in node.children:
        _fill(child, level + 1, levels, latest, rule)
        under.update(dict.fromkeys(child.all_kpi_ids))
    node.all_kpi_ids = list(under)
    statuses = [latest.get(kpi_id, "no_data") for kpi_id in node.all_kpi_ids]
    node.counts = dict(Counter(statuses))
    node.status = rollup_status(statuses, rule)


def walk(roots: Iterable[GoalNode]) -> Iterable[GoalNode]:
    """Every node of the tree, parents before children."""
    for node in roots:
        yield node
        yield from walk(node.children)
