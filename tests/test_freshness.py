"""Freshness on the real Kansas City 311 file and on a dataset synced from a real local portal.

Expected values come from pandas (``DateOffset`` for calendar months and years, ``Timedelta`` for
days) and from the portal's own ``Last-Modified`` header, not from :mod:`catalog.freshness`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import requests
from faults import serve_portal

from btvstat_open.load import load_file
from btvstat_open.store import Store
from btvstat_open.sync import sync_dataset
from catalog.freshness import data_updated_at, freshness, subtract_interval
from catalog.measure import measure
from catalog.models import CatalogSettings, Freshness, Kpi
from connectors import connect

KC_CSV = Path(__file__).parent / "data" / "real" / "kc-311-potholes" / "311_Call_Center_Service_Requests.csv"
SETTINGS = CatalogSettings(fiscal_year_start=7)
OFFSETS = {
    "daily": pd.DateOffset(days=1),
    "weekly": pd.DateOffset(weeks=1),
    "monthly": pd.DateOffset(months=1),
    "quarterly": pd.DateOffset(months=3),
    "yearly": pd.DateOffset(years=1),
    "P10D": pd.DateOffset(days=10),
    "P2W": pd.DateOffset(weeks=2),
    "P1Y6M": pd.DateOffset(years=1, months=6),
    "P1M2W3D": pd.DateOffset(months=1, weeks=2, days=3),
}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    with Store(tmp_path_factory.mktemp("freshness")) as s:
        load_file(s, KC_CSV, "kc-311")
        yield s


def kpi(expect: str | None, size: str = "month", dataset: str = "kc-311", **more: Any) -> Kpi:
    spec: dict[str, Any] = {
        "id": "k",
        "title": "Pothole requests",
        "department": "Public Works",
        "source": {"dataset": dataset, "date_column": "creation_date"},
        "measure": {"calculation": "count"},
        "period": {"size": size},
        **more,
    }
    if expect is not None:
        spec["freshness"] = {"expect": expect}
    return Kpi.model_validate(spec)


def minus(day: date, expect: str) -> date:
    """``day`` minus the interval, by pandas (years and months first, then weeks and days)."""
    offset = OFFSETS[expect]
    kw = offset.kwds
    calendar = pd.DateOffset(years=kw.get("years", 0), months=kw.get("months", 0))
    rest = pd.Timedelta(weeks=kw.get("weeks", 0), days=kw.get("days", 0))
    result: date = (pd.Timestamp(day) - calendar - rest).date()
    return result


def test_intervals_are_calendar_intervals() -> None:
    days = [date(2019, 12, 31), date(2020, 2, 29), date(2020, 3, 31), date(2021, 1, 1), date(2020, 5, 31)]
    days += [date(2020, 1, 1) + timedelta(days=n) for n in range(0, 400, 17)]
    for day, expect in itertools.product(days, OFFSETS):
        assert subtract_interval(day, expect) == minus(day, expect), (day, expect)
        assert Freshness(expect=expect).expect == expect  # the model accepts every one of them
    assert subtract_interval(date(2020, 3, 31), "P1M") == date(2020, 2, 29)


def near_changes(days: list[date], flag: Callable[[date], bool]) -> list[date]:
    """The days where ``flag`` (computed by pandas) changes, with the day before each, and the ends."""
    picked = {days[0], days[-1]}
    for before, after in itertools.pairwise(days):
        if flag(before) != flag(after):
            picked |= {before, after}
    return sorted(picked)


def test_behind_matches_pandas_on_the_real_series(store: Store) -> None:
    df = pd.read_csv(KC_CSV, encoding="utf-8-sig", dtype=str)
    days = pd.to_datetime(df["CREATION DATE"], format="%m/%d/%y")
    calendar = [date(2020, 1, 20) + timedelta(days=n) for n in range(200)]
    for size, expect in (("month", "monthly"), ("week", "weekly"), ("week", "P10D"), ("month", "P2W")):
        k = kpi(expect, size)
        # pandas: the periods with rows, their ends; on a day, the latest one that ended before it.
        ends = sorted({p.end_time.date() for p in days.dt.to_period("W-SUN" if size == "week" else "M")})

        def latest(today: date, ends: list[date] = ends) -> date | None:
            return max((end for end in ends if end < today), default=None)

        def behind(today: date, expect: str = expect) -> bool:
            end = latest(today)
            return end is None or end < minus(today, expect)

        checked = near_changes(calendar, behind)
        assert len(checked) >= 4  # not behind for a while, then behind
        for today in checked:
            report = freshness(k, store, measure(k, store, SETTINGS, today=today), today=today)
            assert report.latest_period_end == latest(today), (size, today)
            assert report.behind is behind(today), (size, expect, today)


def test_stale_follows_the_stores_write_time(store: Store) -> None:
    updated = data_updated_at(store, "kc-311")
    assert updated == store.info("kc-311").rows_updated_at.replace(tzinfo=UTC)
    assert abs(datetime.now(UTC) - updated) < timedelta(hours=1)  # loaded by this module's fixture
    series = measure(kpi("weekly"), store, SETTINGS, today=date(2100, 1, 1))
    calendar = [updated.date() + timedelta(days=n) for n in range(800)]
    for expect in OFFSETS:
        k = kpi(expect)

        def stale(today: date, expect: str = expect) -> bool:
            return updated.date() < (pd.Timestamp(minus(today, expect)) - pd.Timedelta(days=1)).date()

        checked = near_changes(calendar, stale)
        assert len(checked) == 4  # fresh, then stale from one day on
        for today in checked:
            report = freshness(k, store, series, today=today)
            assert report.stale is stale(today), (expect, today)
            assert (
                report.days_since_update(today) == (pd.Timestamp(today) - pd.Timestamp(updated.date())).days
            )
    weekly = kpi("weekly")
    assert not freshness(weekly, store, series, today=updated.date() + timedelta(days=8)).stale
    assert freshness(weekly, store, series, today=updated.date() + timedelta(days=9)).stale


def test_without_an_expectation_nothing_is_flagged(store: Store) -> None:
    k = kpi(None)
    series = measure(k, store, SETTINGS, today=date(2030, 1, 1))
    report = freshness(k, store, series, today=date(2030, 1, 1))
    assert (report.expect, report.stale, report.behind) == (None, False, False)
    assert report.latest_period_end == date(2020, 2, 29)
    document = report.to_json()
    assert document["latest_period_end"] == "2020-02-29" and document["data_updated_at"].endswith("Z")


def test_a_synced_dataset_is_as_fresh_as_its_source(tmp_path: Path) -> None:
    with Store(tmp_path / "source") as source, Store(tmp_path / "local") as local:
        load_file(source, KC_CSV, "potholes")
        with serve_portal(source) as (url, _):
            header = requests.get(f"{url}/api/views/potholes.json", timeout=10).headers["Last-Modified"]
            sync_dataset(connect(url), "potholes", local, progress=False)
        source_modified = parsedate_to_datetime(header)
        # The portal's Last-Modified is the source's own change time (to the second), not the copy's.
        assert source_modified == source.info("potholes").rows_updated_at.replace(tzinfo=UTC, microsecond=0)
        assert data_updated_at(local, "potholes") == source_modified
        assert local.info("potholes").rows_updated_at.replace(tzinfo=UTC) > source_modified
        k = kpi("P1D", dataset="potholes")
        series = measure(k, local, SETTINGS, today=date(2100, 1, 1))
        day = source_modified.date()
        assert not freshness(k, local, series, today=day + timedelta(days=2)).stale
        assert freshness(k, local, series, today=day + timedelta(days=3)).stale
        # Written over by a load since the sync: the store's own write time counts again.
        load_file(local, KC_CSV, "potholes")
        assert data_updated_at(local, "potholes") == local.info("potholes").rows_updated_at.replace(
            tzinfo=UTC
        )


def library_months(df: pd.DataFrame) -> Any:
    return pd.to_datetime(df["Month"], format="%b-%y").dt.to_period("M")


def fiscal_years(df: pd.DataFrame) -> Any:
    return pd.PeriodIndex(df["Fiscal Year"].astype(int).astype(str), freq="Y-JUN")  # FY2013 ends 2013-06-30


@pytest.mark.parametrize(
    ("file", "date_column", "size", "expect", "periods"),
    [
        ("Library_Monthly_Stats.csv", "month", "month", "monthly", library_months),  # Jul-13 .. Oct-14
        (
            "Operating_Indicators_for_City_Departments.csv",
            "fiscal_year",
            "fiscal_year",
            "yearly",
            fiscal_years,
        ),
    ],
)
def test_behind_on_los_angeles_series(
    tmp_path: Path,
    file: str,
    date_column: str,
    size: str,
    expect: str,
    periods: Callable[[pd.DataFrame], Any],
) -> None:
    path = Path(__file__).parent / "data" / "real" / "la-city-kpis" / file
    df = pd.read_csv(path).dropna(how="all")
    ends = sorted({p.end_time.date() for p in periods(df)})
    first, last = ends[0], ends[-1]
    calendar = [first + timedelta(days=n) for n in range(-40, (last - first).days + 800, 1)]

    def behind(today: date) -> bool:
        # pandas: as of a day, the latest period that has ended.
        ended = [end for end in ends if end < today]
        return not ended or max(ended) < minus(today, expect)

    k = kpi(expect, size, dataset="la", source={"dataset": "la", "date_column": date_column})
    with Store(tmp_path / "store") as store:
        load_file(store, path, "la")
        checked = near_changes(calendar, behind)
        assert len(checked) >= 4
        for today in checked:
            report = freshness(k, store, measure(k, store, SETTINGS, today=today), today=today)
            assert report.behind is behind(today), today


def test_as_of_a_past_day_data_changed_later_counts_as_changed_that_day(tmp_path: Path) -> None:
    # The demo and archived packets are judged as of a past day; the store was written today.
    day = date(2020, 3, 2)
    k = kpi("weekly")
    reports = []
    for n in range(2):  # loading again (a new write time) changes nothing as of that day
        with Store(tmp_path / f"s{n}") as s:
            load_file(s, KC_CSV, "kc-311")
            assert data_updated_at(s, "kc-311").date() > day
            reports.append(freshness(k, s, measure(k, s, SETTINGS, today=day), today=day))
    assert reports[0] == reports[1]
    assert reports[0].data_updated_at == datetime(2020, 3, 2, tzinfo=UTC)
    assert (reports[0].stale, reports[0].days_since_update(day)) == (False, 0)
