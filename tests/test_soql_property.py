"""Hostile and random SoQL never escapes the parser and compiler.

Whatever text arrives in any parameter, compiling it either raises :class:`SoqlError`
or gives SQL that (a) contains no user text outside quoted identifiers that name real
fields, the table or output aliases, (b) uses only words the compiler itself emits,
and (c) runs on DuckDB without error and without touching the file system.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_soql_table import build_store

from btvstat_open.errors import SoqlError
from btvstat_open.soql import QueryParams, compile_soql
from btvstat_open.soql.geo import LAMBDA_NAMES
from btvstat_open.store import DatasetInfo, Store

# Every bare word the compiler may emit: SQL keywords and allow-listed DuckDB functions.
_WORDS = """SELECT DISTINCT AS FROM WHERE GROUP BY HAVING ORDER ASC DESC NULLS FIRST LAST LIMIT OFFSET
    AND OR NOT IS NULL BETWEEN IN LIKE CASE WHEN THEN END CAST TRY_CAST DOUBLE VARCHAR BOOLEAN
    TIMESTAMP TIMESTAMPTZ FALSE count sum avg min max stddev_pop stddev_samp median quantile_cont
    upper lower starts_with coalesce date_trunc timezone year month day hour minute second
    dayofweek weekofyear struct_extract regexp_extract asin sqrt pow sin cos radians contains
    concat_ws list_filter lambda len list FILTER abs least greatest ELSE floor BIGINT list_transform
    list_contains"""
SQL_WORDS = set(_WORDS.split())
# The only single-quoted constants the compiler writes itself.
SQL_CONSTANTS = {"year", "month", "day", "UTC", "latitude", "longitude", " ", "MULTIPOLYGON (((", ", ", ")))"}
WKT = r"^\s*(?i:POINT)\s*\(\s*([-+0-9.eE]+)\s+([-+0-9.eE]+)\s*\)\s*$"

HOSTILE = [
    "1); COPY (SELECT 1) TO '{sentinel}'; --",
    "1) UNION SELECT * FROM read_csv('/etc/passwd') --",
    "read_csv('/etc/passwd')",
    "read_text('{sentinel}')",
    "status = 'x' OR 1=1; ATTACH '{sentinel}' AS db",
    "PRAGMA database_list",
    "`a`; INSTALL httpfs; LOAD httpfs",
    "SET enable_external_access = true",
    "copy_to('{sentinel}')",
    "query('SELECT 1')",
    "status = 'it''s'' ; DROP TABLE x; --'",
    '"; DROP TABLE "ds_kc"; --',
    "`\"; COPY (SELECT 1) TO '{sentinel}' --`",
    "status AS `x\"; COPY (SELECT 1) TO '{sentinel}'; --`",
    "count(*) AS `:id`",
    "'\\'; SELECT 1; --'",
    "🤖 = 'ü'",
    "status = '\u0000'",
    "status = 'a' || read_csv('{sentinel}')",
    "getenv('HOME')",
    "days_to_close::blob",
    "(" * 500,
    "NOT " * 500 + "true",
    "-" * 1000 + "1",
    "a" * 25_000,
    "within_circle(geo, 1e308, 1e308, 1e308)",
    "within_polygon(geo, 'POLYGON ((0 0, 1 0, 1 1, 0 0)); COPY (SELECT 1) TO ''{sentinel}''')",
    "within_polygon(geo, 'POLYGON ((1e999 0, 1 0, 1 1, 1e999 0))')",
    "intersects(geo, 'GEOMETRYCOLLECTION (POINT (0 0))')",
    "distance_in_meters('POINT (0 0)', 'POINT (1 1)') > 1",
    "convex_hull(convex_hull(geo)) IS NULL",
    "1e308 * 1e308 > 1",
    "days_to_close / 0 > 1 AND days_to_close % 0 < 1",
    "upper(upper(upper(upper(upper(upper(upper(upper(upper(upper(status)))))))))) = 'A'",
]
FIELDS = ["status", "days_to_close", "creation_date", "geo", "exceeded", "address_with_geocode", ":id", "*"]
TOKENS = [
    *FIELDS, "'x'", "'2020-01-01'", "1", "-2.5", "true", "NULL", "(", ")", ",", "=", "!=", "<", ">=",
    "AND", "OR", "NOT", "IS", "IN", "LIKE", "BETWEEN", "+", "*", "/", "||", "::", "AS", "count(*)",
    "sum(", "upper(", "case(", "date_trunc_ym(", "within_circle(", "within_polygon(", "intersects(",
    "distance_in_meters(", "extent(", "convex_hull(", "'POLYGON ((-95 39, -94 39, -94 40, -95 39))'",
    "'POINT (-94.5 39.1)'", "'LINESTRING (0 0, 1 1)'", "DISTINCT", "DESC", "SELECT",
    "WHERE", "GROUP BY", "ORDER BY", "LIMIT", ";", "--", "'", "`", '"', "$", "?", "\\",
]  # fmt: skip
PARAMS = ["select", "where", "order", "group", "having", "limit", "offset", "q", "query"]

token_soup = st.lists(st.sampled_from(TOKENS), max_size=25).map(" ".join)
any_text = st.one_of(
    st.text(max_size=200),
    token_soup,
    st.sampled_from(HOSTILE),
    st.text(alphabet="()'`\";-*/=<>|:$?\\ aA1", max_size=300),
)


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, real_data: Path) -> tuple[Store, DatasetInfo, Path]:
    store, kc, _ = build_store(tmp_path_factory.mktemp("soql-prop"), real_data)
    sentinel = tmp_path_factory.mktemp("sentinel") / "pwned.csv"
    return store, kc, sentinel


def check_sql_is_safe(sql: str, info: DatasetInfo, outputs: set[str]) -> None:
    """No user text outside identifiers that were resolved; only the compiler's own words."""
    idents = re.findall(r'"((?:[^"]|"")*)"', sql)
    # Fields, the table, and the geospatial lambdas' parameters (names no field can take).
    allowed = {c.field_name for c in info.all_columns} | {info.table.strip('"')} | LAMBDA_NAMES
    for ident in idents:
        name = ident.replace('""', '"')
        assert name in allowed or name in outputs, name
    rest = re.sub(r'"(?:[^"]|"")*"', " ", sql)
    constants = re.findall(r"'((?:[^']|'')*)'", rest)
    for const in constants:
        assert const in SQL_CONSTANTS or const == WKT, const
    rest = re.sub(r"'(?:[^']|'')*'", " ", rest)
    for word in re.findall(r"[A-Za-z_][A-Za-z_0-9]*", rest):
        assert word in SQL_WORDS, word
    assert ";" not in rest and "--" not in rest


def attempt(env: tuple[Store, DatasetInfo, Path], params: QueryParams) -> None:
    store, info, sentinel = env
    try:
        compiled = compile_soql(params, info)
    except SoqlError as exc:
        assert exc.http_status == 400 and exc.code.startswith("query.soql.")
        return
    check_sql_is_safe(compiled.sql, info, {c.field_name for c in compiled.columns})
    cur = store.cursor().cursor()
    try:
        cur.sql(compiled.sql, params=compiled.params).to_arrow_table()
    finally:
        cur.close()
    assert not sentinel.exists()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(PARAMS), text=any_text)
def test_any_text_in_any_parameter(env: tuple[Store, DatasetInfo, Path], name: str, text: str) -> None:
    text = text.replace("{sentinel}", str(env[2]))
    attempt(env, QueryParams(**{name: text}))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(select=token_soup, where=token_soup, order=token_soup, group=token_soup)
def test_token_soup_in_every_clause(
    env: tuple[Store, DatasetInfo, Path], select: str, where: str, order: str, group: str
) -> None:
    attempt(
        env, QueryParams(select=select or None, where=where or None, order=order or None, group=group or None)
    )


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=st.one_of(st.sampled_from(FIELDS), st.text(max_size=30)), value=any_text)
def test_simple_filters(env: tuple[Store, DatasetInfo, Path], key: str, value: str) -> None:
    attempt(env, QueryParams(filters=((key, value.replace("{sentinel}", str(env[2]))),)))


@pytest.mark.parametrize("text", HOSTILE)
@pytest.mark.parametrize("name", PARAMS)
def test_every_hostile_string_everywhere(env: tuple[Store, DatasetInfo, Path], name: str, text: str) -> None:
    params: dict[str, Any] = {name: text.replace("{sentinel}", str(env[2]))}
    attempt(env, QueryParams(**params))
    if name == "select":  # also behind a valid prefix, and as an alias
        attempt(env, QueryParams(select="status, " + params[name]))
        attempt(env, QueryParams(select="status AS `" + text.replace("`", "``") + "`"))


def test_valid_queries_pass_the_safety_check(env: tuple[Store, DatasetInfo, Path]) -> None:
    info = env[1]
    compiled = compile_soql(
        QueryParams(
            select='status AS `we"ird`, count(*), date_trunc_ym(creation_date) AS m',
            where="within_circle(geo, 39.0, -94.5, 1000) OR starts_with(status, 'O''B') OR exceeded",
            group="status, m",
            q="pothole",
        ),
        info,
    )
    check_sql_is_safe(compiled.sql, info, {c.field_name for c in compiled.columns})
    assert "O'B" in compiled.params and "pothole" in compiled.params
    polygon = "MULTIPOLYGON (((-95 39, -94 39, -94 40, -95 39)))"
    geo = compile_soql(
        QueryParams(
            select="status, extent(geo) AS box, convex_hull(address_with_geocode) AS hull, "
            "min(distance_in_meters(geo, 'POINT (-94.5 39.1)')) AS near",
            where=f"within_polygon(geo, '{polygon}') OR "
            "intersects(address_with_geocode, 'LINESTRING (0 0, 1 1)')",
            group="status",
        ),
        info,
    )
    check_sql_is_safe(geo.sql, info, {c.field_name for c in geo.columns})
    assert polygon not in geo.sql


@pytest.mark.parametrize(
    "sql",
    [
        'SELECT "status" AS "s" FROM "ds_kc" WHERE read_csv(\'x\')',
        'SELECT "status" AS "s" FROM "ds_kc" WHERE "status" = \'O\'\'B\'',
        'SELECT "nope" AS "s" FROM "ds_kc"',
        'SELECT "status" AS "s" FROM "ds_kc"; ATTACH',
    ],
)
def test_safety_check_catches_leaks(env: tuple[Store, DatasetInfo, Path], sql: str) -> None:
    with pytest.raises(AssertionError):
        check_sql_is_safe(sql, env[1], {"s"})
