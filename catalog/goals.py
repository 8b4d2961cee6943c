"""The program's goal tree and each goal's rollup status.

``goals:`` in ``catalog.yaml`` is a flat list; ``parent`` makes the tree, and a goal's depth is its
level (``goal_levels[0]`` names the top). A KPI serves the goals its ``goals:`` lists (any level).
A goal's rollup counts the latest status of every KPI under it, its own and its descendants',
each KPI once (a KPI listed by a goal and by one of its sub-goals is counted once):

* ``goal_status: majority`` (the default): the status most of those KPIs with a target hold
  (``on_track``, ``near_target`` or ``off_track``); a tie goes to the worse status;
* ``goal_status: worst``: the worst of them;
* no KPI with a judged status: ``no_data`` when one of them has no data yet (its target may well
  be in force), else ``no_target``.

The loader has already checked the tree (known parents, no cycles, no deeper than
``goal_levels``), so these functions trust it.

Example:
    >>> rollup(["on_track", "off_track", "on_track", "no_target"], "majority")
    'on_track'
    >>> rollup(["on_track", "off_track"], "majority"), rollup(["on_track", "near_target"], "worst")
    ('off_track', 'near_target')
    >>> rollup(["no_target", "no_data"], "majority"), rollup(["no_target"], "majority")
    ('no_data', 'no_target')
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from catalog.models import CatalogSettings, Goal, Kpi
from catalog.status import JUDGED, Status

__all__ = ["JUDGED", "GoalNode", "Rollup", "goal_tree", "goals_by_id", "rollup", "rollups"]

# The statuses a target judges, worst first (ties in a majority go to the earlier one).


@dataclass(frozen=True)
class GoalNode:
    """One goal in the tree: its level (1 = top) and level name, sub-goals and direct KPIs."""

    goal: Goal
    level: int
    level_name: str
    children: tuple[GoalNode, ...] = ()
    kpi_ids: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        """The goal's id."""
        return self.goal.id

    def walk(self) -> Iterator[GoalNode]:
        """This goal and every goal below it, parents before children, in file order."""
        yield self
        for child in self.children:
            yield from child.walk()

    def all_kpi_ids(self) -> list[str]:
        """The KPIs of this goal and of every goal below it, each once, in tree order.

        Example:
            >>> leaf = GoalNode(Goal(id="b", title="B"), 2, "Goal", kpi_ids=("k1", "k2"))
            >>> GoalNode(Goal(id="a", title="A"), 1, "Area", (leaf,), ("k2", "k3")).all_kpi_ids()
            ['k2', 'k3', 'k1']
        """
        return list(dict.fromkeys(kpi_id for node in self.walk() for kpi_id in node.kpi_ids))


@dataclass(frozen=True)
class Rollup:
    """A goal's status and how many of its KPIs hold each latest status."""

    status: str
    counts: dict[str, int] = field(default_factory=dict)
    kpi_ids: tuple[str, ...] = ()


def goal_tree(settings: CatalogSettings, kpis: Iterable[Kpi]) -> list[GoalNode]:
    """The top-level goals, each with its sub-goals and the ids of the KPIs serving it directly.

    Goals keep their order in ``catalog.yaml``, KPIs the order of ``kpis``. Pass only the public
    KPIs to build the tree the public sees.

    Example:
        >>> settings = CatalogSettings.model_validate({"goal_levels": ["Priority", "Goal"], "goals": [
        ...     {"id": "safety", "title": "Public Safety"},
        ...     {"id": "fast", "title": "Reach emergencies fast", "parent": "safety"}]})
        >>> kpi = Kpi.model_validate({"id": "ems", "title": "EMS", "department": "Fire",
        ...     "goals": ["fast"], "source": {"dataset": "d", "date_column": "day"},
        ...     "measure": {"calculation": "count"}})
        >>> [top] = goal_tree(settings, [kpi])
        >>> (top.level_name, top.children[0].level_name, top.children[0].kpi_ids, top.all_kpi_ids())
        ('Priority', 'Goal', ('ems',), ['ems'])
    """
    served: dict[str, list[str]] = {}
    for kpi in kpis:
        for goal_id in dict.fromkeys(kpi.goals):
            served.setdefault(goal_id, []).append(kpi.id)
    children: dict[str | None, list[Goal]] = {}
    for goal in settings.goals:
        children.setdefault(goal.parent, []).append(goal)
    levels = settings.goal_levels

    def build(goal: Goal, level: int) -> GoalNode:
        name = levels[level - 1] if level <= len(levels) else f"Level {level}"
        subs = tuple(build(child, level + 1) for child in children.get(goal.id, []))
        return GoalNode(goal, level, name, subs, tuple(served.get(goal.id, [])))

    return [build(goal, 1) for goal in children.get(None, [])]


def goals_by_id(tree: Iterable[GoalNode]) -> dict[str, GoalNode]:
    """Every goal of the tree by id (for ``/goals/{id}`` and breadcrumbs via ``goal.parent``).

    Example:
        >>> sorted(goals_by_id([GoalNode(Goal(id="a", title="A"), 1, "Area")]))
        ['a']
    """
    return {node.id: node for top in tree for node in top.walk()}


def rollup(statuses: Iterable[str], rule: str = "majority") -> Status:
    """The status of a goal whose KPIs hold ``statuses`` (see the module docstring).

    Example:
        >>> rollup(["near_target", "off_track", "on_track"], "majority")  # a three-way tie
        'off_track'
    """
    statuses = list(statuses)
    counts = Counter(s for s in statuses if s in JUDGED)
    if not counts:  # nothing judged: "no target" only when no KPI is waiting for data
        return Status.NO_DATA if Status.NO_DATA in statuses else Status.NO_TARGET
    if rule == "worst":
        return next(s for s in JUDGED if counts[s])
    most = max(counts.values())
    return next(s for s in JUDGED if counts[s] == most)


def rollups(tree: Iterable[GoalNode], latest: Mapping[str, str], rule: str = "majority") -> dict[str, Rollup]:
    """Each goal's :class:`Rollup`, by goal id, from each KPI's latest status (``latest[kpi_id]``).

    KPIs missing from ``latest`` (e.g. private ones) are left out.

    Example:
        >>> leaf = GoalNode(Goal(id="b", title="B"), 2, "Goal", kpi_ids=("k1", "k2"))
        >>> top = GoalNode(Goal(id="a", title="A"), 1, "Area", (leaf,), ("k2",))
        >>> found = rollups([top], {"k1": "off_track", "k2": "on_track"}, "majority")
        >>> found["a"].status, found["a"].counts
        ('off_track', {'on_track': 1, 'off_track': 1})
    """
    out: dict[str, Rollup] = {}
    for top in tree:
        for node in top.walk():
            ids = tuple(k for k in node.all_kpi_ids() if k in latest)
            statuses = [latest[k] for k in ids]
            out[node.id] = Rollup(rollup(statuses, rule), dict(Counter(statuses)), ids)
    return out
