"""``btvstat-open load`` with the data checks: a loaded dataset is checked like a synced one.

The rows are loaded first (:func:`btvstat_open.load.run_load`), then the dataset's checks run on
them: those of ``--catalog DIR`` (``checks:`` in its ``catalog.yaml``), else the rule the store
last checked the dataset against (recorded by a sync or ``btvstat-open checks``). A failure is a
warning line, as after a sync; with ``on_fail: hold`` the version before the load stays published
until ``btvstat-open checks accept DATASET``.

Example:
    >>> from btvstat_open.cli import main
    >>> main(["load", "missing.csv", "--dataset", "x", "--store", str(scratch / "s"), "--catalog", "/no"])
    2
"""

from __future__ import annotations

import argparse

from btvstat_open.load import run_load
from btvstat_open.store import open_store
from catalog.commands import report_checks
from catalog.data_checks import recorded_rules, run_checks
from catalog.loader import load_catalog

__all__ = ["run_load_checked"]


def run_load_checked(args: argparse.Namespace) -> int:
    """Load the file, then run the dataset's data checks on what was loaded (see the module)."""
    folder = getattr(args, "catalog", None)
    catalog = load_catalog(folder) if folder else None  # a bad catalog fails before any write
    code = run_load(args)
    if code:
        return code
    with open_store(args.store) as store:
        rules = None if catalog is not None else recorded_rules(store, args.dataset)
        states = run_checks(catalog, store, only=[args.dataset], rules=rules)
    report_checks(states)
    return 0
