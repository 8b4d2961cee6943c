"""The demo program's goal rollups, changes, overdue actions and unattended KPIs, against pandas.

Expected latest statuses come from the independent pandas series of tests/demo_expected.py (the
original Kansas City and Los Angeles CSV files); the goal tree is read from the raw YAML with
PyYAML and rolled up here with pandas ``value_counts``; nothing goes through catalog.goals.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from demo_expected import EXPECTED, expected_status, targets_in_force
from demo_store import demo_store

from btvstat_open.store import Store
from catalog import load_catalog, measure
from catalog.changes import latest_change
from catalog.demo import DEMO_DIR
from catalog.goals import goal_tree, rollup, rollups
from catalog.models import CatalogSettings, Goal, Kpi
from catalog.program_document import program_document

AS_OF = date(2020, 3, 2)
WORSE_FIRST = ["off_track", "near_target", "on_track"]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    with demo_store(tmp_path_factory.mktemp("program-store")) as s:
        yield s


def raw_yaml() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    settings = yaml.safe_load((DEMO_DIR / "catalog.yaml").read_text())
    kpis = [yaml.safe_load(p.read_text()) for p in sorted(DEMO_DIR.glob("*/*.yaml"))]
    return settings, kpis


def expected_latest() -> dict[str, str]:
    """Each demo KPI's status in its latest period with a value, from the pandas series."""
    catalog = load_catalog(DEMO_DIR)
    out = {}
    for kpi_id, series in EXPECTED.items():
        kpi = catalog.get(kpi_id)
        last = series.dropna().index[-1]
        target = targets_in_force(kpi, [last]).iloc[0]
        rule = kpi.target.rule if kpi.target else "above_below"
        out[kpi_id] = expected_status(series[last], target["value"], target["tolerance"], rule, kpi.direction)
    return out


def expected_rollups(rule: str) -> dict[str, tuple[str, dict[str, int]]]:
    settings, kpis = raw_yaml()
    children: dict[str | None, list[str]] = {}
    for goal in settings["goals"]:
        children.setdefault(goal.get("parent"), []).append(goal["id"])

    def below(goal_id: str) -> set[str]:
        found = {goal_id}
        for child in children.get(goal_id, []):
            found |= below(child)
        return found

    latest = expected_latest()
    out = {}
    for goal in settings["goals"]:
        ids = below(goal["id"])
        under = sorted({k["id"] for k in kpis if ids & set(k.get("goals", []))})
        statuses = pd.Series([latest[k] for k in under], dtype=object)
        judged = statuses[statuses.isin(WORSE_FIRST)].value_counts()
        if judged.empty:
            status = "no_target"
        elif rule == "worst":
            status = next(s for s in WORSE_FIRST if s in judged.index)
        else:
            status = next(s for s in WORSE_FIRST if judged.get(s, 0) == judged.max())
        out[goal["id"]] = (status, statuses.value_counts().to_dict())
    return out


def flatten(goals: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    out = {}
    for goal in goals:
        out[goal["id"]] = goal
        out.update(flatten(goal["children"]))
    return out


@pytest.mark.parametrize("rule", ["majority", "worst"])
def test_demo_rollups_match_pandas(store: Store, rule: str) -> None:
    catalog = load_catalog(DEMO_DIR)
    settings = catalog.settings.model_copy(update={"goal_status": rule})
    catalog = type(catalog)(catalog.root, settings, catalog.kpis, catalog.files, catalog.version)
    doc = program_document(catalog, store, today=AS_OF)
    got = {gid: (g["rollup"]["status"], g["rollup"]["counts"]) for gid, g in flatten(doc["goals"]).items()}
    assert got == expected_rollups(rule)
    # The demo's tree has three levels, named as catalog.yaml says, and every KPI sits in it.
    levels = {(g["level"], g["level_name"]) for g in flatten(doc["goals"]).values()}
    assert levels == {(1, "Council priority"), (2, "Goal"), (3, "Objective")}
    placed = {k for g in flatten(doc["goals"]).values() for k in g["kpis"]}
    assert placed == set(EXPECTED)


def test_the_worst_and_majority_rules_differ_on_the_demo() -> None:
    """Not a vacuous comparison: some demo goal rolls up differently under the two rules."""
    majority, worst = expected_rollups("majority"), expected_rollups("worst")
    assert any(majority[g][0] != worst[g][0] for g in majority)


def test_latest_statuses_and_summary_match_pandas(store: Store) -> None:
    doc = program_document(load_catalog(DEMO_DIR), store, today=AS_OF)
    latest = expected_latest()
    assert {k["id"]: k["latest"]["status"] for k in doc["kpis"]} == latest
    assert doc["summary"]["status_counts"] == pd.Series(latest).value_counts().to_dict()
    assert doc["summary"]["kpis"] == len(latest)


def test_changes_from_previous_period_and_a_year_earlier_match_pandas(store: Store) -> None:
    catalog = load_catalog(DEMO_DIR)
    for kpi_id, year_back in (
        ("water-use-monthly", pd.DateOffset(years=1)),
        ("airport-passengers", pd.DateOffset(years=1)),
        ("library-visitors-quarterly", pd.DateOffset(years=1)),
    ):
        kpi = catalog.get(kpi_id)
        got = latest_change(kpi, measure(kpi, store, catalog.settings, today=AS_OF))
        want = EXPECTED[kpi_id].dropna()
        last = want.index[-1]
        assert got is not None and got.period_start == last and got.value == pytest.approx(want.iloc[-1])
        assert got.previous is not None
        assert got.previous.value == pytest.approx(want.iloc[-2])
        assert got.previous.change == pytest.approx(want.iloc[-1] - want.iloc[-2])
        earlier = (pd.Timestamp(last) - year_back).date()
        assert got.year_ago is not None and got.year_ago.period_start == earlier
        assert got.year_ago.value == pytest.approx(want[earlier])
        assert got.year_ago.percent == pytest.approx(
            (want.iloc[-1] - want[earlier]) / abs(want[earlier]) * 100
        )
        up = got.year_ago.change is not None and got.year_ago.change > 0
        assert got.year_ago.better == (up == (kpi.direction == "higher_is_better"))


def test_a_weekly_series_of_two_months_has_no_year_earlier(store: Store) -> None:
    catalog = load_catalog(DEMO_DIR)
    kpi = catalog.get("pothole-requests-weekly")
    got = latest_change(kpi, measure(kpi, store, catalog.settings, today=AS_OF))
    want = EXPECTED["pothole-requests-weekly"]
    assert got is not None and got.year_ago is None
    assert got.previous is not None and got.previous.change == want.iloc[-1] - want.iloc[-2]
    assert got.previous.better is None  # a demand count has no direction


def test_overdue_and_unattended_in_the_demo_match_pandas(store: Store) -> None:
    """As of 2020-03-02: one overdue action (due 2020-02-28, still open); the share closed within
    7 days was below 40% (off track) in both latest weeks and its only actions are closed."""
    doc = program_document(load_catalog(DEMO_DIR), store, today=AS_OF)
    overdue = [(k["id"], a["id"]) for k in doc["kpis"] for a in k["actions"] if a["overdue"]]
    _, kpis = raw_yaml()
    want = [
        (k["id"], a["id"])
        for k in kpis
        for a in k.get("actions", [])
        if a.get("status", "open") == "open" and a.get("due") and a["due"] < AS_OF
    ]
    assert overdue == want == [("pothole-days-to-close", "second-crew")]
    rate = EXPECTED["pothole-closed-within-7-days"]
    assert (rate.iloc[-2:] < 40).all()
    assert [k["id"] for k in doc["kpis"] if k["unattended"]] == ["pothole-closed-within-7-days"]
    states = {a["id"]: a["state"] for k in doc["kpis"] for a in k["actions"]}
    assert states["overflow-contractor"] == "dropped" and states["district-6-pilot"] == "done"
    # As of 2020-01-25 the pilot was still open, so the KPI was attended to then.
    early = program_document(load_catalog(DEMO_DIR), store, today=date(2020, 1, 25))
    pilot = next(k for k in early["kpis"] if k["id"] == "pothole-closed-within-7-days")
    assert [a["state"] for a in pilot["actions"]] == ["open", "open"] and not pilot["unattended"]


def test_each_kpi_counts_once_under_a_goal_even_when_listed_at_two_levels() -> None:
    settings = CatalogSettings(
        goals=[Goal(id="area", title="Area"), Goal(id="goal", title="Goal", parent="area")]
    )

    def kpi(kpi_id: str, goals: list[str]) -> Kpi:
        return Kpi.model_validate(
            {
                "id": kpi_id,
                "title": kpi_id,
                "department": "D",
                "goals": goals,
                "source": {"dataset": "d", "date_column": "day"},
                "measure": {"calculation": "count"},
            }
        )

    tree = goal_tree(settings, [kpi("a", ["area", "goal"]), kpi("b", ["goal"]), kpi("c", ["goal"])])
    found = rollups(tree, {"a": "off_track", "b": "on_track", "c": "off_track"})
    assert found["area"].kpi_ids == ("a", "b", "c") and found["area"].counts == {
        "off_track": 2,
        "on_track": 1,
    }
    assert found["area"].status == "off_track"
    assert rollup(["on_track", "near_target"], "majority") == "near_target"  # a tie goes to the worse
    assert rollup([], "worst") == "no_target"
    # A private KPI missing from the statuses is left out of the rollup.
    assert rollups(tree, {"b": "on_track"})["area"].kpi_ids == ("b",)


def test_program_json_has_target_histories_notes_and_future_targets(store: Store) -> None:
    doc = program_document(load_catalog(DEMO_DIR), store, today=AS_OF)
    kpi = next(k for k in doc["kpis"] if k["id"] == "pothole-days-to-close")
    history = kpi["target"]["history"]
    assert [(h["from"], h["value"], h["in_force"], h["future"]) for h in history] == [
        ("2019-07-01", 10.0, False, False),
        ("2020-02-01", 7.0, True, False),
        ("2020-07-01", 5.0, False, True),
    ]
    assert kpi["future_targets"] == ["2020-07-01"]
    assert kpi["notes"][0]["date"] == "2020-01-27" and "1,168" in kpi["notes"][0]["text"]
    assert kpi["breakdown"] == {"column": "council_district", "label": "Council district", "min_count": 10}
    assert doc["settings"]["goal_levels"] == ["Council priority", "Goal", "Objective"]
    assert Path(DEMO_DIR / "catalog.yaml").read_text().count("as_of: 2020-03-02") == 1


def test_program_json_freshness_behind_matches_pandas(store: Store) -> None:
    """Behind: the latest period with a value ended more than one ``expect`` before 2020-03-02.
    The Los Angeles extracts stop in 2013-2014, so their KPIs with an expectation are behind."""
    doc = program_document(load_catalog(DEMO_DIR), store, today=AS_OF)
    offsets = {
        "weekly": pd.DateOffset(weeks=1),
        "monthly": pd.DateOffset(months=1),
        "yearly": pd.DateOffset(years=1),
    }
    _, kpis = raw_yaml()
    want = {}
    for raw in kpis:
        if "freshness" not in raw:
            continue
        series = EXPECTED[raw["id"]].dropna()
        start = pd.Timestamp(series.index[-1])
        size = raw.get("period", {}).get("size", "month")
        step = {
            "week": pd.DateOffset(weeks=1),
            "month": pd.DateOffset(months=1),
            "quarter": pd.DateOffset(months=3),
        }
        end = start + step.get(size, pd.DateOffset(years=1)) - pd.Timedelta(days=1)
        want[raw["id"]] = end < pd.Timestamp(AS_OF) - offsets[raw["freshness"]["expect"]]
    got = {k["id"]: k["behind"] for k in doc["kpis"] if k["freshness"]}
    assert got == want
    assert want["airport-passengers"] and not want["pothole-days-to-close"]
    assert doc["summary"]["behind"] == sum(want.values())


def test_a_catalog_without_goals_exports_its_kpis_and_an_empty_tree(store: Store, tmp_path: Path) -> None:
    """outcome_area keeps working: a catalog with no goals: still loads, measures and exports."""
    text = (DEMO_DIR / "airports" / "airport-passengers.yaml").read_text()
    (tmp_path / "k.yaml").write_text(text.replace("goals: [grow-air-travel]\n", ""))
    (tmp_path / "catalog.yaml").write_text("locales: [en, es, fr]\n")  # the demo KPI's text is in three
    catalog = load_catalog(tmp_path, store)
    doc = program_document(catalog, store, today=AS_OF)
    assert doc["goals"] == [] and [k["id"] for k in doc["kpis"]] == ["airport-passengers"]
    [kpi] = doc["kpis"]
    assert kpi["outcome_area"] == "Economic Vitality" and kpi["goals"] == []
    assert kpi["latest"]["value"] == pytest.approx(EXPECTED["airport-passengers"].iloc[-1])
