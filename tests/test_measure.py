"""Edge cases of the measure engine on small hand-made datasets in a real store."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any, get_args

import numpy as np
import pyarrow as pa
import pytest

from btvstat_open.store import Store
from btvstat_open.types import Column
from catalog import CatalogSettings, Kpi, measure, measure_frame
from catalog.measure import RATE_SCHEMA, SERIES_SCHEMA
from catalog.models import Target
from catalog.models.base import Calculation
from catalog.status import status

FAR_FUTURE = date(2100, 1, 1)
SETTINGS = CatalogSettings(fiscal_year_start=7)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "store") as s:
        yield s


def load(
    store: Store,
    days: list[Any],
    values: list[float | None],
    kind: str = "floating_timestamp",
    extra: dict[str, list[Any]] | None = None,
) -> None:
    columns = [Column("day", "Day", kind), Column("v", "V", "number")]
    data: dict[str, list[Any]] = {"day": days, "v": values}
    for name, vals in (extra or {}).items():
        columns.append(Column(name, name, "text" if isinstance(vals[0], str) else "number"))
        data[name] = vals
    store.load("t", pa.table(data), columns)


def kpi(calculation: str, size: str = "month", **more: Any) -> Kpi:
    spec: dict[str, Any] = {
        "id": "k",
        "title": "K",
        "department": "D",
        "source": {"dataset": "t", "date_column": "day"},
        "measure": {"calculation": calculation},
        "period": {"size": size, "include_current": True},
    }
    if calculation not in ("count", "rate"):
        spec["measure"]["column"] = "v"
    for key, value in more.items():
        if key in ("measure", "period", "source"):
            spec[key].update(value)
        else:
            spec[key] = value
    return Kpi.model_validate(spec)


def rows(table: pa.Table) -> list[dict[str, Any]]:
    return table.to_pylist()


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_empty_periods_are_zero_for_count_and_sum_and_no_data_otherwise(store: Store) -> None:
    load(store, [ts("2020-01-05"), ts("2020-03-10")], [4.0, 6.0])
    for calc, gap in (("count", 0.0), ("sum", 0.0), ("average", None), ("median", None)):
        out = rows(measure(kpi(calc), store, SETTINGS, today=FAR_FUTURE))
        assert [r["period_start"] for r in out] == [date(2020, 1, 1), date(2020, 2, 1), date(2020, 3, 1)]
        assert out[1]["value"] == gap
        assert out[1]["status"] == ("no_target" if gap is not None else "no_data")


def test_one_row_period_gives_that_value_for_every_statistic(store: Store) -> None:
    load(store, [ts("2020-01-05")], [3.5])
    for calc, extra in (("average", {}), ("median", {}), ("percentile", {"percentile": 90}), ("recent", {})):
        out = rows(measure(kpi(calc, measure=extra), store, SETTINGS, today=FAR_FUTURE))
        assert [r["value"] for r in out] == [3.5]


def test_nulls_in_the_value_column_are_ignored(store: Store) -> None:
    days = [ts("2020-01-01"), ts("2020-01-02"), ts("2020-01-03"), ts("2020-02-01")]
    load(store, days, [1.0, None, 3.0, None])
    avg = rows(measure(kpi("average"), store, SETTINGS, today=FAR_FUTURE))
    assert [r["value"] for r in avg] == [2.0, None]
    assert avg[1]["status"] == "no_data"
    total = rows(measure(kpi("sum"), store, SETTINGS, today=FAR_FUTURE))
    assert [r["value"] for r in total] == [4.0, 0.0]
    count = rows(measure(kpi("count"), store, SETTINGS, today=FAR_FUTURE))
    assert [r["value"] for r in count] == [3.0, 1.0]
    # The latest row of January has no value: recent takes the latest row that has one.
    recent = rows(measure(kpi("recent"), store, SETTINGS, today=FAR_FUTURE))
    assert [r["value"] for r in recent] == [3.0, None]


def test_fiscal_years_cross_calendar_years(store: Store) -> None:
    days = [ts("2012-06-30"), ts("2012-07-01"), ts("2013-01-15"), ts("2013-06-30T23:59:00")]
    load(store, days, [1.0, 2.0, 3.0, 4.0])
    out = rows(measure(kpi("sum", size="fiscal_year"), store, SETTINGS, today=FAR_FUTURE))
    assert [(r["period_start"], r["period_end"], r["value"]) for r in out] == [
        (date(2011, 7, 1), date(2012, 6, 30), 1.0),
        (date(2012, 7, 1), date(2013, 6, 30), 9.0),
    ]


def test_cumulative_totals_restart_each_fiscal_year(store: Store) -> None:
    days = [ts("2012-05-03"), ts("2012-06-03"), ts("2012-07-03"), ts("2012-09-03")]
    load(store, days, [1.0, 2.0, 3.0, 4.0])
    out = rows(measure(kpi("sum", measure={"cumulative": True}), store, SETTINGS, today=FAR_FUTURE))
    assert [r["value"] for r in out] == [1.0, 3.0, 3.0, 3.0, 7.0]
    calendar = rows(
        measure(
            kpi("sum", measure={"cumulative": True}),
            store,
            CatalogSettings(fiscal_year_start=1),
            today=FAR_FUTURE,
        )
    )
    assert [r["value"] for r in calendar] == [1.0, 3.0, 6.0, 6.0, 10.0]


def test_iso_weeks_at_a_year_boundary(store: Store) -> None:
    days = [ts("2020-12-31"), ts("2021-01-03T23:00:00"), ts("2021-01-04")]
    load(store, days, [1.0, 1.0, 1.0])
    out = rows(measure(kpi("count", size="week"), store, SETTINGS, today=FAR_FUTURE))
    assert [(r["period_start"], r["period_end"], r["value"]) for r in out] == [
        (date(2020, 12, 28), date(2021, 1, 3), 2.0),
        (date(2021, 1, 4), date(2021, 1, 10), 1.0),
    ]
    assert date(2021, 1, 3).isocalendar()[:2] == (2020, 53)


def test_rate_with_zero_denominator_is_no_data(store: Store) -> None:
    load(store, [ts("2020-01-05"), ts("2020-03-05")], [1.0, 5.0])
    rate = kpi(
        "rate",
        measure={
            "numerator": {"calculation": "count", "where": "v > 2"},
            "denominator": {"calculation": "sum", "column": "v", "where": "v > 2"},
            "as_percent": True,
        },
    )
    out = rows(measure(rate, store, SETTINGS, today=FAR_FUTURE))
    assert [(r["numerator"], r["denominator"], r["value"], r["status"]) for r in out] == [
        (0.0, 0.0, None, "no_data"),
        (0.0, 0.0, None, "no_data"),
        (1.0, 5.0, 20.0, "no_target"),
    ]


def test_percentiles_on_ties_match_numpy(store: Store) -> None:
    values = [1.0, 2.0, 2.0, 2.0, 3.0, 7.0, 7.0]
    load(store, [ts("2020-01-05")] * len(values), values)
    for p in (10, 25, 50, 75, 90, 99):
        calc = "median" if p == 50 else "percentile"
        extra = {} if p == 50 else {"percentile": p}
        out = rows(measure(kpi(calc, measure=extra), store, SETTINGS, today=FAR_FUTURE))
        assert out[0]["value"] == pytest.approx(float(np.percentile(values, p)))


def test_target_exactly_on_a_band_edge(store: Store) -> None:
    load(
        store, [ts("2020-01-05"), ts("2020-02-05"), ts("2020-03-05"), ts("2020-04-05")], [5.0, 7.0, 9.0, 4.9]
    )
    higher = kpi("sum", direction="higher_is_better", target={"value": 7, "tolerance": 2})
    out = rows(measure(higher, store, SETTINGS, today=FAR_FUTURE))
    assert [r["status"] for r in out] == ["near_target", "on_track", "on_track", "off_track"]
    assert {r["target"] for r in out} == {7.0}
    lower = kpi("sum", direction="lower_is_better", target={"value": 7, "tolerance": 2})
    assert [r["status"] for r in rows(measure(lower, store, SETTINGS, today=FAR_FUTURE))] == [
        "on_track",
        "on_track",
        "near_target",
        "on_track",
    ]
    near = kpi("sum", target={"value": 7, "tolerance": 2, "rule": "proximity"})
    assert [r["status"] for r in rows(measure(near, store, SETTINGS, today=FAR_FUTURE))] == [
        "on_track",
        "on_track",
        "on_track",
        "off_track",
    ]


def test_band_edges_survive_binary_rounding() -> None:
    target = Target(value=0.3, tolerance=0.1)
    assert status(0.1 + 0.1, target, "higher_is_better") == "near_target"  # 0.2 edge, 0.20000000000000004
    assert status(0.1 + 0.2, Target(value=0.3), "higher_is_better") == "on_track"
    assert status(0.4, Target(value=0.3, tolerance=0.1, rule="proximity"), "none") == "on_track"
    assert status(0.41, Target(value=0.3, tolerance=0.1, rule="proximity"), "none") == "off_track"


def test_include_current_drops_periods_not_yet_ended(store: Store) -> None:
    load(store, [ts("2020-01-05"), ts("2020-02-05"), ts("2020-03-05")], [1.0, 1.0, 1.0])
    complete = kpi("count", period={"include_current": False})
    out = rows(measure(complete, store, SETTINGS, today=date(2020, 3, 31)))
    assert [r["period_start"] for r in out] == [date(2020, 1, 1), date(2020, 2, 1)]
    out = rows(measure(complete, store, SETTINGS, today=date(2020, 4, 1)))
    assert len(out) == 3
    # include_current shows the period under way (a row dated on the as-of day is in it).
    out = rows(measure(kpi("count"), store, SETTINGS, today=date(2020, 3, 5)))
    assert len(out) == 3


def test_period_start_extends_and_trims_the_series(store: Store) -> None:
    load(store, [ts("2020-03-05"), ts("2020-05-05")], [1.0, 1.0])
    early = rows(
        measure(kpi("count", period={"start": date(2020, 1, 15)}), store, SETTINGS, today=FAR_FUTURE)
    )
    assert [r["value"] for r in early] == [0.0, 0.0, 1.0, 0.0, 1.0]
    assert early[0]["period_start"] == date(2020, 1, 1)
    late = rows(measure(kpi("count", period={"start": date(2020, 4, 1)}), store, SETTINGS, today=FAR_FUTURE))
    assert [r["period_start"] for r in late] == [date(2020, 4, 1), date(2020, 5, 1)]


def test_year_number_columns_map_to_fiscal_and_calendar_years(store: Store) -> None:
    load(store, [2012.0, 2013.0, None], [1.0, 2.0, 5.0], kind="number")
    fiscal = rows(measure(kpi("sum", size="fiscal_year"), store, SETTINGS, today=FAR_FUTURE))
    assert [(r["period_start"], r["period_end"], r["value"]) for r in fiscal] == [
        (date(2011, 7, 1), date(2012, 6, 30), 1.0),
        (date(2012, 7, 1), date(2013, 6, 30), 2.0),
    ]
    calendar = rows(measure(kpi("sum", size="year"), store, SETTINGS, today=FAR_FUTURE))
    assert [r["period_start"] for r in calendar] == [date(2012, 1, 1), date(2013, 1, 1)]


def test_fixed_timestamps_are_dated_in_utc(store: Store) -> None:
    from datetime import UTC, timedelta, timezone

    late_evening_west = datetime(2020, 1, 31, 20, 0, tzinfo=timezone(timedelta(hours=-6)))  # Feb 1 UTC
    load(store, [late_evening_west, datetime(2020, 1, 10, tzinfo=UTC)], [1.0, 1.0], kind="fixed_timestamp")
    out = rows(measure(kpi("count"), store, SETTINGS, today=FAR_FUTURE))
    assert [(r["period_start"], r["value"]) for r in out] == [
        (date(2020, 1, 1), 1.0),
        (date(2020, 2, 1), 1.0),
    ]


def test_kpi_where_is_applied_before_the_measure(store: Store) -> None:
    load(
        store,
        [ts("2020-01-05"), ts("2020-01-06"), ts("2020-01-07")],
        [1.0, 2.0, 3.0],
        extra={"kind": ["a", "b", "a"]},
    )
    out = rows(measure(kpi("sum", source={"where": "kind = 'a'"}), store, SETTINGS, today=FAR_FUTURE))
    assert [r["value"] for r in out] == [4.0]
    share = kpi(
        "rate",
        source={"where": "kind = 'a'"},
        measure={"numerator": {"where": "v > 1"}, "denominator": {}, "as_percent": False},
    )
    assert [r["value"] for r in rows(measure(share, store, SETTINGS, today=FAR_FUTURE))] == [0.5]


def test_cumulative_rate_accumulates_numerator_and_denominator(store: Store) -> None:
    load(store, [ts("2020-01-05"), ts("2020-01-06"), ts("2020-02-05")], [1.0, 9.0, 9.0])
    rate = kpi("rate", measure={"numerator": {"where": "v > 5"}, "denominator": {}, "cumulative": True})
    out = rows(measure(rate, store, SETTINGS, today=FAR_FUTURE))
    assert [(r["numerator"], r["denominator"], r["value"]) for r in out] == [
        (1.0, 2.0, 0.5),
        (2.0, 3.0, 2 / 3),
    ]


def test_no_rows_gives_an_empty_series_with_the_contract_schema(store: Store) -> None:
    load(store, [ts("2020-01-05")], [1.0])
    table = measure(kpi("count", source={"where": "v > 100"}), store, SETTINGS, today=FAR_FUTURE)
    assert table.num_rows == 0
    assert table.schema.names == ["period_start", "period_end", "value", "target", "status"]
    frame = measure_frame(kpi("count"), store, SETTINGS, today=FAR_FUTURE)
    assert list(frame.columns) == ["period_start", "period_end", "value", "target", "status"]
    assert frame["value"].tolist() == [1.0]


# What each calculation needs besides its column (a rate: its two counts).
CALCULATION_OPTIONS: dict[str, dict[str, Any]] = {
    "rate": {"numerator": {}, "denominator": {}},
    "percentile": {"percentile": 90},
}


@pytest.mark.parametrize("calculation", get_args(Calculation))
@pytest.mark.parametrize("where", [None, "v > 100"])
def test_every_calculation_gives_the_published_series_schema(
    store: Store, calculation: str, where: str | None
) -> None:
    """Every calculation, over rows and over none, answers with the schema the package publishes."""
    load(store, [ts("2020-01-05"), ts("2020-02-05")], [1.0, 3.0])
    source = {"where": where} if where else {}
    shown = kpi(calculation, measure=CALCULATION_OPTIONS.get(calculation, {}), source=source)
    table = measure(shown, store, SETTINGS, today=FAR_FUTURE)
    assert table.schema == (RATE_SCHEMA if calculation == "rate" else SERIES_SCHEMA)
    assert (table.num_rows == 0) == (where is not None)


def test_cumulative_total_counts_the_fiscal_year_before_period_start(store: Store) -> None:
    """A running total shown from period.start still includes that fiscal year's earlier periods."""
    days = [ts("2012-07-03"), ts("2012-08-03"), ts("2012-09-03"), ts("2013-07-03")]
    load(store, days, [1.0, 2.0, 3.0, 4.0])
    shown = kpi("sum", measure={"cumulative": True}, period={"start": date(2012, 9, 1)})
    out = rows(measure(shown, store, SETTINGS, today=FAR_FUTURE))
    assert out[0]["period_start"] == date(2012, 9, 1)
    assert [r["value"] for r in out[:2]] == [6.0, 6.0]
    assert out[-1]["period_start"] == date(2013, 7, 1) and out[-1]["value"] == 4.0


@pytest.mark.parametrize("order", [[0, 1, 2], [1, 0, 2], [2, 1, 0], [1, 2, 0]])
def test_recent_takes_the_latest_timestamp_not_the_load_order(store: Store, order: list[int]) -> None:
    days = [ts("2020-01-31T18:00:00"), ts("2020-01-31T09:00:00"), ts("2020-01-02T23:00:00")]
    values = [5.0, 7.0, 9.0]
    load(store, [days[i] for i in order], [values[i] for i in order])
    out = rows(measure(kpi("recent"), store, SETTINGS, today=FAR_FUTURE))
    assert [r["value"] for r in out] == [5.0]
