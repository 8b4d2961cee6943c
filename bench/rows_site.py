"""Rows of the site build (group ``site``): ``build-site`` of the program pages' generated catalog
(500 KPIs, 60 goals) in two languages, cold with the PDFs left out, the packet PDFs on their own,
and a rebuild after one KPI's data changed.

The peer, in the same run: the server answering the same addresses (a fresh app in process, every
address of the built site asked once, nothing written), the work a crawler mirroring a running
server would make it do.

Example:
    >>> site_rows(workdir=Path("/tmp/b"), quick=True)  # doctest: +SKIP
"""

from __future__ import annotations

import json
import resource
import time
from datetime import datetime
from pathlib import Path

import pyarrow as pa

from bench.bench_catalog import generate_catalog
from bench.harness import Goal, Result
from bench.rows_widgets import demo_store

__all__ = ["site_rows"]

FULL, QUICK = (500, 60), (20, 4)
BASE = "https://performance.example.gov"
ONE = "bench-one"  # the dataset of exactly one KPI (the one whose data changes)


def _catalog(workdir: Path, kpis: int, goals: int) -> Path:
    """The generated catalog in English and Spanish, a meeting over 40 of its KPIs, and one more
    KPI over a dataset of its own."""
    root = generate_catalog(workdir / "site-catalog", kpis, goals=goals)
    with (root / "catalog.yaml").open("a") as settings:
        settings.write("locales: [en, es]\n")
    (root / "meetings").mkdir(exist_ok=True)
    agenda = ", ".join(f"potholes-{i}" for i in range(0, min(kpis, 120), 3))
    (root / "meetings" / "review.yaml").write_text(
        f"id: review\ndate: 2020-02-20\ntitle: Program review\nkpis: [{agenda}]\n"
    )
    (root / "one.yaml").write_text(
        f"id: one-kpi\ntitle: One KPI\ndepartment: Operations\ngoals: [objective-0]\n"
        f"source: {{dataset: {ONE}, date_column: day}}\nmeasure: {{calculation: sum, column: n}}\n"
        "period: {size: month}\n"
    )
    return root


def _one_dataset(store: object, factor: int) -> None:
    from btvstat_open.store import Store
    from btvstat_open.types import Column

    assert isinstance(store, Store)
    days = [datetime(2019, 1 + i % 12, 1 + i % 27) for i in range(120)]
    table = pa.table(
        {"day": pa.array(days, pa.timestamp("us")), "n": [float(factor * (1 + i % 5)) for i in range(120)]}
    )
    if store.exists(ONE):
        store.replace(ONE, table)
    else:
        store.load(ONE, table, [Column("day", "Day", "floating_timestamp"), Column("n", "N", "number")])


def _build(store_root: Path, catalog: Path, out: Path, *, pdfs: bool) -> tuple[float, int, int, str]:
    """Seconds of one ``build-site`` (a fresh app, as a new run), files rendered, files written, and
    the CPU seconds meanwhile of this process and of its worker processes (on a shared machine,
    the wall time alone says little)."""
    from btvstat_open.server.site_command import PUBLIC_ROUTES, site_app
    from btvstat_open.store import Store
    from widgets.sitebuild import build_site

    with Store(store_root) as store:
        start, cpu, workers = time.perf_counter(), time.process_time(), _children_cpu()
        app = site_app(store, catalog)  # as `btvstat-open build-site` makes it
        report = build_site(app, out, base_url=BASE, public=PUBLIC_ROUTES, pdfs=pdfs)
        seconds = time.perf_counter() - start
        children = _children_cpu() - workers
        used = f"{time.process_time() - cpu:.1f} s CPU, its worker processes {children:.1f} s"
        return seconds, report.rendered, report.written, used


def _children_cpu() -> float:
    """CPU seconds of this process's ended child processes (a build's end them all)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _serve_all(store_root: Path, catalog: Path, out: Path) -> float:
    """The peer: a fresh server (in process) answering every address of the built site once."""
    from btvstat_open.server import create_app
    from btvstat_open.store import Store
    from btvstat_open.web.inprocess import inprocess_session
    from catalog import load_catalog

    paths = sorted(json.loads((out / ".build-manifest.json").read_text())["urls"])
    with Store(store_root) as store:
        start = time.perf_counter()
        app = create_app(store, load_catalog(catalog, store))
        with inprocess_session(app, BASE) as http:
            for path in paths:
                if not path.endswith(".pdf"):
                    http.get(BASE + path, timeout=600).raise_for_status()
        return time.perf_counter() - start


def site_rows(*, workdir: Path, quick: bool) -> list[Result]:
    """The cold build, the PDFs, and the rebuild after one KPI's data changed."""
    from btvstat_open.store import Store

    kpis, goals = QUICK if quick else FULL
    store_root, _, _ = demo_store(workdir)
    with Store(store_root) as store:
        _one_dataset(store, 1)
    catalog = _catalog(workdir, kpis, goals)
    out = workdir / "site"
    size = f"{kpis + 1} KPIs, {goals} goals, 2 languages"
    cold, rendered, _, cold_cpu = _build(store_root, catalog, out, pdfs=False)
    peer = _serve_all(store_root, catalog, out)
    pdf, _, _, _ = _build(store_root, catalog, out, pdfs=True)
    with Store(store_root) as store:
        _one_dataset(store, 2)
    again, rerendered, rewritten, again_cpu = _build(store_root, catalog, out, pdfs=True)
    return [
        _row(
            f"build-site, {size}: cold, PDFs left out",
            cold,
            Goal("max", 90, "s"),
            f"{rendered} addresses rendered and written; {cold_cpu}",
            peer=peer,
        ),
        _row(
            "build-site: the packet PDFs (one meeting, 40 KPIs), added to the built site",
            pdf,
            None,
            "a rebuild that adds the PDFs: every other address kept",
        ),
        _row(
            f"build-site, {size}: after one KPI's data changed",
            again,
            Goal("max", 5, "s"),
            f"{rerendered} addresses rendered again, {rewritten} files written; {again_cpu}",
        ),
    ]


def _row(work: str, seconds: float, goal: Goal | None, notes: str, *, peer: float | None = None) -> Result:
    return Result(
        group="site",
        work=work,
        unit="s",
        ours=seconds,
        peer=peer,
        peer_name="the server answering the same addresses" if peer is not None else "",
        higher_is_better=False,
        goal=goal,
        notes=notes,
    )
