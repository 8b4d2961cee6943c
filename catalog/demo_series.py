"""A KPI of the bundled demo and its measured series, to try the chart and image functions on.

:func:`demo_series` loads the one demo dataset the KPI reads into a temporary store, measures the
KPI as the demo's catalog says (as of its ``as_of`` day) and keeps the answer for the rest of the
process, so examples and notebooks can start from a real KPI without a store of their own.

Example:
    >>> from catalog.demo_series import demo_series
    >>> kpi, series = demo_series("pothole-days-to-close")
    >>> kpi.title, series.column_names
    ('Median days to close pothole requests', ['period_start', 'period_end', 'value', 'target', 'status'])
"""

from __future__ import annotations

import functools
import tempfile

import pyarrow as pa

from btvstat_open.store import Store
from catalog.demo import DEMO_DIR, load_demo_data
from catalog.loader import load_catalog
from catalog.measure import measure
from catalog.models import Kpi

__all__ = ["demo_series"]


@functools.cache
def demo_series(kpi_id: str = "pothole-days-to-close") -> tuple[Kpi, pa.Table]:
    """The demo catalog's KPI ``kpi_id`` and its series (see :func:`catalog.measure`), measured once
    per process; raises :class:`~btvstat_open.errors.KpiNotFound` for an id the demo lacks.

    Example:
        >>> from catalog.demo_series import demo_series
        >>> kpi, series = demo_series("library-visitors-quarterly")
        >>> kpi.period.size, series.num_rows > 4
        ('quarter', True)
    """
    catalog = load_catalog(DEMO_DIR)
    kpi = catalog.get(kpi_id)
    # Entered values live beside the datasets: a KPI of entries needs the whole demo loaded.
    only = None if kpi.source.entry else {kpi.source.dataset}
    with tempfile.TemporaryDirectory(prefix="btvstat-demo-") as folder, Store(folder) as store:
        load_demo_data(store, only=only)
        return kpi, measure(kpi, store, catalog.settings)
