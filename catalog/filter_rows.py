"""How many rows a KPI's filters keep, and why a text comparison keeps none.

``catalog validate`` prints, for every KPI with a ``where``, how many of its dataset's rows the
filter keeps (:func:`rows_kept`); a filter that keeps none is a warning (:func:`empty_filter_warnings`),
with the dataset's nearest values when a ``column = 'text'`` comparison misses only by spaces or
case (LA's operating indicators hold ``'Fire '``, with a trailing space).

Example:
    >>> kpi = catalog.get("pothole-days-to-close")
    >>> kept, total = rows_kept(kpi, store)
    >>> 0 < kept <= total
    True
"""

from __future__ import annotations

import difflib
import re

from btvstat_open.errors import SoqlError
from btvstat_open.store import DatasetInfo, Store, quote_ident
from catalog.models import Kpi

__all__ = ["empty_filter_warnings", "nearest_values", "rows_kept"]

# `column = 'text'` (or `'text' = column`) inside a SoQL filter.
_EQUALS = re.compile(r"`?([A-Za-z_][\w]*)`?\s*=\s*'((?:[^']|'')*)'")


def rows_kept(kpi: Kpi, store: Store) -> tuple[int, int]:
    """``(rows the KPI's where keeps, rows in its dataset)``; without a where, both are the row count."""
    from btvstat_open.soql import compile_where

    info = store.info(kpi.source.dataset)
    if not kpi.source.where:
        return info.row_count, info.row_count
    sql, params = compile_where(kpi.source.where, info)
    row = store.cursor().execute(f"SELECT count(*) FROM {info.table} WHERE {sql}", params).fetchone()
    return (int(row[0]) if row else 0), info.row_count


def nearest_values(info: DatasetInfo, store: Store, column: str, wanted: str) -> list[str]:
    """The column's values that equal ``wanted`` but for spaces and case, else the closest spellings."""
    if info.column(column) is None or info.require_column(column).data_type != "text":
        return []
    col = quote_ident(column)
    sql = f"SELECT DISTINCT {col} FROM {info.table} WHERE {col} IS NOT NULL LIMIT 5000"
    values = [str(r[0]) for r in store.cursor().execute(sql).fetchall()]
    loose = [v for v in values if v.strip().casefold() == wanted.strip().casefold() and v != wanted]
    return loose or difflib.get_close_matches(wanted, values, n=3, cutoff=0.75)


def _describe(value: str, wanted: str) -> str:
    if value.strip() == wanted.strip():
        return f"'{value}' (with its spaces)"
    return f"'{value}'"


def empty_filter_warnings(kpi: Kpi, store: Store) -> list[str]:
    """A warning for a ``where`` that keeps no row of the dataset, naming the nearest values."""
    if not kpi.source.where or not store.exists(kpi.source.dataset):
        return []
    try:
        kept, total = rows_kept(kpi, store)
    except SoqlError:
        return []  # reported as a problem by the filter's own check
    if kept or not total:
        return []
    info = store.info(kpi.source.dataset)
    hints = []
    for column, literal in _EQUALS.findall(kpi.source.where):
        wanted = literal.replace("''", "'")
        near = nearest_values(info, store, column, wanted)
        if near:
            shown = " or ".join(_describe(v, wanted) for v in near)
            hints.append(f"'{column}' has no '{wanted}', but has {shown}")
    hint = ("; ".join(hints) + ": fix the filter's text") if hints else "check its values against the data"
    return [f"where {kpi.source.where!r} keeps 0 of {total:,} rows of '{info.id}': {hint}"]
