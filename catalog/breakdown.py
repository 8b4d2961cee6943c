"""Breakdowns (equity): a KPI's measure per group of one column, with small counts suppressed.

The breakdown is the KPI's own measure (the same periods, calculation, ``where`` filters and
``today``, built by :mod:`catalog.measure`'s SQL) computed once per value of ``breakdown.column``.
Rows without a value in that column (null, or text that is empty or only spaces) form the group
``(not recorded)``. A location column groups by its address text (LA's ``Zip Code`` locations hold
the ZIP code there). Every group gets a row in every period of the series, so a group with no rows
in a period appears there too, with a count of 0: that is not a small cell (no one is in it), so it is
published as 0 and never triggers suppression.

Columns of the table :func:`breakdown` returns:

* ``period_start``, ``period_end``: as in the KPI's series;
* ``group``: the group's value as text (numbers without a trailing ``.0``);
* ``value``: the measure for the group-period, null when suppressed;
* ``count``: the number of source rows behind the value (rows that pass the KPI's ``where``; for a
  cumulative KPI, the rows behind the running total), null when suppressed;
* ``count_label``: the count as it may be published: the number, or ``< min_count`` (e.g. ``< 10``);
* ``suppressed``: true when the count is from 1 to ``min_count - 1`` (or hidden as a complement);
* ``disparity``: for the period, the largest unsuppressed value divided by the smallest (the same on
  every row of the period); null when fewer than two groups have a value or the smallest is 0 or
  less. ``(not recorded)`` is left out of it: it is not a group whose residents are served better
  or worse, only rows the city did not place.

Complementary suppression: the groups' counts add up to the period's rows (a count KPI's published
series, or one on the same rows), and a count or sum's values add up to its series, so one
suppressed cell in a period could be worked out as the total minus the others. When a period has
exactly one suppressed cell, the unsuppressed cell with the smallest count (of at least ``min_count``)
is suppressed too; its ``count_label`` is then ``>= min_count`` (true, and all that is said). Groups
with no rows in the period take no part in this, so a group that first appears in a later period
never hides a cell an earlier period published.

The table holds only what may be published: suppressed values and counts are never in it.
:func:`publishable_rows` is the one way to turn it into records, and every output (the CSV and
JSON here, the routes and charts in :mod:`widgets`) goes through it.

Example:
    >>> kpi = catalog.get("pothole-days-to-close")  # broken down by council district
    >>> table = breakdown(kpi, store, catalog.settings, today=date(2020, 3, 1))
    >>> publishable_rows(table)[0]  # under 10 requests: suppressed
    {'period_start': '2019-12-30', 'period_end': '2020-01-05', 'group': '1', 'value': None,
     'count': None, 'count_label': '< 10', 'suppressed': True, 'disparity': 12.0}
"""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

import pyarrow as pa

from btvstat_open.errors import CatalogError
from btvstat_open.store import DatasetInfo, Store, quote_ident
from catalog.asof import known_dataset
from catalog.checks import BREAKDOWN_TYPES
from catalog.measure import _aggregate_sql, _periods, _values, row_counts
from catalog.models import Breakdown, CatalogSettings, Kpi
from catalog.periods import period_end

__all__ = [
    "BREAKDOWN_SCHEMA",
    "BREAKDOWN_TYPES",
    "NOT_RECORDED",
    "breakdown",
    "breakdown_csv",
    "breakdown_document",
    "publishable_rows",
]

NOT_RECORDED = "(not recorded)"
BREAKDOWN_SCHEMA = pa.schema(
    [
        pa.field("period_start", pa.date32()),
        pa.field("period_end", pa.date32()),
        pa.field("group", pa.string()),
        pa.field("value", pa.float64()),
        pa.field("count", pa.int64()),
        pa.field("count_label", pa.string()),
        pa.field("suppressed", pa.bool_()),
        pa.field("disparity", pa.float64()),
    ]
)

# A raw group value (None, str, float or bool) -> the cells of one group, keyed by period start.
_Cells = dict[Any, dict[date, tuple[Any, ...]]]


def breakdown(kpi: Kpi, store: Store, settings: CatalogSettings, *, today: date) -> pa.Table:
    """The KPI's measure per group of ``kpi.breakdown.column`` (see the module docstring).

    Raises :class:`CatalogError` when the KPI has no ``breakdown`` or its column does not fit.

    Example:
        >>> breakdown(kpi, store, settings, today=date(2020, 3, 1)).column_names
        ['period_start', 'period_end', 'group', 'value', 'count', 'count_label', 'suppressed', 'disparity']
    """
    spec = _spec(kpi)
    info = known_dataset(store, kpi.source.dataset, today)
    fsm = settings.fiscal_year_start
    sql = _aggregate_sql(kpi, info, fsm, today, group=_group_sql(info, spec.column))
    cells: _Cells = {}
    counts: dict[Any, dict[date, int]] = {}
    for row in store.cursor().execute(sql.text, sql.params).fetchall():
        cells.setdefault(row[1], {})[row[0]] = row[2:-1]
        counts.setdefault(row[1], {})[row[0]] = int(row[-1])
    if not cells:
        return BREAKDOWN_SCHEMA.empty_table()
    first = min(min(c) for c in cells.values())
    last = max(max(c) for c in cells.values())
    starts, keep = _periods(kpi, first, last, fsm, today)
    groups = sorted(cells, key=_sort_key)
    grid = {g: _group_cells(kpi, starts, cells[g], counts[g], fsm) for g in groups}
    out: dict[str, list[Any]] = {name: [] for name in BREAKDOWN_SCHEMA.names}
    for i in keep:
        published = _suppress(spec.min_count, [(g, *grid[g][i]) for g in groups])
        for group, value, count, label, suppressed in published:
            out["period_start"].append(starts[i])
            out["period_end"].append(period_end(starts[i], kpi.period.size))
            out["group"].append(_label(group))
            out["value"].append(value)
            out["count"].append(count)
            out["count_label"].append(label)
            out["suppressed"].append(suppressed)
        # Groups with no rows in the period (count 0) have nothing to compare.
        ratio = _disparity([(g, v) for g, v, count, _, hidden in published if not hidden and count])
        out["disparity"].extend([ratio] * len(groups))
    return pa.table(out, schema=BREAKDOWN_SCHEMA)


def publishable_rows(table: pa.Table) -> list[dict[str, Any]]:
    """The breakdown's rows as JSON-ready records (ISO dates), for every output to use.

    A suppressed row never carries a value or a count, even if a table was built some other way.

    Example:
        >>> t = pa.table({"period_start": [date(2020, 1, 1)], "group": ["1"], "value": [3.0],
        ...               "count": [3], "count_label": ["< 10"], "suppressed": [True]})
        >>> row = publishable_rows(t)[0]
        >>> row["period_start"], row["value"], row["count"], row["count_label"]
        ('2020-01-01', None, None, '< 10')
    """
    records = []
    for row in table.to_pylist():
        if row.get("suppressed", True):
            row.update({key: None for key in ("value", "count") if key in row})
        records.append({k: v.isoformat() if isinstance(v, date) else v for k, v in row.items()})
    return records


def breakdown_csv(table: pa.Table) -> str:
    """The publishable rows as CSV text (empty cells for nulls, ``true``/``false`` for flags).

    Example:
        >>> t = pa.table({"group": ["1", "2"], "value": [None, 12.0], "suppressed": [True, False]})
        >>> breakdown_csv(t).splitlines()
        ['group,value,suppressed', '1,,true', '2,12.0,false']
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(table.column_names)
    for row in publishable_rows(table):
        writer.writerow([_cell(v) for v in row.values()])
    return buffer.getvalue()


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    return ("true" if value else "false") if isinstance(value, bool) else value


def breakdown_document(kpi: Kpi, table: pa.Table) -> dict[str, Any]:
    """The breakdown as one JSON document: which column, its label, the threshold and the rows.

    Example:
        >>> table = breakdown(kpi, store, catalog.settings, today=date(2020, 3, 1))
        >>> breakdown_document(kpi, table)["min_count"]
        10
    """
    spec = _spec(kpi)
    return {
        "kpi": kpi.id,
        "column": spec.column,
        "label": spec.label or spec.column,
        "min_count": spec.min_count,
        "rows": publishable_rows(table),
    }


def _spec(kpi: Kpi) -> Breakdown:
    if kpi.breakdown is None:
        raise CatalogError(
            f"KPI {kpi.id!r} has no breakdown. Add `breakdown: {{column: COLUMN}}` to its file "
            "to measure it per group."
        )
    return kpi.breakdown


def _group_sql(info: DatasetInfo, column: str) -> str:
    """The SQL of the group value: text (a location's address) trimmed, empty text not recorded."""
    kind = info.require_column(column).data_type
    if kind not in BREAKDOWN_TYPES:
        raise CatalogError(
            f"breakdown.column {column!r} of dataset {info.id!r} is {kind}; groups must be "
            f"{', '.join(BREAKDOWN_TYPES)}. Choose another column for the breakdown.",
            problems=[(info.id, None, f"breakdown column {column!r} is {kind}")],
        )
    col = quote_ident(column)
    if kind == "location":  # grouped by its address text (a ZIP code, a street address)
        return f"nullif(trim(struct_extract({col}, 'human_address')), '')"
    return f"nullif(trim({col}), '')" if kind == "text" else col


def _group_cells(
    kpi: Kpi, starts: list[date], cells: dict[date, tuple[Any, ...]], counts: dict[date, int], fsm: int
) -> list[tuple[float | None, int]]:
    """One group's (value, count) in every period; counts run with a cumulative total."""
    values, _, _ = _values(kpi, starts, cells, fsm)
    return list(zip(values, row_counts(kpi, starts, counts, fsm), strict=True))


_Published = tuple[Any, float | None, int | None, str, bool]


def _suppress(min_count: int, period: list[tuple[Any, float | None, int]]) -> list[_Published]:
    """Each group's published (group, value, count, count_label, suppressed) in one period."""
    # A group with no rows in the period tells nothing about anyone: it is not a small cell, and
    # hiding it would protect nothing, so it is neither suppressed nor hidden as a complement.
    small = [0 < count < min_count for _, _, count in period]
    hidden = list(small)
    shown = [i for i, (_, _, count) in enumerate(period) if count >= min_count]
    if sum(small) == 1 and shown:
        # A total (of rows, or the series) gives away a lone suppressed cell: hide the next smallest too.
        hidden[min(shown, key=lambda i: period[i][2])] = True
    out: list[_Published] = []
    for (group, value, count), is_small, is_hidden in zip(period, small, hidden, strict=True):
        if is_small:
            out.append((group, None, None, f"< {min_count}", True))
        elif is_hidden:
            out.append((group, None, None, f">= {min_count}", True))
        else:
            out.append((group, value, count, str(count), False))
    return out


def _disparity(values: list[tuple[Any, float | None]]) -> float | None:
    """Largest / smallest value of the recorded groups; None for fewer than two or a smallest <= 0."""
    shown = [v for g, v in values if v is not None and not _not_recorded(g)]
    if len(shown) < 2 or min(shown) <= 0:
        return None
    return max(shown) / min(shown)


def _not_recorded(group: Any) -> bool:
    return group is None


def _label(group: Any) -> str:
    """A group value as text: ``5.0`` -> ``5``, ``True`` -> ``true``, null -> ``(not recorded)``."""
    if _not_recorded(group):
        return NOT_RECORDED
    if isinstance(group, bool):
        return "true" if group else "false"
    if isinstance(group, float) and group.is_integer():
        return str(int(group))
    return str(group)


def _sort_key(group: Any) -> tuple[int, Any]:
    """Numbers in numeric order, text alphabetically, ``(not recorded)`` last."""
    if _not_recorded(group):
        return (2, "")
    if isinstance(group, int | float):
        return (0, float(group))
    return (1, str(group).casefold())
