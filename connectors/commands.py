"""``btvstat-open pull`` and ``btvstat-open push``: the command-line ends of the connectors.

Each returns an exit code; errors are :class:`~btvstat_open.errors.BtvstatError` raised to
the CLI, which prints them as one line (exit 2 for bad input, 1 for failures).
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from btvstat_open.errors import UsageError
from btvstat_open.load import FORMATS
from btvstat_open.progress import row_progress
from connectors import Connector, connect, resolve_kind
from connectors.env_credentials import read_credentials, write_credentials
from connectors.kinds import spec_of
from connectors.output import output_format

__all__ = ["local_id", "open_source", "run_pull", "run_pull_partitioned", "run_push", "run_sync_one"]


# Options as the command line spells them, for the message that refuses one a kind cannot take.
_FLAGS = {"sheet": "--sheet", "page_size": "--page-size", "retries": "--retries", "app_token": "--app-token"}


def open_source(
    url: str, kind: str | None, options: Mapping[str, Any], environment: Mapping[str, str] | None = None
) -> Connector:
    """The connector for ``url`` through :func:`connectors.connect`, the one door, with the CLI's flags.

    ``options`` are the user's (unset ones are None and left out): one the kind has no use for
    (``--sheet`` for a portal, ``--app-token`` for a folder) is a :class:`UsageError` naming the
    flag; the app token reaches the kind as it calls it (ArcGIS ``token``, CKAN ``api_key``).
    ``environment`` holds credentials from environment variables, bound to the URL's origin
    (:mod:`connectors.env_credentials`): they reach only a kind that takes them.

    Example:
        >>> open_source("catalog/demo/data/burlington", None, {"app_token": None, "sheet": "S"}).sheet
        'S'
        >>> open_source("https://data.example.gov", None, {"sheet": "S"})  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        btvstat_open.errors.UsageError: --sheet does not apply to socrata sources (Socrata portal), ...
    """
    name = resolve_kind(url, kind)
    takes = spec_of(name).options
    ambient = {k: v for k, v in (environment or {}).items() if k in takes and options.get(k) is None}
    return connect(url, name, flags=_FLAGS, **{**options, **ambient})


def run_pull(args: argparse.Namespace) -> int:
    """Pull a dataset to Parquet or CSV (written whole or not at all), with a progress bar on a terminal.

    ``--kind`` forces the portal kind (else the URL's shape decides, see :mod:`connectors.kinds`);
    ``--sheet`` picks the sheet of an ``.xlsx`` file.

    Example:
        >>> from btvstat_open.cli import build_parser
        >>> out = str(scratch / "out.parquet")
        >>> run_pull(build_parser().parse_args(["pull", portal_url, "kc-311-potholes", "-o", out]))
        4,493 rows written to ...out.parquet
        0
    """
    if getattr(args, "partition_by", None):
        return run_pull_partitioned(args)
    if getattr(args, "parallel", None) is not None:
        raise UsageError(
            "--parallel goes with --partition-by FIELD[:year|:month]; add it, or leave --parallel out."
        )
    output = Path(args.output)
    output_format(output)  # a wrong extension is a usage error before any request
    options = _pull_options(args)
    if getattr(args, "sheet", None):
        options["sheet"] = args.sheet
    portal = open_source(
        args.portal_url, getattr(args, "kind", None), options, read_credentials(args.portal_url)
    )
    with portal, row_progress(None, f"pull {args.dataset_id}") as bar:
        result = portal.pull_to(
            args.dataset_id,
            output,
            on_batch=bar.advance,
            select=args.select,
            where=args.where,
            order=args.order,
            since=args.since,
        )
    print(f"{result.rows:,} rows written to {result.path}")
    return 0


def _pull_options(args: argparse.Namespace) -> dict[str, Any]:
    options: dict[str, Any] = {"app_token": args.app_token or None}
    if args.page_size is not None:
        if args.page_size < 1:
            raise UsageError("--page-size must be at least 1.")
        options["page_size"] = args.page_size
    if getattr(args, "retries", None) is not None:
        if args.retries < 0:
            raise UsageError("--retries must be 0 or more.")
        options["retries"] = args.retries
    return options


def run_pull_partitioned(args: argparse.Namespace) -> int:
    """Pull into hive-partitioned Parquet under a folder or fsspec URL; a re-run resumes or syncs.

    Example:
        >>> from btvstat_open.cli import build_parser
        >>> out = str(scratch / "potholes")  # or an fsspec URL such as s3://bucket/potholes
        >>> argv = ["pull", portal_url, "kc-311-potholes", "-o", out, "--partition-by", "creation_date:year"]
        >>> run_pull_partitioned(build_parser().parse_args(argv))
        4,493 rows in 1 partitions at ... (1 fetched, 0 already up to date, 0 removed)
        0
    """
    from connectors.partitioned import pooled_session, pull_partitioned

    if args.select or args.where or args.order or args.since:
        raise UsageError(
            "--partition-by pulls whole datasets: leave out --select, --where, --order and --since "
            "(a re-run fetches only what changed)."
        )
    parallel = 4 if args.parallel is None else args.parallel
    if parallel < 1:
        raise UsageError("--parallel must be at least 1.")
    # One page at a time per range, over a pool that keeps --parallel connections open: --parallel is
    # then exactly the number of connections.
    session = pooled_session(parallel)
    kind = resolve_kind(args.portal_url, getattr(args, "kind", None))
    options: dict[str, Any] = {**_pull_options(args), "session": session}
    if "concurrency" in spec_of(kind).options:
        options["concurrency"] = 1  # a kind that cannot be partitioned says so in pull_partitioned
    with (
        session,
        open_source(args.portal_url, kind, options, read_credentials(args.portal_url)) as portal,
        row_progress(None, f"pull {args.dataset_id}") as bar,
    ):
        result = pull_partitioned(
            portal,
            args.dataset_id,
            args.output,
            partition_by=args.partition_by,
            parallel=parallel,
            on_batch=bar.advance,
        )
    print(
        f"{result.rows:,} rows in {result.partitions} partitions at {result.url} "
        f"({len(result.fetched)} fetched, {result.skipped} already up to date, {len(result.removed)} removed)"
    )
    return 0


def run_push(args: argparse.Namespace) -> int:
    """Publish a CSV or Parquet file to a portal dataset (upsert or replace).

    Example:
        >>> from btvstat_open.cli import build_parser
        >>> _ = (scratch / "kpis.csv").write_text("row_key,value\\na,1\\nb,2\\n")
        >>> argv = ["push", str(scratch / "kpis.csv"), push_url, writable_id, "--mode", "replace"]
        >>> run_push(build_parser().parse_args(argv))  # the write token from $BTVSTAT_WRITE_TOKEN
        kpis: 2 created, 0 updated, 0 deleted in 1 batch(es)
        0
    """
    options = {"app_token": args.app_token or None}
    environment = write_credentials(args.portal_url)
    with open_source(args.portal_url, getattr(args, "kind", None), options, environment) as portal:
        result = portal.push(Path(args.file), args.dataset_id, mode=args.mode, row_id=args.row_id)
    print(
        f"{args.dataset_id}: {result.created:,} created, {result.updated:,} updated, "
        f"{result.deleted:,} deleted in {result.batches} batch(es)"
    )
    return 0


def local_id(dataset_id: str) -> str:
    """The store id a synced dataset gets by default: its id, a file's without the extension, lowercase.

    Example:
        >>> local_id("planting-sites.csv"), local_id("abcd-1234")
        ('planting-sites', 'abcd-1234')
    """
    stem, dot, suffix = dataset_id.rpartition(".")
    return (stem if dot and f".{suffix.lower()}" in FORMATS else dataset_id).lower()


def run_sync_one(args: argparse.Namespace) -> int:
    """``btvstat-open sync PORTAL_URL DATASET_ID [--kind K] [--dataset ID]``: one dataset, incrementally.

    A kind without the ``changes`` capability (files, for one) is pulled whole when it changed.

    Example:
        >>> from btvstat_open.cli import build_parser
        >>> args = build_parser().parse_args(["sync", "exports/", "cases.csv", "--store", "s"])
        >>> (args.portal_url, args.dataset_id, local_id(args.dataset_id))
        ('exports/', 'cases.csv', 'cases')
    """
    from btvstat_open.store import open_store
    from btvstat_open.sync import sync_dataset

    if not (args.portal_url and args.dataset_id):
        raise UsageError(
            "Say what to sync: `btvstat-open sync --catalog DIR`, or "
            "`btvstat-open sync PORTAL_URL DATASET_ID`."
        )
    options = {"app_token": getattr(args, "app_token", None) or None}
    environment = read_credentials(args.portal_url)
    target = args.dataset or local_id(args.dataset_id)
    with (
        open_source(args.portal_url, args.kind, options, environment) as source,
        open_store(args.store) as store,
    ):
        result = sync_dataset(source, args.dataset_id, store, dataset_id=target)
    rows = f"{result.row_count:,} rows"
    print(f"{args.dataset_id} -> {result.dataset_id}: {result.mode} ({result.reason}); {rows}")
    return 0
