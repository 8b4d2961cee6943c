"""KPIs without a dataset: ``source: {entry: manual}``, values entered per period.

A manual KPI's approved values are the store dataset ``entries-<kpi id>``: one row per period
(``period_start``, ``period_end``, ``value``, ``numerator`` and ``denominator`` for a rate,
``comment``), keyed by ``period_key``. Because it is an ordinary dataset, measures, status,
targets, SODA, DCAT, packets and ``--as-of`` read it unchanged: the measure is the period's
``value`` (an average over the one row), or for a rate the sum of ``numerator`` over the sum of
``denominator``. Pending values never reach it: they wait in the submissions table until an
approver accepts them (:mod:`btvstat_open.people.submissions`).

Example:
    >>> manual_source("sidewalks", {"entry": "manual"})["dataset"]
    'entries-sidewalks'
    >>> manual_measure(None)
    {'calculation': 'average', 'column': 'value'}
    >>> manual_measure({"calculation": "rate", "as_percent": True})["numerator"]
    {'calculation': 'sum', 'column': 'numerator'}
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

import pyarrow as pa

from btvstat_open.errors import CatalogError
from btvstat_open.store import MetadataChange, Store
from btvstat_open.store.writes import apply_upsert, prepare_upsert
from btvstat_open.types import Column

__all__ = [
    "ENTRY_COLUMNS",
    "EntryValue",
    "ensure_entry_datasets",
    "entry_dataset_id",
    "entry_table",
    "manual_measure",
    "manual_source",
    "write_entries",
]

ENTRY_PREFIX = "entries-"
ENTRY_COLUMNS = (
    Column("period_key", "Period key", "text"),
    Column("period_start", "Period start", "floating_timestamp"),
    Column("period_end", "Period end", "floating_timestamp"),
    Column("value", "Value", "number"),
    Column("numerator", "Numerator", "number"),
    Column("denominator", "Denominator", "number"),
    Column("comment", "Comment", "text"),
)
#: One entered value: the period's start and end, then value, numerator, denominator, comment.
EntryValue = tuple[date, date, float | None, float | None, float | None, str]


def entry_dataset_id(kpi_id: str) -> str:
    """The store dataset holding a manual KPI's approved values.

    Example:
        >>> entry_dataset_id("sidewalk-repairs")
        'entries-sidewalk-repairs'
    """
    return ENTRY_PREFIX + kpi_id


def manual_source(kpi_id: str, source: Mapping[str, Any]) -> dict[str, Any]:
    """The full ``source`` a ``{entry: manual}`` source stands for (other keys are errors)."""
    extra = sorted(set(source) - {"entry"})
    if extra:
        raise ValueError(
            f"source: {{entry: manual}} takes no other key (found {', '.join(extra)}): the values "
            f"are entered per period and kept in the dataset {entry_dataset_id(kpi_id)}"
        )
    return {
        "portal": "local",
        "dataset": entry_dataset_id(kpi_id),
        "date_column": "period_start",
        "entry": "manual",
    }


def manual_measure(measure: Any) -> Any:
    """The measure of a manual KPI: the entered value, or for a rate the entered parts."""
    if measure is None:
        return {"calculation": "average", "column": "value"}
    if not isinstance(measure, dict):
        return measure
    if measure.get("calculation") == "rate":
        parts = {
            "numerator": {"calculation": "sum", "column": "numerator"},
            "denominator": {"calculation": "sum", "column": "denominator"},
        }
        return {**parts, **measure}
    return {"column": "value", **measure}


def ensure_entry_datasets(store: Store, kpi_ids: Iterable[str], *, public: bool = True) -> list[str]:
    """Create the (empty) entries dataset of each manual KPI that has none yet; returns those made.

    A private KPI's entries dataset is private (``public=False``): no anonymous download or SODA
    answer reads it. An existing dataset takes its KPI's ``public`` as the catalog says it now.
    """
    made = []
    for kpi_id in kpi_ids:
        dataset = entry_dataset_id(kpi_id)
        if store.exists(dataset):
            if store.info(dataset).public != public:
                store.update_metadata(dataset, MetadataChange(public=public))
            continue
        store.create(
            dataset,
            f"Entered values: {kpi_id}",
            ENTRY_COLUMNS,
            description=f"Values entered and approved for the KPI {kpi_id}, one row per period.",
            row_identifier="period_key",
            change=None if public else MetadataChange(public=False),
        )
        made.append(dataset)
    return made


def entry_table(values: Iterable[EntryValue]) -> pa.Table:
    """The rows of approved values, as the entries dataset holds them.

    Example:
        >>> entry_table([(date(2020, 1, 1), date(2020, 1, 31), 4.0, None, None, "")]).num_rows
        1
    """
    rows = list(values)

    def stamp(day: date) -> datetime:
        return datetime(day.year, day.month, day.day)

    return pa.table(
        {
            "period_key": [r[0].isoformat() for r in rows],
            "period_start": pa.array([stamp(r[0]) for r in rows], pa.timestamp("ms")),
            "period_end": pa.array([stamp(r[1]) for r in rows], pa.timestamp("ms")),
            "value": pa.array([r[2] for r in rows], pa.float64()),
            "numerator": pa.array([r[3] for r in rows], pa.float64()),
            "denominator": pa.array([r[4] for r in rows], pa.float64()),
            "comment": [r[5] for r in rows],
        }
    )


def write_entries(con: Any, store: Store, kpi_id: str, values: Iterable[EntryValue]) -> int:
    """Upsert approved values into a KPI's entries dataset on an open transaction ``con``."""
    dataset = entry_dataset_id(kpi_id)
    if not store.exists(dataset):
        raise CatalogError(f"The KPI {kpi_id} has no entries dataset; restart serve or run catalog validate.")
    info = store.info(dataset)
    result = apply_upsert(con, info, prepare_upsert(info, entry_table(values), None))
    return result.created + result.updated
