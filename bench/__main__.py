"""Run the benchmarks and print one table: ``python -m bench`` (full) or ``python -m bench --quick``.

The full run uses the sizes of the architecture's table (1M rows to pull and query, 5M rows for memory,
100,000 rows to push); ``--quick`` uses small sizes so CI can check that every row still runs (goals are
shown but not enforced); ``--smoke``, the smallest, is what the test suite runs to check that every row
works. Results are also written as JSON to ``bench/results/<timestamp>.json`` and
``bench/results/latest.json``.

Example:
    $ python -m bench --quick --only pull,soql
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from rich.console import Console

from bench.generate import dataset_store
from bench.harness import Result, Sizes
from bench.report import print_table, write_json

GROUPS = (
    "pull",
    "soql",
    "soql-10m",
    "health",
    "sync",
    "memory",
    "partitioned",
    "push",
    "widgets",
    "catalog",
    "discovery",
    "interop",
    "program",
    "meetings",
    "kinds",
    "notify",
    "people",
    "history",
    "peers",
    "site",
)
_err = Console(stderr=True)


def _guarded(group: str, label: str, work: Callable[[], list[Result]]) -> list[Result]:
    """Run one benchmark; a failure becomes an error row so the other rows still run."""
    _err.log(f"[bold]{group}[/bold]: {label}")
    start = time.perf_counter()
    try:
        results = work()
    except Exception as exc:  # one broken row must not hide the others
        _err.print_exception(max_frames=6)
        return [Result(group=group, work=label, unit="", error=f"{type(exc).__name__}: {exc}")]
    _err.log(f"  done in {time.perf_counter() - start:.1f} s")
    return results


def run(sizes: Sizes, groups: set[str], workdir: Path, *, quick: bool) -> list[Result]:
    """Every selected benchmark in order; returns the table's rows."""
    from bench import (
        rows_catalog,
        rows_discovery,
        rows_health,
        rows_history,
        rows_interop,
        rows_kinds,
        rows_meetings,
        rows_partitioned,
        rows_people,
        rows_program,
        rows_pull,
        rows_push,
        rows_soql,
        rows_widgets,
    )
    from bench.serve import running_server

    results: list[Result] = []
    if groups & {"pull", "soql", "health", "sync"}:
        _err.log(f"preparing the {sizes.pull_rows:,}-row dataset (cached after the first run)")
        store = dataset_store(sizes.pull_rows)
        with running_server("portal", store=store) as url:
            if "pull" in groups:
                results += _guarded(
                    "pull",
                    f"pull {sizes.pull_rows:,} rows to Parquet",
                    lambda: rows_pull.pull_rows(url, rows=sizes.pull_rows, reps=sizes.reps, workdir=workdir),
                )
            if "soql" in groups:
                results += _guarded(
                    "soql",
                    f"SoQL over {sizes.soql_rows:,} rows",
                    lambda: rows_soql.soql_rows(url, rows=sizes.soql_rows, reps=sizes.soql_reps),
                )
            if "health" in groups:
                samples = 50 if quick else 500
                results += _guarded(
                    "health",
                    "/healthz while 50 slow queries run",
                    lambda: rows_health.health_rows(url, slow=50, samples=samples),
                )
            if "sync" in groups:
                results += _guarded("sync", "sync with nothing new", lambda: [rows_pull.sync_row(url)])
    if "soql-10m" in groups:
        _err.log(f"preparing the {sizes.soql_big_rows:,}-row dataset (cached after the first run)")
        big = dataset_store(sizes.soql_big_rows)
        with running_server("portal", store=big) as url:
            results += _guarded(
                "soql",
                f"SoQL group-by-month over {sizes.soql_big_rows:,} rows",
                lambda: rows_soql.soql_big_rows(url, rows=sizes.soql_big_rows, reps=sizes.soql_reps),
            )
    if "kinds" in groups:
        _err.log(f"preparing the {sizes.kind_rows:,}-row dataset (cached after the first run)")
        with running_server("portal", store=dataset_store(sizes.kind_rows)) as url:
            results += _guarded(
                "kinds",
                f"pull {sizes.kind_rows:,} rows to Parquet, per portal kind",
                lambda: rows_kinds.kind_rows(url, rows=sizes.kind_rows, reps=sizes.reps, workdir=workdir),
            )
    if "peers" in groups:
        from bench import rows_peers

        results += _guarded(
            "peers",
            f"pull {sizes.kind_rows:,} rows from Koop and CKAN beside ogr2ogr and /datastore/dump",
            lambda: rows_peers.peer_rows(rows=sizes.kind_rows, reps=sizes.reps, workdir=workdir / "peers"),
        )
    if "memory" in groups:
        _err.log(f"preparing the {sizes.memory_rows:,}-row dataset (cached after the first run)")
        results += _guarded(
            "memory",
            f"pull {sizes.memory_rows:,} rows: peak memory",
            lambda: [rows_pull.memory_row(rows=sizes.memory_rows, workdir=workdir)],
        )
    if "partitioned" in groups:
        _err.log(f"preparing the {sizes.partitioned_rows:,}-row dataset (cached after the first run)")
        results += _guarded(
            "partitioned",
            f"partitioned pulls of {sizes.partitioned_rows:,} and {sizes.pull_rows:,} rows, slow link",
            lambda: rows_partitioned.partitioned_rows(
                small=sizes.pull_rows, large=sizes.partitioned_rows, workdir=workdir
            ),
        )
    if "push" in groups:
        results += _guarded(
            "push",
            f"push {sizes.push_rows:,} rows (upsert)",
            lambda: [
                rows_push.push_row(
                    rows=sizes.push_rows, batch=sizes.push_batch, reps=sizes.reps, workdir=workdir
                )
            ],
        )
    if "widgets" in groups:
        results += _guarded(
            "widgets",
            "widget server under load",
            lambda: rows_widgets.widget_rows(
                seconds=sizes.load_seconds, connections=sizes.connections, workdir=workdir
            ),
        )
    if "catalog" in groups:
        results += _guarded("catalog", "catalog measures", lambda: rows_catalog.catalog_rows(quick=quick))
    if "discovery" in groups:
        results += _guarded(
            "discovery",
            "Discovery API page",
            lambda: rows_discovery.discovery_rows(quick=quick, datasets=sizes.discovery_datasets),
        )
    if "interop" in groups:
        results += _guarded("interop", "interop clients", lambda: [rows_interop.interop_row()])
    if "program" in groups:
        results += _guarded(
            "program",
            f"program pages ({sizes.program_kpis} KPIs, {sizes.program_goals} goals)",
            lambda: rows_program.program_rows(
                seconds=sizes.load_seconds,
                connections=sizes.connections,
                workdir=workdir,
                kpis=sizes.program_kpis,
                goals=sizes.program_goals,
            ),
        )
    if "meetings" in groups:
        kpis = sizes.meeting_kpis
        results += _guarded(
            "meetings",
            f"meeting packet ({kpis} KPIs)",
            lambda: rows_meetings.meeting_rows(
                kpis=kpis, seconds=sizes.load_seconds, connections=sizes.connections, workdir=workdir
            ),
        )
    if "notify" in groups:
        from bench import rows_notify

        label = f"notify ({sizes.notify_kpis} KPIs, {sizes.notify_people} people)"
        results += _guarded(
            "notify",
            label,
            lambda: rows_notify.notify_rows(
                workdir=workdir, kpis=sizes.notify_kpis, people=sizes.notify_people
            ),
        )
    if "people" in groups:
        updaters, rounds = sizes.updaters, 1 if quick else 3
        results += _guarded(
            "people",
            f"{updaters} updaters submitting at once, a workbook upload",
            lambda: rows_people.people_rows(
                workdir, updaters=updaters, rounds=rounds, reps=2 if quick else 5
            ),
        )
    if "site" in groups:
        from bench import rows_site

        results += _guarded("site", "build-site", lambda: rows_site.site_rows(workdir=workdir, quick=quick))
    if "history" in groups:
        results += _guarded(
            "history",
            f"store history over {sizes.pull_rows:,} rows",
            lambda: rows_history.history_rows(rows=sizes.pull_rows, reps=sizes.reps),
        )
    return results


def main(argv: list[str] | None = None) -> int:
    """Parse options, run, print the table, write the JSON; exit 1 if a benchmark failed to run."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for CI (goals not enforced)")
    parser.add_argument(
        "--smoke", action="store_true", help="the smallest sizes: checks that every row runs (the tests' run)"
    )
    parser.add_argument("--only", help=f"comma-separated groups to run, of: {', '.join(GROUPS)}")
    parser.add_argument("--reps", type=int, help="repetitions of each alternating comparison")
    parser.add_argument("--results", type=Path, help="folder for the JSON results (default bench/results)")
    args = parser.parse_args(argv)
    # sodapy warns through the root logger on every client made without an app token.
    logging.basicConfig(level=logging.ERROR)
    groups = set(GROUPS) if not args.only else {g.strip() for g in args.only.split(",")}
    unknown = groups - set(GROUPS)
    if unknown:
        parser.error(f"unknown group(s) {', '.join(sorted(unknown))}; choose from {', '.join(GROUPS)}")
    sizes = Sizes.smoke() if args.smoke else Sizes.quick() if args.quick else Sizes.full()
    if args.reps:
        sizes = Sizes(**{**sizes.__dict__, "reps": args.reps})
    mode = "smoke" if args.smoke else "quick" if args.quick else "full"
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="btvstat-bench-") as tmp:
        results = run(sizes, groups, Path(tmp), quick=args.quick or args.smoke)
    seconds = time.perf_counter() - start
    print_table(results, title=f"btvstat-open benchmarks ({mode}, {seconds / 60:.1f} min)")
    path = write_json(results, mode=mode, seconds=seconds, out_dir=args.results)
    _err.log(f"results written to {path}")
    return 1 if any(r.error for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
