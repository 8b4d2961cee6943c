"""The KPI catalog: definitions (YAML), validation, measures, status and exports.

Example:
    >>> from catalog import load_catalog
    >>> from catalog.demo import DEMO_DIR
    >>> catalog = load_catalog(DEMO_DIR)
    >>> catalog.settings.fiscal_year_start
    7
"""

from __future__ import annotations

from catalog.loader import load_catalog
from catalog.measure import measure, measure_frame
from catalog.models import Catalog, CatalogSettings, Kpi
from catalog.sync_all import SyncOutcome, sync_catalog, sync_one

__all__ = [
    "Catalog",
    "CatalogSettings",
    "Kpi",
    "SyncOutcome",
    "load_catalog",
    "measure",
    "measure_frame",
    "sync_catalog",
    "sync_one",
]
