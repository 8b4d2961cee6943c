"""Property: every period is judged against the target in force at its start.

For random target histories (dates, values, per-entry tolerances), random series (monthly or weekly
sums of random rows in a real store), rules and directions, each period's ``target`` and ``status``
from :func:`catalog.measure.measure` equal an independent implementation of the contract written
here: the last entry with ``from <= period_start`` (its own tolerance, else the KPI's); before the
first entry no target; entries after today never score.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from btvstat_open.store import Store
from btvstat_open.types import Column
from catalog import CatalogSettings, Kpi, measure

FIRST = date(2019, 1, 1)
TODAY = date(2020, 12, 31)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    with Store(tmp_path_factory.mktemp("property-store")) as s:
        yield s


def expected_status(value: float | None, entry: tuple[float, float] | None, rule: str, direction: str) -> str:
    """The contract's status rule, written out again for the test."""
    if value is None:
        return "no_data"
    if entry is None:
        return "no_target"
    goal, tolerance = entry
    if rule == "proximity":
        return "on_track" if abs(value - goal) <= tolerance else "off_track"
    better_or_equal = value >= goal if direction == "higher_is_better" else value <= goal
    if better_or_equal:
        return "on_track"
    within = value >= goal - tolerance if direction == "higher_is_better" else value <= goal + tolerance
    return "near_target" if within else "off_track"


def in_force(
    history: list[dict[str, Any]], default_tolerance: float, start: date
) -> tuple[float, float] | None:
    started = [e for e in history if e["from"] <= start]
    if not started:
        return None
    entry = max(started, key=lambda e: e["from"])
    tolerance = entry.get("tolerance")
    return (entry["value"], default_tolerance if tolerance is None else tolerance)


entries = st.lists(
    st.fixed_dictionaries(
        {
            "from": st.dates(min_value=date(2018, 6, 1), max_value=date(2021, 6, 30)),
            "value": st.integers(min_value=0, max_value=40).map(float),
        },
        optional={"tolerance": st.integers(min_value=0, max_value=6).map(float)},
    ),
    min_size=1,
    max_size=6,
    unique_by=lambda e: e["from"],
).map(lambda es: sorted(es, key=lambda e: e["from"]))
# Days up to 2020-09-30 (offset 638): the quarter holding TODAY has not ended, so its rows are
# not scored; a sample of only such rows would have nothing to check.
rows = st.lists(
    st.tuples(st.integers(min_value=0, max_value=638), st.integers(min_value=0, max_value=12)),
    min_size=1,
    max_size=60,
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    history=entries,
    tolerance=st.integers(min_value=0, max_value=5).map(float),
    data=rows,
    rule=st.sampled_from(["above_below", "proximity"]),
    direction=st.sampled_from(["higher_is_better", "lower_is_better"]),
    size=st.sampled_from(["month", "week", "quarter"]),
)
def test_each_period_is_scored_against_the_target_in_force_at_its_start(
    store: Store,
    history: list[dict[str, Any]],
    tolerance: float,
    data: list[tuple[int, int]],
    rule: str,
    direction: str,
    size: str,
) -> None:
    days = [datetime.combine(FIRST + timedelta(days=offset), datetime.min.time()) for offset, _ in data]
    columns = [Column("day", "Day", "floating_timestamp"), Column("v", "V", "number")]
    store.load("t", pa.table({"day": days, "v": [float(v) for _, v in data]}), columns)
    kpi = Kpi.model_validate(
        {
            "id": "k",
            "title": "K",
            "department": "D",
            "source": {"dataset": "t", "date_column": "day"},
            "measure": {"calculation": "sum", "column": "v"},
            "period": {"size": size},
            "direction": direction,
            "target": {"rule": rule, "tolerance": tolerance, "history": history},
        }
    )
    series = measure(kpi, store, CatalogSettings(), today=TODAY).to_pylist()
    assert series
    for row in series:
        entry = in_force(history, tolerance, row["period_start"])
        assert row["target"] == (entry[0] if entry else None)
        assert row["status"] == expected_status(row["value"], entry, rule, direction), (row, entry)
        # No period starts after today, so an entry from after today never scores one.
        assert row["period_start"] <= TODAY
