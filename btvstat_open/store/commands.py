"""``btvstat-open datasets [ID]``: what the store holds; ``btvstat-open store compact``: bound its history.

Example:
    >>> from btvstat_open.cli import main
    >>> main(["datasets", "--store", str(store_dir)])  # doctest: +ELLIPSIS
    id                        rows  columns  updated (UTC)     name
    child-care-locations        58  ...
    0
    >>> main(["store", "compact", "--store", str(scratch / "compact"), "--keep-days", "30"])
    Removed 0 old row versions from 0 datasets.
    History now runs from 30 days ago.
    0
"""

from __future__ import annotations

import argparse
from datetime import timedelta
from pathlib import Path

from btvstat_open.errors import UsageError
from btvstat_open.store.dataset import DatasetInfo, as_utc
from btvstat_open.store.owner import open_store

__all__ = ["run_compact", "run_datasets"]


def run_datasets(args: argparse.Namespace) -> int:
    """List the store's datasets, or with ``ID`` describe one (its columns, types and metadata)."""
    if not (Path(args.store) / "store.duckdb").is_file():
        raise UsageError(
            f"There is no store at {args.store}. Load data first (`btvstat-open load FILE --dataset ID`, "
            "`btvstat-open sync --catalog DIR`) or pass --store DIR (`make demo` fills .btvstat/demo-store)."
        )
    with open_store(args.store) as store:
        if args.dataset_id:
            _describe(store.info(args.dataset_id))
            return 0
        infos = store.datasets()
    if not infos:
        print(f"The store at {args.store} holds no datasets yet.")
        return 0
    width = max(len(i.id) for i in infos)
    print(f"{'id':<{width}}  {'rows':>9}  columns  {'updated (UTC)':<16}  name")
    for info in infos:
        updated = as_utc(info.rows_updated_at).strftime("%Y-%m-%d %H:%M")
        print(f"{info.id:<{width}}  {info.row_count:>9,}  {len(info.columns):>7}  {updated}  {info.name}")
    return 0


def _describe(info: DatasetInfo) -> None:
    """One dataset: its metadata, then each column's field name, type and header."""
    print(f"{info.id}: {info.name}")
    if info.description:
        print(f"  {info.description}")
    print(f"  rows: {info.row_count:,}; updated {as_utc(info.rows_updated_at):%Y-%m-%d %H:%M} UTC")
    facts = {
        "row identifier": info.row_identifier,
        "license": info.license,
        "attribution": info.attribution,
        "source": info.source_url,
        "source last updated": info.source_updated,
        "tags": ", ".join(info.tags) or None,
    }
    for label, value in facts.items():
        if value:
            print(f"  {label}: {value}")
    width = max((len(c.field_name) for c in info.columns), default=5)
    kinds = max((len(c.data_type) for c in info.columns), default=4)
    print(f"  {'field':<{width}}  {'type':<{kinds}}  header")
    for column in info.columns:
        print(f"  {column.field_name:<{width}}  {column.data_type:<{kinds}}  {column.name}")


def run_compact(args: argparse.Namespace) -> int:
    """Forget the row versions that ended more than ``--keep-days`` ago; print what went."""
    if args.keep_days < 1:
        raise UsageError(f"--keep-days {args.keep_days} keeps no history; give a number of days, 1 or more.")
    with open_store(args.store) as store:
        removed = store.compact_history(timedelta(days=args.keep_days))
    total = sum(removed.values())
    print(f"Removed {total} old row versions from {len(removed)} datasets.")
    print(f"History now runs from {args.keep_days} days ago.")
    return 0
