"""``btvstat-open pull`` and ``btvstat-open push``: the command-line ends of the connectors.

Each returns an exit code; errors are :class:`~btvstat_open.errors.BtvstatError` raised to
the CLI, which prints them as one line (exit 2 for bad input, 1 for failures).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from btvstat_open.errors import UsageError
from btvstat_open.sync_progress import row_progress
from connectors import connect
from connectors.output import output_format

__all__ = ["run_pull", "run_push"]


def _credentials() -> dict[str, str]:
    """Credentials from the environment (never from logs): API key, or the local portal's write token."""
    found: dict[str, str] = {}
    key_id, key_secret = os.environ.get("BTVSTAT_API_KEY_ID"), os.environ.get("BTVSTAT_API_KEY_SECRET")
    if key_id and key_secret:
        found.update(api_key_id=key_id, api_key_secret=key_secret)
    elif os.environ.get("BTVSTAT_WRITE_TOKEN"):
        # The local portal takes its write token as the HTTP Basic password, any user name.
        found.update(username="btvstat", password=os.environ["BTVSTAT_WRITE_TOKEN"])
    return found


def run_pull(args: argparse.Namespace) -> int:
    """Pull a dataset to Parquet or CSV (written whole or not at all), with a progress bar on a terminal.

    ``--kind`` forces the portal kind (else the URL's shape decides, see :mod:`connectors.kinds`);
    ``--sheet`` picks the sheet of an ``.xlsx`` file.

    Example:
        >>> args = build_parser().parse_args(["pull", URL, "ab-12", "-o", "out.parquet"])  # doctest: +SKIP
        >>> run_pull(args)  # doctest: +SKIP
        0
    """
    output = Path(args.output)
    output_format(output)  # a wrong extension is a usage error before any request
    options: dict[str, Any] = {"app_token": args.app_token or None, **_credentials()}
    if args.page_size is not None:
        if args.page_size < 1:
            raise UsageError("--page-size must be at least 1.")
        options["page_size"] = args.page_size
    if getattr(args, "sheet", None):
        options["sheet"] = args.sheet
    portal = connect(args.portal_url, kind=getattr(args, "kind", None), **options)
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


def run_push(args: argparse.Namespace) -> int:
    """Publish a CSV or Parquet file to a portal dataset (upsert or replace).

    Example:
        >>> run_push(build_parser().parse_args(["push", "kpis.csv", URL, "abcd-1234"]))  # doctest: +SKIP
        0
    """
    kind = getattr(args, "kind", None)
    with connect(args.portal_url, kind, app_token=args.app_token or None, **_credentials()) as portal:
        result = portal.push(Path(args.file), args.dataset_id, mode=args.mode, row_id=args.row_id)
    print(
        f"{args.dataset_id}: {result.created:,} created, {result.updated:,} updated, "
        f"{result.deleted:,} deleted in {result.batches} batch(es)"
    )
    return 0
