"""Years of real data: vega-datasets' seattle-weather (daily, 2012-2015) and us-employment (monthly,
2006-2015), loaded through the loader into a store, measured and charted.

Every expected value is computed here with pandas from the CSV file (pandas parses the dates,
pandas' anchored periods ``W-SUN``, ``Q``, ``Y-JUN`` etc. make the periods, ``merge_asof`` finds
the target in force), never through the measure engine or SoQL: each calculation and period size,
fiscal years starting in July and in October, cumulative totals that restart each fiscal year,
ISO week 53 of 2015, changes from a year earlier, and target histories spanning years. Every chart
type is built for these KPIs and rendered.
"""

from __future__ import annotations

import calendar
import json
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any
from xml.etree import ElementTree

import altair as alt
import jsonschema
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from altair.vegalite.v6.schema.core import load_schema
from vega_datasets import local_data

from btvstat_open.load import load_file
from btvstat_open.store import Store
from catalog.changes import latest_change
from catalog.measure import measure
from catalog.models import CatalogSettings, Kpi
from widgets.charts import chart_spec, sparkline_spec
from widgets.images import image_svg
from widgets.render import render_svg

TODAY = date(2030, 1, 1)
JULY = CatalogSettings(fiscal_year_start=7)
OCTOBER = CatalogSettings(fiscal_year_start=10)
VEGA_LITE = jsonschema.Draft7Validator(load_schema())


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    with Store(tmp_path_factory.mktemp("long-series")) as s:
        load_file(s, local_data.seattle_weather.filepath, "seattle-weather")
        load_file(s, local_data.us_employment.filepath, "us-employment")
        yield s


@pytest.fixture(scope="module")
def weather() -> pd.DataFrame:
    df = pd.read_csv(local_data.seattle_weather.filepath, dtype={"date": str})
    df["day"] = pd.to_datetime(df["date"], format="%Y/%m/%d")
    return df


@pytest.fixture(scope="module")
def employment() -> pd.DataFrame:
    df = pd.read_csv(local_data.us_employment.filepath, dtype={"month": str})
    df["day"] = pd.to_datetime(df["month"], format="%Y-%m-%d")
    return df


def kpi(dataset: str, calc: str, size: str, column: str | None = None, **more: Any) -> Kpi:
    spec: dict[str, Any] = {
        "id": f"{dataset}-{calc}-{size}".replace("_", "-"),
        "title": f"{dataset} {calc} by {size}",
        "department": "Research",
        "source": {"dataset": dataset, "date_column": "date" if dataset == "seattle-weather" else "month"},
        "measure": {"calculation": calc, **({"column": column} if column else {})},
        "period": {"size": size},
        "unit": "units",
    }
    for key, value in more.items():
        spec[key] = {**spec[key], **value} if isinstance(spec.get(key), dict) else value
    return Kpi.model_validate(spec)


def freq(size: str, fiscal_year_start: int) -> str:
    """pandas' anchored period for a period size (a fiscal year ends in the month before it starts)."""
    if size == "fiscal_year":
        return f"Y-{calendar.month_abbr[(fiscal_year_start - 2) % 12 + 1].upper()}"
    return {"week": "W-SUN", "month": "M", "quarter": "Q", "year": "Y"}[size]


def expected(
    df: pd.DataFrame, size: str, how: Any, fiscal_year_start: int = 7, cumulative: bool = False
) -> pd.DataFrame:
    """Per period (every one between the first and the last): start, end and ``how(rows)``."""
    periods = df["day"].dt.to_period(freq(size, fiscal_year_start))
    values = df.groupby(periods).apply(how, include_groups=False)
    full = pd.period_range(periods.min(), periods.max(), freq=periods.dt.freq)
    values = values.reindex(full)
    out = pd.DataFrame(
        {
            "period_start": [p.start_time.date() for p in full],
            "period_end": [p.end_time.date() for p in full],
            "value": values.to_numpy(dtype=float),
        }
    )
    if cumulative:
        fy = pd.PeriodIndex([p.start_time for p in full], freq=freq("fiscal_year", fiscal_year_start))
        out["value"] = out.groupby(np.asarray(fy))["value"].cumsum()
    return out


def check(series: pa.Table, wanted: pd.DataFrame) -> None:
    got = series.to_pandas()
    assert list(got["period_start"]) == list(wanted["period_start"])
    assert list(got["period_end"]) == list(wanted["period_end"])
    np.testing.assert_allclose(got["value"].astype(float), wanted["value"], rtol=1e-12, equal_nan=True)


WEATHER_CASES = [
    ("count", None, "week", lambda g: len(g)),
    ("sum", "precipitation", "month", lambda g: g["precipitation"].sum()),
    ("average", "temp_max", "quarter", lambda g: g["temp_max"].mean()),
    ("median", "wind", "year", lambda g: g["wind"].median()),
    ("percentile", "temp_max", "fiscal_year", lambda g: g["temp_max"].quantile(0.9)),
    ("recent", "temp_min", "week", lambda g: g.sort_values("day")["temp_min"].iloc[-1]),
    ("average", "temp_min", "month", lambda g: g["temp_min"].mean()),
]


@pytest.mark.parametrize(("calc", "column", "size", "how"), WEATHER_CASES)
def test_every_calculation_over_four_years_of_days(
    store: Store, weather: pd.DataFrame, calc: str, column: str | None, size: str, how: Any
) -> None:
    extra = {"measure": {"percentile": 90}} if calc == "percentile" else {}
    series = measure(kpi("seattle-weather", calc, size, column, **extra), store, JULY, today=TODAY)
    check(series, expected(weather, size, how))


def test_rate_of_rainy_days_per_month(store: Store, weather: pd.DataFrame) -> None:
    rainy = kpi(
        "seattle-weather",
        "rate",
        "month",
        measure={"numerator": {"where": "weather = 'rain'"}, "denominator": {}, "as_percent": True},
    )
    series = measure(rainy, store, JULY, today=TODAY)
    check(series, expected(weather, "month", lambda g: 100.0 * (g["weather"] == "rain").sum() / len(g)))
    assert series.column("denominator").to_pylist()[:2] == [31.0, 29.0]  # January and February 2012


@pytest.mark.parametrize("settings", [JULY, OCTOBER], ids=["july", "october"])
def test_fiscal_years_and_cumulative_totals_restart(
    store: Store, weather: pd.DataFrame, settings: CatalogSettings
) -> None:
    fsm = settings.fiscal_year_start
    yearly = measure(
        kpi("seattle-weather", "sum", "fiscal_year", "precipitation"), store, settings, today=TODAY
    )
    wanted = expected(weather, "fiscal_year", lambda g: g["precipitation"].sum(), fsm)
    check(yearly, wanted)
    # The first and last fiscal years are partial: they start before 2012 and end after 2015.
    assert wanted["period_start"].iloc[0] == date(2011, fsm, 1)
    assert wanted["period_end"].iloc[-1] == date(2016, fsm, 1) - timedelta(days=1)
    running = kpi("seattle-weather", "sum", "month", "precipitation", measure={"cumulative": True})
    series = measure(running, store, settings, today=TODAY)
    check(series, expected(weather, "month", lambda g: g["precipitation"].sum(), fsm, cumulative=True))
    values = dict(
        zip(series.column("period_start").to_pylist(), series.column("value").to_pylist(), strict=True)
    )
    first_months = [d for d in values if d.month == fsm]
    assert len(first_months) == 4  # a restart in each of 2012..2015
    for start in first_months:  # each fiscal year starts again from that month's own total
        month = weather[(weather["day"].dt.year == start.year) & (weather["day"].dt.month == fsm)]
        assert values[start] == pytest.approx(month["precipitation"].sum())
    days = measure(
        kpi("seattle-weather", "count", "week", measure={"cumulative": True}), store, settings, today=TODAY
    )
    weeks = days.to_pandas()
    # A week is in the fiscal year its Monday is in (the running count restarts on that week).
    fy_start = [
        p.start_time.date() for p in pd.PeriodIndex(weeks["period_start"], freq=freq("fiscal_year", fsm))
    ]
    restarts = weeks[[a != b for a, b in zip(fy_start, [None, *fy_start[:-1]], strict=True)]]
    assert (restarts["value"] <= 7).all() and len(restarts) == 5


def test_iso_week_53_of_2015(store: Store, weather: pd.DataFrame) -> None:
    weeks = measure(kpi("seattle-weather", "count", "week"), store, JULY, today=TODAY).to_pylist()
    last = weeks[-1]
    assert pd.Timestamp(last["period_start"]).isocalendar().week == 53
    assert (last["period_start"], last["period_end"], last["value"]) == (
        date(2015, 12, 28),
        date(2016, 1, 3),
        4.0,
    )
    # 2012-12-31 is in ISO week 1 of 2013, whole.
    turn = next(w for w in weeks if w["period_start"] == date(2012, 12, 31))
    assert turn["value"] == 7.0 and pd.Timestamp(turn["period_end"]).isocalendar()[:2] == (2013, 1)
    assert weeks[0]["period_start"] == date(2011, 12, 26) and weeks[0]["value"] == 1.0  # Sunday 2012-01-01
    assert len(weeks) == weather["day"].dt.to_period("W-SUN").nunique()


def test_changes_from_a_year_earlier(store: Store, weather: pd.DataFrame, employment: pd.DataFrame) -> None:
    jobs = kpi("us-employment", "recent", "month", "nonfarm", direction="higher_is_better")
    series = measure(jobs, store, JULY, today=TODAY)
    nonfarm = employment.set_index("day")["nonfarm"]
    assert series.num_rows == 120
    for i in range(series.num_rows):
        latest = latest_change(jobs, series.slice(0, i + 1))
        assert latest is not None
        start = pd.Timestamp(latest.period_start)
        assert latest.value == nonfarm[start]
        year_ago = start - pd.DateOffset(years=1)
        if year_ago not in nonfarm.index:
            assert latest.year_ago is None
            continue
        assert latest.year_ago is not None
        change = nonfarm[start] - nonfarm[year_ago]
        assert latest.year_ago.period_start == year_ago.date()
        assert latest.year_ago.change == pytest.approx(change)
        assert latest.year_ago.percent == pytest.approx(100.0 * change / nonfarm[year_ago])
        assert latest.year_ago.better is (None if change == 0 else bool(change > 0))
        previous = nonfarm[start - pd.DateOffset(months=1)] if i else None
        assert (latest.previous.change if latest.previous else None) == (
            None if previous is None else pytest.approx(nonfarm[start] - previous)
        )
    # Weeks: the week a year earlier is the one holding the same day a year before (53-week years too).
    temps = kpi("seattle-weather", "average", "week", "temp_max")
    weekly = measure(temps, store, JULY, today=TODAY)
    means = weather.groupby(weather["day"].dt.to_period("W-SUN"))["temp_max"].mean()
    means.index = [p.start_time for p in means.index]
    for i in (60, 104, 156, 208, weekly.num_rows - 1):
        latest = latest_change(temps, weekly.slice(0, i + 1))
        assert latest is not None and latest.year_ago is not None
        back = pd.Timestamp(latest.period_start) - pd.DateOffset(years=1)
        monday = back - pd.Timedelta(days=back.weekday())
        assert latest.year_ago.period_start == monday.date()
        assert latest.year_ago.change == pytest.approx(
            means[pd.Timestamp(latest.period_start)] - means[monday]
        )


HISTORY = [
    {"from": "2007-07-01", "value": 136000, "note": "FY2008"},
    {"from": "2009-07-01", "value": 130000, "tolerance": 500, "note": "Recession"},
    {"from": "2012-01-01", "value": 133000},
    {"from": "2014-07-01", "value": 139000, "tolerance": 1500},
    {"from": "2031-01-01", "value": 150000, "note": "A future target, never scored"},
]


def status_rule(value: float, target: float | None, tolerance: float) -> str:
    """The catalog format's above_below rule for higher_is_better, written out again."""
    if target is None or pd.isna(target):
        return "no_target"
    if value >= target:
        return "on_track"
    return "near_target" if value >= target - tolerance else "off_track"


@pytest.mark.parametrize("size", ["month", "quarter", "fiscal_year"])
def test_target_history_spanning_years(store: Store, employment: pd.DataFrame, size: str) -> None:
    calc = "recent" if size == "month" else "average"
    jobs = kpi(
        "us-employment",
        calc,
        size,
        "nonfarm",
        direction="higher_is_better",
        target={"rule": "above_below", "tolerance": 1000, "history": HISTORY},
    )
    got = measure(jobs, store, JULY, today=TODAY).to_pandas()
    wanted = expected(employment, size, lambda g: g.sort_values("day")["nonfarm"].iloc[-1])
    if calc == "average":
        wanted = expected(employment, size, lambda g: g["nonfarm"].mean())
    check(pa.Table.from_pandas(got), wanted)
    history = pd.DataFrame(
        {
            "from": pd.to_datetime([h["from"] for h in HISTORY]).astype("datetime64[us]"),
            "target": [float(h["value"]) for h in HISTORY],
            "tolerance": [float(h.get("tolerance", 1000)) for h in HISTORY],
        }
    )
    starts = pd.DataFrame({"start": pd.to_datetime(wanted["period_start"]).astype("datetime64[us]")})
    in_force = pd.merge_asof(starts, history, left_on="start", right_on="from")
    assert got["target"].tolist() == pytest.approx(in_force["target"].tolist(), nan_ok=True)
    statuses = [
        status_rule(v, t, tol)
        for v, t, tol in zip(wanted["value"], in_force["target"], in_force["tolerance"], strict=True)
    ]
    assert got["status"].tolist() == statuses
    assert 150000.0 not in got["target"].tolist()  # the future entry is not in force in any period
    assert {"no_target", "on_track", "off_track"} <= set(statuses)  # years under several targets


@pytest.mark.parametrize("chart", ["line", "bar", "area", "number"])
def test_every_chart_type_over_years_builds_validates_and_renders(store: Store, chart: str) -> None:
    target = {"rule": "above_below", "tolerance": 1000, "history": HISTORY}
    cases = [
        kpi(
            "us-employment",
            "recent",
            "month",
            "nonfarm",
            chart=chart,
            direction="higher_is_better",
            target=target,
        ),
        kpi("seattle-weather", "average", "week", "temp_max", chart=chart),
        kpi("seattle-weather", "sum", "fiscal_year", "precipitation", chart=chart),
    ]
    for k in cases:
        series = measure(k, store, JULY, today=TODAY)
        spec = chart_spec(k, series, width=720)
        VEGA_LITE.validate(spec)
        text = json.dumps(spec)
        assert json.loads(text) == spec
        assert alt.LayerChart.from_dict(json.loads(text), validate=False).to_dict(validate=False) == spec
        if chart != "number":
            values = next(iter(spec["datasets"].values()))
            assert [v["value"] for v in values] == series.column("value").to_pylist()
        svg = render_svg(spec)
        assert svg.startswith('<svg role="img" aria-label="') and k.title in svg
        ElementTree.fromstring(svg)
        ElementTree.fromstring(render_svg(sparkline_spec(k, series)))
        static = image_svg(k, series)
        assert ElementTree.fromstring(static).tag.endswith("svg")
