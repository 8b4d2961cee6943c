"""As of a day: rows dated after it are left out and the current period is judged against it.

The expected series are computed with pandas from the original Kansas City and Los Angeles CSV
files in tests/data/real (not from the bundled Parquet, not through the measure engine): rows are
cut at the as-of day with pandas masks, periods built with datetime arithmetic.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import requests
from demo_store import demo_store
from servers import serve_command

from btvstat_open.cli import main
from btvstat_open.store import Store
from catalog import Kpi, load_catalog, measure
from catalog.asof import today_for
from catalog.demo import DEMO_DIR
from catalog.targets import future_targets

REAL = Path(__file__).parent / "data" / "real"
CATALOG = load_catalog(DEMO_DIR)


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("as-of-store")
    demo_store(path).close()
    return path


@pytest.fixture
def store(store_dir: Path) -> Iterator[Store]:
    with Store(store_dir) as s:
        yield s


def potholes() -> pd.DataFrame:
    df = pd.read_csv(REAL / "kc-311-potholes" / "311_Call_Center_Service_Requests.csv", encoding="utf-8-sig")
    df["day"] = pd.to_datetime(df["CREATION DATE"], format="%m/%d/%y").dt.date
    df["week"] = [d - timedelta(days=d.weekday()) for d in df["day"]]
    df["month"] = [d.replace(day=1) for d in df["day"]]
    return df[df["TYPE"] == "Pothole"]


def kpi_with(kpi_id: str, **period: Any) -> Kpi:
    kpi = CATALOG.get(kpi_id)
    return kpi.model_copy(update={"period": kpi.period.model_copy(update=period)})


def complete_weeks(as_of: date, include_current: bool) -> pd.DataFrame:
    """Weekly pothole counts and medians from rows on or before ``as_of``; periods ended before it."""
    df = potholes()
    df = df[df["day"] <= as_of]
    weekly = df.groupby("week").agg(count=("day", "size"), median=("DAYS TO CLOSE", "median"))
    if not include_current:
        weekly = weekly[[w + timedelta(days=6) < as_of for w in weekly.index]]
    return weekly


@pytest.mark.parametrize("as_of", [date(2020, 1, 15), date(2020, 2, 9), date(2020, 2, 10)])
@pytest.mark.parametrize("include_current", [False, True])
def test_weekly_counts_and_medians_as_of_a_day(store: Store, as_of: date, include_current: bool) -> None:
    want = complete_weeks(as_of, include_current)
    for kpi_id, column in (("pothole-requests-weekly", "count"), ("pothole-days-to-close", "median")):
        kpi = kpi_with(kpi_id, include_current=include_current)
        got = measure(kpi, store, CATALOG.settings, today=as_of).to_pandas()
        assert list(got["period_start"]) == list(want.index), kpi_id
        np.testing.assert_allclose(got["value"].astype(float), want[column].astype(float), rtol=1e-9)
    # Sunday 2020-02-09 ends a week: that week is complete only from the Monday after.
    if as_of == date(2020, 2, 9) and not include_current:
        assert want.index[-1] == date(2020, 1, 27)


def test_the_current_period_holds_only_rows_up_to_the_day(store: Store) -> None:
    """As of Wednesday 2020-01-15 the current week has the rows of Monday to Wednesday only."""
    df = potholes()
    expected = int(((df["day"] >= date(2020, 1, 13)) & (df["day"] <= date(2020, 1, 15))).sum())
    kpi = kpi_with("pothole-requests-weekly", include_current=True)
    got = measure(kpi, store, CATALOG.settings, today=date(2020, 1, 15)).to_pylist()
    assert got[-1]["period_start"] == date(2020, 1, 13) and got[-1]["value"] == expected
    assert 0 < expected < len(df[df["week"] == date(2020, 1, 13)])


def test_monthly_percentile_as_of_mid_february(store: Store) -> None:
    df = potholes()
    cut = df[df["day"] <= date(2020, 2, 12)]
    want = cut.groupby("month")["DAYS TO CLOSE"].agg(lambda s: float(np.percentile(s.dropna(), 90)))
    kpi = kpi_with("pothole-days-to-close-p90", include_current=True)
    got = measure(kpi, store, CATALOG.settings, today=date(2020, 2, 12)).to_pandas()
    assert list(got["period_start"]) == list(want.index)
    np.testing.assert_allclose(got["value"], want.to_numpy(), rtol=1e-9)
    full = measure(kpi, store, CATALOG.settings, today=date(2020, 3, 2)).to_pandas()
    assert full["value"].iloc[-1] != got["value"].iloc[-1]  # later rows changed February


def passengers() -> pd.Series:
    df = pd.read_csv(REAL / "la-city-kpis" / "Operating_Indicators_for_City_Departments.csv")
    df = df[(df["Department"] == "Airports") & (df["Program/Metric Label"] == "Passengers (millions)")]
    return df.groupby(df["Fiscal Year"].map(lambda y: date(int(y) - 1, 7, 1)))["Amount"].sum()


@pytest.mark.parametrize(
    ("as_of", "include_current", "last"),
    [
        # FY2013 (July 2012 - June 2013) has begun: its figure is in, but the year has not ended.
        (date(2012, 8, 1), False, date(2011, 7, 1)),
        (date(2012, 8, 1), True, date(2012, 7, 1)),
        # The last day of FY2012: FY2013's figure is not in yet, FY2012 has not ended yet.
        (date(2012, 6, 30), False, date(2010, 7, 1)),
        (date(2012, 6, 30), True, date(2011, 7, 1)),
        (date(2012, 7, 1), False, date(2011, 7, 1)),
    ],
)
def test_year_number_rows_count_from_the_start_of_their_fiscal_year(
    store: Store, as_of: date, include_current: bool, last: date
) -> None:
    want = passengers()
    want = want[[start <= as_of for start in want.index]]
    if not include_current:
        want = want[[start.replace(year=start.year + 1) - timedelta(days=1) < as_of for start in want.index]]
    kpi = kpi_with("airport-passengers", include_current=include_current)
    got = measure(kpi, store, CATALOG.settings, today=as_of).to_pandas()
    assert list(got["period_start"]) == list(want.index) and want.index[-1] == last
    np.testing.assert_allclose(got["value"], want.to_numpy(), rtol=1e-9)


def test_timestamps_are_cut_at_the_day_for_a_yearly_median(store: Store) -> None:
    df = pd.read_csv(REAL / "la-city-kpis" / "Water_and_Electric_Usage_from_2005_-_2013.csv")
    df["day"] = pd.to_datetime(df["Value Date"], format="%b-%y").dt.date
    as_of = date(2010, 6, 15)
    cut = df[df["day"] <= as_of]
    want = cut.groupby(cut["day"].map(lambda d: date(d.year, 1, 1)))["Power Use"].median()
    kpi = kpi_with("power-use-median-yearly", include_current=True)
    got = measure(kpi, store, CATALOG.settings, today=as_of).to_pandas()
    assert list(got["period_start"]) == list(want.index) and want.index[-1] == date(2010, 1, 1)
    np.testing.assert_allclose(got["value"], want.to_numpy(), rtol=1e-9)


def test_statuses_as_of_use_the_target_in_force_and_never_a_future_one(store: Store) -> None:
    """pothole-days-to-close: 10 (tolerance 3) from July 2019, 7 (tolerance 2) from February 2020,
    5 from July 2020 (future as of the demo's as_of)."""
    kpi = CATALOG.get("pothole-days-to-close")
    as_of = date(2020, 2, 17)
    got = measure(kpi, store, CATALOG.settings, today=as_of).to_pandas()
    want = complete_weeks(as_of, include_current=False)
    expected = []
    for start, median in zip(want.index, want["median"], strict=True):
        goal, tolerance = (7.0, 2.0) if start >= date(2020, 2, 1) else (10.0, 3.0)
        expected.append(
            "on_track" if median <= goal else "near_target" if median <= goal + tolerance else "off_track"
        )
    assert list(got["status"]) == expected
    assert list(got["target"]) == [7.0 if s >= date(2020, 2, 1) else 10.0 for s in want.index]
    assert [e.value for e in future_targets(kpi.target, CATALOG.settings.as_of or as_of)] == [5.0]
    assert future_targets(kpi.target, date(2020, 7, 1)) == []
    assert 5.0 not in measure(kpi, store, CATALOG.settings).to_pandas()["target"].tolist()


def test_today_for_prefers_the_flag_then_catalog_yaml() -> None:
    assert CATALOG.settings.as_of == date(2020, 3, 2)
    assert today_for(CATALOG.settings) == date(2020, 3, 2)
    assert today_for(CATALOG.settings, "2020-02-09") == date(2020, 2, 9)
    assert today_for(CATALOG.settings.model_copy(update={"as_of": None})) == date.today()


def run_json(argv: list[str], capsys: pytest.CaptureFixture[str]) -> Any:
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_measure_as_of_on_the_command_line(store_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = ["measure", "pothole-requests-weekly", "--catalog", str(DEMO_DIR), "--store", str(store_dir)]
    flagged = run_json([*base, "--format", "json", "--as-of", "2020-02-09"], capsys)
    want = complete_weeks(date(2020, 2, 9), include_current=False)
    assert [r["period_start"] for r in flagged] == [d.isoformat() for d in want.index]
    assert [r["value"] for r in flagged] == want["count"].astype(float).tolist()
    # Without the flag, catalog.yaml's as_of (2020-03-02) decides: every week through 2020-02-24.
    default = run_json([*base, "--format", "json"], capsys)
    assert default[-1]["period_start"] == "2020-02-24" and len(default) == 9


def test_a_bad_as_of_is_one_line_and_exit_2(store_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["measure", "pothole-requests-weekly", "--catalog", str(DEMO_DIR), "--store", str(store_dir)]
    assert main([*argv, "--as-of", "02/09/2020"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "error: --as-of 02/09/2020 is not a date: write it as YYYY-MM-DD, e.g. --as-of 2020-03-02."
    ]


def test_program_export_as_of(store_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Before its due day the second crew is open and not overdue; after it, overdue."""
    out = tmp_path / "program.json"
    base = ["catalog", "export", str(DEMO_DIR), "--format", "program", "--store", str(store_dir)]
    assert main([*base, "-o", str(out), "--as-of", "2020-02-27"]) == 0
    early = json.loads(out.read_text())
    late = run_json(base, capsys)
    assert (early["as_of"], late["as_of"]) == ("2020-02-27", "2020-03-02")

    def crew(doc: dict[str, Any]) -> dict[str, Any]:
        kpi = next(k for k in doc["kpis"] if k["id"] == "pothole-days-to-close")
        return next(a for a in kpi["actions"] if a["id"] == "second-crew")

    assert (crew(early)["state"], crew(early)["overdue"]) == ("open", False)
    assert (crew(late)["state"], crew(late)["overdue"]) == ("open", True)
    assert (early["summary"]["overdue_actions"], late["summary"]["overdue_actions"]) == (0, 1)
    # As of 2020-02-27 the week of 2020-02-24 has not ended: the latest period is the week before.
    kpi = next(k for k in early["kpis"] if k["id"] == "pothole-requests-weekly")
    assert kpi["latest"]["period_start"] == "2020-02-17"


def test_serve_as_of_freezes_the_served_series(tmp_path: Path) -> None:
    """``serve --demo --as-of 2020-02-09`` as a real process: the KPI download ends with the last
    week complete on that day, as pandas says."""
    demo_store(tmp_path / "s").close()  # the demo data already loaded, as on any start after the first
    argv = ["--demo", "--store", str(tmp_path / "s"), "--as-of", "2020-02-09"]
    with serve_command(argv, start_within=120) as url:
        rows = requests.get(f"{url}/kpi/pothole-requests-weekly.json", timeout=30).json()
    want = complete_weeks(date(2020, 2, 9), include_current=False)
    assert [r["period_start"] for r in rows] == [d.isoformat() for d in want.index]
    assert [r["value"] for r in rows] == want["count"].astype(float).tolist()


def test_serve_as_of_without_a_catalog_is_bad_usage(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", "--store", str(tmp_path / "s"), "--as-of", "2020-02-09"]) == 2
    assert "--as-of needs a catalog: add --demo or --catalog DIR." in capsys.readouterr().err


def test_render_as_of_draws_only_the_weeks_complete_that_day(
    store_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "chart.html"
    argv = ["render", "pothole-requests-weekly", "--catalog", str(DEMO_DIR), "--store", str(store_dir)]
    assert main([*argv, "-o", str(out), "--as-of", "2020-01-15"]) == 0
    early = out.read_text()
    assert main([*argv, "-o", str(out)]) == 0
    late = out.read_text()
    # As of Wednesday 2020-01-15 the weeks from 2019-12-30 and 2020-01-06 are complete.
    assert "2020-01-06" in early and "2020-01-13" not in early
    assert "2020-01-13" in late and "2020-02-24" in late
