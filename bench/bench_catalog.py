"""Catalog benchmarks: validate generated catalogs and measure every demo KPI.

``run(quick)`` returns one dict per measurement: ``work``, ``ours`` (median, in ``unit``),
``ours_median_s``, ``unit``, ``goal``, ``met``, ``samples`` and ``notes``. Validation is the full
check, against a store holding the demo datasets (datasets, columns and every ``where`` compiled).

Example:
    >>> rows = run(quick=True)                 # doctest: +SKIP
    >>> rows[0]["work"]                        # doctest: +SKIP
    'validate a 100-KPI catalog (with store checks)'
"""

from __future__ import annotations

import functools
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from btvstat_open.store import Store
from catalog import load_catalog, measure
from catalog.demo import DEMO_DIR, load_demo_data

__all__ = ["generate_catalog", "run"]

# Templates over the demo datasets; {i} makes every id unique.
_TEMPLATES = (
    """id: potholes-{i}
title: Pothole requests {i}
department: Public Works
outcome_area: Neighborhood Livability
source: {{dataset: kc-311-potholes, date_column: creation_date, where: "days_to_close > {i}"}}
measure: {{calculation: count}}
period: {{size: week}}
chart: bar
tags: [streets, "311"]
""",
    """id: closed-share-{i}
title: Share closed within {i} days
department: Public Works
source: {{dataset: kc-311-potholes, date_column: creation_date}}
measure:
  calculation: rate
  numerator: {{calculation: count, where: "days_to_close <= {i}"}}
  denominator: {{calculation: count}}
  as_percent: true
period: {{size: month}}
direction: higher_is_better
target: {{value: 50, tolerance: 5}}
""",
    """id: indicator-{i}
title: Indicator {i}
department: Operations
source:
  dataset: la-operating-indicators
  date_column: fiscal_year
  where: "department = 'Fire' AND amount > {i}"
measure: {{calculation: percentile, column: amount, percentile: 75}}
period: {{size: fiscal_year}}
direction: lower_is_better
target: {{value: 100, rule: proximity, tolerance: 10}}
""",
)


def generate_catalog(root: Path, kpis: int, *, goals: int = 0, dated_goals: bool = False) -> Path:
    """Write a catalog of ``kpis`` KPI files (in 10 department folders) under ``root``.

    With ``goals``, ``catalog.yaml`` gets a three-level goal tree of that many goals (a tenth at the
    top, three tenths in the middle, the rest below) and every KPI serves one goal of the lowest
    level; ``as_of`` is set so the pages are the same every day. With ``dated_goals``, every KPI
    gets a ``dated_goal`` (baseline 2019, target 2022).
    """
    root.mkdir(parents=True, exist_ok=True)
    settings = "title: Generated\npublisher: Bench\nfiscal_year_start: 7\n"
    leaves = _goal_tree(goals)
    if leaves:
        settings += "as_of: 2020-03-01\ngoal_levels: [Priority area, Goal, Objective]\ngoals:\n"
        settings += "".join(
            f"  - {{id: {gid}, title: Goal {gid}" + (f", parent: {parent}}}\n" if parent else "}\n")
            for gid, parent in _goal_tree(goals, everything=True)
        )
    (root / "catalog.yaml").write_text(settings)
    for i in range(kpis):
        folder = root / f"dept-{i % 10}"
        folder.mkdir(parents=True, exist_ok=True)
        text = _TEMPLATES[i % len(_TEMPLATES)].format(i=i)
        if leaves:
            text += f"goals: [{leaves[i % len(leaves)][0]}]\n"
        if dated_goals:
            text += (
                f"dated_goal:\n  baseline: {{date: 2019-01-31, value: {10 + i % 7}}}\n"
                f"  target: {{date: 2022-12-31, value: {40 + i % 11}}}\n"
            )
        (folder / f"kpi-{i}.yaml").write_text(text)
    return root


def _goal_tree(goals: int, *, everything: bool = False) -> list[tuple[str, str | None]]:
    """``(id, parent)`` of each goal (``everything``) or of the lowest level only."""
    if goals <= 0:
        return []
    top = max(1, goals // 10)
    middle = max(1, goals * 3 // 10)
    tree = [(f"area-{i}", None) for i in range(top)]
    tree += [(f"goal-{i}", f"area-{i % top}") for i in range(middle)]
    lowest = [(f"objective-{i}", f"goal-{i % middle}") for i in range(goals - top - middle)]
    return tree + lowest if everything else lowest


def _time(work: Callable[[], object], reps: int) -> list[float]:
    work()  # warm-up: imports, DuckDB plans
    samples = []
    for _ in range(reps):
        start = time.perf_counter()
        work()
        samples.append(time.perf_counter() - start)
    return samples


def _row(work: str, samples: list[float], goal_ms: float, notes: str) -> dict[str, Any]:
    median = statistics.median(samples)
    return {
        "work": work,
        "ours": median * 1000,
        "ours_median_s": median,
        "unit": "ms",
        "goal": f"<= {goal_ms:g} ms",
        "met": median * 1000 <= goal_ms,
        "samples": [s * 1000 for s in samples],
        "notes": notes,
    }


def run(quick: bool) -> list[dict[str, Any]]:
    """Every catalog measurement (``quick``: fewer repetitions, smaller generated catalog)."""
    reps = 3 if quick else 7
    rows = []
    with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp) / "store") as store:
        load_demo_data(store)
        sizes = [(100, 1000.0), (200 if quick else 1000, 2000.0 if quick else 5000.0)]
        for count, goal in sizes:
            root = generate_catalog(Path(tmp) / f"catalog-{count}", count)
            samples = _time(functools.partial(load_catalog, root, store=store), reps)
            rows.append(
                _row(
                    f"validate a {count:,}-KPI catalog (with store checks)",
                    samples,
                    goal,
                    "YAML with line numbers, models, rules, dataset/column checks, every where compiled",
                )
            )
        catalog = load_catalog(DEMO_DIR, store=store)

        def measure_all() -> None:
            for kpi in catalog.kpis.values():
                measure(kpi, store, catalog.settings)

        rows.append(
            _row(
                f"measure every demo KPI ({len(catalog.kpis)} series)",
                _time(measure_all, reps),
                1000.0,
                "DuckDB aggregation over the store plus period filling and status, all KPIs in turn",
            )
        )
    return rows


if __name__ == "__main__":  # pragma: no cover
    for result in run(quick=True):
        print(f"{result['work']}: {result['ours']:.1f} ms (goal {result['goal']}, met={result['met']})")
