"""Dagster definitions from a catalog (``pip install btvstat-open[dagster]``).

An asset per dataset sync and per KPI series, with their dependencies and freshness; materialising
them runs the same code as ``btvstat-open sync`` and ``btvstat-open measure``. The definitions are
built by :mod:`catalog.dagster_defs` (they need the catalog, which sits above the core); this module
is the name the documentation gives them.

Example, a definitions file for ``dagster dev -f definitions.py``:

    >>> from btvstat_open.dagster import definitions
    >>> defs = definitions("catalog/demo", store=".btvstat/store")
"""

from __future__ import annotations

from catalog.dagster_defs import NOTIFY_KEY, dataset_key, definitions, freshness_policy, kpi_key

__all__ = ["NOTIFY_KEY", "dataset_key", "definitions", "freshness_policy", "kpi_key"]
