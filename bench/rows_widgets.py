"""Row 6: the widget server under concurrent load, and the time to render a chart nobody asked for yet.

The widget server runs over the demo catalog and its data with two uvicorn workers (one per core, each
with its own copy of the small demo store, since DuckDB lets one process write a database file). Load
comes from a separate process (:mod:`bench.loadgen`) after one warm-up request, so it measures the
cached path: requests/s and p99 for ``/embed/{id}``, ``/kpi/{id}.svg`` and the dashboard ``/``.

Cold render: a fresh single-worker server, one warm-up chart (the renderer's one-time start-up), then
the first ``.svg`` request of every other KPI: each is computed and rendered from scratch.

Example:
    >>> widget_rows(seconds=1.0, connections=8, workdir=Path("/tmp/b"))  # doctest: +SKIP
"""

from __future__ import annotations

import time
from pathlib import Path

import requests

from bench.generate import fresh_store
from bench.harness import Goal, Result, median, percentile
from bench.loadgen import load
from bench.serve import WORKER_PATH, running_server

__all__ = ["demo_store", "widget_rows"]

WORKERS = 2


def demo_store(workdir: Path) -> tuple[Path, Path, list[str]]:
    """A store with the demo datasets; returns it, the demo catalog folder and its KPI ids.

    Built once per run (``workdir``) and never written to: every server and row works on a copy.
    """
    from btvstat_open.store import Store
    from catalog import load_catalog
    from catalog.demo import DEMO_DIR, load_demo_data

    root = workdir / "demo-store"
    built = workdir / "demo-store.complete"
    if not built.exists():
        with Store(fresh_store(root)) as store:
            load_demo_data(store)
        built.touch()
    ids = list(load_catalog(Path(DEMO_DIR)).kpis)
    return root, Path(DEMO_DIR), ids


def _get(url: str) -> float:
    """Milliseconds to fetch ``url`` whole (raises on an error status)."""
    start = time.perf_counter()
    resp = requests.get(url, timeout=120)
    resp.raise_for_status()
    return (time.perf_counter() - start) * 1000


def warm_every_worker(url: str, paths: list[str], workers: int, *, timeout: float = 120.0) -> None:
    """Fetch every path twice on each of the server's ``workers`` worker processes before load.

    The kernel hands each new connection to whichever worker accepts it first, so a few plain
    requests may all land on one worker; the other then builds its responses during the load
    test, with every connection it holds waiting (a one-off stall of a second or more in p99).
    Each keep-alive session asks which worker it reached and warms that one if it is new.
    """
    warmed: set[str] = set()
    deadline = time.monotonic() + timeout
    while len(warmed) < workers:
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"only {len(warmed)} of {workers} server workers answered within {timeout:.0f} s"
            )
        with requests.Session() as session:  # one connection, so one worker, for all its requests
            worker = session.get(url + WORKER_PATH, timeout=120).text
            if worker in warmed:
                continue
            for path in paths:
                for _ in range(2):
                    session.get(url + path, timeout=120).raise_for_status()
            if session.get(url + WORKER_PATH, timeout=120).text == worker:
                warmed.add(worker)


def widget_rows(*, seconds: float, connections: int, workdir: Path) -> list[Result]:
    """Requests/s and p99 of three routes under load, and the cold SVG render time."""
    store, catalog, ids = demo_store(workdir)
    kpi = "pothole-days-to-close" if "pothole-days-to-close" in ids else ids[0]
    routes = {"/embed/{id}": f"/embed/{kpi}", "/kpi/{id}.svg": f"/kpi/{kpi}.svg", "/ (dashboard)": "/"}
    results: list[Result] = []
    with running_server("widgets", store=store, catalog=catalog, workers=WORKERS, copy_store=True) as url:
        warm_every_worker(url, list(routes.values()), WORKERS)  # every worker has every route cached
        for name, path in routes.items():
            report = load(url + path, seconds=seconds, connections=connections)
            # A handful of timeouts on an overloaded machine is noted; more means the route is broken.
            if report.errors > report.requests / 100:
                raise RuntimeError(
                    f"{report.errors} of {report.requests} requests to {path} failed under load"
                )
            note = f"{connections} connections, {seconds:g} s, {report.tool}, {WORKERS} workers"
            if report.errors:
                note += f"; {report.errors} of {report.requests:,} requests to {path} failed"
            results.append(
                Result(
                    group="widgets",
                    work=f"GET {name} under load (cached): throughput",
                    unit="req/s",
                    ours=report.rate,
                    goal=Goal("min", 1000, "req/s"),
                    notes=note if not results or report.errors else "",
                )
            )
            results.append(
                Result(
                    group="widgets",
                    work=f"GET {name} under load (cached): p99 latency",
                    unit="ms",
                    ours=report.p99_ms,
                    higher_is_better=False,
                    goal=Goal("max", 50, "ms"),
                    samples={"p50": [report.p50_ms], "errors": [float(report.errors)]},
                )
            )
    results.append(_cold_render(store, catalog, ids))
    return results


def _cold_render(store: Path, catalog: Path, ids: list[str]) -> Result:
    """Median time of each KPI's first SVG request, after one warm-up chart."""
    with running_server("widgets", store=store, catalog=catalog, copy_store=True) as url:
        first = _get(f"{url}/kpi/{ids[0]}.svg")
        times = [_get(f"{url}/kpi/{kpi}.svg") for kpi in ids[1:]]
    return Result(
        group="widgets",
        work=f"cold SVG render (first /kpi/{{id}}.svg of {len(times)} KPIs)",
        unit="ms",
        ours=median(times),
        higher_is_better=False,
        goal=Goal("max", 60, "ms"),
        samples={"ours": times},
        notes=(
            f"median over KPIs, max {percentile(times, 100):.0f} ms; the server's very first chart "
            f"(renderer start-up) took {first:.0f} ms"
        ),
    )
