"""The catalog format as specified, checked clause by clause.

The two example files are copied here verbatim (comments included): a catalog written from the
documentation must load, validate against a store holding the data, and measure correctly.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from demo_store import demo_store

from btvstat_open.cli import main
from btvstat_open.errors import CatalogError
from btvstat_open.store import Store
from catalog import Catalog, load_catalog, measure
from catalog.demo import DEMO_DIR
from catalog.models import CALCULATIONS, CHARTS, PERIOD_SIZES

REAL = Path(__file__).parent / "data" / "real"
TODAY = date(2026, 11, 23)

ARCHITECTURE_SETTINGS = """\
# catalog.yaml
title: City performance dashboard
publisher: City of Example
fiscal_year_start: 7                 # month the fiscal year starts
portals:                             # where datasets live; `local` is the built-in store
  city: {url: https://data.example.gov, app_token_env: CITY_APP_TOKEN}
embed:
  allowed_origins: [https://www.example.gov]   # becomes CSP frame-ancestors on embed routes
"""

ARCHITECTURE_KPI = """\
# catalog/public-works/pothole-days-to-close.yaml
id: pothole-days-to-close            # [a-z0-9-]+, unique in the catalog
title: Median days to close pothole requests
department: Public Works
outcome_area: Neighborhood Livability  # optional: goal or priority area
description: Half of pothole requests are closed within this many days.
methodology: Counts 311 requests of type Pothole by the date they were created...
analysis: optional narrative shown with the chart
source:
  portal: local                      # a key of catalog.yaml portals, or `local`
  dataset: kc-311-potholes
  date_column: creation_date         # a date, a timestamp, or a year number
  where: "type = 'Pothole'"          # optional SoQL filter, applied before the measure
measure:
  calculation: median                # count | sum | average | median | percentile | rate | recent
  column: days_to_close              # for sum, average, median, percentile, recent
  percentile: 90                     # for percentile
  numerator: {calculation: count, where: "days_to_close <= 7"}   # for rate; count or sum
  denominator: {calculation: count}                               # for rate
  as_percent: true                   # rate x 100
  cumulative: false                  # running total within each fiscal year (not for recent)
period:
  size: week                         # week | month | quarter | year | fiscal_year
  start: 2020-01-01                  # optional first period shown
  include_current: false             # false: only complete periods
unit: days
decimals: 1
direction: lower_is_better           # higher_is_better | lower_is_better | none
target:
  value: 7
  rule: above_below                  # above_below | proximity
  tolerance: 2                       # the near-target band
chart: line                          # line | bar | area | number
tags: [streets, 311]
public: true
"""


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("contract-store")
    demo_store(root).close()
    return root


@pytest.fixture
def store(store_dir: Path) -> Iterator[Store]:
    with Store(store_dir) as s:
        yield s


def write_catalog(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def architecture_catalog(root: Path) -> Path:
    return write_catalog(
        root,
        {"catalog.yaml": ARCHITECTURE_SETTINGS, "public-works/pothole-days-to-close.yaml": ARCHITECTURE_KPI},
    )


def test_the_documented_example_loads_with_every_field(tmp_path: Path, store: Store) -> None:
    catalog = load_catalog(architecture_catalog(tmp_path), store=store)
    settings = catalog.settings
    assert (settings.title, settings.publisher, settings.fiscal_year_start) == (
        "City performance dashboard",
        "City of Example",
        7,
    )
    assert settings.portals["city"].url == "https://data.example.gov"
    assert settings.portals["city"].app_token_env == "CITY_APP_TOKEN"
    assert settings.embed.allowed_origins == ["https://www.example.gov"]

    kpi = catalog.get("pothole-days-to-close")
    assert (kpi.title, kpi.department, kpi.outcome_area) == (
        "Median days to close pothole requests",
        "Public Works",
        "Neighborhood Livability",
    )
    assert kpi.description == "Half of pothole requests are closed within this many days."
    assert kpi.methodology.startswith("Counts 311 requests") and kpi.analysis
    assert kpi.source.model_dump() == {
        "portal": "local",
        "dataset": "kc-311-potholes",
        "date_column": "creation_date",
        "where": "type = 'Pothole'",
        "entry": None,  # values come from the dataset, not entered by the department
    }
    m = kpi.measure
    assert (m.calculation, m.column, m.percentile, m.as_percent, m.cumulative) == (
        "median",
        "days_to_close",
        90,
        True,
        False,
    )
    assert m.numerator is not None and m.denominator is not None
    assert (m.numerator.calculation, m.numerator.where) == ("count", "days_to_close <= 7")
    assert (m.denominator.calculation, m.denominator.where) == ("count", None)
    assert (kpi.period.size, kpi.period.start, kpi.period.include_current) == (
        "week",
        date(2020, 1, 1),
        False,
    )
    assert (kpi.unit, kpi.decimals, kpi.direction, kpi.chart, kpi.public) == (
        "days",
        1,
        "lower_is_better",
        "line",
        True,
    )
    assert kpi.target is not None
    assert (kpi.target.value, kpi.target.rule, kpi.target.tolerance) == (7, "above_below", 2)
    assert kpi.tags == ["streets", "311"]
    # The keys a median does not read are accepted and pointed out, at their own lines.
    assert [(Path(f).name, line) for f, line, _ in catalog.warnings] == [
        ("pothole-days-to-close.yaml", 17),
        ("pothole-days-to-close.yaml", 18),
        ("pothole-days-to-close.yaml", 19),
        ("pothole-days-to-close.yaml", 20),
    ]


def test_the_documented_example_validates_on_the_command_line(
    tmp_path: Path, store_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = architecture_catalog(tmp_path / "c")
    assert main(["catalog", "validate", str(root), "--store", str(store_dir)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == f"{root}: 1 KPIs, no problems (checked against the store)"
    assert sum(": warning: " in line for line in out) == 4


def test_the_documented_example_measures_like_pandas(tmp_path: Path, store: Store) -> None:
    catalog = load_catalog(architecture_catalog(tmp_path), store=store)
    got = measure(catalog.get("pothole-days-to-close"), store, catalog.settings, today=TODAY).to_pylist()

    raw = pd.read_csv(REAL / "kc-311-potholes" / "311_Call_Center_Service_Requests.csv", encoding="utf-8-sig")
    raw = raw[raw["TYPE"] == "Pothole"]
    days = pd.to_datetime(raw["CREATION DATE"], format="%m/%d/%y").dt.date
    weeks = days.map(lambda d: d - timedelta(days=d.weekday()))
    medians = raw.groupby(weeks)["DAYS TO CLOSE"].median()
    # period.start 2020-01-01 is a Wednesday: the series starts with the ISO week holding it.
    first = date(2019, 12, 30)
    expected = [(first + timedelta(weeks=i)) for i in range((max(medians.index) - first).days // 7 + 1)]
    assert [r["period_start"] for r in got] == expected
    assert [r["period_end"] for r in got] == [d + timedelta(days=6) for d in expected]
    want = medians.reindex(expected).to_numpy(dtype=float)
    values = np.array([np.nan if r["value"] is None else r["value"] for r in got])
    np.testing.assert_allclose(values, want, rtol=1e-12)
    for row in got:
        value = row["value"]
        state = (
            "no_data"
            if value is None
            else "on_track"
            if value <= 7
            else "near_target"
            if value <= 9
            else "off_track"
        )
        assert (row["target"], row["status"]) == (7.0, state)


def test_ignored_keys_are_not_read_from_the_data(tmp_path: Path, store: Store) -> None:
    """A count with a column (even one the dataset lacks) counts rows and warns."""
    text = textwrap.dedent(
        """\
        id: counted
        title: Counted
        department: Public Works
        source: {dataset: kc-311-potholes, date_column: creation_date}
        measure:
          calculation: count
          column: no_such_column
          numerator: {calculation: count, column: days_to_close}
        period: {size: month}
        """
    )
    catalog = load_catalog(write_catalog(tmp_path, {"k.yaml": text}), store=store)
    assert [(line, message) for _, line, message in catalog.warnings] == [
        (7, "calculation 'count' does not use measure.column; it is ignored"),
        (8, "measure.numerator is only used by calculation: rate; ignored"),
    ]
    series = measure(catalog.get("counted"), store, catalog.settings, today=TODAY)
    assert sum(series.column("value").to_pylist()) == store.info("kc-311-potholes").row_count


GOOD_RATE = """\
id: {id}
title: Share closed
department: Public Works
source: {{dataset: {dataset}, date_column: creation_date}}
measure:
  calculation: rate
  {measure_extra}
period: {{size: month}}
decimals: {decimals}
direction: higher_is_better
"""


def catalog_problems(root: Path, store: Store | None) -> list[tuple[str, int | None, str]]:
    with pytest.raises(CatalogError) as info:
        load_catalog(root, store=store)
    return [(Path(f).name, line, message) for f, line, message in info.value.problems]


def test_one_run_reports_typos_rules_and_store_problems_of_the_same_file(
    tmp_path: Path, store: Store
) -> None:
    typo = GOOD_RATE.format(
        id="a", dataset="no-such-dataset", measure_extra="numeratr: {calculation: count}", decimals=1
    )
    bad_value = GOOD_RATE.format(
        id="b",
        dataset="kc-311-potholes",
        measure_extra="numerator: {calculation: sum, column: dayz}\n  denominator: {calculation: count}",
        decimals="many",
    )
    found = catalog_problems(write_catalog(tmp_path, {"a.yaml": typo, "b.yaml": bad_value}), store)
    by_file: dict[str, list[tuple[int | None, str]]] = {}
    for name, line, message in found:
        by_file.setdefault(name, []).append((line, message))
    a = by_file["a.yaml"]
    assert (7, "unknown key 'measure.numeratr': did you mean 'numerator'?") in a
    assert any(line == 5 and "needs measure.numerator" in m for line, m in a)
    assert any(line == 5 and "needs measure.denominator" in m for line, m in a)
    assert any(line == 4 and "dataset 'no-such-dataset' is not in the store" in m for line, m in a)
    b = by_file["b.yaml"]
    assert any(line == 10 and "'decimals'" in m for line, m in b)
    assert any(line == 7 and "has no column 'dayz'" in m for line, m in b)
    assert len(found) == 6


def test_a_bad_deciding_value_does_not_invent_follow_on_problems(tmp_path: Path) -> None:
    text = GOOD_RATE.format(
        id="a",
        dataset="kc-311-potholes",
        measure_extra="numerator: {calculation: count}\n  denominator: {calculation: count}",
        decimals=1,
    ).replace("direction: higher_is_better", "direction: higher-is-better\ntarget: {value: 50}")
    found = catalog_problems(write_catalog(tmp_path, {"a.yaml": text}), None)
    assert len(found) == 1 and found[0][1] == 11 and "'direction'" in found[0][2]


def test_validate_prints_every_problem_with_file_and_line_and_exits_2(
    tmp_path: Path, store_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    typo = GOOD_RATE.format(
        id="a", dataset="no-such-dataset", measure_extra="numeratr: {calculation: count}", decimals=1
    )
    root = write_catalog(
        tmp_path / "c", {"a.yaml": typo, "b.yaml": ARCHITECTURE_KPI.replace("  size: week", "  size: day")}
    )
    assert main(["catalog", "validate", str(root), "--store", str(store_dir)]) == 2
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert len(lines) == 5
    assert all(line.startswith((f"{root / 'a.yaml'}:", f"{root / 'b.yaml'}:")) for line in lines)
    assert all(line.split(":")[1].isdigit() for line in lines)
    assert f"{root / 'b.yaml'}:23: 'period.size'" in "\n".join(lines)
    assert captured.err.strip() == f"5 problems in {root}"


def demo_catalog() -> Catalog:
    return load_catalog(DEMO_DIR)


def test_demo_meets_the_issue_minimums() -> None:
    kpis = list(demo_catalog().kpis.values())
    assert len(kpis) >= 12
    assert len({k.department for k in kpis}) >= 5
    assert None not in {k.outcome_area for k in kpis}
    assert len({k.outcome_area for k in kpis}) >= 3
    assert {k.measure.calculation for k in kpis} == set(CALCULATIONS)
    assert {k.period.size for k in kpis} == set(PERIOD_SIZES)
    assert {k.chart for k in kpis} == set(CHARTS)
    # Both rules, both directions and KPIs without a target are shown.
    assert {k.target.rule for k in kpis if k.target} == {"above_below", "proximity"}
    assert {k.direction for k in kpis if k.target} >= {"higher_is_better", "lower_is_better"}
    assert any(k.target is None for k in kpis)


def test_demo_uses_every_bundled_dataset_and_the_issues_examples(store: Store) -> None:
    catalog = load_catalog(DEMO_DIR, store=store)
    used = {k.source.dataset for k in catalog.kpis.values() if k.source.entry is None}
    assert used == {
        "kc-311-potholes",
        "la-operating-indicators",
        "la-library-monthly",
        "la-water-power-usage",
        "planting-sites",
        "child-care-locations",
    }
    # Burlington's come through the catalog's file portal, not the local store's bundle.
    assert {k.source.portal for k in catalog.kpis.values() if k.source.dataset in {"planting-sites"}} == {
        "burlington"
    }
    assert catalog.settings.portals["burlington"].kind == "file"
    potholes = [k.measure for k in catalog.kpis.values() if k.source.dataset == "kc-311-potholes"]
    assert {m.calculation for m in potholes} >= {"count", "median", "percentile", "rate"}
    assert any(m.percentile == 90 for m in potholes)
    assert any(m.numerator and m.numerator.where == "days_to_close <= 7" for m in potholes)
    departments = {k.department for k in catalog.kpis.values()}
    assert {"Fire", "Library", "Airports"} <= departments
    # and one KPI whose values the department enters (issue 24), kept in its entries dataset
    entered = [k for k in catalog.kpis.values() if k.source.entry == "manual"]
    assert [k.source.dataset for k in entered] == ["entries-sidewalk-repairs-entered"]


def test_demo_kpi_files_are_warning_free() -> None:
    assert demo_catalog().warnings == []


def test_measure_table_keeps_every_column_when_piped(
    store_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["measure", "pothole-closed-within-7-days", "--catalog", str(DEMO_DIR), "--store", str(store_dir)]
    assert main(args) == 0
    out = capsys.readouterr().out
    header = next(line for line in out.splitlines() if "period_start" in line)
    assert [cell.strip() for cell in header.strip("┃ ").split("┃")] == [
        "period_start",
        "period_end",
        "value",
        "target",
        "status",
        "numerator",
        "denominator",
    ]
    assert "…" not in out


def test_the_benchmark_catalog_is_valid_against_the_store(tmp_path: Path, store: Store) -> None:
    """bench/bench_catalog.py times validation of this generated catalog; it must be a valid one."""
    import sys

    repo = str(Path(__file__).parent.parent)  # bench/ is not installed: import it from the repository
    if repo not in sys.path:
        sys.path.insert(0, repo)
    from bench.bench_catalog import generate_catalog

    catalog = load_catalog(generate_catalog(tmp_path / "generated", 100), store=store)
    # Its thresholds run past the data on purpose (filters that keep nothing are warned about).
    others = [w for w in catalog.warnings if "keeps 0 of" not in w[2]]
    assert len(catalog.kpis) == 100 and others == []
    assert {k.measure.calculation for k in catalog.kpis.values()} == {"count", "rate", "percentile"}
