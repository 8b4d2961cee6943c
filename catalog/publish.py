"""Publish every public KPI series as one metric dataset on a portal.

The metric dataset has one row per KPI per period (``row_key`` = ``{kpi_id}/{period_start}``
identifies rows) with the KPI's id, title, department, outcome area, unit and period size next to
the series columns. The first publish creates the dataset (with :data:`METRIC_COLUMNS` and
``row_key`` as its row identifier) when the portal has none by that id; publish whenever the
data changes:

Example:
    >>> from connectors import connect
    >>> portal = connect(portal_url, username="publisher", password=write_token)
    >>> publish_series(catalog, store, portal, "kpi-series").created
    222
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any, Literal

import pyarrow as pa

from btvstat_open.errors import PortalNotFound
from btvstat_open.store import Store
from btvstat_open.types import Column
from catalog.measure import measure
from catalog.models import Catalog
from connectors.base import Connector, PushResult

__all__ = ["METRIC_COLUMNS", "metric_table", "publish_series"]

METRIC_COLUMNS: tuple[Column, ...] = (
    Column("row_key", "Row key", "text", "KPI id and period start, e.g. potholes/2020-01-06"),
    Column("kpi_id", "KPI id", "text"),
    Column("kpi_title", "KPI", "text"),
    Column("department", "Department", "text"),
    Column("outcome_area", "Outcome area", "text"),
    Column("unit", "Unit", "text"),
    Column("period_size", "Period size", "text", "week, month, quarter, year or fiscal_year"),
    Column("period_start", "Period start", "floating_timestamp", "First day of the period"),
    Column("period_end", "Period end", "floating_timestamp", "Last day of the period"),
    Column("value", "Value", "number", "Empty when the period has no data"),
    Column("target", "Target", "number"),
    Column("status", "Status", "text", "on_track, near_target, off_track, no_target or no_data"),
    Column("numerator", "Numerator", "number", "For rates"),
    Column("denominator", "Denominator", "number", "For rates"),
)


def metric_table(catalog: Catalog, store: Store, *, today: date | None = None) -> pa.Table:
    """Every public KPI's series stacked into the metric dataset's rows (an Arrow table).

    Example:
        >>> metric_table(catalog, store).column_names[:3]
        ['row_key', 'kpi_id', 'kpi_title']
    """
    rows: dict[str, list[Any]] = {c.field_name: [] for c in METRIC_COLUMNS}
    for kpi in catalog.kpis.values():
        if not kpi.public:
            continue
        for row in measure(kpi, store, catalog.settings, today=today).to_pylist():
            start: date = row["period_start"]
            rows["row_key"].append(f"{kpi.id}/{start.isoformat()}")
            rows["kpi_id"].append(kpi.id)
            rows["kpi_title"].append(kpi.title)
            rows["department"].append(kpi.department)
            rows["outcome_area"].append(kpi.outcome_area)
            rows["unit"].append(kpi.unit)
            rows["period_size"].append(kpi.period.size)
            rows["period_start"].append(datetime.combine(start, time()))
            rows["period_end"].append(datetime.combine(row["period_end"], time()))
            for name in ("value", "target", "status", "numerator", "denominator"):
                rows[name].append(row.get(name))
    schema = pa.schema([c.arrow_field for c in METRIC_COLUMNS])
    return pa.table(rows, schema=schema)


def publish_series(
    catalog: Catalog,
    store: Store,
    connector: Connector,
    dataset_id: str,
    *,
    mode: Literal["replace", "upsert"] = "replace",
    today: date | None = None,
) -> PushResult:
    """Push every public KPI series to ``dataset_id`` on the connector's portal.

    ``replace`` (the default) leaves the portal's dataset exactly equal to the catalog's series;
    ``upsert`` updates rows by ``row_key`` and keeps rows the catalog no longer produces. A dataset
    missing on the portal is created first; a portal that picks its own ids (Socrata) may create
    it under another id, which the result's ``dataset_id`` gives.

    Example:
        >>> from connectors import connect
        >>> portal = connect(portal_url, username="publisher", password=write_token)
        >>> publish_series(catalog, store, portal, "kpi-series", mode="upsert").errors
        0
        >>> store.drop("kpi-series")  # (portal_url serves this store)
    """
    table = metric_table(catalog, store, today=today)
    try:
        connector.describe_if_changed(dataset_id)
    except PortalNotFound:
        created = connector.create(
            f"{catalog.settings.title}: KPI series",
            METRIC_COLUMNS,
            dataset_id=dataset_id,
            row_identifier="row_key",
            description="One row per public KPI per period: value, target and status.",
        )
        dataset_id = created.id
    return connector.push(table, dataset_id, mode=mode, row_id="row_key" if mode == "upsert" else None)
