"""The catalog's commands: ``catalog validate``, ``catalog export``, ``measure`` and ``sync``.

Each ``run_*`` takes the parsed arguments of :mod:`btvstat_open.cli` and returns an exit code;
user mistakes raise :class:`~btvstat_open.errors.BtvstatError`, which the CLI prints as one line.

Example:
    >>> from btvstat_open.cli import main
    >>> main(["catalog", "validate", "catalog/demo", "--store", "/no/store"])  # doctest: +ELLIPSIS
    languages: en (default); es: ... of ... texts (...%), fr: ... of ... texts (...%)
    catalog/demo/...: es: not translated: ...
    catalog/demo: 18 KPIs, no problems (not checked against a store: none at /no/store)
    0
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
import threading
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from btvstat_open.atomic import write_atomically
from btvstat_open.errors import BtvstatError, CatalogError, UsageError
from btvstat_open.store import Store, open_store
from catalog.asof import history_note, today_for
from catalog.data_checks import CheckState, accept, run_checks
from catalog.explain import why_empty
from catalog.loader import load_catalog
from catalog.measure import measure
from catalog.models import Catalog, CatalogSettings, Kpi
from catalog.translation_report import report_lines

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress

__all__ = [
    "report_checks",
    "run_export",
    "run_measure",
    "run_sync",
    "run_translations",
    "run_validate",
    "say_history",
    "series_csv",
    "series_json",
]


def _existing_store(path: str) -> Store | None:
    """The store at ``path`` if one exists there (validation never creates a store)."""
    return open_store(path) if (Path(path) / "store.duckdb").is_file() else None


def _required_store(path: str, needed_for: str) -> Store:
    """The store at ``path``; a missing one is a usage error (opening would create an empty store)."""
    store = _existing_store(path)
    if store is None:
        raise UsageError(
            f"There is no store at {path}, and {needed_for}. Load the data first "
            "(`btvstat-open sync --catalog DIR`, `btvstat-open load FILE --dataset ID`, or "
            "`btvstat-open serve --demo --store DIR` for the demo) or pass --store DIR."
        )
    return store


def run_validate(args: argparse.Namespace) -> int:
    """``btvstat-open catalog validate DIR``: print every problem as ``file:line: message``.

    Exit 0 when the catalog is valid, 2 when it has problems.
    """
    store = _existing_store(args.store)
    try:
        catalog = load_catalog(args.dir, store=store)
    except CatalogError as exc:
        for file, line, message in exc.problems:
            print(f"{file}:{line}: {message}" if line else f"{file}: {message}")
        noun = "problem" if len(exc.problems) == 1 else "problems"
        print(f"{len(exc.problems)} {noun} in {args.dir}", file=sys.stderr)
        return 2
    finally:
        if store is not None:
            store.close()
    for file, line, message in catalog.warnings:
        print(f"{file}:{line}: warning: {message}" if line else f"{file}: warning: {message}")
    for said in report_lines(catalog):  # languages: completeness, missing and stale translations
        print(said)
    if store is not None:
        _print_rows_kept(catalog, args.store)
    checked = "checked against the store" if store else f"not checked against a store: none at {args.store}"
    print(f"{args.dir}: {len(catalog.kpis)} KPIs, no problems ({checked})")
    return 0


def run_translations(args: argparse.Namespace) -> int:
    """``btvstat-open catalog translations stamp DIR [--locale L ...]``: record what each translation
    was made from (``translations.lock``), so `catalog validate` can flag the stale ones later;
    ``catalog translations missing DIR [--locale L ...]``: every text not yet translated."""
    from catalog.translation_report import STAMPS_FILE, missing_lines, stamp

    catalog = load_catalog(args.dir)
    locales = catalog.translations.locales
    unknown = [loc for loc in args.locale or () if loc not in locales[1:]]
    if unknown:
        raise UsageError(
            f"--locale {unknown[0]} is not one of the catalog's other locales "
            f"({', '.join(locales[1:]) or 'none: add locales: to catalog.yaml'}): use one of them"
        )
    if args.translations_command == "missing":
        for locale in args.locale or locales[1:]:
            for said in missing_lines(catalog, locale):
                print(said)
        return 0
    count = stamp(catalog, args.locale)
    print(f"{Path(args.dir) / STAMPS_FILE}: stamped {count} translations")
    return 0


def _print_rows_kept(catalog: Catalog, store_path: str) -> None:
    """For each KPI with a ``where``: how many rows of its dataset the filter keeps."""
    from catalog.filter_rows import rows_kept

    with open_store(store_path) as store:
        for kpi in catalog.kpis.values():
            if kpi.source.where:
                kept, total = rows_kept(kpi, store)
                print(f"{catalog.files[kpi.id]}: {kpi.id}: its where keeps {kept:,} of {total:,} rows")


def run_export(args: argparse.Namespace) -> int:
    """``btvstat-open catalog export DIR --format dcat-us|datapackage|program [-o FILE] [--as-of DATE]``."""
    from catalog.exports import datapackage, dcat_us
    from catalog.program_document import program_document

    catalog = load_catalog(args.dir)
    today = today_for(catalog.settings, getattr(args, "as_of", None))
    with _required_store(args.store, "the export describes the datasets in it") as store:
        _check_synced(catalog, store, args)
        if args.format == "program":
            document = program_document(catalog, store, today=today)
        else:
            build = dcat_us if args.format == "dcat-us" else datapackage
            document = build(catalog, store, args.base_url, today=today)
        # As known then: say from which data a past day was described (stdout stays the document).
        say_history(store, [k.source.dataset for k in catalog.kpis.values()], today)
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if args.output:
        write_atomically(Path(args.output), text)
    else:
        sys.stdout.write(text)
    return 0


def say_history(store: Store, dataset_ids: Sequence[str], today: date) -> None:
    """On stderr (stdout stays the data): from which data a past day was computed."""
    note = history_note(store, dataset_ids, today)
    if note:
        print(note, file=sys.stderr)


def _check_synced(catalog: Catalog, store: Store, args: argparse.Namespace) -> None:
    """Every dataset the catalog's KPIs use is in the store, else a usage error naming them.

    Without them an export would be a document that quietly leaves out the KPIs (and lists
    whatever else the store holds): the usual cause is running it against the wrong store.
    """
    missing = sorted({k.source.dataset for k in catalog.kpis.values() if not store.exists(k.source.dataset)})
    if missing:
        raise UsageError(
            f"The store at {args.store} lacks the datasets the KPIs of {args.dir} use "
            f"({', '.join(missing)}): sync them first (`btvstat-open sync --catalog {args.dir} "
            f"--store {args.store}`) or pass --store DIR for the store that has them."
        )


def run_measure(args: argparse.Namespace) -> int:
    """``btvstat-open measure KPI_ID --catalog DIR [--format F] [--as-of DATE] [--breakdown]``."""
    catalog = load_catalog(args.catalog)
    today = today_for(catalog.settings, getattr(args, "as_of", None))
    kpi = catalog.get(args.kpi_id)
    needed = f"the KPI is computed from its dataset '{kpi.source.dataset}'"
    if getattr(args, "breakdown", False):
        return _run_breakdown(args, kpi, catalog.settings, needed, today)
    with _required_store(args.store, needed) as store:
        series = measure(kpi, store, catalog.settings, today=today)
        reason = why_empty(kpi, store, catalog.settings, today=today, series=series)
        say_history(store, [kpi.source.dataset], today)
    if reason is not None:  # on stderr, so piped CSV and JSON stay data only
        print(f"note: {kpi.id} has no value as of {today}: {reason}", file=sys.stderr)
    ends = series.column("period_end").to_pylist()
    if ends and ends[-1] >= today:
        print(
            f"note: the last period ({ends[-1]} is its end) is still in progress: its value is provisional",
            file=sys.stderr,
        )
    if args.format == "csv":
        sys.stdout.write(series_csv(series))
    elif args.format == "json":
        sys.stdout.write(json.dumps(series_json(series), indent=2) + "\n")
    else:
        _print_table(kpi, series)
    return 0


def _run_breakdown(
    args: argparse.Namespace, kpi: Kpi, settings: CatalogSettings, needed: str, today: date
) -> int:
    """``measure KPI_ID --breakdown``: only the publishable rows, in every format."""
    from catalog.breakdown import breakdown, breakdown_csv, breakdown_document, publishable_rows

    if kpi.breakdown is None:
        raise UsageError(
            f"KPI {kpi.id!r} has no breakdown. Add `breakdown: {{column: COLUMN, min_count: 10}}` to its "
            "file, or leave out --breakdown."
        )
    with _required_store(args.store, needed) as store:
        table = breakdown(kpi, store, settings, today=today)
        say_history(store, [kpi.source.dataset], today)
    if args.format == "csv":
        sys.stdout.write(breakdown_csv(table))
    elif args.format == "json":
        sys.stdout.write(json.dumps(breakdown_document(kpi, table), indent=2) + "\n")
    else:
        _print_breakdown(kpi, publishable_rows(table))
    return 0


def run_sync(args: argparse.Namespace) -> int:
    """``btvstat-open sync --catalog DIR [--parallel N]``: pull every dataset the catalog uses from its
    portal, N at a time (default 4).

    Datasets on ``portal: local`` live in the store already and are left alone; every other
    portal is synced with its kind's connector (a ``file`` portal's folder is relative to ``DIR``).
    Each dataset prints one line as it finishes; a failed one does not stop the others, and ends
    the command with a summary naming every failure and exit code 1. ``sync PORTAL_URL DATASET_ID``
    syncs one dataset instead (:func:`connectors.commands.run_sync_one`).
    """
    from catalog.dataset_meta import apply_dataset_metadata
    from catalog.sync_all import SyncOutcome, remote_datasets, sync_catalog

    if getattr(args, "portal_url", None) or not args.catalog:
        from connectors.commands import run_sync_one

        if args.catalog:
            raise UsageError(
                "Give either --catalog DIR (every dataset its KPIs use) or PORTAL_URL DATASET_ID, not both."
            )
        return run_sync_one(args)
    if getattr(args, "kind", None) or getattr(args, "dataset", None):
        raise UsageError(
            "--kind and --dataset are for `sync PORTAL_URL DATASET_ID`; with --catalog each portal's "
            "kind comes from `kind:` in catalog.yaml. Leave them out."
        )
    catalog = load_catalog(args.catalog)
    from catalog.peer_sync import peer_jobs

    total = len(remote_datasets(catalog)) + len(peer_jobs(catalog))  # peers sync like any dataset
    if not total:
        print("every dataset of this catalog is local: nothing to sync")
        return 0

    lock = threading.Lock()  # one line at a time
    on_terminal = sys.stdout.isatty() and sys.stderr.isatty()
    bar = _datasets_bar(total) if on_terminal else None

    def report(outcome: SyncOutcome) -> None:
        with lock:
            if bar is None:
                print(outcome.line(), file=sys.stdout if outcome.ok else sys.stderr, flush=True)
                return
            # Above the bar, unwrapped: each dataset stays one line however narrow the terminal.
            bar.console.print(outcome.line(), soft_wrap=True, markup=False, highlight=False)
            bar.advance(bar.task_ids[0])

    try:
        if bar is not None:
            bar.start()
        with open_store(args.store) as store:
            outcomes = sync_catalog(catalog, store, parallel=args.parallel, on_done=report)
            apply_dataset_metadata(catalog.settings, store)  # datasets: in catalog.yaml, over the source's
            report_checks(run_checks(catalog, store))
            publish_all(catalog, store)
            # The catalog's notification rules run after every sync (never failing it).
            from catalog.notify.run import notify_after_change

            notify_after_change(catalog, store)
    finally:
        if bar is not None:
            bar.stop()
    failed = [o for o in outcomes if not o.ok]
    # A peer (another city's portal) that fails keeps its last good copy, flagged on the KPI page:
    # said here, but it does not fail the city's own sync.
    peers = peer_jobs(catalog)
    if any((o.portal, o.dataset) in peers for o in failed):
        print(
            "note: a peer city's portal failed; its last good values stay on the KPI page, flagged as failed",
            file=sys.stderr,
        )
    failed = [o for o in failed if (o.portal, o.dataset) not in peers]
    if not failed:
        return 0
    names = ", ".join(f"{o.portal}/{o.dataset}" for o in failed)
    print(
        f"error: {len(failed)} of {len(outcomes)} datasets failed to sync ({names}); the others synced. "
        "Fix what each FAILED line says and run sync again: the failed ones keep their last good copy.",
        file=sys.stderr,
    )
    return 1


def report_checks(states: list[CheckState]) -> None:
    """One line per failing data check (on stderr: they are warnings, the sync itself went well)."""
    for state in states:
        if state.failures:
            held = " (held: the last good version stays published)" if state.held_at else ""
            print(f"check failed {state.dataset}{held}: {'; '.join(state.failures)}", file=sys.stderr)


def run_checks_command(args: argparse.Namespace) -> int:
    """``btvstat-open checks [accept DATASET] --catalog DIR``: run the data checks, or publish a held one."""
    catalog = load_catalog(args.catalog)
    with _required_store(args.store, "the checks read the datasets in it") as store:
        if args.action == "accept":
            if not args.dataset:
                raise UsageError(
                    "Name the dataset to accept: `btvstat-open checks accept DATASET --catalog DIR`."
                )
            accept(store, args.dataset)
            print(f"Accepted {args.dataset}: its current version is published.")
            return 0
        states = run_checks(catalog, store)
    report_checks(states)
    for state in states:
        if not state.failures:
            print(f"ok {state.dataset}")
    return 1 if any(s.failures for s in states) else 0


def publish_all(catalog: Catalog, store: Store, now: datetime | None = None) -> int:
    """Record in the ledger what every public KPI publishes today (after a sync); returns the new entries.

    ``now`` is the moment of publication (default: now); values are computed as of its day.
    """
    from catalog.ledger import record

    today = (now or datetime.now(UTC)).date()
    count = 0
    for kpi in catalog.kpis.values():
        if not kpi.public or not store.exists(kpi.source.dataset):
            continue
        try:
            series = measure(kpi, store, catalog.settings, today=today)
        except BtvstatError:
            continue  # a KPI that cannot be computed publishes nothing (`catalog validate` says why)
        count += len(record(store, kpi, series, now=now))
    return count


def _datasets_bar(total: int) -> Progress:
    """Datasets synced so far, on stderr (the lines above it say how each went)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(
        TextColumn("sync"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("datasets"),
        TimeElapsedColumn(),
        transient=True,
        console=Console(stderr=True),
        redirect_stdout=False,
        redirect_stderr=False,
    )
    bar.add_task("sync", total=total)
    return bar


def series_csv(series: pa.Table) -> str:
    """The series as CSV text (ISO dates, empty cells for no value).

    Example:
        >>> import datetime as dt
        >>> t = pa.table({"period_start": [dt.date(2020, 1, 1)], "value": [None]})
        >>> series_csv(t).splitlines()
        ['period_start,value', '2020-01-01,']
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(series.column_names)
    for row in series.to_pylist():
        writer.writerow(
            ["" if v is None else (v.isoformat() if hasattr(v, "isoformat") else v) for v in row.values()]
        )
    return buffer.getvalue()


def series_json(series: pa.Table) -> list[dict[str, Any]]:
    """The series as a list of JSON-ready objects (ISO dates, null for no value)."""
    return [
        {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()}
        for row in series.to_pylist()
    ]


def _print_table(kpi: Kpi, series: pa.Table) -> None:
    from rich.table import Table

    table = Table(title=f"{kpi.title} ({kpi.id})")
    for name in series.column_names:
        table.add_column(name, justify="right" if name != "status" else "left", no_wrap=True)
    for row in series.to_pylist():
        cells = []
        for name, value in row.items():
            if value is None:
                cells.append("")
            elif isinstance(value, float) and name in ("value", "target"):
                cells.append(f"{value:,.{kpi.decimals}f}")
            elif isinstance(value, float):
                cells.append(f"{value:,.0f}" if value.is_integer() else f"{value:,}")
            else:
                cells.append(str(value))
        table.add_row(*cells)
    _console().print(table)


def _print_breakdown(kpi: Kpi, records: list[dict[str, Any]]) -> None:
    """The breakdown as a table: one row per period and group, suppressed cells shown as such."""
    from rich.table import Table

    assert kpi.breakdown is not None
    label = kpi.breakdown.label or kpi.breakdown.column
    hidden = f"groups under {kpi.breakdown.min_count} rows suppressed"
    table = Table(title=f"{kpi.title} ({kpi.id}) by {label}, {hidden}")
    for name in ("period", label, "value", "count", "disparity"):
        table.add_column(name, justify="left" if name in ("period", label) else "right", no_wrap=True)
    for row in records:
        value = "suppressed" if row["suppressed"] else _number(row["value"], kpi.decimals)
        disparity = "" if row["disparity"] is None else f"{row['disparity']:.2f}x"
        period = f"{row['period_start']} to {row['period_end']}"
        table.add_row(period, row["group"], value, row["count_label"], disparity)
    _console().print(table)


def _number(value: float | None, decimals: int) -> str:
    return "" if value is None else f"{value:,.{decimals}f}"


def _console() -> Console:
    from rich.console import Console

    console = Console()
    if not console.is_terminal:
        # Piped output has no width to fit: rich would assume 80 columns and crop the rate columns.
        console = Console(width=1000)  # the table keeps its natural width (it does not expand)
    return console
