"""The whole program as one vendor-neutral JSON document (``catalog export --format program``).

It has the settings, the goal tree with rollups, and every public KPI with its target history,
notes, actions and latest status, computed as of ``today``.

Example:
    >>> doc = program_document(catalog, store, today=date(2020, 3, 1))  # doctest: +SKIP
    >>> sorted(doc)  # doctest: +SKIP
    ['as_of', 'goals', 'kpis', 'settings']
"""

from __future__ import annotations

from datetime import date
from typing import Any

from btvstat_open.store import Store
from catalog.actions import is_overdue, is_unattended
from catalog.goals import GoalNode, goal_tree
from catalog.measure import measure
from catalog.models import Catalog

__all__ = ["program_document"]


def _goals(nodes: list[GoalNode]) -> list[dict[str, Any]]:
    return [
        {
            **node.goal.model_dump(mode="json"),
            "level": node.level,
            "level_name": node.level_name,
            "status": node.status,
            "kpis": node.all_kpi_ids,
            "children": _goals(node.children),
        }
        for node in nodes
    ]


def program_document(catalog: Catalog, store: Store, *, today: date) -> dict[str, Any]:
    """The program document as of ``today`` (public KPIs only)."""
    kpis: list[dict[str, Any]] = []
    latest: dict[str, str] = {}
    for kpi in catalog.kpis.values():
        if not kpi.public:
            continue
        series = [
            r
            for r in measure(kpi, store, catalog.settings, today=today).to_pylist()
            if r["value"] is not None
        ]
        status = series[-1]["status"] if series else "no_data"
        latest[kpi.id] = status
        kpis.append(
            {
                "id": kpi.id,
                "title": kpi.title,
                "department": kpi.department,
                "kind": kpi.kind,
                "goals": kpi.goals,
                "target": kpi.target.model_dump(mode="json", by_alias=True) if kpi.target else None,
                "notes": [n.model_dump(mode="json") for n in kpi.notes],
                "actions": [
                    dict(a.model_dump(mode="json"), overdue=is_overdue(a, today)) for a in kpi.actions
                ],
                "unattended": is_unattended(kpi, [r["status"] for r in series]),
                "latest": None
                if not series
                else {"period_start": series[-1]["period_start"].isoformat(), "value": series[-1]["value"],
                      "target": series[-1]["target"], "status": status},
            }
        )  # fmt: skip
    settings = catalog.settings.model_dump(mode="json", exclude={"goals", "portals"})
    roots = goal_tree(catalog.settings, [catalog.kpis[k["id"]] for k in kpis], latest)
    return {"as_of": today.isoformat(), "settings": settings, "goals": _goals(roots), "kpis": kpis}
