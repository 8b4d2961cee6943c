"""Rules a KPI must follow beyond its YAML shape, each reported with the line of the key at fault.

:func:`check_kpi` checks one KPI on its own (and against the site settings); :func:`check_against_store`
checks it against the data: the dataset and columns exist, have usable types, and every ``where``
filter compiles.

Keys that the KPI's calculation does not use (``percentile`` on a median, ``numerator`` on a count,
...) are not errors: the catalog format's full example lists every key with a comment saying which
calculation reads it, so a file copied from it must load. They go to ``warnings`` instead, so
``catalog validate`` can still point at them.

Example:
    >>> from catalog.models import CatalogSettings, Kpi
    >>> kpi = Kpi.model_validate({"id": "x", "title": "X", "department": "D",
    ...     "source": {"dataset": "d", "date_column": "day"}, "measure": {"calculation": "median"}})
    >>> problems = []
    >>> check_kpi(kpi, CatalogSettings(), "x.yaml", {("measure", "calculation"): 7}, problems)
    >>> problems[0][:2]
    ('x.yaml', 7)
"""

from __future__ import annotations

import difflib
from collections.abc import Callable

from btvstat_open.errors import SoqlError
from btvstat_open.store import DatasetInfo, Store
from catalog.models import CatalogSettings, Kpi
from catalog.peer_checks import check_peers
from catalog.program_checks import check_program
from catalog.yamllines import line_for

__all__ = ["Problems", "check_against_store", "check_kpi"]

Problems = list[tuple[str, int | None, str]]
Lines = dict[tuple[str | int, ...], int]
Adder = Callable[[tuple[str | int, ...], str], None]

NEEDS_COLUMN = ("sum", "average", "median", "percentile", "recent")
CUMULATIVE_OK = ("count", "sum", "rate")
DATE_TYPES = ("floating_timestamp", "fixed_timestamp", "number")
# Columns whose values name groups (a council district, a neighborhood, a ZIP code, yes/no); a
# location groups by its address text (Socrata exports often put the ZIP code there).
BREAKDOWN_TYPES = ("text", "number", "checkbox", "location")


def check_kpi(
    kpi: Kpi,
    settings: CatalogSettings,
    file: str,
    lines: Lines,
    problems: Problems,
    warnings: Problems | None = None,
) -> None:
    """Append a problem for every rule the KPI breaks on its own.

    Keys the calculation ignores are appended to ``warnings`` (when given), not to ``problems``.
    """

    def add(path: tuple[str | int, ...], message: str) -> None:
        problems.append((file, line_for(lines, path), message))

    def ignored(path: tuple[str | int, ...], message: str) -> None:
        if warnings is not None:
            warnings.append((file, line_for(lines, path), message))

    m = kpi.measure
    calc = m.calculation
    if kpi.source.portal != "local" and kpi.source.portal not in settings.portals:
        known = ", ".join(["local", *settings.portals])
        add(
            ("source", "portal"),
            f"unknown portal '{kpi.source.portal}': use one of {known} (portals: in catalog.yaml)",
        )
    if calc in NEEDS_COLUMN and not m.column:
        add(
            ("measure", "calculation"), f"calculation '{calc}' needs measure.column: the number column to use"
        )
    if calc in ("count", "rate") and m.column:
        ignored(("measure", "column"), f"calculation '{calc}' does not use measure.column; it is ignored")
    if calc == "percentile" and m.percentile is None:
        add(
            ("measure", "calculation"),
            "calculation 'percentile' needs measure.percentile, e.g. percentile: 90",
        )
    if calc != "percentile" and m.percentile is not None:
        ignored(
            ("measure", "percentile"), "measure.percentile is only used by calculation: percentile; ignored"
        )
    if calc == "rate":
        for part in ("numerator", "denominator"):
            term = getattr(m, part)
            if term is None:
                add(
                    ("measure",),
                    f"calculation 'rate' needs measure.{part}, e.g. {part}: {{calculation: count}}",
                )
            elif term.calculation == "sum" and not term.column:
                add(("measure", part), f"measure.{part} sums a column: add column: <number column>")
            elif term.calculation == "count" and term.column:
                ignored(("measure", part, "column"), f"measure.{part} counts rows: its column is ignored")
    else:
        for part in ("numerator", "denominator"):
            if getattr(m, part) is not None:
                ignored(("measure", part), f"measure.{part} is only used by calculation: rate; ignored")
        if m.as_percent:
            ignored(("measure", "as_percent"), "as_percent is only used by calculation: rate; ignored")
    if m.cumulative and calc not in CUMULATIVE_OK:
        add(
            ("measure", "cumulative"),
            f"cumulative running totals work with count, sum and rate, not '{calc}': remove cumulative",
        )
    if kpi.target is not None and kpi.target.rule == "above_below" and kpi.direction == "none":
        add(
            ("target", "rule"),
            "rule 'above_below' needs direction: higher_is_better or lower_is_better "
            "(or use rule: proximity)",
        )
    # Filters must parse even with no store at hand (the store check then adds column types).
    for path, where in _wheres(kpi):
        problem = _parse_problem(where)
        if problem:
            add(path, f"where {where!r} does not parse: {problem}")
    # Goals, target history, notes and actions (catalog.program_checks).
    check_program(kpi, settings, file, lines, problems)
    # Peers: the same measure in other cities' data (catalog.peer_checks).
    check_peers(kpi, settings, add)


def _wheres(kpi: Kpi) -> list[tuple[tuple[str | int, ...], str]]:
    """Every SoQL filter the KPI's measure uses, with the key path it is written at."""
    found: list[tuple[tuple[str | int, ...], str]] = []
    if kpi.source.where:
        found.append((("source", "where"), kpi.source.where))
    if kpi.measure.calculation == "rate":
        for part in ("numerator", "denominator"):
            term = getattr(kpi.measure, part)
            if term is not None and term.where:
                found.append((("measure", part, "where"), term.where))
    return found


def _parse_problem(where: str) -> str | None:
    """Why ``where`` is not a SoQL expression, or None when it parses."""
    from btvstat_open.soql.parser import parse_expression

    try:
        parse_expression(where, "$where")
    except SoqlError as exc:
        return exc.message
    return None


def check_against_store(
    kpi: Kpi,
    store: Store,
    file: str,
    lines: Lines,
    problems: Problems,
    known: dict[str, DatasetInfo | None] | None = None,
) -> None:
    """Append a problem for every dataset, column or filter of the KPI that does not fit the store.

    ``known`` caches dataset metadata across the KPIs of one catalog (many share a dataset).
    """

    def add(path: tuple[str | int, ...], message: str) -> None:
        problems.append((file, line_for(lines, path), message))

    dataset = kpi.source.dataset
    known = {} if known is None else known
    if dataset not in known:
        known[dataset] = store.info(dataset) if store.exists(dataset) else None
    info = known[dataset]
    if info is None:
        how = (
            "run `btvstat-open sync --catalog DIR`"
            if kpi.source.portal != "local"
            else f"load it with `btvstat-open load FILE --dataset {dataset}`"
        )
        add(("source", "dataset"), f"dataset '{dataset}' is not in the store at {store.root}: {how}")
        return
    types = {c.field_name: c.data_type for c in info.all_columns}

    def column(path: tuple[str | int, ...], name: str, allowed: tuple[str, ...], role: str) -> str | None:
        if name not in types:
            close = difflib.get_close_matches(name, list(types), n=1, cutoff=0.6)
            hint = (
                f"did you mean '{close[0]}'?" if close else f"its columns: {', '.join(list(types)[3:][:12])}"
            )
            add(path, f"dataset '{dataset}' has no column '{name}': {hint}")
            return None
        if types[name] not in allowed:
            add(path, f"column '{name}' is {types[name]}, but {role} must be {' or '.join(allowed)}")
            return None
        return types[name]

    date_type = column(("source", "date_column"), kpi.source.date_column, DATE_TYPES, "a date column")
    if date_type == "number" and kpi.period.size not in ("year", "fiscal_year"):
        add(
            ("period", "size"),
            f"date column '{kpi.source.date_column}' holds year numbers, so period.size must be "
            f"year or fiscal_year (not {kpi.period.size})",
        )
    m = kpi.measure
    # Keys the calculation ignores (see check_kpi) are not checked against the data either.
    if m.column and m.calculation in NEEDS_COLUMN:
        column(("measure", "column"), m.column, ("number",), f"the column of a {m.calculation}")
    for part in ("numerator", "denominator"):
        term = getattr(m, part)
        if term is not None and m.calculation == "rate" and term.column and term.calculation == "sum":
            column(("measure", part, "column"), term.column, ("number",), "a summed column")
    for path, where in _wheres(kpi):
        _check_where(info, where, path, add)
    if kpi.breakdown is not None:
        column(("breakdown", "column"), kpi.breakdown.column, BREAKDOWN_TYPES, "a breakdown column")


def _check_where(info: DatasetInfo, where: str, path: tuple[str | int, ...], add: Adder) -> None:
    if _parse_problem(where):
        return  # check_kpi has reported it
    from btvstat_open.soql import compile_where

    try:
        compile_where(where, info)
    except SoqlError as exc:
        add(path, f"where {where!r} does not compile: {exc.message}")
