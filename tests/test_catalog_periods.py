"""Periods and status rules against independent definitions.

Period starts computed in DuckDB (the measure engine's SQL) must equal the Python ones used to fill
the series, for every day of several years, every period size and every fiscal-year start month;
period ends and fiscal years are checked against calendar arithmetic written here; status is checked
on and around every band edge.
"""

from __future__ import annotations

import calendar
import itertools
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from btvstat_open.store import Store
from btvstat_open.types import Column
from catalog import CatalogSettings, Kpi, measure
from catalog.models import PERIOD_SIZES, Target
from catalog.periods import fiscal_year_label, period_end, period_start, period_start_sql
from catalog.status import status

DAYS = [date(2019, 12, 1) + timedelta(days=i) for i in range(3 * 366 + 40)]


def expected_start(day: date, size: str, fy_start: int) -> date:
    """Period starts from first principles (not from catalog.periods)."""
    if size == "week":
        year, week, _ = day.isocalendar()
        return date.fromisocalendar(year, week, 1)
    if size == "month":
        return date(day.year, day.month, 1)
    if size == "quarter":
        return date(
            day.year, {1: 1, 2: 1, 3: 1, 4: 4, 5: 4, 6: 4}.get(day.month, 7 if day.month < 10 else 10), 1
        )
    if size == "year":
        return date(day.year, 1, 1)
    candidates = [date(day.year - 1, fy_start, 1), date(day.year, fy_start, 1)]
    return max(c for c in candidates if c <= day)


def expected_end(start: date, size: str) -> date:
    months = {"month": 1, "quarter": 3, "year": 12, "fiscal_year": 12}.get(size)
    if months is None:
        return start + timedelta(days=6)
    last_month_index = start.month - 1 + months - 1
    year, month = start.year + last_month_index // 12, last_month_index % 12 + 1
    return date(year, month, calendar.monthrange(year, month)[1])


@pytest.mark.parametrize("size", PERIOD_SIZES)
def test_sql_and_python_period_starts_agree_with_the_calendar(size: str) -> None:
    con = duckdb.connect()
    table = pa.table({"d": DAYS})
    for fy_start in range(1, 13) if size == "fiscal_year" else (7,):
        sql = f"SELECT {period_start_sql('d', size, fy_start)} FROM table_arg ORDER BY d"
        con.register("table_arg", table)
        from_sql = [row[0] for row in con.execute(sql).fetchall()]
        want = [expected_start(d, size, fy_start) for d in DAYS]
        assert from_sql == want, (size, fy_start)
        assert [period_start(d, size, fy_start) for d in DAYS] == want, (size, fy_start)
        for start in set(want):
            end = period_end(start, size, fy_start)
            assert end == expected_end(start, size)
            assert period_start(end, size, fy_start) == start
            assert period_start(end + timedelta(days=1), size, fy_start) == end + timedelta(days=1)


def test_fiscal_year_labels_name_the_year_they_end_in() -> None:
    assert fiscal_year_label(date(2012, 7, 1), 7) == 2013
    assert fiscal_year_label(date(2013, 6, 30), 7) == 2013
    assert fiscal_year_label(date(2020, 10, 1), 10) == 2021
    assert fiscal_year_label(date(2020, 9, 30), 10) == 2020
    assert fiscal_year_label(date(2020, 12, 31), 1) == 2020


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "s") as s:
        yield s


def count_kpi(size: str, **period: Any) -> Kpi:
    return Kpi.model_validate(
        {
            "id": "k",
            "title": "K",
            "department": "D",
            "source": {"dataset": "t", "date_column": "day"},
            "measure": {"calculation": "count"},
            "period": {"size": size, **period},
        }
    )


def test_federal_fiscal_years_from_october(store: Store) -> None:
    days = [datetime(2020, 9, 30, 23), datetime(2020, 10, 1), datetime(2022, 9, 30)]
    store.load("t", pa.table({"day": days}), [Column("day", "Day", "floating_timestamp")])
    out = measure(
        count_kpi("fiscal_year", include_current=True),
        store,
        CatalogSettings(fiscal_year_start=10),
        today=date(2100, 1, 1),
    ).to_pylist()
    assert [(r["period_start"], r["period_end"], r["value"]) for r in out] == [
        (date(2019, 10, 1), date(2020, 9, 30), 1.0),
        (date(2020, 10, 1), date(2021, 9, 30), 1.0),
        (date(2021, 10, 1), date(2022, 9, 30), 1.0),
    ]


@pytest.mark.parametrize("size", PERIOD_SIZES)
def test_include_current_false_drops_exactly_the_unfinished_period(store: Store, size: str) -> None:
    day = datetime(2021, 5, 12)
    store.load(
        "t", pa.table({"day": [datetime(2019, 1, 2), day]}), [Column("day", "Day", "floating_timestamp")]
    )
    settings = CatalogSettings(fiscal_year_start=7)
    last_start = expected_start(day.date(), size, 7)
    last_end = expected_end(last_start, size)
    complete = count_kpi(size, include_current=False)
    on_last_day = measure(complete, store, settings, today=last_end).to_pylist()
    assert on_last_day[-1]["period_end"] < last_start
    after = measure(complete, store, settings, today=last_end + timedelta(days=1)).to_pylist()
    assert (after[-1]["period_start"], after[-1]["period_end"], after[-1]["value"]) == (
        last_start,
        last_end,
        1.0,
    )
    # Every period between the two rows is there, in order and without gaps, counting zero.
    starts = [r["period_start"] for r in after]
    assert starts[0] == expected_start(date(2019, 1, 2), size, 7)
    assert all(period_end(a, size) + timedelta(days=1) == b for a, b in itertools.pairwise(starts))
    assert [r["value"] for r in after[1:-1]] == [0.0] * (len(after) - 2)


HIGHER = Target(value=80, tolerance=5)
STATUS_CASES = [
    # value, target, direction, status
    (85.0, HIGHER, "higher_is_better", "on_track"),
    (80.0, HIGHER, "higher_is_better", "on_track"),  # on the target
    (79.999, HIGHER, "higher_is_better", "near_target"),
    (75.0, HIGHER, "higher_is_better", "near_target"),  # on the band's far edge
    (74.999, HIGHER, "higher_is_better", "off_track"),
    (75.0, HIGHER, "lower_is_better", "on_track"),
    (80.0, HIGHER, "lower_is_better", "on_track"),
    (80.001, HIGHER, "lower_is_better", "near_target"),
    (85.0, HIGHER, "lower_is_better", "near_target"),
    (85.001, HIGHER, "lower_is_better", "off_track"),
    (80.0, Target(value=80), "higher_is_better", "on_track"),  # no band: near_target never happens
    (79.9, Target(value=80), "higher_is_better", "off_track"),
    (80.1, Target(value=80), "lower_is_better", "off_track"),
    (75.0, Target(value=80, rule="proximity", tolerance=5), "none", "on_track"),
    (85.0, Target(value=80, rule="proximity", tolerance=5), "higher_is_better", "on_track"),
    (85.001, Target(value=80, rule="proximity", tolerance=5), "none", "off_track"),
    (74.999, Target(value=80, rule="proximity", tolerance=5), "lower_is_better", "off_track"),
    (80.0, Target(value=80, rule="proximity"), "none", "on_track"),
    (-1.0, Target(value=0, tolerance=1), "higher_is_better", "near_target"),
    (12.0, None, "higher_is_better", "no_target"),
    (None, HIGHER, "higher_is_better", "no_data"),
    (float("nan"), HIGHER, "higher_is_better", "no_data"),
]


@pytest.mark.parametrize(("value", "target", "direction", "expected"), STATUS_CASES)
def test_status_rules_and_band_edges(
    value: float | None, target: Target | None, direction: str, expected: str
) -> None:
    assert status(value, target, direction) == expected
