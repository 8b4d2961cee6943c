"""A dated goal in the catalog: each mistake is reported at its file and line; the demo's dated goal
is measured on real data and checked against pandas; ``/program.json``'s records carry progress."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from catalog_files import problems, write

from catalog.dated_goals import kpi_progress
from catalog.demo import DEMO_DIR, demo_store
from catalog.loader import load_catalog
from catalog.measure import measure
from catalog.program_document import program_document

KPI = """\
id: k
title: K
department: Public Works
source: {dataset: reqs, date_column: opened}
measure: {calculation: median, column: days}
direction: lower_is_better
dated_goal:
  baseline: {date: 2020-01-01, value: 10}
"""


@pytest.mark.parametrize(
    ("extra", "line", "words"),
    [
        ("  target: {date: 2019-01-01, value: 5}\n", 7, "must come after the baseline"),
        ("  target: {date: 2021-01-01, value: 10}\n", 7, "equals the baseline"),
        (
            "  target: {date: 2021-01-01, value: 5}\n  waypoints:\n    - {date: 2022-01-01, value: 7}\n",
            7,
            "between the baseline",
        ),
        (
            "  target: {date: 2021-01-01, value: 5}\n  projection: {window: 1}\n",
            10,
            "greater than or equal to 2",
        ),
    ],
)
def test_a_wrong_dated_goal_is_reported_at_its_line(
    tmp_path: Path, extra: str, line: int, words: str
) -> None:
    root = write(tmp_path / "c", {"catalog.yaml": "title: T\n", "k.yaml": KPI + extra})
    [(where, at, message)] = problems(root)
    assert where.endswith("k.yaml") and at == line and words in message, (where, at, message)


def walk(goals: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for goal in goals:
        yield goal
        yield from walk(goal["children"])


def test_the_demo_dated_goal_matches_pandas() -> None:
    catalog = load_catalog(DEMO_DIR)
    kpi = catalog.kpis["water-use-monthly"]
    assert kpi.dated_goal is not None
    with demo_store() as store:
        series = measure(kpi, store, catalog.settings, today=date(2020, 3, 2))
        frame = series.to_pandas().dropna(subset=["value"])
        found = kpi_progress(kpi, series)
        doc = program_document(catalog, store, today=date(2020, 3, 2))
    assert found is not None
    goal = kpi.dated_goal
    b, t = goal.baseline, goal.target
    last = frame.iloc[-1]
    day0 = pd.Timestamp(b.date)
    path = np.interp(
        (pd.Timestamp(last["period_end"]) - day0).days, [0, (t.date - b.date).days], [b.value, t.value]
    )
    assert found.progress == pytest.approx((last["value"] - b.value) / (t.value - b.value))
    assert found.expected_value == pytest.approx(path)
    record = next(r for r in doc["kpis"] if r["id"] == kpi.id)
    assert record["progress"] == found.record()
    assert record["progress"]["pace"] == "ahead"
    goal_record = next(g for g in walk(doc["goals"]) if g["id"] == "sustainable-city")
    rolled = goal_record["progress"]
    ids = [k for k in goal_record["all_kpis"] if catalog.kpis[k].dated_goal is not None]
    mine = [r["progress"]["progress"] for r in doc["kpis"] if r["id"] in ids]
    assert len(mine) == 2  # the water and the trees KPIs
    assert rolled["kpis"] == len(mine) and rolled["progress"] == pytest.approx(np.mean(np.minimum(mine, 1)))


def test_a_goal_dated_goal_measured_by_a_kpi_not_under_it_is_reported_at_its_line(tmp_path: Path) -> None:
    settings = (
        "goals:\n"
        "  - {id: streets, title: Streets}\n"
        "  - id: water\n"
        "    title: Water\n"
        "    dated_goal:\n"
        "      kpi: k\n"
        "      baseline: {date: 2020-01-01, value: 10}\n"
        "      target: {date: 2021-01-01, value: 5}\n"
    )
    kpi = KPI.replace("dated_goal:\n  baseline: {date: 2020-01-01, value: 10}\n", "goals: [streets]\n")
    root = write(tmp_path / "c", {"catalog.yaml": settings, "k.yaml": kpi})
    [(where, at, message)] = problems(root)
    assert where.endswith("catalog.yaml") and at == 6, (where, at, message)
    assert "goal 'water' measures its dated goal by KPI 'k', which is not under it" in message
    (root / "k.yaml").write_text(kpi.replace("goals: [streets]", "goals: [water]"))
    assert load_catalog(root).settings.goals[1].dated_goal is not None  # now under it: accepted


def test_the_demo_goal_dated_goal_in_program_json_matches_pandas() -> None:
    catalog = load_catalog(DEMO_DIR)
    goal = next(g for g in catalog.settings.goals if g.id == "conserve-water-power")
    assert goal.dated_goal is not None
    kpi = catalog.kpis[goal.dated_goal.kpi]
    with demo_store() as store:
        frame = (
            measure(kpi, store, catalog.settings, today=date(2020, 3, 2)).to_pandas().dropna(subset=["value"])
        )
        doc = program_document(catalog, store, today=date(2020, 3, 2))
    own = next(g for g in walk(doc["goals"]) if g["id"] == goal.id)["progress"]["dated_goal"]
    b, t = goal.dated_goal.baseline, goal.dated_goal.target
    last = frame.iloc[-1]
    assert own["kpi"] == kpi.id and own["latest_value"] == last["value"]
    assert own["progress"] == pytest.approx((last["value"] - b.value) / (t.value - b.value))
    x = (pd.Timestamp(last["period_end"]) - pd.Timestamp(b.date)).days
    assert own["expected_value"] == pytest.approx(
        np.interp(x, [0, (t.date - b.date).days], [b.value, t.value])
    )
