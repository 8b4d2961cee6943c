"""Progress toward dated goals, checked against pandas and numpy on real long series and the demo.

The series are vega-datasets' us-employment (monthly, 2006-2015) and seattle-weather (daily,
2012-2015), loaded through the loader and measured by the measure engine. Every expected number is
computed here from the CSV file with pandas (monthly values by ``resample``, the path by
``numpy.interp`` over day numbers, the projection by ``numpy.linalg.lstsq`` with its standard error
from the residuals), never through :mod:`catalog.dated_goals`.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any
from xml.etree import ElementTree

import jsonschema
import numpy as np
import pandas as pd
import pytest
from altair.vegalite.v6.schema.core import load_schema
from hypothesis import given, settings
from hypothesis import strategies as st
from vega_datasets import local_data

from btvstat_open.load import load_file
from btvstat_open.store import Store
from catalog.dated_goals import kpi_path, kpi_progress, progress, project, rollup_progress, target_points
from catalog.measure import measure
from catalog.models import CatalogSettings, DatedGoal, Kpi
from widgets.charts import chart_spec
from widgets.images import image_svg
from widgets.plot_spec import plot_spec
from widgets.render import render_svg
from widgets.summary import rows

TODAY = date(2030, 1, 1)
JULY = CatalogSettings(fiscal_year_start=7)
VEGA_LITE = jsonschema.Draft7Validator(load_schema())
BASE = {"id": "b", "title": "B", "department": "D", "source": {"dataset": "d", "date_column": "c"},
        "measure": {"calculation": "count"}}  # fmt: skip


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    with Store(tmp_path_factory.mktemp("dated-goals")) as s:
        load_file(s, local_data.seattle_weather.filepath, "seattle-weather")
        load_file(s, local_data.us_employment.filepath, "us-employment")
        yield s


def monthly(dataset: str, column: str, how: str) -> pd.Series:
    """The month-end series of ``column`` computed with pandas (``how`` = sum or mean)."""
    if dataset == "us-employment":
        df = pd.read_csv(local_data.us_employment.filepath, dtype={"month": str})
        df["day"] = pd.to_datetime(df["month"], format="%Y-%m-%d")
    else:
        df = pd.read_csv(local_data.seattle_weather.filepath, dtype={"date": str})
        df["day"] = pd.to_datetime(df["date"], format="%Y/%m/%d")
    return getattr(df.set_index("day")[column].resample("ME"), how)()


def goal_kpi(dataset: str, column: str, calc: str, goal: dict[str, Any], kpi_id: str) -> Kpi:
    return Kpi.model_validate(
        {
            "id": kpi_id.replace("_", "-"),
            "title": kpi_id,
            "department": "Research",
            "source": {
                "dataset": dataset,
                "date_column": "date" if dataset == "seattle-weather" else "month",
            },
            "measure": {"calculation": calc, "column": column},
            "period": {"size": "month"},
            "dated_goal": goal,
        }
    )


def expected(series: pd.Series, goal: dict[str, Any]) -> dict[str, Any]:
    """Progress, path value, pace and the least-squares projection, computed with pandas and numpy."""
    b, t = goal["baseline"], goal["target"]
    corners = [b, *goal.get("waypoints", []), t]
    day0 = pd.Timestamp(b["date"])
    xs = [(pd.Timestamp(c["date"]) - day0).days for c in corners]
    ys = [c["value"] for c in corners]
    latest_day, latest = series.index[-1], float(series.iloc[-1])
    path = float(np.interp((latest_day - day0).days, xs, ys))
    done = (latest - b["value"]) / (t["value"] - b["value"])
    due = (path - b["value"]) / (t["value"] - b["value"])
    pace = "reached" if done >= 1 else "ahead" if done > due else "behind" if done < due else "on_path"
    window = series[series.index >= day0].iloc[-goal.get("projection", {}).get("window", 12) :]
    x = np.array([(d - day0).days for d in window.index], dtype=float)
    design = np.vstack([x, np.ones_like(x)]).T
    (slope, intercept), residual, *_ = np.linalg.lstsq(design, window.to_numpy(dtype=float), rcond=None)
    se = float(np.sqrt(residual[0] / (len(x) - 2) / ((x - x.mean()) ** 2).sum()))
    projectable = abs(slope) > 2 * se and slope * (t["value"] - b["value"]) > 0
    crossing = (t["value"] - intercept) / slope
    when = (day0 + pd.Timedelta(days=round(crossing))).date() if projectable else None
    return {"done": done, "path": path, "due": due, "pace": pace, "when": when, "slope": slope, "se": se}


EMPLOYMENT_GOAL = {  # jobs back above the 2008 peak: from the February 2010 trough to 140,000 by 2014
    "baseline": {"date": "2010-02-28", "value": 129_000},
    "target": {"date": "2014-12-31", "value": 140_000},
}
CONSTRUCTION_GOAL = {  # falling: fewer construction jobs by 2016, with a waypoint (a falling target)
    "baseline": {"date": "2006-12-31", "value": 7_700},
    "target": {"date": "2016-12-31", "value": 5_000},
    "waypoints": [{"date": "2010-12-31", "value": 6_500}],
    "projection": {"window": 24},
}
RAIN_GOAL = {  # seattle's monthly precipitation: seasonal, so too noisy for a projection
    "baseline": {"date": "2012-01-31", "value": 170},
    "target": {"date": "2016-12-31", "value": 80},
}
PRIVATE_GOAL = {
    "baseline": {"date": "2010-02-28", "value": 107_250},
    "target": {"date": "2017-12-31", "value": 125_000},
}
GOVERNMENT_GOAL = {
    "baseline": {"date": "2010-02-28", "value": 22_476},
    "target": {"date": "2018-12-31", "value": 21_500},
}
HEAT_GOAL = {"baseline": {"date": "2012-01-31", "value": 7.05}, "target": {"date": "2016-12-31", "value": 9}}
CASES = [
    ("us-employment", "nonfarm", "sum", "sum", EMPLOYMENT_GOAL),
    ("us-employment", "construction", "sum", "sum", CONSTRUCTION_GOAL),
    ("us-employment", "private", "sum", "sum", PRIVATE_GOAL),
    ("us-employment", "government", "sum", "sum", GOVERNMENT_GOAL),
    ("seattle-weather", "precipitation", "sum", "sum", RAIN_GOAL),
    ("seattle-weather", "temp_max", "average", "mean", HEAT_GOAL),
]


@pytest.mark.parametrize(("dataset", "column", "calc", "how", "goal"), CASES)
def test_progress_path_pace_and_projection_match_pandas_and_numpy(
    store: Store, dataset: str, column: str, calc: str, how: str, goal: dict[str, Any]
) -> None:
    kpi = goal_kpi(dataset, column, calc, goal, f"{dataset}-{column}")
    found = kpi_progress(kpi, measure(kpi, store, JULY, today=TODAY))
    assert found is not None
    want = expected(monthly(dataset, column, how), goal)
    assert found.latest_date == date(2015, 12, 31)
    assert found.progress == pytest.approx(want["done"], rel=1e-12)
    assert found.expected_value == pytest.approx(want["path"], rel=1e-12)
    assert found.expected_progress == pytest.approx(want["due"], rel=1e-9, abs=1e-12)
    assert found.pace == want["pace"]
    projection = found.projection
    if want["done"] >= 1:
        assert projection.status == "reached"
    elif want["when"] is None:
        assert projection.status == "not_projectable" and projection.reason
        noisy = abs(want["slope"]) <= 2 * want["se"]
        assert projection.reason.startswith("too noisy") == noisy, projection.reason
    else:
        assert projection.status == "projected"
        assert projection.date is not None and abs((projection.date - want["when"]).days) <= 1
        assert projection.earliest is not None and projection.latest is not None
        assert projection.earliest <= projection.date <= projection.latest
        assert projection.slope_per_year == pytest.approx(want["slope"] * 365.25, rel=1e-9)


def test_the_cases_cover_each_pace_and_projection(store: Store) -> None:
    """The real series above reach each outcome: reached, ahead or behind, projected, too noisy."""
    outcomes = set()
    for dataset, column, _, how, goal in CASES:
        want = expected(monthly(dataset, column, how), goal)
        outcomes.add(want["pace"])
        outcomes.add("projected" if want["when"] else "not projected")
    assert {"reached", "ahead", "behind", "projected", "not projected"} <= outcomes


def test_rollup_matches_pandas(store: Store) -> None:
    found = {}
    for dataset, column, calc, _, goal in CASES:
        kpi = goal_kpi(dataset, column, calc, goal, f"{dataset}-{column}")
        found[kpi.id] = kpi_progress(kpi, measure(kpi, store, JULY, today=TODAY))
    tree = {"jobs": [k for k in found if k.startswith("us-")], "all": list(found)}
    rolled = rollup_progress(tree, {k: v for k, v in found.items() if v is not None})
    frame = pd.DataFrame(
        [{"id": k, "progress": v.progress, "pace": v.pace} for k, v in found.items() if v is not None]
    )
    order = ["behind", "on_path", "ahead", "reached"]
    for goal_id, ids in tree.items():
        mine = frame[frame["id"].isin(ids)]
        assert rolled[goal_id]["progress"] == pytest.approx(mine["progress"].clip(upper=1).mean())
        counts = mine["pace"].value_counts()
        top = counts[counts == counts.max()].index
        assert rolled[goal_id]["pace"] == min(top, key=order.index)
        assert rolled[goal_id]["counts"] == counts.to_dict()


# -- properties ----------------------------------------------------------------------------------

values = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False).map(lambda v: round(v, 3))
days = st.integers(min_value=1, max_value=5000)


def dated(b: float, t: float, span: int) -> DatedGoal:
    return DatedGoal.model_validate(
        {
            "baseline": {"date": "2020-01-01", "value": b},
            "target": {"date": (date(2020, 1, 1) + timedelta(days=span)).isoformat(), "value": t},
        }
    )


@settings(max_examples=200, deadline=None)
@given(b=values, t=values, v=values, span=days, at=days)
def test_rising_and_falling_targets_mirror(b: float, t: float, v: float, span: int, at: int) -> None:
    """Negating every value turns a rising target into a falling one: progress and pace are the same."""
    if abs(t - b) < 1e-3:
        return
    day = date(2020, 1, 1) + timedelta(days=at)
    up, down = progress(dated(b, t, span), [(day, v)]), progress(dated(-b, -t, span), [(day, -v)])
    assert up.progress == pytest.approx((v - b) / (t - b))
    assert down.progress == pytest.approx(up.progress)
    assert up.pace == down.pace or abs((up.progress or 0) - (up.expected_progress or 0)) < 1e-6
    assert (up.pace == "reached") == ((up.progress or 0) >= 1 - 1e-9)
    if up.pace in ("ahead", "behind"):
        assert (up.pace == "ahead") == ((up.progress or 0) > (up.expected_progress or 0))
    if at >= span:  # the target's date has passed: the path is at the target
        assert up.expected_progress == pytest.approx(1.0)
        assert up.pace in ("reached", "behind")


@settings(max_examples=200, deadline=None)
@given(
    b=values,
    step=st.floats(min_value=0.01, max_value=1e4),
    over=st.floats(min_value=0, max_value=5),
    span=days,
)
def test_a_target_already_passed_is_reached(b: float, step: float, over: float, span: int) -> None:
    """Past the target (rising or falling, before or after its date): reached, progress >= 1."""
    for sign in (1, -1):
        t = b + sign * step
        v = t + sign * step * over
        for at in (span // 2 + 1, span + 30):
            found = progress(dated(b, t, span), [(date(2020, 1, 1) + timedelta(days=at), v)])
            assert found.pace == "reached" and (found.progress or 0) >= 1 - 1e-9
            assert found.projection.status == "reached"


@settings(max_examples=100, deadline=None)
@given(
    b=values,
    slope=st.floats(min_value=0.01, max_value=100),
    distance=st.integers(min_value=100, max_value=3000),
)
def test_a_straight_trend_projects_to_its_crossing(b: float, slope: float, distance: int) -> None:
    """Values exactly on a line toward the target project to the day the line crosses it."""
    for sign in (1, -1):
        t = b + sign * slope * distance
        goal = dated(b, t, 10_000)
        points = [(date(2020, 1, 1) + timedelta(days=d), b + sign * slope * d) for d in range(0, 60, 10)]
        found = progress(goal, points).projection
        assert found.status == "projected"
        assert found.date is not None and abs((found.date - date(2020, 1, 1)).days - distance) <= 1


# -- the chart -------------------------------------------------------------------------------------


@pytest.mark.parametrize("chart", ["line", "bar"])
def test_the_chart_draws_the_path_beside_the_targets(store: Store, chart: str) -> None:
    """The construction KPI's path (with its waypoint) is a dotted layer whose values are numpy's
    interpolation at each period's last day; the spec is valid Vega-Lite and renders."""
    target = {"history": [{"from": "2006-01-01", "value": 7_500}, {"from": "2011-01-01", "value": 6_000}]}
    k = goal_kpi("us-employment", "construction", "sum", CONSTRUCTION_GOAL, "construction")
    k = k.model_copy(update={"chart": chart, "target": Kpi.model_validate({**BASE, "target": target}).target})
    series = measure(k, store, JULY, today=TODAY)
    spec = chart_spec(k, series)
    VEGA_LITE.validate(spec)
    records = spec["datasets"]["series"]
    day0 = pd.Timestamp("2006-12-31")
    corners = [CONSTRUCTION_GOAL["baseline"], *CONSTRUCTION_GOAL["waypoints"], CONSTRUCTION_GOAL["target"]]
    xs = [(pd.Timestamp(c["date"]) - day0).days for c in corners]
    ys = [c["value"] for c in corners]
    drawn = 0
    for record in records:
        end = pd.Timestamp(record["period_end"])
        if end < day0:
            assert "path" not in record
            continue
        assert record["path"] == pytest.approx(float(np.interp((end - day0).days, xs, ys)))
        drawn += 1
    assert drawn == 1 + 9 * 12  # December 2006 (the baseline's day) to December 2015
    dotted = [layer for layer in spec["layer"] if layer.get("mark", {}).get("strokeDash") == [2, 3]]
    assert len(dotted) == 1 and dotted[0]["encoding"]["y"]["field"] == "path"
    assert (
        any(layer.get("mark", {}).get("interpolate") == "step-after" for layer in spec["layer"])
        or chart == "bar"
    )
    assert "Dotted line: the expected path to 5,000.0 by 2016-12-31" in spec["description"]
    svg = render_svg(spec)
    ElementTree.fromstring(svg)
    assert svg.count("<path") > 3


def test_the_static_image_draws_the_path_with_a_key(store: Store) -> None:
    """The image packets and downloads use: the plot's path layer holds numpy's interpolation, the
    key names it, and the SVG renders."""
    k = goal_kpi("us-employment", "construction", "sum", CONSTRUCTION_GOAL, "construction")
    series = measure(k, store, JULY, today=TODAY)
    series_rows = rows(k, series)
    spec = plot_spec(k, series_rows, theme="light", width=500, height=240, notes=[])
    dotted = [layer for layer in spec["layer"] if layer["mark"].get("strokeDash") == [2, 3]]
    assert len(dotted) == 1 and dotted[0]["encoding"]["y"]["field"] == "path"
    day0 = pd.Timestamp("2006-12-31")
    corners = [CONSTRUCTION_GOAL["baseline"], *CONSTRUCTION_GOAL["waypoints"], CONSTRUCTION_GOAL["target"]]
    xs = [(pd.Timestamp(c["date"]) - day0).days for c in corners]
    ys = [c["value"] for c in corners]
    for record, row in zip(spec["data"]["values"], series_rows, strict=True):
        if row.period_end < day0.date():
            assert record["path"] is None
        else:
            assert record["path"] == pytest.approx(
                float(np.interp((pd.Timestamp(row.period_end) - day0).days, xs, ys))
            )
    svg = image_svg(k, series)
    ElementTree.fromstring(svg)
    assert "Expected path" in svg


def test_a_flat_series_is_not_projectable() -> None:
    points = [(date(2020, 1, 1) + timedelta(days=30 * i), 50.0) for i in range(8)]
    found = progress(dated(40, 60, 1000), points).projection
    assert (found.status, found.reason) == ("not_projectable", "the trend is flat")


def test_waypoints_from_the_target_history() -> None:
    """``waypoints: target_history``: the history entries strictly between the two dates bend the path."""
    kpi = Kpi.model_validate(
        {
            **BASE,
            "target": {"history": [{"from": "2019-01-01", "value": 90}, {"from": "2021-01-01", "value": 80},
                                   {"from": "2022-01-01", "value": 50}, {"from": "2030-01-01", "value": 10}]},
            "dated_goal": {"baseline": {"date": "2020-01-01", "value": 100},
                           "target": {"date": "2024-01-01", "value": 40}, "waypoints": "target_history"},
        }
    )  # fmt: skip
    path = [(p.date.isoformat(), p.value) for p in kpi_path(kpi)]
    assert path == [("2020-01-01", 100.0), ("2021-01-01", 80.0), ("2022-01-01", 50.0), ("2024-01-01", 40.0)]
    assert kpi.dated_goal is not None
    found = progress(kpi.dated_goal, [(date(2021, 7, 2), 70.0)], target_points(kpi))
    days = [(date.fromisoformat(d) - date(2020, 1, 1)).days for d, _ in path]
    x = (date(2021, 7, 2) - date(2020, 1, 1)).days
    assert found.expected_value == pytest.approx(float(np.interp(x, days, [v for _, v in path])))


def test_projection_is_never_before_the_latest_value() -> None:
    """A line through noisy values may cross the target before the latest day; the projection then
    says the latest day at the soonest, and the method counts the values it used."""
    goal = DatedGoal.model_validate(
        {"baseline": {"date": "2020-01-01", "value": 0}, "target": {"date": "2020-12-31", "value": 100}}
    )
    start = date(2020, 1, 1)
    rng = random.Random(7)
    clamped = 0
    for _ in range(400):
        values = [min(99.0, 12 * i + rng.uniform(-30, 30)) for i in range(rng.randint(4, 9))]
        values[-1] = rng.uniform(0, 99)
        points = [(start + timedelta(days=10 * i), v) for i, v in enumerate(values)]
        found = project(goal, points)
        assert f"last {len(points)} values" in found.method
        if found.status == "projected":
            assert found.date is not None and found.earliest is not None
            assert found.earliest >= points[-1][0] and found.date >= points[-1][0]
            clamped += found.earliest == points[-1][0]
    assert clamped > 0  # some series cross the target before their latest day
