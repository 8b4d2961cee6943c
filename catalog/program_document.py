"""The whole performance program as one JSON document (``catalog export --format program``,
``/program.json``): a vendor-neutral copy a city can archive or move to another tool.

The document, computed as of ``today``::

    {"format": "btvstat-open-program", "version": 1, "as_of": "2020-03-02",
     "settings": {title, publisher, description, fiscal_year_start, goal_levels, goal_status},
     "summary": {kpis, status_counts, overdue_actions, unattended, stale, behind},
     "goals": [{id, title, description, owner, parent, level, level_name, kpis, all_kpis,
                rollup: {status, counts}, children: [...]}],
     "kpis": [{id, title, department, outcome_area, kind, goals, description, methodology, unit,
               decimals, direction, period, target: {rule, tolerance, history: [...]},
               future_targets, notes, actions: [{..., state, overdue}], breakdown, peers,
               freshness: {expect}, data_updated_at, latest_period_end, stale, behind,
               latest: {period_start, value, target, status, previous, year_ago}, unattended,
               progress: {baseline, target, path, latest_date, latest_value, progress,
                          expected_value, expected_progress, pace, projection}}],
     "stories": [{id, title, date, author, summary, path, kpis, goals}]}

Goals carry ``progress: {progress, pace, counts, kpis}`` too when KPIs under them have dated goals,
and ``progress.dated_goal`` (the KPI record's ``progress`` with ``kpi``) when the goal has its own.

Only public KPIs are in it (it is published at ``/program.json``). Freshness fields
(``data_updated_at``, ``latest_period_end``, ``stale``, ``behind``) come from :mod:`catalog.freshness`;
:func:`freshness_fields` is the one place that asks it.

Example:
    >>> from catalog.demo import DEMO_DIR, demo_store
    >>> from catalog.loader import load_catalog
    >>> catalog = load_catalog(DEMO_DIR)
    >>> with demo_store() as store:
    ...     doc = program_document(catalog, store, today=date(2020, 3, 2))
    >>> [(g["id"], g["level_name"], g["rollup"]["status"]) for g in doc["goals"]][:2]
    [('infrastructure', 'Council priority', 'on_track'), ('public-safety', 'Council priority', 'near_target')]
    >>> doc["summary"]["overdue_actions"], doc["summary"]["unattended"]
    (1, 1)
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

import pyarrow as pa

from btvstat_open.store import Store
from catalog.actions import is_overdue, is_unattended, state_on
from catalog.asof import history_note
from catalog.changes import latest_change
from catalog.dated_goals import goal_progress, kpi_progress, rollup_progress
from catalog.freshness import freshness
from catalog.goals import GoalNode, Rollup, goal_tree, rollups
from catalog.measure import measure
from catalog.models import Catalog, Kpi
from catalog.story_feed import story_records
from catalog.targets import future_targets, history_records

__all__ = ["FORMAT", "freshness_fields", "goal_records", "kpi_record", "program_document"]

FORMAT = "btvstat-open-program"
VERSION = 1


def program_document(
    catalog: Catalog, store: Store, *, today: date, series: dict[str, pa.Table] | None = None
) -> dict[str, Any]:
    """The program document (see the module docstring) of the catalog's public KPIs as of ``today``.

    ``series`` may hold measure series already computed (by KPI id, e.g. the server's cache);
    the others are measured here. A KPI whose dataset is not in the store has ``latest: null``.
    """
    kpis = [k for k in catalog.kpis.values() if k.public]
    records = []
    found = {}
    tables: dict[str, pa.Table | None] = {}
    for kpi in kpis:
        table = (series or {}).get(kpi.id)
        if table is None and store.exists(kpi.source.dataset):
            table = measure(kpi, store, catalog.settings, today=today)
        tables[kpi.id] = table
        records.append(kpi_record(kpi, table, today, store=store))
        if (moved := kpi_progress(kpi, table)) is not None:
            found[kpi.id] = moved
    latest = {r["id"]: (r["latest"] or {}).get("status", "no_data") for r in records}
    tree = goal_tree(catalog.settings, kpis)
    s = catalog.settings
    under = {node.id: node.all_kpi_ids() for top in tree for node in top.walk()}
    progress = rollup_progress(under, found, s.goal_status)
    for goal in s.goals:  # a goal's own dated goal sits beside its rollup
        if goal.dated_goal is not None and (own := goal_progress(goal, tables)) is not None:
            progress.setdefault(goal.id, {})["dated_goal"] = {"kpi": goal.dated_goal.kpi, **own.record()}
    return {
        "format": FORMAT,
        "version": VERSION,
        "as_of": today.isoformat(),
        # Past days read the data as known then; this says so, and from when history runs.
        "data_as_known": history_note(store, (k.source.dataset for k in kpis), today),
        "settings": {
            "title": s.title,
            "publisher": s.publisher,
            "description": s.description,
            "fiscal_year_start": s.fiscal_year_start,
            "goal_levels": list(s.goal_levels),
            "goal_status": s.goal_status,
        },
        "summary": {
            "kpis": len(records),
            "status_counts": dict(Counter(latest.values())),
            "overdue_actions": sum(a["overdue"] for r in records for a in r["actions"]),
            "unattended": sum(bool(r["unattended"]) for r in records),
            "stale": sum(bool(r.get("stale")) for r in records),
            "behind": sum(bool(r.get("behind")) for r in records),
        },
        "goals": goal_records(tree, rollups(tree, latest, s.goal_status), progress),
        "kpis": records,
        "stories": story_records(catalog, today),  # published by today (catalog.story_feed)
    }


def goal_records(
    tree: list[GoalNode], found: dict[str, Rollup], progress: dict[str, dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """The goal tree as nested JSON-ready records with each goal's rollup and, where its KPIs have
    dated goals, its progress rollup (:func:`catalog.dated_goals.rollup_progress`; else ``null``).

    Example:
        >>> from catalog.models import Goal
        >>> node = GoalNode(Goal(id="a", title="A"), 1, "Area", kpi_ids=("k",))
        >>> [r["rollup"] for r in goal_records([node], rollups([node], {"k": "on_track"}))]
        [{'status': 'on_track', 'counts': {'on_track': 1}}]
    """
    out = []
    for node in tree:
        g = node.goal
        rolled = found.get(node.id, Rollup("no_target"))
        out.append(
            {
                "id": g.id,
                "title": g.title,
                "description": g.description,
                "owner": g.owner,
                "parent": g.parent,
                "level": node.level,
                "level_name": node.level_name,
                "kpis": list(node.kpi_ids),
                "all_kpis": node.all_kpi_ids(),
                "rollup": {"status": rolled.status, "counts": rolled.counts},
                "progress": (progress or {}).get(node.id),
                "children": goal_records(list(node.children), found, progress),
            }
        )
    return out


def kpi_record(
    kpi: Kpi, series: pa.Table | None, today: date, *, store: Store | None = None
) -> dict[str, Any]:
    """One KPI of the program document: its definition, targets, notes, actions, latest period and
    progress toward its dated goal (``null`` without one; :mod:`catalog.dated_goals`).

    Example:
        >>> kpi_record(kpi, series, date(2020, 3, 2))["latest"]["status"]
        'on_track'
    """
    latest = latest_change(kpi, series) if series is not None else None
    target = kpi.target
    record: dict[str, Any] = {
        "id": kpi.id,
        "title": kpi.title,
        "department": kpi.department,
        "outcome_area": kpi.outcome_area,
        "kind": kpi.kind,
        "goals": list(kpi.goals),
        "description": kpi.description,
        "methodology": kpi.methodology,
        "unit": kpi.unit,
        "decimals": kpi.decimals,
        "direction": kpi.direction,
        "period": {"size": kpi.period.size},
        "target": None
        if target is None
        else {"rule": target.rule, "tolerance": target.tolerance, "history": history_records(target, today)},
        "future_targets": [e.start.isoformat() for e in future_targets(target, today)],
        "notes": [{"date": n.date.isoformat(), "text": n.text} for n in kpi.notes],
        "actions": [_action(a, today) for a in kpi.actions],
        "breakdown": kpi.breakdown.model_dump() if kpi.breakdown else None,
        # the peers' definitions (catalog.peers computes the comparison; /kpi/{id}/peers.json serves it)
        "peers": kpi.peers.model_dump(mode="json", exclude_none=True) if kpi.peers else None,
        "latest": latest.record() if latest else None,
        "progress": None if (moved := kpi_progress(kpi, series)) is None else moved.record(),
        "unattended": is_unattended(kpi, series, today) if series is not None else False,
    }
    record.update(freshness_fields(kpi, store, today, series))
    return record


def _action(action: Any, today: date) -> dict[str, Any]:
    return {
        "id": action.id,
        "title": action.title,
        "owner": action.owner,
        "opened": action.opened.isoformat(),
        "due": action.due.isoformat() if action.due else None,
        "status": action.status,
        "closed": action.closed.isoformat() if action.closed else None,
        "state": state_on(action, today),
        "overdue": is_overdue(action, today),
    }


def freshness_fields(
    kpi: Kpi, store: Store | None, today: date, series: pa.Table | None = None
) -> dict[str, Any]:
    """``freshness`` (the expectation) and, with the store and the series at hand,
    ``data_updated_at``, ``latest_period_end``, ``stale`` and ``behind`` (:mod:`catalog.freshness`).

    Example:
        >>> freshness_fields(kpi, None, date(2020, 3, 2))["freshness"]
        {'expect': 'weekly'}
    """
    fields: dict[str, Any] = {"freshness": kpi.freshness.model_dump() if kpi.freshness else None}
    if store is not None and series is not None:
        report = freshness(kpi, store, series, today=today).to_json()
        report.pop("expect")  # already under "freshness"
        fields.update(report)
    return fields
