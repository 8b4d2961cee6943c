"""A KPI's measure per group of one column (equity), with small-count suppression and disparity.

Each row is ``period_start, period_end, group, value, count, suppressed, disparity``: ``count`` is
the number of source rows behind the group-period; below ``breakdown.min_count`` the value is null
and ``suppressed`` is true. ``disparity`` is the period's largest unsuppressed value divided by its
smallest (null when fewer than two groups, or the smallest is 0). Null groups are ``(not recorded)``.

Example:
    >>> table = breakdown(kpi, store, catalog.settings, today=date(2020, 3, 1))  # doctest: +SKIP
    >>> table.column_names  # doctest: +SKIP
    ['period_start', 'period_end', 'group', 'value', 'count', 'suppressed', 'disparity']
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pyarrow as pa

from btvstat_open.store import Store, quote_ident
from catalog.measure import measure
from catalog.models import CatalogSettings, Kpi

__all__ = ["BREAKDOWN_SCHEMA", "NOT_RECORDED", "breakdown"]

NOT_RECORDED = "(not recorded)"
BREAKDOWN_SCHEMA = pa.schema(
    [
        pa.field("period_start", pa.date32()),
        pa.field("period_end", pa.date32()),
        pa.field("group", pa.string()),
        pa.field("value", pa.float64()),
        pa.field("count", pa.int64()),
        pa.field("suppressed", pa.bool_()),
        pa.field("disparity", pa.float64()),
    ]
)


def _soql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _restricted(kpi: Kpi, condition: str, *, count: bool) -> Kpi:
    where = f"({kpi.source.where}) AND {condition}" if kpi.source.where else condition
    update: dict[str, Any] = {"source": kpi.source.model_copy(update={"where": where}), "target": None}
    if count:
        update["measure"] = kpi.measure.model_copy(
            update={"calculation": "count", "column": None, "cumulative": False}
        )
    return kpi.model_copy(update=update)


def breakdown(kpi: Kpi, store: Store, settings: CatalogSettings, *, today: date) -> pa.Table:
    """The KPI's breakdown table (empty when the KPI has no ``breakdown``)."""
    spec = kpi.breakdown
    if spec is None:
        return BREAKDOWN_SCHEMA.empty_table()
    info = store.info(kpi.source.dataset)
    column = quote_ident(spec.column)
    groups = [
        row[0] for row in store.cursor().execute(f"SELECT DISTINCT {column} FROM {info.table}").fetchall()
    ]
    rows: list[dict[str, Any]] = []
    for group in sorted(groups, key=lambda g: (g is None, str(g))):
        condition = f"{spec.column} IS NULL" if group is None else f"{spec.column} = {_soql_text(str(group))}"
        values = measure(_restricted(kpi, condition, count=False), store, settings, today=today).to_pylist()
        counts = measure(_restricted(kpi, condition, count=True), store, settings, today=today).to_pylist()
        count_of = {r["period_start"]: int(r["value"] or 0) for r in counts}
        for record in values:
            n = count_of.get(record["period_start"], 0)
            if n == 0:
                continue
            suppressed = n < spec.min_count
            rows.append(
                {
                    "period_start": record["period_start"],
                    "period_end": record["period_end"],
                    "group": NOT_RECORDED if group is None else str(group),
                    "value": None if suppressed else record["value"],
                    "count": n,
                    "suppressed": suppressed,
                }
            )
    by_period: dict[date, list[float]] = {}
    for row in rows:
        if row["value"] is not None:
            by_period.setdefault(row["period_start"], []).append(row["value"])
    for row in rows:
        shown = by_period.get(row["period_start"], [])
        row["disparity"] = max(shown) / min(shown) if len(shown) > 1 and min(shown) > 0 else None
    rows.sort(key=lambda r: (r["period_start"], r["group"]))
    return pa.Table.from_pylist(rows, schema=BREAKDOWN_SCHEMA)
