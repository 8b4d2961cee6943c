"""Every demo KPI's series equals an independent pandas computation on the original CSV file.

The expected values come from tests/demo_expected.py (pandas on tests/data/real, not the bundled
Parquet and not the measure engine or SoQL).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from demo_expected import EXPECTED, expected_status, targets_in_force
from demo_store import demo_store

from btvstat_open.store import Store
from catalog import Catalog, load_catalog, measure
from catalog.demo import DEMO_DIR, load_demo_data

TODAY = date(2026, 11, 23)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Catalog, Store]]:
    with demo_store(tmp_path_factory.mktemp("demo-store")) as store:
        yield load_catalog(DEMO_DIR, store=store), store


def test_every_demo_kpi_has_an_independent_expectation(demo: tuple[Catalog, Store]) -> None:
    catalog, _ = demo
    assert sorted(EXPECTED) == sorted(catalog.kpis)


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
    rule = kpi.target.rule if kpi.target else "above_below"
    statuses = [
        expected_status(value, goal, tolerance, rule, kpi.direction)
        for value, goal, tolerance in zip(got["value"], targets["value"], targets["tolerance"], strict=True)
    ]
    assert list(got["status"]) == statuses


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
        notices: list[str] = []
        assert load_demo_data(store, notice=notices.append) == []  # the write is kept
        assert store.info("la-library-monthly").row_count == 15
        assert len(notices) == 1 and "'la-library-monthly'" in notices[0] and "DELETE" in notices[0]
