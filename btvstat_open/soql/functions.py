"""The allow-list of SoQL functions and the DuckDB SQL each one compiles to.

Only names in :data:`FUNCTIONS` can be called; everything else is
``query.soql.no-such-function``. Every argument is an already type-checked
:class:`Sql` fragment, so no user text reaches the SQL produced here.

Supported: ``count(*)``, ``count(x)``, ``count(DISTINCT x)``, ``sum``, ``avg``, ``min``, ``max``,
``stddev_pop``, ``stddev_samp``, ``median``, ``percentile_cont(x, fraction)``, ``upper``,
``lower``, ``starts_with``, ``case``, ``coalesce``, ``date_trunc_y|ym|ymd``,
``date_extract_y|m|d|hh|mm|ss|dow|woy``, ``within_circle``, ``within_box``, and the geospatial
functions of :mod:`btvstat_open.soql.geo` (``within_polygon``, ``intersects``,
``distance_in_meters``, ``extent``, ``convex_hull``).

Example:
    >>> sorted(AGGREGATES)[:3]
    ['avg', 'convex_hull', 'count']
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from btvstat_open.errors import SoqlError
from btvstat_open.soql import ast
from btvstat_open.soql.geo import GEO_AGGREGATES, GEO_FUNCTIONS, distance_sql
from btvstat_open.soql.typed import NULL_TYPE, SQL_TYPE, TEXTUAL, Sql, mismatch, template, unify

__all__ = ["AGGREGATES", "FUNCTIONS", "check_arity", "compile_call", "lat_lon"]

Handler = Callable[[ast.FuncCall, list[Sql]], Sql]

# Longitude and latitude out of WKT "POINT (lon lat)" text (a constant pattern, never user input).
_WKT: Final = r"'^\s*(?i:POINT)\s*\(\s*([-+0-9.eE]+)\s+([-+0-9.eE]+)\s*\)\s*$'"
_ORDERABLE: Final = frozenset({"number", "text", "url", "checkbox", "floating_timestamp", "fixed_timestamp"})
_TIMESTAMPS: Final = frozenset({"floating_timestamp", "fixed_timestamp"})
# The type a bare NULL argument takes: the first of these the function accepts.
_NULL_AS: Final = ("number", "text", "floating_timestamp", "fixed_timestamp", "checkbox", "url")

AGGREGATES: Final = frozenset(
    {"count", "sum", "avg", "min", "max", "stddev_pop", "stddev_samp", "median", "percentile_cont"}
    | GEO_AGGREGATES
)


def _arity(call: ast.FuncCall, args: list[Sql], low: int, high: int | None = None) -> None:
    high = low if high is None else high
    if not low <= len(args) <= high:
        want = str(low) if low == high else f"{low} to {high}" if high < 99 else f"at least {low}"
        raise SoqlError(
            f"Function {call.name}() takes {want} argument(s), but was given {len(args)}. "
            "See the SoQL function list in the documentation.",
            code="query.soql.no-such-function",
            data={"function": call.name, "arity": len(args)},
        )
    if call.star and call.name != "count":
        raise SoqlError(f"Only count(*) accepts '*'; write {call.name}(field).", code="query.soql.bad-parse")
    if call.distinct and call.name != "count":
        raise SoqlError(
            f"DISTINCT is only supported inside count(...), not {call.name}(...).",
            code="query.soql.bad-parse",
        )


def _need(call: ast.FuncCall, arg: Sql, types: frozenset[str] | set[str], n: int) -> Sql:
    if arg.type == NULL_TYPE:
        # A bare NULL has no SQL type, and DuckDB cannot pick among a function's overloads for
        # it (date_trunc, year, ... have several): give it the type the function takes.
        typed = next(t for t in _NULL_AS if t in types)
        return Sql(f"CAST({arg.sql} AS {SQL_TYPE[typed]})", typed, arg.params, arg.aggregate)
    if arg.type in types:
        return arg
    target = "number" if "number" in types else "text" if "text" in types else None
    if arg.literal is not None and target is not None:
        return arg.coerce_to(target)
    raise mismatch(f"argument {n} of {call.name}() is {arg.type}, but it takes {' or '.join(sorted(types))}")


def _no_nested_aggregate(call: ast.FuncCall, args: list[Sql]) -> None:
    if any(a.aggregate for a in args):
        raise SoqlError(
            f"Aggregates cannot be nested: {ast.to_text(call)}. Aggregate plain fields, "
            "or filter aggregated results with $having.",
            code="query.soql.aggregate-in-ungrouped-context",
        )


def _count(call: ast.FuncCall, args: list[Sql]) -> Sql:
    if call.star:
        _arity(call, args, 0)
        return Sql("CAST(count(*) AS DOUBLE)", "number", [], True)
    _arity(call, args, 1)
    _no_nested_aggregate(call, args)
    distinct = "DISTINCT " if call.distinct else ""
    return template(f"CAST(count({distinct}{{0}}) AS DOUBLE)", args[0], type="number", aggregate=True)


def _aggregate(sql_name: str, types: frozenset[str], keep_type: bool) -> Handler:
    def handler(call: ast.FuncCall, args: list[Sql]) -> Sql:
        _arity(call, args, 1)
        _no_nested_aggregate(call, args)
        arg = _need(call, args[0], types, 1)
        out_type = arg.type if keep_type and arg.type != NULL_TYPE else "number"
        pattern = f"{sql_name}({{0}})" if keep_type else f"CAST({sql_name}({{0}}) AS DOUBLE)"
        return template(pattern, arg, type=out_type, aggregate=True)

    return handler


def _percentile(call: ast.FuncCall, args: list[Sql]) -> Sql:
    _arity(call, args, 2)
    _no_nested_aggregate(call, args)
    fraction = call.args[1]
    if not (
        isinstance(fraction, ast.Literal)
        and fraction.kind == "number"
        and 0 <= float(str(fraction.value)) <= 1
    ):
        raise mismatch(
            "percentile_cont(field, fraction) needs a fraction between 0 and 1 written as a number, e.g. 0.9"
        )
    value = _need(call, args[0], frozenset({"number"}), 1)
    # DuckDB reads a negative fraction as "count from the top", so -0 gave the maximum; as a
    # number -0 is 0 (the minimum, as Socrata answers), so the sign of a zero is dropped.
    number = float(str(fraction.value)) + 0.0
    share = Sql("CAST(? AS DOUBLE)", "number", [number])
    return template("quantile_cont({0}, {1})", value, share, type="number", aggregate=True)


def _text_func(sql_name: str) -> Handler:
    def handler(call: ast.FuncCall, args: list[Sql]) -> Sql:
        _arity(call, args, 1)
        return template(f"{sql_name}({{0}})", _need(call, args[0], TEXTUAL, 1), type="text")

    return handler


def _starts_with(call: ast.FuncCall, args: list[Sql]) -> Sql:
    _arity(call, args, 2)
    text, prefix = (_need(call, a, TEXTUAL, i + 1) for i, a in enumerate(args))
    return template("starts_with({0}, {1})", text, prefix, type="checkbox")


def _case(call: ast.FuncCall, args: list[Sql]) -> Sql:
    if len(args) < 2 or len(args) % 2:
        raise SoqlError(
            f"case() takes pairs of (condition, value), e.g. case(x > 1, 'big', true, 'small'); "
            f"it was given {len(args)} argument(s).",
            code="query.soql.no-such-function",
        )
    _arity(call, args, len(args))
    conds = [_need(call, a, frozenset({"checkbox"}), i * 2 + 1) for i, a in enumerate(args[0::2])]
    out_type, values = unify(list(args[1::2]), "case()")
    pattern = "CASE " + " ".join(f"WHEN {{{2 * i}}} THEN {{{2 * i + 1}}}" for i in range(len(conds))) + " END"
    ordered = [x for pair in zip(conds, values, strict=True) for x in pair]
    return template(pattern, *ordered, type=out_type)


def _coalesce(call: ast.FuncCall, args: list[Sql]) -> Sql:
    _arity(call, args, 1, 99)
    out_type, values = unify(args, "coalesce()")
    pattern = "coalesce(" + ", ".join(f"{{{i}}}" for i in range(len(values))) + ")"
    return template(pattern, *values, type=out_type)


def _as_floating(call: ast.FuncCall, arg: Sql) -> Sql:
    """A timestamp argument as a zone-less TIMESTAMP (fixed timestamps are read in UTC)."""
    arg = _need(call, arg, _TIMESTAMPS, 1)
    if arg.type == "fixed_timestamp":
        return template("timezone('UTC', {0})", arg, type="floating_timestamp")
    return arg


def _date_trunc(part: str) -> Handler:
    def handler(call: ast.FuncCall, args: list[Sql]) -> Sql:
        _arity(call, args, 1)
        return template(
            f"date_trunc('{part}', {{0}})", _as_floating(call, args[0]), type="floating_timestamp"
        )

    return handler


def _date_extract(sql_name: str) -> Handler:
    def handler(call: ast.FuncCall, args: list[Sql]) -> Sql:
        _arity(call, args, 1)
        return template(f"CAST({sql_name}({{0}}) AS DOUBLE)", _as_floating(call, args[0]), type="number")

    return handler


def check_arity(call: ast.FuncCall, args: list[Sql], count: int) -> None:
    """Raise ``query.soql.no-such-function`` unless ``call`` has exactly ``count`` arguments."""
    _arity(call, args, count)


def lat_lon(call: ast.FuncCall, geo: Sql) -> tuple[Sql, Sql]:
    """SQL for the latitude and longitude of a point (WKT text) or location (struct)."""
    if geo.type == "location":
        return (
            template("struct_extract({0}, 'latitude')", geo, type="number"),
            template("struct_extract({0}, 'longitude')", geo, type="number"),
        )
    if geo.type == "point":
        return (
            template(f"TRY_CAST(regexp_extract({{0}}, {_WKT}, 2) AS DOUBLE)", geo, type="number"),
            template(f"TRY_CAST(regexp_extract({{0}}, {_WKT}, 1) AS DOUBLE)", geo, type="number"),
        )
    raise mismatch(
        f"the first argument of {call.name}() is {geo.type}, but it takes a point or location field"
    )


def _within_circle(call: ast.FuncCall, args: list[Sql]) -> Sql:
    _arity(call, args, 4)
    lat, lon = lat_lon(call, args[0])
    clat, clon, radius = (_need(call, a, frozenset({"number"}), i + 2) for i, a in enumerate(args[1:]))
    return template("({0} <= {1})", distance_sql(lat, lon, clat, clon), radius, type="checkbox")


def _within_box(call: ast.FuncCall, args: list[Sql]) -> Sql:
    _arity(call, args, 5)
    lat, lon = lat_lon(call, args[0])
    nw_lat, nw_lon, se_lat, se_lon = (
        _need(call, a, frozenset({"number"}), i + 2) for i, a in enumerate(args[1:])
    )
    return template(
        "({0} BETWEEN {4} AND {2} AND {1} BETWEEN {3} AND {5})",
        lat, lon, nw_lat, nw_lon, se_lat, se_lon, type="checkbox",
    )  # fmt: skip


_NUM = frozenset({"number"})
FUNCTIONS: Final[dict[str, Handler]] = {
    "count": _count,
    "sum": _aggregate("sum", _NUM, keep_type=False),
    "avg": _aggregate("avg", _NUM, keep_type=False),
    "min": _aggregate("min", _ORDERABLE, keep_type=True),
    "max": _aggregate("max", _ORDERABLE, keep_type=True),
    "stddev_pop": _aggregate("stddev_pop", _NUM, keep_type=False),
    "stddev_samp": _aggregate("stddev_samp", _NUM, keep_type=False),
    "median": _aggregate("median", _NUM, keep_type=False),
    "percentile_cont": _percentile,
    "upper": _text_func("upper"),
    "lower": _text_func("lower"),
    "starts_with": _starts_with,
    "case": _case,
    "coalesce": _coalesce,
    "date_trunc_y": _date_trunc("year"),
    "date_trunc_ym": _date_trunc("month"),
    "date_trunc_ymd": _date_trunc("day"),
    "date_extract_y": _date_extract("year"),
    "date_extract_m": _date_extract("month"),
    "date_extract_d": _date_extract("day"),
    "date_extract_hh": _date_extract("hour"),
    "date_extract_mm": _date_extract("minute"),
    "date_extract_ss": _date_extract("second"),
    "date_extract_dow": _date_extract("dayofweek"),
    "date_extract_woy": _date_extract("weekofyear"),
    "within_circle": _within_circle,
    "within_box": _within_box,
    **GEO_FUNCTIONS,
}


def compile_call(call: ast.FuncCall, args: list[Sql]) -> Sql:
    """Compile an allow-listed function call; unknown names are ``query.soql.no-such-function``."""
    handler = FUNCTIONS.get(call.name)
    if handler is None:
        known = ", ".join(sorted(FUNCTIONS))
        raise SoqlError(
            f"No such function {call.name!r}. Supported functions: {known}.",
            code="query.soql.no-such-function",
            data={"function": call.name},
        )
    if call.star and call.name != "count":
        _arity(call, args, 0)
    return handler(call, args)
