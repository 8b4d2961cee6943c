"""Row 8: the program's pages for a big program: ``/`` and ``/api/goals`` over a generated catalog of
500 KPIs and 60 goals (three levels), cold and cached; then ``/`` and ``/program.json`` cold with a
dated goal on every KPI, each no slower than 1.2 times its run without dated goals.

Cold: a fresh single-worker server (renderer warmed up, nothing of the catalog computed), then the
first request of the route: every KPI's series, freshness and actions, the goal tree's rollups and
the page itself. Each route gets its own fresh server, so neither borrows the other's work.
Cached: then p99 (and requests/s) under load on that same server, which now holds the response.

Example:
    >>> program_rows(seconds=1.0, connections=8, workdir=Path("/tmp/b"))  # doctest: +SKIP
"""

from __future__ import annotations

import time
from pathlib import Path

import requests

from bench.bench_catalog import generate_catalog
from bench.harness import Goal, Result
from bench.loadgen import load
from bench.rows_widgets import demo_store
from bench.serve import running_server

__all__ = ["GOALS", "KPIS", "program_rows"]

KPIS, GOALS = 500, 60
ROUTES = {"/ (dashboard)": "/", "/api/goals": "/api/goals"}
DATED_ROUTES = {"/ (dashboard)": "/", "/program.json": "/program.json"}
START = 300.0  # seconds a server may take to start


def _cold(url: str) -> float:
    start = time.perf_counter()
    requests.get(url, timeout=600).raise_for_status()
    return time.perf_counter() - start


def program_rows(
    *, seconds: float, connections: int, workdir: Path, kpis: int = KPIS, goals: int = GOALS
) -> list[Result]:
    """Cold time and cached p99 (with requests/s) of ``/`` and ``/api/goals`` for the generated program
    (``kpis`` and ``goals``: a smaller one)."""
    store, _, _ = demo_store(workdir)
    catalog = generate_catalog(workdir / "program-catalog", kpis, goals=goals)
    size = f"{kpis} KPIs, {goals} goals"
    results: list[Result] = []
    results.extend(dated_goal_rows(store, workdir, kpis=kpis, goals=goals))
    for name, path in ROUTES.items():
        # Start-up validates 500 KPI files and warms the chart renderer: allow for a busy machine.
        with running_server("widgets", store=store, catalog=catalog, copy_store=True, timeout=START) as url:
            cold = _cold(url + path)
            requests.get(url + path, timeout=60).raise_for_status()
            report = load(url + path, seconds=seconds, connections=connections)
        if report.errors > report.requests / 100:
            raise RuntimeError(f"{report.errors} of {report.requests} requests to {path} failed under load")
        results.append(
            Result(
                group="program",
                work=f"GET {name}, {size}: cold",
                unit="s",
                ours=cold,
                higher_is_better=False,
                goal=Goal("max", 2, "s"),
                notes="first request of a fresh server: every KPI measured, rolled up and drawn",
            )
        )
        results.append(
            Result(
                group="program",
                work=f"GET {name}, {size}: cached p99",
                unit="ms",
                ours=report.p99_ms,
                higher_is_better=False,
                goal=Goal("max", 50, "ms"),
                samples={"p50": [report.p50_ms], "req/s": [report.rate], "errors": [float(report.errors)]},
                notes=(
                    f"{report.rate:,.0f} req/s; {connections} connections, {seconds:g} s, "
                    f"{report.tool}, one worker"
                ),
            )
        )
    return results


def _cold_on_fresh_server(store: Path, catalog: Path, path: str) -> float:
    with running_server("widgets", store=store, catalog=catalog, copy_store=True, timeout=START) as url:
        return _cold(url + path)


def dated_goal_rows(store: Path, workdir: Path, *, kpis: int = KPIS, goals: int = GOALS) -> list[Result]:
    """Cold ``/`` and ``/program.json`` with a dated goal on every KPI, against the same without."""
    plain = generate_catalog(workdir / "program-plain", kpis, goals=goals)
    dated = generate_catalog(workdir / "program-dated", kpis, goals=goals, dated_goals=True)
    results = []
    for name, path in DATED_ROUTES.items():
        before = _cold_on_fresh_server(store, plain, path)
        after = _cold_on_fresh_server(store, dated, path)
        results.append(
            Result(
                group="program",
                work=f"GET {name}, {kpis} KPIs with dated goals, {goals} goals: cold",
                unit="s",
                ours=after,
                higher_is_better=False,
                goal=Goal("max", round(before * 1.2, 3), "s"),
                samples={"without dated goals": [before]},
                notes=f"{before:.2f} s without dated goals on a fresh server; the goal is 1.2 times that",
            )
        )
    return results
