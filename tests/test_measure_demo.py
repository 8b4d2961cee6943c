"""Every demo KPI's series equals an independent pandas computation on the original CSV file.

The expected values are computed here with pandas from tests/data/real (not from the bundled
Parquet and not through the measure engine or SoQL): filters are written as pandas masks, periods
with pandas/datetime arithmetic.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from btvstat_open.store import Store
from catalog import Catalog, Kpi, load_catalog, measure
from catalog.demo import DEMO_DIR, load_demo_data

TODAY = date(2026, 11, 23)
REAL = Path(__file__).parent / "data" / "real"
OI_PREFIX = "Household Refuse Collection Program/Tons Collected:/"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Catalog, Store]]:
    with Store(tmp_path_factory.mktemp("demo-store")) as store:
        load_demo_data(store)
        yield load_catalog(DEMO_DIR, store=store), store


def potholes() -> pd.DataFrame:
    df = pd.read_csv(REAL / "kc-311-potholes" / "311_Call_Center_Service_Requests.csv", encoding="utf-8-sig")
    df["day"] = pd.to_datetime(df["CREATION DATE"], format="%m/%d/%y")
    return df[df["TYPE"] == "Pothole"]


def indicators(department: str, label: str) -> pd.DataFrame:
    df = pd.read_csv(REAL / "la-city-kpis" / "Operating_Indicators_for_City_Departments.csv")
    return df[(df["Department"] == department) & (df["Program/Metric Label"] == label)]


def library() -> pd.DataFrame:
    df = pd.read_csv(REAL / "la-city-kpis" / "Library_Monthly_Stats.csv").dropna(how="all")
    df["day"] = pd.to_datetime(df["Month"], format="%b-%y")
    return df


def water() -> pd.DataFrame:
    df = pd.read_csv(REAL / "la-city-kpis" / "Water_and_Electric_Usage_from_2005_-_2013.csv")
    df["day"] = pd.to_datetime(df["Value Date"], format="%b-%y")
    return df


def week(day: pd.Timestamp) -> date:
    d: date = day.date()
    return d - timedelta(days=d.weekday())


def fiscal_from_label(year: int) -> date:
    return date(int(year) - 1, 7, 1)


def fill(values: pd.Series, step: Callable[[date], date], zero: bool) -> pd.Series:
    """Every period from the first through the last, missing ones 0 (count/sum) or NaN."""
    index = [values.index.min()]
    while index[-1] < values.index.max():
        index.append(step(index[-1]))
    return values.reindex(index, fill_value=0.0 if zero else np.nan)


def next_week(d: date) -> date:
    return d + timedelta(days=7)


def next_month(d: date) -> date:
    return (pd.Timestamp(d) + pd.DateOffset(months=1)).date()


def next_quarter(d: date) -> date:
    return (pd.Timestamp(d) + pd.DateOffset(months=3)).date()


def next_year(d: date) -> date:
    return d.replace(year=d.year + 1)


def q90(s: pd.Series) -> float:
    return float(np.percentile(s.dropna(), 90)) if s.notna().any() else np.nan


def fytd(weekly: pd.Series) -> pd.Series:
    fy = [d.year + 1 if d.month >= 7 else d.year for d in weekly.index]
    return weekly.groupby(fy).cumsum()


def expected_series() -> dict[str, pd.Series]:
    kc = potholes()
    kc["period"] = kc["day"].map(week)
    kc["month"] = kc["day"].map(lambda d: d.date().replace(day=1))
    weekly_count = fill(kc.groupby("period").size().astype(float), next_week, True)
    within = kc.assign(ok=kc["DAYS TO CLOSE"] <= 7).groupby("period")["ok"].mean() * 100
    median_days = kc[kc["day"] >= "2019-12-30"].groupby("period")["DAYS TO CLOSE"].median()

    def fiscal(
        department: str, label: str, keep: Callable[[pd.DataFrame], pd.Series] | None = None
    ) -> pd.Series:
        df = indicators(department, label)
        if keep is not None:
            df = df[keep(df)]
        s = df.groupby(df["Fiscal Year"].map(fiscal_from_label))["Amount"]
        return s

    oi = pd.read_csv(REAL / "la-city-kpis" / "Operating_Indicators_for_City_Departments.csv")
    tons = oi[oi["Program/Metric Label"].str.startswith(OI_PREFIX)].copy()
    tons["kind"] = tons["Program/Metric Label"].str[len(OI_PREFIX) :]
    by_year = tons.pivot_table(index="Fiscal Year", columns="kind", values="Amount", aggfunc="sum")
    diverted = by_year["Recyclables"] + by_year["Yard Trimmings"]
    total = diverted + by_year["Refuse"] + by_year["Bulky Items"]
    diversion = (diverted / total * 100).rename(index=fiscal_from_label)

    lib = library()
    lib["quarter"] = lib["day"].map(lambda d: date(d.year, (d.month - 1) // 3 * 3 + 1, 1))
    lib_q = lib[lib["day"] < "2014-10-01"].groupby("quarter")["Total Library Visitors"].sum()
    emedia = lib.sort_values("day").groupby("quarter")["Total eMedia Circulation"].last()

    w = water()
    w["month"] = w["day"].map(lambda d: d.date().replace(day=1))
    w["year"] = w["day"].map(lambda d: date(d.year, 1, 1))
    water_avg = w[w["day"] < "2012-07-01"].groupby("month")["Water Use"].mean()
    power_median = w.groupby("year")["Power Use"].median()

    positive = lambda df: df["Amount"] > 0  # noqa: E731
    return {
        "pothole-requests-weekly": weekly_count,
        "pothole-days-to-close": fill(median_days, next_week, False),
        "pothole-days-to-close-p90": fill(kc.groupby("month")["DAYS TO CLOSE"].agg(q90), next_month, False),
        "pothole-closed-within-7-days": fill(within, next_week, False),
        "pothole-requests-fiscal-ytd": fytd(weekly_count),
        "airport-passengers": fill(fiscal("Airports", "Passengers (millions)").sum(), next_year, True),
        "fire-ems-response-5-minutes": fill(
            fiscal(
                "Fire",
                "Emergency Ambulance Services/Emergency medical responses by/"
                "Response to emergencies within 5 mins (%)",
                positive,
            ).mean(),
            next_year,
            False,
        ),
        "police-emergency-response-minutes": fill(
            fiscal("Police", "Patrol Program/Response to emergency calls (in minutes)", positive).last(),
            next_year,
            False,
        ),
        "streets-resurfaced-miles": fill(
            fiscal(
                "Street Services", "Street Resurfacing and Reconstruction Program/Streets resurfaced (miles)"
            ).sum(),
            next_year,
            True,
        ),
        "refuse-diversion-rate": fill(diversion, next_year, False),
        "library-visitors-annual": fill(
            fiscal(
                "Library", "Public Library Services Program/Number of people visiting library facilities"
            ).sum(),
            next_year,
            True,
        ),
        "library-visitors-quarterly": fill(lib_q, next_quarter, True),
        "library-emedia-circulation": fill(emedia, next_quarter, False),
        "water-use-monthly": fill(water_avg, next_month, False),
        "power-use-median-yearly": fill(power_median, next_year, False),
    }


EXPECTED = expected_series()


def test_every_demo_kpi_has_an_independent_expectation(demo: tuple[Catalog, Store]) -> None:
    catalog, _ = demo
    assert sorted(EXPECTED) == sorted(catalog.kpis)


def targets_in_force(kpi: Kpi, starts: list[date]) -> pd.DataFrame:
    """The target value and tolerance in force at each period start, by pandas' as-of merge.

    The last history entry from on or before the start; before the first entry, none.
    """
    frame = pd.DataFrame({"start": pd.to_datetime(starts)})
    target = kpi.target
    if target is None:
        return frame.assign(value=np.nan, tolerance=np.nan)
    if target.history is None:
        return frame.assign(value=target.value, tolerance=target.tolerance)
    history = pd.DataFrame(
        {
            "from": pd.to_datetime([e.start for e in target.history]),
            "value": [e.value for e in target.history],
            "tolerance": [target.tolerance if e.tolerance is None else e.tolerance for e in target.history],
        }
    ).sort_values("from")
    return pd.merge_asof(frame, history, left_on="start", right_on="from", direction="backward")


@pytest.mark.parametrize("as_of", ["far-future", "catalog"])
@pytest.mark.parametrize("kpi_id", sorted(EXPECTED))
def test_demo_series_matches_pandas(demo: tuple[Catalog, Store], kpi_id: str, as_of: str) -> None:
    """Values, targets in force and statuses; as of the demo's own as_of (2020-03-02, after every
    row of the demo data) the series are the same as years later."""
    catalog, store = demo
    kpi = catalog.get(kpi_id)
    today = TODAY if as_of == "far-future" else catalog.settings.as_of
    assert today is not None
    got = measure(kpi, store, catalog.settings, today=today).to_pandas()
    want = EXPECTED[kpi_id]
    assert len(got) > 1
    assert list(got["period_start"]) == list(want.index)
    np.testing.assert_allclose(got["value"].astype(float), want.astype(float).to_numpy(), rtol=1e-9)
    targets = targets_in_force(kpi, list(got["period_start"]))
    np.testing.assert_array_equal(got["target"].astype(float).to_numpy(), targets["value"].to_numpy())
    for value, state, goal, tolerance in zip(
        got["value"], got["status"], targets["value"], targets["tolerance"], strict=True
    ):
        if value != value:
            assert state == "no_data"
        elif goal != goal:
            assert state == "no_target"
        elif kpi.target is not None and kpi.target.rule == "proximity":
            assert state == ("on_track" if abs(value - goal) <= tolerance else "off_track")
        else:
            sign = 1 if kpi.direction == "higher_is_better" else -1
            gap = sign * (goal - value)
            assert state == ("on_track" if gap <= 0 else "near_target" if gap <= tolerance else "off_track")


def test_demo_target_histories_change_the_target_mid_series(demo: tuple[Catalog, Store]) -> None:
    """Several demo KPIs carry a target history whose change falls inside their series."""
    catalog, store = demo
    changed = []
    for kpi in catalog.kpis.values():
        if kpi.target is None or kpi.target.history is None:
            continue
        series = measure(kpi, store, catalog.settings).to_pandas()
        if series["target"].dropna().nunique() > 1:
            changed.append(kpi.id)
    assert len(changed) >= 4, changed


def test_demo_covers_every_calculation_period_and_chart(demo: tuple[Catalog, Store]) -> None:
    catalog, _ = demo
    kpis = list(catalog.kpis.values())
    assert len(kpis) >= 12
    assert len({k.department for k in kpis}) >= 5
    assert len({k.outcome_area for k in kpis if k.outcome_area}) >= 3
    assert {k.measure.calculation for k in kpis} == {
        "count",
        "sum",
        "average",
        "median",
        "percentile",
        "rate",
        "recent",
    }
    assert {k.period.size for k in kpis} == {"week", "month", "quarter", "year", "fiscal_year"}
    assert {k.chart for k in kpis} == {"line", "bar", "area", "number"}
    assert any(k.measure.cumulative for k in kpis)


def test_load_demo_data_is_idempotent(tmp_path: Path) -> None:
    with Store(tmp_path / "s") as store:
        first = load_demo_data(store)
        versions = {d: store.info(d).version for d in first}
        assert load_demo_data(store) == []
        assert {d: store.info(d).version for d in first} == versions
        store.delete_row(
            "la-library-monthly", store.arrow("la-library-monthly", system=True).column(":id")[0].as_py()
        )
        assert load_demo_data(store) == ["la-library-monthly"]
        assert store.info("la-library-monthly").row_count == 16
