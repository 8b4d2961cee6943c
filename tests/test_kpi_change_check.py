"""The data check on a KPI's value (``max_kpi_change``): a write that moves a KPI's latest value
more than allowed is held back (or flagged); the numbers are checked against pandas."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from test_data_checks import DATA, KPI_YAML

from btvstat_open.errors import CatalogError
from btvstat_open.store import Store
from btvstat_open.types import Column
from catalog import load_catalog
from catalog.data_checks import accept, run_checks
from catalog.measure import measure


def _setup(tmp_path: Path, checks: str) -> tuple[Store, Path, pa.Table]:
    table = pq.read_table(DATA)
    columns = [
        Column(f.name, f.metadata[b"name"].decode(), f.metadata[b"socrata_type"].decode())
        for f in table.schema
    ]
    store = Store(tmp_path / "store")
    store.load("kc-311-potholes", table, columns, row_identifier="case_id")
    folder = tmp_path / "catalog"
    folder.mkdir()
    (folder / "catalog.yaml").write_text(f"title: KPI checks\nchecks:\n  kc-311-potholes: {checks}\n")
    (folder / "pothole-requests.yaml").write_text(KPI_YAML)
    return store, folder, table


def _monthly(table: pa.Table) -> tuple[str, int]:
    """The last month with requests and its count, by pandas."""
    frame = table.to_pandas()
    counts = frame.groupby(frame["creation_date"].dt.to_period("M")).size()
    return counts.index[-1].start_time.date().isoformat(), int(counts.iloc[-1])


def test_a_write_that_halves_the_latest_value_is_held(tmp_path: Path) -> None:
    store, folder, table = _setup(
        tmp_path, "{max_kpi_change: {pothole-requests: {share: 0.3}}, on_fail: hold}"
    )
    catalog = load_catalog(folder, store)
    kpi = catalog.kpis["pothole-requests"]
    assert [s.failures for s in run_checks(catalog, store)] == [[]]
    shown = measure(kpi, store, catalog.settings, today=date.today())

    month, count = _monthly(table)
    in_month = pc.equal(pc.strftime(table["creation_date"], "%Y-%m-01"), month)
    dropped = table.filter(in_month).slice(0, count // 2)  # half of the last month's rows go
    store.upsert("kc-311-potholes", dropped.select(["case_id"]), deleted=[True] * dropped.num_rows)
    (state,) = run_checks(catalog, store)
    left = count - count // 2
    share = abs(left - count) / count
    assert state.failures == [
        f"pothole-requests: latest value {left} ({month}) against {count} before: "
        f"a change of {share:.0%}, more than 30%"
    ]
    assert state.held_at is not None
    assert measure(kpi, store, catalog.settings, today=date.today()) == shown  # still published
    accept(store, "kc-311-potholes")
    assert measure(kpi, store, catalog.settings, today=date.today()).column("value")[-1].as_py() == left
    store.close()


def test_an_amount_flags_and_a_small_change_passes(tmp_path: Path) -> None:
    store, folder, table = _setup(tmp_path, "{max_kpi_change: {pothole-requests: {amount: 5}}}")
    catalog = load_catalog(folder, store)
    month, count = _monthly(table)
    in_month = table.filter(pc.equal(pc.strftime(table["creation_date"], "%Y-%m-01"), month))
    one = in_month.slice(0, 1)
    store.upsert("kc-311-potholes", one.select(["case_id"]), deleted=[True])
    assert [s.failures for s in run_checks(catalog, store)] == [[]]  # 1 of at most 5
    six = in_month.slice(1, 6)
    store.upsert("kc-311-potholes", six.select(["case_id"]), deleted=[True] * 6)
    (state,) = run_checks(catalog, store)
    assert state.held_at is None and state.failures == [
        f"pothole-requests: latest value {count - 7} ({month}) against {count - 1} before: "
        f"a change of {6 / (count - 1):.0%}, more than 5"
    ]
    store.close()


def test_a_limit_needs_a_share_or_an_amount_and_a_kpi_of_the_dataset(tmp_path: Path) -> None:
    store, folder, _ = _setup(tmp_path, "{max_kpi_change: {pothole-requests: {}}}")
    with pytest.raises(CatalogError, match="give share"):
        load_catalog(folder, store)
    (folder / "catalog.yaml").write_text(
        "title: KPI checks\nchecks:\n  kc-311-potholes: {max_kpi_change: {nope: {share: 1}}}\n"
    )
    with pytest.raises(CatalogError) as raised:
        load_catalog(folder, store)
    assert (
        "catalog.yaml:3: checks of kc-311-potholes: max_kpi_change names 'nope', not a KPI of this "
        "dataset (its KPIs: pothole-requests)" in str(raised.value)
    )
    store.close()
