"""The benchmarks keep working: a smoke run (``python -m bench --smoke``, the smallest sizes) produces
the table and the JSON with every row.

Goals are not enforced here (CI machines differ); what is checked is that every benchmark runs against
real servers and reports a number, and that the harness's arithmetic is right. The sizes do not matter
for that, so the run uses :meth:`Sizes.smoke` (``make bench-quick`` and ``make bench`` run the others).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
# bench/ is not an installed package: import it from the repository (as `python -m bench` does).
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.__main__ import GROUPS  # noqa: E402
from bench.generate import COLUMNS, batches  # noqa: E402
from bench.harness import Goal, Result, Sizes, alternate, percentile  # noqa: E402
from bench.report import format_value  # noqa: E402
from bench.rows_catalog import to_result  # noqa: E402
from bench.rows_interop import interop_outcomes  # noqa: E402

QuickRun = tuple[subprocess.CompletedProcess[str], dict[str, Any]]

SMOKE = Sizes.smoke()
# Every row group of the performance targets ("Numbers it must reach"), plus push and the catalog.
EXPECTED_WORK = [
    "vs sodapy get_all",
    "vs raw CSV export",
    "peak memory",
    "sync with nothing new",
    f"push {SMOKE.push_rows:,} rows (upsert",
    "SoQL filtered count",
    "SoQL group-by-month",
    "SoQL percentile",
    f"SoQL group-by-month over {SMOKE.soql_big_rows:,} rows",  # the 10M-row row, small here
    "GET /embed/{id}",
    "GET /kpi/{id}.svg",
    "GET / (dashboard)",
    "cold SVG render",
    "GET /api/catalog/v1?limit=10",
    f"GET / (dashboard), {SMOKE.program_kpis} KPIs, {SMOKE.program_goals} goals: cold",
    f"GET /api/goals, {SMOKE.program_kpis} KPIs, {SMOKE.program_goals} goals: cached p99",
    "/healthz p99 while 50 slow queries run",
    "KPIs as PDF: cold",
    "KPIs as page: cached p99",
    "20 MB/s + 50 ms link: 4 connections vs 1",
    "partitioned pull: time per row",
    f"partitioned pull of {SMOKE.partitioned_rows:,} rows: peak memory",
    "file kind (CSV in a folder) vs Socrata pull",
    "file kind (Parquet in a folder) vs Socrata pull",
    "opendatasoft kind (stand-in) vs Socrata pull",
    "ckan kind (stand-in) vs Socrata pull",
    "arcgis kind (stand-in, points) vs Socrata pull",
    f"notify, {SMOKE.notify_kpis} KPIs, {SMOKE.notify_people} people: first run",
    f"notify, {SMOKE.notify_kpis} KPIs, {SMOKE.notify_people} people: nothing changed",
]


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> QuickRun:
    """One smoke benchmark run in its own process, with its own data and results folders."""
    tmp = tmp_path_factory.mktemp("bench")
    env = dict(os.environ, BTVSTAT_BENCH_DATA=str(tmp / "data"), COLUMNS="200")
    # The interop row runs the interop tests, which `make test` runs anyway: leave it out here;
    # so is the peers row (Koop and CKAN start for tests/test_arcgis_koop.py, tests/test_ckan_real.py).
    groups = ",".join(group for group in GROUPS if group not in ("interop", "peers"))
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--only", groups, "--results", str(tmp / "results")],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,  # every row, the 500-KPI program pages among them
        check=False,
    )
    latest = tmp / "results" / "latest.json"
    assert latest.exists(), proc.stdout + proc.stderr
    return proc, json.loads(latest.read_text())


@pytest.mark.slow
def test_quick_run_succeeds_and_prints_every_row(quick_run: QuickRun) -> None:
    proc, _ = quick_run
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    header = ("work", "ours (median)", "peer (median)", "ratio", "goal", "met?")
    assert all(name in proc.stdout for name in header)
    for work in EXPECTED_WORK:
        assert work in proc.stdout, f"{work!r} missing from the table:\n{proc.stdout}"


@pytest.mark.slow
def test_quick_run_writes_json_with_a_number_for_every_row(quick_run: QuickRun) -> None:
    _, data = quick_run
    assert data["mode"] == "smoke"
    results = data["results"]
    for work in EXPECTED_WORK:
        assert any(work in r["work"] for r in results), f"no JSON row for {work!r}"
    for row in results:
        assert row["error"] == "", row
        assert isinstance(row["ours"], float) and row["ours"] >= 0, row
    comparisons = [r for r in results if r["peer_name"]]
    assert {r["peer_name"] for r in comparisons} >= {"sodapy", "raw CSV"}
    for row in comparisons:
        assert row["peer"] > 0 and row["ratio"] > 0
    sync = next(r for r in results if "sync with nothing new" in r["work"])
    assert sync["ours"] == int(sync["ours"]) and sync["ours"] >= 1  # counted at the server
    assert any(r["group"] == "catalog" for r in results)


def test_generator_is_reproducible_and_typed() -> None:
    first = list(batches(1_200))
    again = list(batches(1_200))
    assert sum(b.num_rows for b in first) == 1_200
    assert first[0].equals(again[0])
    assert first[0].schema.names == [c.field_name for c in COLUMNS]
    keys = first[0].column("unique_key").to_pylist()
    assert len(set(keys)) == len(keys) and keys[0] == "SR-000000001"
    zips = first[0].column("incident_zip").to_pylist()
    assert all(z.startswith("05") for z in zips)  # leading zero kept: text, never a number
    assert first[0].column("location").to_pylist()[0].startswith("POINT (-73.")


def test_alternate_rotates_who_goes_first() -> None:
    order: list[str] = []

    def runner(name: str) -> float:
        order.append(name)
        return float(len(order))

    samples = alternate({"a": lambda: runner("a"), "b": lambda: runner("b")}, reps=3)
    assert order == ["a", "b", "b", "a", "a", "b"]
    assert samples == {"a": [1.0, 4.0, 5.0], "b": [2.0, 3.0, 6.0]}


def test_ratio_goal_and_percentile_arithmetic() -> None:
    rate = Result("pull", "pull", "rows/s", ours=500.0, peer=40.0, goal=Goal("ratio", 10))
    assert rate.ratio == 12.5 and rate.met is True
    latency = Result("soql", "q", "ms", ours=60.0, peer=30.0, higher_is_better=False, goal=Goal("max", 50))
    assert latency.ratio == 0.5 and latency.met is False
    assert Result("x", "y", "ms").met is None
    assert percentile([10.0, 20.0, 30.0, 40.0, 50.0], 50) == 30.0
    assert percentile([1.0, 2.0], 99) == pytest.approx(1.99)
    assert format_value(1234567.0, "rows/s") == "1,234,567 rows/s"
    assert format_value(None, "ms") == "-"


def test_catalog_rows_accept_goal_text() -> None:
    row = to_result({"work": "validate 1,000 KPIs", "ours": 900, "unit": "ms", "goal": "<= 2,000 ms"})
    assert row.goal == Goal("max", 2000.0, "ms") and row.met is True and not row.higher_is_better
    fast = to_result({"work": "measure", "value": 3.0, "peer": 30.0, "unit": "ms", "goal": ">= 5x"})
    assert fast.ratio == 10.0 and fast.met is True
    with pytest.raises(ValueError, match="cannot read the goal"):
        to_result({"work": "w", "ours": 1, "goal": "fast please"})


def test_peak_memory_counts_the_child_only_and_sees_its_allocations() -> None:
    """The memory row's measure: a child's own peak, not the parent's size at fork time."""
    ballast = bytearray(400 * 2**20)  # the parent is big when it starts the child
    ballast[::4096] = b"x" * len(ballast[::4096])
    code = (
        "from bench.pull_child import _peak_mb; before = _peak_mb(); "
        "data = bytearray(200 * 2**20); data[::4096] = b'x' * len(data[::4096]); "
        "print(before, _peak_mb())"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    before, after = (float(v) for v in out.stdout.split())
    assert before < 300  # not the parent's 400 MB
    assert after - before >= 190  # the child's own 200 MB
    del ballast


def test_interop_row_counts_a_client_with_any_failed_or_xfailed_test_as_failing(tmp_path: Path) -> None:
    junit = tmp_path / "interop.xml"
    junit.write_text(
        '<testsuites><testsuite name="pytest">'
        '<testcase classname="tests.interop.test_interop_soda_js" name="test_consumer"/>'
        '<testcase classname="tests.interop.test_interop_dataframes" name="test_read_json"/>'
        '<testcase classname="tests.interop.test_interop_dataframes" name="test_geopandas_read_file">'
        '<failure message="assert False"/></testcase>'
        '<testcase classname="tests.interop.test_interop_datasette_socrata" name="test_import">'
        '<skipped type="pytest.xfail" message="client bug"/></testcase>'
        "</testsuite></testsuites>"
    )
    assert interop_outcomes(junit) == {
        "soda-js": ["passed"],
        "pandas": ["passed"],
        "geopandas": ["test_geopandas_read_file failure"],
        "datasette-socrata": ["test_import xfailed"],
    }
