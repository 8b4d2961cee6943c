"""The program as the pages show it: the glance counts, the goal tree, departments, freshness words.

Everything here is computed from :class:`~widgets.service.KpiFacts` (one per public KPI, as of the
service's day) and the catalog's goal tree (:mod:`catalog.goals`); the templates only lay it out.

Example:
    >>> slugify("Water & Power")
    'water-power'
    >>> from datetime import datetime
    >>> updated_label(datetime(2020, 2, 27, 9, 30), date(2020, 3, 1))
    'Data updated 3 days ago'
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from btvstat_open.errors import NotFound
from btvstat_open.i18n import _, format_date, format_integer
from catalog.data_checks import load_checks, state_record
from catalog.dated_goals import goal_progress, rollup_progress
from catalog.goals import GoalNode, Rollup, goal_tree, rollups
from catalog.models import CatalogSettings, Goal, Kpi
from widgets.progress_view import goal_progress_label, progress_view
from widgets.service import KpiFacts, WidgetService
from widgets.summary import STATUS_LABELS, STATUSES

__all__ = [
    "Department",
    "Glance",
    "GoalView",
    "departments",
    "find_goal",
    "glance",
    "goals_json",
    "kpi_list",
    "program_tree",
    "slugify",
    "updated_label",
]


def slugify(name: str) -> str:
    """A department's name as it appears in ``/departments/{slug}``."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "department"


def updated_label(updated: datetime | None, today: date) -> str:
    """ "Data updated 3 days ago" (counted to the as-of day), or why there is no such date."""
    if updated is None:
        return _("Data not loaded yet")
    days = (today - updated.date()).days
    if days < 0:  # the as-of day is in the past (a demo or an archive); say what is known
        return _("Data updated %(day)s (after the as-of day)") % {"day": format_date(updated.date())}
    if days == 0:
        return _("Data updated today")
    if days == 1:
        return _("Data updated yesterday")
    return _("Data updated %(days)s days ago") % {"days": format_integer(days)}


@dataclass(frozen=True)
class Glance:
    """The program at a glance: KPIs by latest status, stale or behind, overdue actions, unattended."""

    total: int
    by_status: list[tuple[str, str, int]]  # (status, label, KPIs)
    stale: int
    behind: int
    overdue_actions: int
    unattended: int


def glance(facts: Iterable[KpiFacts]) -> Glance:
    """Count the facts (each KPI once)."""
    facts = list(facts)
    counts = Counter(f.status for f in facts)
    return Glance(
        total=len(facts),
        by_status=[(s, STATUS_LABELS[s], counts[s]) for s in STATUSES],
        stale=sum(f.freshness.stale for f in facts),
        behind=sum(f.freshness.behind for f in facts),
        overdue_actions=sum(len(f.overdue) for f in facts),
        unattended=sum(f.unattended for f in facts),
    )


@dataclass(frozen=True)
class GoalView:
    """A goal of the tree as the pages show it: the node and its rollup, with its sub-goals' views."""

    node: GoalNode
    rollup: Rollup
    children: list[GoalView]
    #: the progress rollup of its KPIs' dated goals ("" when none has one): see catalog.dated_goals
    progress_label: str = ""
    #: its own dated goal's labels (widgets.progress_view), measured by one KPI under it, or None
    dated: dict[str, Any] | None = None

    @property
    def goal(self) -> Goal:
        """The goal from ``catalog.yaml``."""
        return self.node.goal

    @property
    def level(self) -> int:
        """1 for a top goal."""
        return self.node.level

    @property
    def level_name(self) -> str:
        """What ``goal_levels`` calls this level."""
        return self.node.level_name

    @property
    def kpi_ids(self) -> tuple[str, ...]:
        """The KPIs that name this goal."""
        return self.node.kpi_ids

    @property
    def all_kpi_ids(self) -> list[str]:
        """Those and every descendant's, each once."""
        return list(self.rollup.kpi_ids)

    @property
    def status(self) -> str:
        """The rollup status."""
        return self.rollup.status

    @property
    def counts(self) -> dict[str, int]:
        """Latest status -> KPIs under the goal."""
        return self.rollup.counts


def program_tree(settings: CatalogSettings, facts: Iterable[KpiFacts]) -> list[GoalView]:
    """The goal tree over these KPIs with each goal's rollup (:mod:`catalog.goals`)."""
    facts = list(facts)
    tree = goal_tree(settings, [f.kpi for f in facts])
    found = rollups(tree, {f.kpi.id: f.status for f in facts}, settings.goal_status)
    moved = {f.kpi.id: f.progress for f in facts if f.progress is not None}
    under = {node.id: node.all_kpi_ids() for top in tree for node in top.walk()}
    progress = rollup_progress(under, moved, settings.goal_status)
    by_id = {f.kpi.id: f for f in facts}

    def view(node: GoalNode) -> GoalView:
        label = goal_progress_label(progress.get(node.id), settings.goal_status)
        dated = _own_dated_goal(node.goal, by_id)
        return GoalView(node, found[node.id], [view(child) for child in node.children], label, dated)

    return [view(node) for node in tree]


def _own_dated_goal(goal: Goal, by_id: dict[str, KpiFacts]) -> dict[str, Any] | None:
    """The labels of the goal's own dated goal and the KPI that measures it (None without one)."""
    own = goal.dated_goal
    fact = by_id.get(own.kpi) if own is not None else None
    if own is None or fact is None:
        return None
    dated = progress_view(fact.kpi, goal_progress(goal, {own.kpi: fact.series}), own.note)
    return None if dated is None else {**dated, "kpi": fact.kpi}


def find_goal(roots: list[GoalView], goal_id: str) -> tuple[GoalView, list[GoalView]]:
    """The goal with this id and its ancestors (top first); a missing one is :class:`NotFound`."""

    def search(nodes: list[GoalView], trail: list[GoalView]) -> tuple[GoalView, list[GoalView]] | None:
        for node in nodes:
            if node.goal.id == goal_id:
                return node, trail
            found = search(node.children, [*trail, node])
            if found:
                return found
        return None

    found = search(roots, [])
    if found is None:
        raise NotFound(
            _("No goal %(id)r in the catalog. The goal tree is at /api/goals.") % {"id": goal_id[:80]},
            code="goal.missing",
            data={"id": goal_id[:80]},
        )
    return found


def goals_json(roots: list[GoalView]) -> list[dict[str, Any]]:
    """The goal tree as plain JSON, each goal with its rollup and its KPIs (own and all under it)."""
    return [
        {
            "id": node.goal.id,
            "title": node.goal.title,
            "description": node.goal.description,
            "owner": node.goal.owner,
            "parent": node.goal.parent,
            "level": node.level,
            "level_name": node.level_name,
            "status": node.status,
            "status_counts": {s.value: node.counts.get(s, 0) for s in STATUSES},
            "kpis": list(node.kpi_ids),
            "all_kpis": node.all_kpi_ids,
            "children": goals_json(node.children),
        }
        for node in roots
    ]


@dataclass(frozen=True)
class Department:
    """One department's KPIs (catalog order) and their counts."""

    name: str
    slug: str
    facts: list[KpiFacts]
    glance: Glance


def departments(facts: Iterable[KpiFacts]) -> list[Department]:
    """Every department with public KPIs, by name."""
    grouped: dict[str, list[KpiFacts]] = {}
    for fact in facts:
        grouped.setdefault(fact.kpi.department, []).append(fact)
    return [Department(name, slugify(name), items, glance(items)) for name, items in sorted(grouped.items())]


def kpi_list(service: WidgetService, kpis: list[Kpi], base: str) -> dict[str, Any]:
    """The public catalog as plain JSON (``/api/kpis``): metadata, latest value and status,
    freshness, flags and links."""
    site = service.catalog.settings if service.catalog else None
    items = []
    for kpi in kpis:
        facts = service.facts(kpi)
        summary, fresh = facts.summary, facts.freshness
        latest = summary.latest
        link = f"{base}/kpi/{kpi.id}"
        items.append(
            {
                "id": kpi.id,
                "title": kpi.title,
                "department": kpi.department,
                "outcome_area": kpi.outcome_area,
                "description": kpi.description,
                "unit": kpi.unit,
                "direction": kpi.direction,
                "period": kpi.period.size,
                "chart": kpi.chart,
                "tags": kpi.tags,
                "target": kpi.target.model_dump() if kpi.target else None,
                "status": summary.status,
                "kind": kpi.kind,
                "goals": kpi.goals,
                "data_updated_at": fresh.to_json()["data_updated_at"],
                "freshness": kpi.freshness.expect if kpi.freshness else None,
                "stale": fresh.stale,
                "behind": fresh.behind,
                "overdue_actions": [a.id for a in facts.overdue],
                "unattended": facts.unattended,
                # A failed data check on the KPI's dataset (held: the last good version is shown).
                "check": _check(service, kpi.source.dataset),
                "latest": None
                if latest is None
                else {
                    "period_start": latest.period_start.isoformat(),
                    "period": latest.period,
                    "value": latest.value,
                    "value_label": latest.value_label,
                },
                "dataset": kpi.source.dataset,
                "links": {
                    "page": link,
                    "embed": f"{base}/embed/{kpi.id}",
                    "svg": f"{link}.svg",
                    "png": f"{link}.png",
                    "spec": f"{link}.vl.json",
                    "csv": f"{link}.csv",
                    "json": f"{link}.json",
                    **(
                        {"breakdown_csv": f"{link}/breakdown.csv", "breakdown_json": f"{link}/breakdown.json"}
                        if kpi.breakdown
                        else {}
                    ),
                },
            }
        )
    return {
        "title": site.title if site else "",
        "publisher": site.publisher if site else "",
        "as_of": service.today().isoformat(),
        "kpis": items,
    }


def _check(service: WidgetService, dataset_id: str) -> dict[str, Any] | None:
    """The failed data check of a dataset, for ``/api/kpis`` (None when it passed or has none)."""
    state = load_checks(service.store).get(dataset_id)
    return state_record(state) if state is not None and state.failures else None
