"""Compute a KPI's series: one row per period with value, target and status.

The rows are read and aggregated in DuckDB straight from the dataset's table in the store; the
KPI's ``where`` is applied first. Python then fills in the periods without rows, applies the
cumulative running total, and judges each period against the target.

Calculations (per period, null values in the column are ignored):

* ``count``: rows; ``sum``: total of the column (0 when no value); ``average``; ``median`` and
  ``percentile`` interpolate linearly between the closest ranks (DuckDB ``quantile_cont``, which is
  SQL ``percentile_cont`` and numpy's default);
* ``rate``: numerator / denominator, each a count or sum with its own ``where``; x100 with
  ``as_percent``; a zero denominator gives no value (``no_data``);
* ``recent``: the value of the latest row in the period by its date column, time of day included
  (ties by load time, then row id); rows without a value are passed over.

Periods with no rows inside the series are 0 for count and sum and ``no_data`` otherwise. The
series runs from ``period.start``'s period (or the first period with data) through the last period
with data; with ``include_current: false`` periods that have not ended by ``today`` are left out.
Rows dated after ``today`` are left out before anything is computed (``--as-of``, see
:mod:`catalog.asof`): a row of a date or timestamp column counts from its day, a row of a year-number
column from the first day of the year or fiscal year its number labels.
``cumulative: true`` turns each value into a running total that restarts every fiscal year (for a
rate, numerator and denominator accumulate and the ratio is taken of the totals).
``measure.min_count`` guards the headline as ``breakdown.min_count`` guards cells: a period whose
value comes from fewer source rows has no value (``no_data``), so a "100 %" from one row is never shown.
Timestamps with a zone are dated in UTC.

Example:
    >>> from catalog.demo import DEMO_DIR, demo_store
    >>> from catalog.loader import load_catalog
    >>> catalog = load_catalog(DEMO_DIR)
    >>> with demo_store() as store:
    ...     series = measure(catalog.get("pothole-requests-weekly"), store, catalog.settings)
    >>> series.column_names
    ['period_start', 'period_end', 'value', 'target', 'status']
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pandas as pd
import pyarrow as pa

from btvstat_open.errors import CatalogError
from btvstat_open.store import DatasetInfo, Store, quote_ident
from catalog.asof import known_dataset, today_for
from catalog.models import CatalogSettings, Kpi, RateTerm
from catalog.periods import fiscal_year_start_of, period_end, period_range, period_start, period_start_sql
from catalog.status import status

__all__ = ["RATE_SCHEMA", "SERIES_SCHEMA", "as_of_condition", "measure", "measure_frame"]

SERIES_SCHEMA = pa.schema(
    [
        pa.field("period_start", pa.date32()),
        pa.field("period_end", pa.date32()),
        pa.field("value", pa.float64()),
        pa.field("target", pa.float64()),
        pa.field("status", pa.string()),
    ]
)
RATE_SCHEMA = SERIES_SCHEMA.append(pa.field("numerator", pa.float64())).append(
    pa.field("denominator", pa.float64())
)


@dataclass
class _Sql:
    """SQL text built in pieces, with its ``?`` parameters in text order."""

    text: str
    params: list[Any]


def measure(
    kpi: Kpi,
    store: Store,
    settings: CatalogSettings,
    *,
    today: date | None = None,
    known_at: datetime | None = None,
) -> pa.Table:
    """The KPI's series as an Arrow table (see the module docstring for the rules).

    Columns: ``period_start`` and ``period_end`` (date32), ``value`` (float64, null = no data),
    ``target`` (float64 or null), ``status`` (string), plus ``numerator`` and ``denominator`` for
    rates. ``today`` is the day to compute as of (default: :func:`catalog.asof.today_for`, i.e.
    ``as_of`` in ``catalog.yaml`` or else the local date): rows dated after it are left out and
    only periods that ended before it are shown (unless ``include_current``). ``known_at`` reads the
    dataset as the store knew it at that moment instead of at the end of ``today`` (a data check
    compares two versions with it).

    Example (three requests in a store of their own, counted by month):
        >>> import tempfile
        >>> from datetime import date, datetime
        >>> import pyarrow as pa
        >>> from btvstat_open import Column, Store
        >>> from catalog import CatalogSettings, Kpi, measure
        >>> store = Store(tempfile.mkdtemp())
        >>> opened = [datetime(2024, 1, 5), datetime(2024, 1, 20), datetime(2024, 2, 3)]
        >>> columns = [Column("opened", "Opened", "floating_timestamp")]
        >>> store.load("requests", pa.table({"opened": opened}), columns).row_count
        3
        >>> kpi = Kpi.model_validate({
        ...     "id": "requests-monthly", "title": "Requests", "department": "Public Works",
        ...     "source": {"dataset": "requests", "date_column": "opened"},
        ...     "measure": {"calculation": "count"}, "period": {"size": "month"},
        ...     "direction": "lower_is_better", "target": {"value": 5},
        ... })
        >>> table = measure(kpi, store, CatalogSettings(), today=date(2024, 3, 1))
        >>> table.column_names, table.column("value").to_pylist()
        (['period_start', 'period_end', 'value', 'target', 'status'], [2.0, 1.0])
    """
    today = today or today_for(settings)
    if known_at is None:
        info = known_dataset(store, kpi.source.dataset, today)
    else:
        info = store.known(kpi.source.dataset, known_at)
    size = kpi.period.size
    fsm = settings.fiscal_year_start
    sql = _aggregate_sql(kpi, info, fsm, today)
    rows = store.cursor().execute(sql.text, sql.params).fetchall()
    data = {row[0]: row[1:] for row in rows}
    empty = SERIES_SCHEMA if kpi.measure.calculation != "rate" else RATE_SCHEMA
    if not data:
        return empty.empty_table()
    starts, keep = _periods(kpi, min(data), max(data), fsm, today)
    values, numerators, denominators = _values(kpi, starts, data, fsm)
    if kpi.measure.min_count:  # a rate's numerator and denominator would give the value away
        shown = _enough_rows(kpi, store, info, fsm, today, starts)
        values, numerators, denominators = (
            [v if ok else None for v, ok in zip(column, shown, strict=False)] if column else column
            for column in (values, numerators, denominators)
        )
    # Each period is judged against the target in force at its start (target.history).
    targets = [kpi.target.in_force(starts[i]) if kpi.target else None for i in keep]
    columns: dict[str, list[Any]] = {
        "period_start": [starts[i] for i in keep],
        "period_end": [period_end(starts[i], size) for i in keep],
        "value": [values[i] for i in keep],
        "target": [t.value if t else None for t in targets],
        "status": [status(values[i], t, kpi.direction) for i, t in zip(keep, targets, strict=True)],
    }
    if kpi.measure.calculation == "rate":
        columns["numerator"] = [numerators[i] for i in keep]
        columns["denominator"] = [denominators[i] for i in keep]
    return pa.table(columns, schema=empty)


def _enough_rows(
    kpi: Kpi, store: Store, info: DatasetInfo, fsm: int, today: date, starts: list[date]
) -> list[bool]:
    """``measure.min_count``: whether each period's value comes from enough source rows (a
    cumulative value counts the rows behind its running total)."""
    sql = _aggregate_sql(kpi, info, fsm, today, group="1")  # one group: each period's row count last
    counts = {row[0]: int(row[-1]) for row in store.cursor().execute(sql.text, sql.params).fetchall()}
    minimum = kpi.measure.min_count or 0
    return [count >= minimum for count in row_counts(kpi, starts, counts, fsm)]


def row_counts(kpi: Kpi, starts: list[date], counts: dict[date, int], fsm: int) -> list[int]:
    """The source rows behind each period's value: its own, or for a cumulative KPI the running
    count within the fiscal year (as the value runs)."""
    out, running, year = [], 0, None
    for start in starts:
        count = counts.get(start, 0)
        if kpi.measure.cumulative:
            if fiscal_year_start_of(start, fsm) != year:
                year, running = fiscal_year_start_of(start, fsm), 0
            running += count
            count = running
        out.append(count)
    return out


def measure_frame(
    kpi: Kpi, store: Store, settings: CatalogSettings, *, today: date | None = None
) -> pd.DataFrame:
    """The KPI's series as a pandas DataFrame (same columns as :func:`measure`).

    Example (what was spent each quarter, from a store of its own):
        >>> import tempfile
        >>> from datetime import date
        >>> import pyarrow as pa
        >>> from btvstat_open import Column, Store
        >>> from catalog import CatalogSettings, Kpi, measure_frame
        >>> spent = Store(tempfile.mkdtemp())
        >>> paid = pa.table({"paid": [date(2024, 1, 9), date(2024, 5, 2)], "amount": [120.0, 80.5]})
        >>> columns = [Column("paid", "Paid", "floating_timestamp"), Column("amount", "Amount", "number")]
        >>> spent.load("payments", paid, columns).row_count
        2
        >>> total = Kpi.model_validate({
        ...     "id": "spending", "title": "Spending", "department": "Finance",
        ...     "source": {"dataset": "payments", "date_column": "paid"},
        ...     "measure": {"calculation": "sum", "column": "amount"}, "period": {"size": "quarter"},
        ... })
        >>> measure_frame(total, spent, CatalogSettings(), today=date(2024, 7, 1))[["period_start", "value"]]
          period_start  value
        0   2024-01-01  120.0
        1   2024-04-01   80.5
    """
    frame: pd.DataFrame = measure(kpi, store, settings, today=today).to_pandas()
    return frame


def _periods(kpi: Kpi, first: date, last: date, fsm: int, today: date) -> tuple[list[date], list[int]]:
    """Every period start from the first needed through ``last``, and the indexes of those shown.

    Periods before ``period.start`` are computed (a cumulative total starts in them) but not shown;
    nor are periods that have not ended by ``today`` unless ``include_current``.
    """
    size = kpi.period.size
    shown_from = period_start(kpi.period.start, size, fsm) if kpi.period.start else first
    starts = period_range(min(first, shown_from), last, size)
    keep = [
        i
        for i, start in enumerate(starts)
        if start >= shown_from and (kpi.period.include_current or period_end(start, size) < today)
    ]
    return starts, keep


def _values(
    kpi: Kpi, starts: list[date], data: dict[date, tuple[Any, ...]], fsm: int
) -> tuple[list[float | None], list[float | None], list[float | None]]:
    """Each period's value (and numerator, denominator for rates), cumulative where asked."""
    calc = kpi.measure.calculation
    values: list[float | None] = []
    nums: list[float | None] = []
    dens: list[float | None] = []
    running_fy: date | None = None
    total = num_total = den_total = 0.0
    for start in starts:
        row = data.get(start)
        if kpi.measure.cumulative and fiscal_year_start_of(start, fsm) != running_fy:
            running_fy = fiscal_year_start_of(start, fsm)
            total = num_total = den_total = 0.0
        if calc == "rate":
            num = float(row[1]) if row else 0.0
            den = float(row[2]) if row else 0.0
            if kpi.measure.cumulative:
                num_total += num
                den_total += den
                num, den = num_total, den_total
            nums.append(num)
            dens.append(den)
            ratio = num / den if den != 0 else None
            if ratio is not None and kpi.measure.as_percent:
                ratio *= 100.0
            values.append(ratio)
            continue
        value = None if row is None or row[0] is None else float(row[0])
        if calc in ("count", "sum") and value is None:
            value = 0.0
        if kpi.measure.cumulative and value is not None:
            total += value
            value = total
        values.append(value)
    return values, nums, dens


def _aggregate_sql(kpi: Kpi, info: DatasetInfo, fsm: int, today: date, group: str | None = None) -> _Sql:
    """``SELECT period_start, value[, numerator, denominator] ... GROUP BY period`` for the KPI.

    Only rows dated on or before ``today`` are aggregated (see :func:`as_of_condition`). With
    ``group`` (an SQL expression built from quoted column names, never from user text), the rows
    are also grouped by its value: each row of the result is
    ``period, group value, value[, numerator, denominator], row count`` (:mod:`catalog.breakdown`).
    """
    day = _day_expr(info, kpi.source.date_column)
    period = period_start_sql("__day", kpi.period.size, fsm)
    m = kpi.measure
    # "recent" orders rows by the full date column (time of day included), then by load time and
    # row id so that two rows with the same moment still give one answer.
    select = [
        f"{day} AS __day",
        f"{quote_ident(kpi.source.date_column)} AS __moment",
        '":created_at" AS __created',
        '":id" AS __rid',
    ]
    params: list[Any] = []
    if m.column and m.calculation not in ("count", "rate"):  # count and rate ignore measure.column
        select.append(f"{quote_ident(m.column)} AS __v")
    aggregate: list[str]
    if m.calculation == "rate":
        assert m.numerator is not None and m.denominator is not None
        for name, term in (("num", m.numerator), ("den", m.denominator)):
            value_sql, ok_sql, term_params = _term(term, info)
            select.append(f"{value_sql} AS __{name}_v")
            select.append(f"{ok_sql} AS __{name}_ok")
            params.extend(term_params)
        aggregate = [
            "NULL",
            "coalesce(sum(__num_v) FILTER (WHERE __num_ok), 0)",
            "coalesce(sum(__den_v) FILTER (WHERE __den_ok), 0)",
        ]
    else:
        aggregate = [_aggregate(m.calculation, m.percentile)]
    where = "TRUE"
    if kpi.source.where:
        where, where_params = _compile(kpi.source.where, info)
        params.extend(where_params)
    keys = ["__period"]
    if group is not None:
        select.append(f"{group} AS __group")
        keys.append("__group")
        aggregate.append("count(*)")
    dated = as_of_condition(info, kpi.source.date_column, "__day", period)
    text = (
        f"WITH __rows AS (SELECT {', '.join(select)} FROM {info.table} WHERE {where}) "
        f"SELECT {period} AS __period, {', '.join(keys[1:] + aggregate)} FROM __rows "
        f"WHERE __day IS NOT NULL AND {dated} GROUP BY {', '.join(keys)} ORDER BY {', '.join(keys)}"
    )
    return _Sql(text, [*params, today])


def as_of_condition(info: DatasetInfo, column: str, day_sql: str, period_sql: str) -> str:
    """SQL that keeps a row dated on or before the ``?`` parameter (the as-of day).

    ``day_sql`` is the row's DATE (:func:`_day_expr`), ``period_sql`` the start of its period. A
    date or timestamp row counts from its day (a timestamp at 23:59 on the as-of day is kept); a
    year-number row stands for the whole year or fiscal year it labels, so it counts from that
    period's first day (as of 2012-08-01, the FY2013 figure of a July fiscal year is in, and its
    period is the current, unfinished one).

    Example:
        >>> as_of_condition(store.info("la-operating-indicators"), "fiscal_year", "__day", "p")
        '(p <= ?)'
    """
    if info.require_column(column).data_type == "number":
        return f"({period_sql} <= ?)"
    return f"({day_sql} <= ?)"


def _aggregate(calculation: str, percentile: float | None) -> str:
    """The SQL aggregate of ``__v`` for one calculation (rates are built separately)."""
    if calculation == "percentile":
        # The fraction is a float from the validated model, formatted as a literal.
        return f"quantile_cont(__v, {float(percentile or 50) / 100.0!r})"
    return {
        "count": "count(*)",
        "sum": "sum(__v)",
        "average": "avg(__v)",
        "median": "quantile_cont(__v, 0.5)",
        "recent": "last(__v ORDER BY __moment, __created, __rid) FILTER (WHERE __v IS NOT NULL)",
    }[calculation]


def _term(term: RateTerm, info: DatasetInfo) -> tuple[str, str, list[Any]]:
    """The value and filter expressions of a rate's numerator or denominator."""
    value = "1.0" if term.calculation == "count" else f"CAST({quote_ident(term.column or '')} AS DOUBLE)"
    if not term.where:
        return value, "TRUE", []
    sql, params = _compile(term.where, info)
    return value, f"coalesce(({sql}), FALSE)", params


def _compile(where: str, info: DatasetInfo) -> tuple[str, list[Any]]:
    from btvstat_open.soql import compile_where

    sql, params = compile_where(where, info)
    return f"({sql})", list(params)


def _day_expr(info: DatasetInfo, column: str) -> str:
    """A DATE expression for the date column (timestamps, or year numbers as January 1st)."""
    kind = info.require_column(column).data_type
    col = quote_ident(column)
    if kind == "floating_timestamp":
        return f"CAST({col} AS DATE)"
    if kind == "fixed_timestamp":
        return f"CAST(timezone('UTC', {col}) AS DATE)"
    if kind == "number":
        return f"CASE WHEN {col} BETWEEN 1 AND 9999 THEN make_date(CAST(floor({col}) AS INTEGER), 1, 1) END"
    raise CatalogError(
        f"Column {column!r} of dataset {info.id!r} is {kind}; a date column must be a timestamp or a "
        "year number. Fix source.date_column (or load the column with "
        f"column_types={{'{column}': 'floating_timestamp'}}).",
        problems=[(info.id, None, f"date column {column!r} is {kind}")],
    )
