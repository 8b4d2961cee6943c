"""``btvstat-open pull`` and ``btvstat-open push``: the command-line ends of the connectors.

Each returns an exit code; errors are :class:`~btvstat_open.errors.BtvstatError` raised to
the CLI, which prints them as one line (exit 2 for bad input, 1 for failures).
"""

from __future__ import annotations

import argparse
import inspect
from pathlib import Path
from typing import Any, cast

from btvstat_open.errors import UsageError
from btvstat_open.load import FORMATS
from btvstat_open.progress import row_progress
from connectors import Connector, resolve_kind
from connectors.env_credentials import read_credentials, write_credentials
from connectors.kinds import kind_class
from connectors.output import output_format

__all__ = ["local_id", "open_source", "run_pull", "run_pull_partitioned", "run_push", "run_sync_one"]


# Options a user names on the command line: refused, with the flag, by a kind that cannot take them.
_FLAGS = {"sheet": "--sheet", "page_size": "--page-size", "retries": "--retries"}


def open_source(url: str, kind: str | None, options: dict[str, Any]) -> Connector:
    """The connector for ``url`` with the options its kind takes.

    Credentials reach a kind that takes them (an app token is an ArcGIS ``token``, a CKAN or
    Opendatasoft ``api_key``); unset ones are left out; a flag the kind has no use for (``--sheet``
    for a portal) is a :class:`UsageError`.

    Example:
        >>> open_source("catalog/demo/data/burlington", None, {"app_token": None, "sheet": "S"}).sheet
        'S'
        >>> open_source("https://data.example.gov", None, {"sheet": "S"})
        Traceback (most recent call last):
        ...
        btvstat_open.errors.UsageError: --sheet does not apply to socrata sources. Leave it out.
    """
    name = resolve_kind(url, kind)
    cls = kind_class(name)
    accepted = inspect.signature(cls.__init__).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in accepted.values())
    given = {k: v for k, v in options.items() if v is not None}
    if "app_token" in given and "app_token" not in accepted:
        for alias in ("token", "api_key"):  # what the other kinds call the key a site gave you
            if alias in accepted and alias not in given:
                given[alias] = given.pop("app_token")
                break
    for key in list(given):
        if key in accepted or takes_any:
            continue
        if key in _FLAGS:
            raise UsageError(f"{_FLAGS[key]} does not apply to {name} sources. Leave it out.")
        given.pop(key)  # a credential this kind does not use
    connector: Any = cls  # each kind's constructor takes its own keywords
    return cast(Connector, connector(url.strip(), **given))


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
    portal = open_source(args.portal_url, getattr(args, "kind", None), options)
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
    options: dict[str, Any] = {"app_token": args.app_token or None, **read_credentials(args.portal_url)}
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
    options = {**_pull_options(args), "concurrency": 1, "session": session}
    with (
        session,
        open_source(args.portal_url, getattr(args, "kind", None), options) as portal,
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
    options = {"app_token": args.app_token or None, **write_credentials(args.portal_url)}
    with open_source(args.portal_url, getattr(args, "kind", None), options) as portal:
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
    options = {"app_token": getattr(args, "app_token", None) or None, **read_credentials(args.portal_url)}
    target = args.dataset or local_id(args.dataset_id)
    with open_source(args.portal_url, args.kind, options) as source, open_store(args.store) as store:
        result = sync_dataset(source, args.dataset_id, store, dataset_id=target)
    rows = f"{result.row_count:,} rows"
    print(f"{args.dataset_id} -> {result.dataset_id}: {result.mode} ({result.reason}); {rows}")
    return 0
