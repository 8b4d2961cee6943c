"""Independent pandas expectations for the demo KPIs, from the original CSV files in tests/data/real.

Nothing here goes through the measure engine, SoQL or the bundled Parquet: filters are pandas masks,
periods pandas/datetime arithmetic, targets an as-of merge of the YAML history, statuses the
contract's rule written out again. Shared by the demo, as-of and program tests.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from catalog import Kpi

REAL = Path(__file__).parent / "data" / "real"
OI_PREFIX = "Household Refuse Collection Program/Tons Collected:/"


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


def burlington(name: str) -> pd.DataFrame:
    """An Opendatasoft CSV export as published: ';'-delimited, unquoted, CRLF (pandas' own reading)."""
    return pd.read_csv(REAL / "opendatasoft-burlington-btvstat" / name, sep=";", dtype={"zip_code": str})


def entered(kpi_id: str) -> pd.Series:
    """A manual demo KPI's approved values, as bundled (catalog/demo/data/entries), by period start."""
    df = pd.read_csv(Path(__file__).parent.parent / "catalog" / "demo" / "data" / "entries" / f"{kpi_id}.csv")
    return pd.Series(
        df["value"].to_numpy(dtype=float), index=[date.fromisoformat(d) for d in df["period_start"]]
    )


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

    trees = burlington("planting-sites.csv")
    planted = trees[trees["planted"] >= 2007].groupby("planted").size().astype(float)
    care = burlington("child-care-locations.csv")
    licensed = care.groupby(care["current_license_start_date"].str[:4].astype(int))["total_licensed_capacity"]

    positive = lambda df: df["Amount"] > 0  # noqa: E731
    return {
        "trees-planted-yearly": fill(planted.rename(index=lambda y: date(int(y), 1, 1)), next_year, True),
        "child-care-licensed-capacity": fill(
            licensed.sum().astype(float).rename(index=lambda y: date(int(y), 1, 1)), next_year, True
        ),
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
        "sidewalk-repairs-entered": fill(entered("sidewalk-repairs-entered"), next_month, False),
    }


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


def expected_status(value: float, goal: float, tolerance: float, rule: str, direction: str) -> str:
    """The contract's status of one value against the target in force (NaN value: no_data)."""
    if value != value:
        return "no_data"
    if goal != goal:
        return "no_target"
    if rule == "proximity":
        return "on_track" if abs(value - goal) <= tolerance else "off_track"
    sign = 1 if direction == "higher_is_better" else -1
    gap = sign * (goal - value)
    return "on_track" if gap <= 0 else "near_target" if gap <= tolerance else "off_track"


EXPECTED = expected_series()
