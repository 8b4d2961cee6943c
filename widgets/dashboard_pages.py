"""The program's pages: the dashboard (at a glance, then the goal tree), a goal, the departments.

:class:`ProgramPages` turns :class:`~widgets.service.KpiFacts` into the cards and sections the
templates lay out. Filters (:mod:`widgets.filters`) mark the cards they leave out ``hidden``, so the
pages filter without JavaScript; counts and rollups always describe the whole program.

Example:
    >>> from widgets.assets import Assets
    >>> from widgets.pages import Pages
    >>> from widgets.service import WidgetService
    >>> pages = Pages(WidgetService(store, catalog), Assets(), allowed_origins=[])
    >>> html = ProgramPages(pages).dashboard(Filters())
    >>> "At a glance" in html
    True
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from btvstat_open.errors import NotFound
from btvstat_open.i18n import _
from catalog.data_checks import load_checks
from catalog.goals import goal_tree
from catalog.models import KPI_KINDS, Kpi
from widgets.filters import STALE_CHOICES, Filters
from widgets.kpi_details import action_rows, sort_actions
from widgets.overview import (
    Department,
    departments,
    find_goal,
    glance,
    program_tree,
    slugify,
    updated_label,
)
from widgets.progress_view import progress_view
from widgets.service import KpiFacts
from widgets.summary import STATUS_LABELS, STATUS_SYMBOLS, STATUSES
from widgets.vocabulary import kind_label

if TYPE_CHECKING:
    from widgets.pages import Pages

__all__ = ["ProgramPages"]


class ProgramPages:
    """Renders the dashboard, goal and department pages through :class:`~widgets.pages.Pages`."""

    def __init__(self, pages: Pages) -> None:
        self.pages = pages
        self.service = pages.service

    def facts(self) -> list[KpiFacts]:
        """The facts of every public KPI, in catalog order."""
        return self.service.all_facts(self.service.public_kpis())

    def department_slugs(self) -> list[str]:
        """The slugs of every department with a public KPI."""
        return [d.slug for d in departments(self.facts())]

    def card(self, fact: KpiFacts, filters: Filters) -> dict[str, Any]:
        """A KPI card: value, status, target, trend, freshness and flags, and whether it is shown."""
        kpi, summary = fact.kpi, fact.summary
        latest = summary.latest
        words = [kpi.title, kpi.department, kpi.outcome_area or "", kpi.description, *kpi.tags]
        search = " ".join(words).lower()
        stale = fact.freshness.stale or fact.freshness.behind
        department = slugify(kpi.department)
        return {
            "id": kpi.id,
            "title": kpi.title,
            "value": latest.value_label if latest else "No data",
            "period": latest.period if latest else "",
            "target": fact.target_label,
            "empty_reason": fact.empty_reason or "",
            "status": summary.status,
            "status_label": summary.status_label,
            "status_symbol": summary.status_symbol,
            "change": summary.change_label,
            "sparkline": self.service.sparkline(kpi, "light"),
            "search": search,
            "department": kpi.department,
            "department_slug": department,
            "kind": kpi.kind or "",
            "updated": updated_label(fact.freshness.data_updated_at, self.service.today()),
            "stale": fact.freshness.stale,
            "behind": fact.freshness.behind,
            "stale_flag": "yes" if stale else "no",
            "overdue": len(fact.overdue),
            "unattended": fact.unattended,
            "progress": (progress_view(kpi, fact.progress) or {}).get("card", ""),
            "shown": filters.matches(
                status=summary.status, department=department, kind=kpi.kind or "", stale=stale, search=search
            ),
        }

    def _choices(self, depts: list[Department]) -> dict[str, list[tuple[str, str]]]:
        return {
            "status": [(s, STATUS_LABELS[s]) for s in STATUSES],
            "department": [(d.slug, d.name) for d in depts],
            "kind": [(k, kind_label(k)) for k in KPI_KINDS],
            "stale": [(key, _(label)) for key, label in STALE_CHOICES.items()],
        }

    def _common(self, facts: list[KpiFacts], filters: Filters, action: str) -> dict[str, Any]:
        cards = {f.kpi.id: self.card(f, filters) for f in facts}
        return {
            "cards": cards,
            "shown": {kpi_id for kpi_id, card in cards.items() if card["shown"]},
            "filters": filters,
            "choices": self._choices(departments(facts)),
            "filter_action": action,
            "symbols": STATUS_SYMBOLS,
        }

    def dashboard(self, filters: Filters) -> str:
        """At a glance, the filters, the goal tree with rollups, then KPIs under no goal."""
        facts = self.facts()
        roots = program_tree(self.service.settings, facts)
        in_tree = {kpi_id for node in roots for kpi_id in node.all_kpi_ids}
        others = [f for f in facts if f.kpi.id not in in_tree]
        groups = []
        for dept in departments(others):
            areas: dict[str, list[str]] = {}
            for fact in dept.facts:
                areas.setdefault(fact.kpi.outcome_area or "", []).append(fact.kpi.id)
            groups.append({"name": dept.name, "slug": dept.slug, "areas": sorted(areas.items())})
        return self.pages.render(
            "dashboard.html",
            glance=glance(facts),
            roots=roots,
            groups=groups,
            has_goals=bool(roots),
            **self._common(facts, filters, "/"),
        )

    def goal(self, goal_id: str) -> str:
        """A goal: where it sits, its rollup, its sub-goals and every KPI under it."""
        facts = self.service.all_facts(self.shown_on_goal(goal_id))
        node, trail = find_goal(program_tree(self.service.settings, facts), goal_id)
        under = [f for f in facts if f.kpi.id in set(node.all_kpi_ids)]
        return self.pages.render(
            "goal.html",
            node=node,
            trail=trail,
            glance=glance(under),
            levels=self.service.settings.goal_levels,
            **self._common(under, Filters(), f"/goals/{node.goal.id}"),
        )

    def shown_on_goal(self, goal_id: str) -> list[Kpi]:
        """The KPIs a goal's page shows: those under it and those measuring its (or its sub-goals')
        dated goals. Only their facts are read, so another goal's data changes none of its bytes."""
        kpis = self.service.public_kpis()
        tree = goal_tree(self.service.settings, kpis)
        found = next((node for top in tree for node in top.walk() if node.id == goal_id), None)
        if found is None:
            return kpis  # find_goal says it is missing
        wanted = set(found.all_kpi_ids())
        wanted.update(node.goal.dated_goal.kpi for node in found.walk() if node.goal.dated_goal)
        return [kpi for kpi in kpis if kpi.id in wanted]

    def departments(self) -> str:
        """Every department with its counts."""
        facts = self.facts()
        return self.pages.render("departments.html", departments=departments(facts), glance=glance(facts))

    def checks(self) -> str:
        """The data checks: every dataset with checks, what failed and what is held back."""
        catalog = self.pages.service.catalog
        rules = catalog.settings.checks if catalog else {}
        states = load_checks(self.pages.service.store)
        uses: dict[str, list[Kpi]] = {}
        for kpi in self.pages.service.public_kpis():
            uses.setdefault(kpi.source.dataset, []).append(kpi)
        rows = [(dataset, states.get(dataset), uses.get(dataset, [])) for dataset in sorted(rules)]
        rows.sort(key=lambda row: not (row[1] is not None and row[1].failures))  # failures first
        return self.pages.render("checks.html", checks=rows)

    def department(self, slug: str) -> str:
        """One department: its KPIs, its actions (overdue first) and its meetings."""
        facts = self.facts()
        found = [d for d in departments(facts) if d.slug == slug]
        if not found:
            raise NotFound(
                _("No department %(slug)r with public KPIs. The departments are listed at /departments.")
                % {"slug": slug[:80]},
                code="department.missing",
                data={"slug": slug[:80]},
            )
        dept = found[0]
        today = self.service.today()
        actions = sort_actions([row for f in dept.facts for row in action_rows(f.kpi, f.overdue)])
        catalog = self.service.catalog
        meetings = sorted(
            (m for m in (catalog.meetings.values() if catalog else []) if dept.name in m.departments),
            key=lambda m: m.date,
            reverse=True,
        )
        return self.pages.render(
            "department.html",
            department=dept,
            actions=actions,
            meetings=meetings,
            today=today,
            **self._common(dept.facts, Filters(), f"/departments/{slug}"),
        )
