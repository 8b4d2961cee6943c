"""The same measure per group of a column (equity), with small-count suppression and disparity.

A row is ``period_start, period_end, group, value, count, suppressed, disparity``: ``count`` is the
number of source rows behind the group-period; below ``breakdown.min_count`` the value is null and
``suppressed`` is true. ``disparity`` is, for each period, the largest unsuppressed value divided by
the smallest (null with fewer than two, or when the smallest is not above zero). Null group values
form the group ``(not recorded)``.

Each group's series is :func:`catalog.measure` of the KPI with the group added to its ``where``,
so a group's numbers follow exactly the rules of the KPI's own series.

Example:
    >>> table = breakdown(kpi, store, settings, today=date(2020, 3, 1))  # doctest: +SKIP
    >>> table.column_names  # doctest: +SKIP
    ['period_start', 'period_end', 'group', 'value', 'count', 'suppressed', 'disparity']
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pyarrow as pa

from btvstat_open.errors import CatalogError
from btvstat_open.store import Store, quote_ident
from catalog.measure import measure
from catalog.models import CatalogSettings, Kpi, Measure

__all__ = ["BREAKDOWN_SCHEMA", "NOT_RECORDED", "breakdown", "publishable_rows"]

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


def _label(value: Any) -> str:
    if value is None:
        return NOT_RECORDED
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _soql_literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def _group_kpi(kpi: Kpi, column: str, value: Any, *, count: bool) -> Kpi:
    test = f"{column} IS NULL" if value is None else f"{column} = {_soql_literal(value)}"
    where = f"({kpi.source.where}) AND {test}" if kpi.source.where else test
    changes: dict[str, Any] = {"source": kpi.source.model_copy(update={"where": where})}
    if count:
        changes["measure"] = Measure(calculation="count")
    return kpi.model_copy(update=changes)


def breakdown(kpi: Kpi, store: Store, settings: CatalogSettings, *, today: date) -> pa.Table:
    """The KPI's breakdown table (empty when the KPI has no ``breakdown``); see the module docstring."""
    spec = kpi.breakdown
    if spec is None:
        return BREAKDOWN_SCHEMA.empty_table()
    info = store.info(kpi.source.dataset)
    if spec.column not in {c.field_name for c in info.columns}:
        raise CatalogError(
            f"KPI {kpi.id!r}: breakdown column {spec.column!r} is not a column of {kpi.source.dataset!r}."
        )
    sql = f"SELECT DISTINCT {quote_ident(spec.column)} FROM {info.table}"
    groups = sorted(
        (row[0] for row in store.cursor().execute(sql).fetchall()), key=lambda v: (v is None, str(v))
    )
    overall = measure(kpi, store, settings, today=today)
    starts, ends = overall.column("period_start").to_pylist(), overall.column("period_end").to_pylist()
    periods = list(zip(starts, ends, strict=True))
    cells: dict[date, list[dict[str, Any]]] = {start: [] for start, _ in periods}
    for value in groups:
        values = _by_start(
            measure(_group_kpi(kpi, spec.column, value, count=False), store, settings, today=today)
        )
        counts = _by_start(
            measure(_group_kpi(kpi, spec.column, value, count=True), store, settings, today=today)
        )
        for start, end in periods:
            count = int(counts.get(start) or 0)
            suppressed = count < spec.min_count
            cells[start].append(
                {
                    "period_start": start,
                    "period_end": end,
                    "group": _label(value),
                    "value": None if suppressed else values.get(start),
                    "count": count,
                    "suppressed": suppressed,
                }
            )
    rows: list[dict[str, Any]] = []
    for start, _ in periods:
        shown = [c["value"] for c in cells[start] if c["value"] is not None]
        disparity = max(shown) / min(shown) if len(shown) > 1 and min(shown) > 0 else None
        rows.extend(dict(cell, disparity=disparity) for cell in cells[start])
    return pa.Table.from_pylist(rows, schema=BREAKDOWN_SCHEMA)


def _by_start(series: pa.Table) -> dict[date, float | None]:
    starts, values = series.column("period_start").to_pylist(), series.column("value").to_pylist()
    return dict(zip(starts, values, strict=True))


def publishable_rows(table: pa.Table, min_count: int) -> list[dict[str, Any]]:
    """The breakdown as rows safe to publish: a suppressed cell has no value and its count is
    reported only as ``"< min_count"`` (so neither can be worked back from any output).

    Example:
        >>> t = pa.Table.from_pylist([{"period_start": date(2020, 1, 6), "period_end": date(2020, 1, 12),
        ...     "group": "1", "value": None, "count": 3, "suppressed": True, "disparity": None}],
        ...     schema=BREAKDOWN_SCHEMA)
        >>> publishable_rows(t, 10)[0]["count"]
        '< 10'
    """
    rows: list[dict[str, Any]] = []
    for row in table.to_pylist():
        suppressed = bool(row["suppressed"])
        rows.append(
            {
                "period_start": row["period_start"].isoformat(),
                "period_end": row["period_end"].isoformat(),
                "group": row["group"],
                "value": None if suppressed else row["value"],
                "count": f"< {min_count}" if suppressed else row["count"],
                "suppressed": suppressed,
                "disparity": row["disparity"],
            }
        )
    return rows
