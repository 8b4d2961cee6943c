"""``btvstat-open store compact``: bound the store's history.

Example:
    >>> from btvstat_open.cli import main
    >>> main(["store", "compact", "--store", str(scratch / "compact"), "--keep-days", "30"])
    Removed 0 old row versions from 0 datasets.
    History now runs from 30 days ago.
    0
"""

from __future__ import annotations

import argparse
from datetime import timedelta

from btvstat_open.errors import UsageError
from btvstat_open.store.database import Store

__all__ = ["run_compact"]


def run_compact(args: argparse.Namespace) -> int:
    """Forget the row versions that ended more than ``--keep-days`` ago; print what went."""
    if args.keep_days < 1:
        raise UsageError(f"--keep-days {args.keep_days} keeps no history; give a number of days, 1 or more.")
    with Store(args.store) as store:
        removed = store.compact_history(timedelta(days=args.keep_days))
    total = sum(removed.values())
    print(f"Removed {total} old row versions from {len(removed)} datasets.")
    print(f"History now runs from {args.keep_days} days ago.")
    return 0
