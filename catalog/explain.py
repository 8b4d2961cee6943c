"""Why a KPI's series has no value: every empty result says so.

:func:`why_empty` looks at the KPI's rows the way :func:`catalog.measure.measure` does (the same
filter, date column and as-of day) and names the first reason that holds: the dataset has no
rows, the filter keeps none, no row has a date, every row is dated after the as-of day, the rows
are all in the period still in progress (left out with ``include_current: false``, the default),
or before ``period.start``. ``measure``, the KPI page, the dashboard's cards and the packets show it.

:func:`target_in_force` is the target that applies on a day, so a KPI without data never claims
to have no target when one is in force.

Example:
    >>> why_empty(kpi, store, settings, today=date(2020, 3, 2)) is None  # it has data
    True
    >>> why_empty(kpi, store, settings, today=date(2019, 1, 1))
    'every row is dated after the as-of day (2019-01-01): the first is dated 2020-01-01'
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pyarrow as pa

from btvstat_open.store import Store
from catalog.filter_rows import empty_filter_warnings
from catalog.measure import _compile, _day_expr, as_of_condition, measure
from catalog.models import CatalogSettings, Kpi, Target
from catalog.periods import period_end, period_start_sql

__all__ = ["target_in_force", "why_empty"]


def target_in_force(kpi: Kpi, day: date) -> Target | None:
    """The target in force on ``day`` (a fixed target always is), or None."""
    return kpi.target.in_force(day) if kpi.target else None


def _facts(kpi: Kpi, store: Store, fsm: int, today: date) -> tuple[Any, ...]:
    """Rows passing the filter, rows with a date, first and last day, rows on or before today,
    and the latest period start among those."""
    info = store.info(kpi.source.dataset)
    day = _day_expr(info, kpi.source.date_column)
    period = period_start_sql("__day", kpi.period.size, fsm)
    where, params = ("TRUE", []) if not kpi.source.where else _compile(kpi.source.where, info)
    dated = as_of_condition(info, kpi.source.date_column, "__day", period)
    sql = (
        f"WITH __rows AS (SELECT {day} AS __day FROM {info.table} WHERE {where}) "
        f"SELECT count(*), count(__day), min(__day), max(__day), "
        f"count(*) FILTER (WHERE __day IS NOT NULL AND {dated}), "
        f"max({period}) FILTER (WHERE __day IS NOT NULL AND {dated}) FROM __rows"
    )
    row = store.cursor().execute(sql, [*params, today, today]).fetchone() or (0, 0, None, None, 0, None)
    return (info.row_count, *row)


def why_empty(
    kpi: Kpi, store: Store, settings: CatalogSettings, *, today: date, series: pa.Table | None = None
) -> str | None:
    """Why the KPI's series has no period with a value as of ``today``, or None when it has one.

    ``series`` is the KPI's series as of ``today`` when the caller has measured it already.
    """
    if series is None:
        series = measure(kpi, store, settings, today=today)
    if any(v is not None for v in series.column("value").to_pylist()):
        return None
    total, kept, with_day, first, last, by_today, latest = _facts(
        kpi, store, settings.fiscal_year_start, today
    )
    column = kpi.source.date_column
    if not total:
        return f"its dataset '{kpi.source.dataset}' has no rows yet"
    if not kept:
        warnings = empty_filter_warnings(kpi, store)
        return warnings[0] if warnings else f"its filter keeps none of the dataset's {total:,} rows"
    if not with_day:
        return f"none of its {kept:,} rows has a date in '{column}'"
    if not by_today:
        return f"every row is dated after the as-of day ({today.isoformat()}): the first is dated {first}"
    end = period_end(latest, kpi.period.size)
    if end >= today and not kpi.period.include_current:
        return (
            f"its only rows are in the period still in progress ({latest} to {end}), which is shown once it "
            "ends (period.include_current: false, the default; set it to true to show it as provisional)"
        )
    if kpi.period.start and latest < kpi.period.start:
        return f"every row is before period.start ({kpi.period.start}): the last is dated {last}"
    return f"no period has a value: the rows' '{kpi.measure.column or column}' values are all empty"
