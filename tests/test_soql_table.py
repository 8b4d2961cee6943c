# ruff: noqa: E501  (the query table keeps one SoQL query and its SQL per entry)
"""SoQL queries against real data, each checked against SQL written by hand.

The Kansas City 311 pothole file is loaded with the real loader; a WKT point column
``geo`` and a checkbox ``exceeded`` are derived from it so every Socrata type is covered.
Examples from Socrata's SoQL documentation (the $where, $select, $group, $having,
$order, $q, $query, BETWEEN, IN, LIKE, starts_with, case, within_circle, within_box
and date_trunc pages) are adapted to these fields.
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from btvstat_open.errors import SoqlError
from btvstat_open.load import read_file
from btvstat_open.soql import OutputColumn, QueryParams, compile_soql, compile_where
from btvstat_open.soql.functions import FUNCTIONS
from btvstat_open.soql.geo import GEO_FUNCTIONS
from btvstat_open.soql.params import SOQL_PARAMS
from btvstat_open.store import DatasetInfo, Store
from btvstat_open.types import Column

KC = "kc-311-potholes/311_Call_Center_Service_Requests.csv"
LA_WATER = "la-city-kpis/Water_and_Electric_Usage_from_2005_-_2013.csv"


def build_store(root: Path, real: Path) -> tuple[Store, DatasetInfo, DatasetInfo]:
    """A store with the KC 311 data (plus ``geo`` point and ``exceeded`` checkbox) and LA water use."""
    store = Store(root)
    kc = read_file(real / KC)
    table = kc.table
    lat, lon = table.column("latitude"), table.column("longitude")
    wkt = pc.if_else(
        pc.and_(pc.is_valid(lat), pc.is_valid(lon)),
        pc.binary_join_element_wise(
            "POINT (", pc.cast(lon, pa.string()), " ", pc.cast(lat, pa.string()), ")", ""
        ),
        pa.scalar(None, pa.string()),
    )
    exceeded = pc.equal(table.column("exceeded_est_timeframe"), "Y")
    table = table.append_column("geo", wkt).append_column("exceeded", exceeded)
    columns = [*kc.columns, Column("geo", "GEO", "point"), Column("exceeded", "EXCEEDED", "checkbox")]
    kc_info = store.load("kc", table, columns, name="KC 311 potholes")
    la = read_file(real / LA_WATER)
    la_info = store.load("la-water", la.table, la.columns, name="LA water and power")
    return store, kc_info, la_info


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, real_data: Path) -> tuple[Store, DatasetInfo, DatasetInfo]:
    return build_store(tmp_path_factory.mktemp("soql"), real_data)


def run(store: Store, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    cur = store.cursor().cursor()
    try:
        table = cur.sql(sql, params=params or []).to_arrow_table()
    finally:
        cur.close()
    columns = [[_norm(v) for v in col.to_pylist()] for col in table.columns]
    return list(zip(*columns, strict=True)) if columns else []


def _norm(value: Any) -> Any:
    if isinstance(value, float) and math.isfinite(value):
        return float(f"{value:.10g}")
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


T = '"ds_kc"'
W = '"ds_la-water"'
DIST = (  # haversine metres, written out independently of the compiler
    "2 * 6371008.8 * asin(sqrt(pow(sin(radians({lat} - {clat}) / 2), 2) + cos(radians({clat})) "
    "* cos(radians({lat})) * pow(sin(radians({lon} - {clon}) / 2), 2)))"
)
GEO_LAT = "TRY_CAST(split_part(trim(geo, 'POINT ()'), ' ', 2) AS DOUBLE)"
GEO_LON = "TRY_CAST(split_part(trim(geo, 'POINT ()'), ' ', 1) AS DOUBLE)"

# (SoQL parameters, dataset, hand-written DuckDB SQL giving the same rows in the same order)
VALID: list[tuple[dict[str, Any], str, str]] = [
    # $where: comparisons and boolean logic (Socrata's $where page)
    (
        {"where": "days_to_close > 3.0"},
        "kc",
        f'SELECT * EXCLUDE (":id", ":created_at", ":updated_at") FROM {T} WHERE days_to_close > 3 ORDER BY ":id" LIMIT 1000',
    ),
    (
        {"select": "case_id", "where": "days_to_close > 3.0 AND status = 'RESOL'"},
        "kc",
        f"SELECT case_id FROM {T} WHERE days_to_close > 3 AND status = 'RESOL' ORDER BY \":id\" LIMIT 1000",
    ),
    (
        {"select": "case_id", "where": "status = 'OPEN' OR days_to_close > 30 AND council_district = 5"},
        "kc",
        f"SELECT case_id FROM {T} WHERE status = 'OPEN' OR (days_to_close > 30 AND council_district = 5) ORDER BY \":id\" LIMIT 1000",
    ),
    (
        {"select": "case_id", "where": "(status = 'OPEN' OR days_to_close > 30) AND council_district = 5"},
        "kc",
        f"SELECT case_id FROM {T} WHERE (status = 'OPEN' OR days_to_close > 30) AND council_district = 5 ORDER BY \":id\" LIMIT 1000",
    ),
    (
        {"select": "case_id", "where": "NOT (status = 'OPEN')"},
        "kc",
        f"SELECT case_id FROM {T} WHERE NOT (status = 'OPEN') ORDER BY \":id\" LIMIT 1000",
    ),
    (
        {"select": "case_id", "where": "status != 'OPEN'"},
        "kc",
        f"SELECT case_id FROM {T} WHERE status <> 'OPEN' ORDER BY \":id\" LIMIT 1000",
    ),
    (
        {"select": "case_id", "where": "status <> 'OPEN' and days_to_close <= 2"},
        "kc",
        f"SELECT case_id FROM {T} WHERE status <> 'OPEN' AND days_to_close <= 2 ORDER BY \":id\" LIMIT 1000",
    ),
    (
        {"select": "case_id", "where": "days_to_close >= 40 and days_to_close < 45"},
        "kc",
        f'SELECT case_id FROM {T} WHERE days_to_close >= 40 AND days_to_close < 45 ORDER BY ":id" LIMIT 1000',
    ),
    (
        {"select": "case_id", "where": "days_to_close IS NULL", "limit": "50"},
        "kc",
        f'SELECT case_id FROM {T} WHERE days_to_close IS NULL ORDER BY ":id" LIMIT 50',
    ),
    (
        {"select": "case_id", "where": "closed_date IS NOT NULL", "limit": "50"},
        "kc",
        f'SELECT case_id FROM {T} WHERE closed_date IS NOT NULL ORDER BY ":id" LIMIT 50',
    ),
    (
        {"select": "case_id", "where": "days_to_close > '30'"},
        "kc",
        f'SELECT case_id FROM {T} WHERE days_to_close > 30 ORDER BY ":id" LIMIT 1000',
    ),
    (
        {"select": "case_id", "where": "`days_to_close` > 50"},
        "kc",
        f'SELECT case_id FROM {T} WHERE days_to_close > 50 ORDER BY ":id" LIMIT 1000',
    ),
    (
        {"select": "case_id", "where": "DAYS_TO_CLOSE > 50"},
        "kc",
        f'SELECT case_id FROM {T} WHERE days_to_close > 50 ORDER BY ":id" LIMIT 1000',
    ),
    (
        {"select": "case_id", "where": "days_to_close > -1 and -days_to_close < -50"},
        "kc",
        f'SELECT case_id FROM {T} WHERE days_to_close > -1 AND -days_to_close < -50 ORDER BY ":id" LIMIT 1000',
    ),
    (
        {"select": "case_id", "where": "(closed_date > creation_date) = false", "limit": "0"},
        "kc",
        f"SELECT case_id FROM {T} LIMIT 0",
    ),
    # BETWEEN, IN, LIKE, starts_with (Socrata's function pages)
    (
        {"select": "case_id", "where": "days_to_close between '3' and '5'"},
        "kc",
        f'SELECT case_id FROM {T} WHERE days_to_close BETWEEN 3 AND 5 ORDER BY ":id" LIMIT 1000',
    ),
    (
        {"select": "case_id", "where": "days_to_close not between 1 and 50"},
        "kc",
        f'SELECT case_id FROM {T} WHERE days_to_close NOT BETWEEN 1 AND 50 ORDER BY ":id" LIMIT 1000',
    ),
    (
        {"select": "case_id", "where": "creation_date between '2020-01-01' and '2020-01-07T23:59:59'"},
        "kc",
        f"SELECT case_id FROM {T} WHERE creation_date BETWEEN TIMESTAMP '2020-01-01' AND TIMESTAMP '2020-01-07 23:59:59' ORDER BY \":id\" LIMIT 1000",
    ),
    (
        {"select": "case_id", "where": "neighborhood in ('Columbus Park', 'Marlborough East')"},
        "kc",
        f"SELECT case_id FROM {T} WHERE neighborhood IN ('Columbus Park', 'Marlborough East') ORDER BY \":id\" LIMIT 1000",
    ),
    (
        {"select": "case_id", "where": "council_district not in (1, 2, 3, 4)"},
        "kc",
        f'SELECT case_id FROM {T} WHERE council_district NOT IN (1, 2, 3, 4) ORDER BY ":id" LIMIT 1000',
    ),
    (
        {"select": "case_id", "where": "council_district IN ('5', 6)"},
        "kc",
        f'SELECT case_id FROM {T} WHERE council_district IN (5, 6) ORDER BY ":id" LIMIT 1000',
    ),
    (
        {"select": "case_id", "where": "neighborhood like '%Park%'"},
        "kc",
        f"SELECT case_id FROM {T} WHERE neighborhood LIKE '%Park%' ORDER BY \":id\" LIMIT 1000",
    ),
    (
        {"select": "case_id", "where": "neighborhood not like '%a%'"},
        "kc",
        f"SELECT case_id FROM {T} WHERE neighborhood NOT LIKE '%a%' ORDER BY \":id\" LIMIT 1000",
    ),
    (
        {"select": "case_id", "where": "street_address like '_0_ E%'"},
        "kc",
        f"SELECT case_id FROM {T} WHERE street_address LIKE '_0_ E%' ORDER BY \":id\" LIMIT 1000",
    ),
    (
        {"select": "case_id", "where": "case_url like 'http://city.kcmo.org/%'", "limit": "5"},
        "kc",
        f"SELECT case_id FROM {T} WHERE case_url LIKE 'http://city.kcmo.org/%' ORDER BY \":id\" LIMIT 5",
    ),
    (
        {"select": "case_id", "where": "starts_with(neighborhood, 'West')"},
        "kc",
        f"SELECT case_id FROM {T} WHERE starts_with(neighborhood, 'West') ORDER BY \":id\" LIMIT 1000",
    ),
    (
        {"select": "case_id", "where": "upper(neighborhood) = 'COLUMBUS PARK'"},
        "kc",
        f"SELECT case_id FROM {T} WHERE upper(neighborhood) = 'COLUMBUS PARK' ORDER BY \":id\" LIMIT 1000",
    ),
    (
        {"select": "lower(status) AS s", "where": "lower(status) = 'open'", "limit": "3"},
        "kc",
        f"SELECT lower(status) FROM {T} WHERE lower(status) = 'open' ORDER BY \":id\" LIMIT 3",
    ),
    (
        {"select": "case_id", "where": "street_address != 'O''Brien St'", "limit": "5"},
        "kc",
        f"SELECT case_id FROM {T} WHERE street_address <> 'O''Brien St' ORDER BY \":id\" LIMIT 5",
    ),
    (
        {"select": "case_id", "where": 'status = "OPEN"', "limit": "5"},
        "kc",
        f"SELECT case_id FROM {T} WHERE status = 'OPEN' ORDER BY \":id\" LIMIT 5",
    ),
    # timestamps: floating literals, fixed system fields, date functions
    (
        {"select": "case_id", "where": "creation_date >= '2020-02-20T00:00:00'"},
        "kc",
        f"SELECT case_id FROM {T} WHERE creation_date >= TIMESTAMP '2020-02-20' ORDER BY \":id\" LIMIT 1000",
    ),
    (
        {"select": "case_id", "where": "creation_date = '2020-01-07'"},
        "kc",
        f"SELECT case_id FROM {T} WHERE creation_date = TIMESTAMP '2020-01-07' ORDER BY \":id\" LIMIT 1000",
    ),
    (
        {
            "select": "case_id",
            "where": "closed_date > creation_date and closed_date < '2020-01-20T00:00:00.000'",
        },
        "kc",
        f"SELECT case_id FROM {T} WHERE closed_date > creation_date AND closed_date < TIMESTAMP '2020-01-20' ORDER BY \":id\" LIMIT 1000",
    ),
    (
        {
            "select": "count(*)",
            "where": ":created_at > '2000-01-01T00:00:00Z' and :updated_at < '2999-01-01'",
        },
        "kc",
        f"SELECT count(*) FROM {T} WHERE \":created_at\" > TIMESTAMPTZ '2000-01-01 00:00:00+00' AND \":updated_at\" < TIMESTAMPTZ '2999-01-01 00:00:00+00'",
    ),
    (
        {"select": "date_trunc_ym(creation_date) AS month, count(*) AS total", "group": "month"},
        "kc",
        f"SELECT date_trunc('month', creation_date) m, count(*) FROM {T} GROUP BY m ORDER BY m LIMIT 1000",
    ),
    (
        {
            "select": "date_trunc_ymd(creation_date), count(*)",
            "group": "date_trunc_ymd(creation_date)",
            "order": "count DESC, date_trunc_ymd_creation_date",
            "limit": "10",
        },
        "kc",
        f"SELECT date_trunc('day', creation_date) d, count(*) c FROM {T} GROUP BY d ORDER BY c DESC, d LIMIT 10",
    ),
    (
        {"select": "date_trunc_y(closed_date) AS y, avg(days_to_close)", "group": "y"},
        "kc",
        f"SELECT date_trunc('year', closed_date) y, avg(days_to_close) FROM {T} GROUP BY y ORDER BY y NULLS LAST LIMIT 1000",
    ),
    (
        {
            "select": "date_extract_y(creation_date) AS y, date_extract_m(creation_date) AS m, count(*)",
            "group": "y, m",
        },
        "kc",
        f"SELECT year(creation_date) y, month(creation_date) m, count(*) FROM {T} GROUP BY y, m ORDER BY y, m LIMIT 1000",
    ),
    (
        {"select": "date_extract_dow(creation_date) AS dow, count(*)", "group": "dow"},
        "kc",
        f"SELECT dayofweek(creation_date) d, count(*) FROM {T} GROUP BY d ORDER BY d LIMIT 1000",
    ),
    (
        {"select": "date_extract_woy(creation_date) AS w, count(*)", "group": "w", "order": "w DESC"},
        "kc",
        f"SELECT weekofyear(creation_date) w, count(*) FROM {T} GROUP BY w ORDER BY w DESC LIMIT 1000",
    ),
    (
        {
            "select": "case_id, date_extract_d(closed_date), date_extract_hh(closed_date), date_extract_mm(closed_date), date_extract_ss(closed_date)",
            "where": "closed_date IS NOT NULL",
            "limit": "20",
        },
        "kc",
        f'SELECT case_id, day(closed_date), hour(closed_date), minute(closed_date), second(closed_date) FROM {T} WHERE closed_date IS NOT NULL ORDER BY ":id" LIMIT 20',
    ),
    (
        {
            "select": "date_trunc_ym(creation_date) AS m, count(*)",
            "where": "date_trunc_ym(creation_date) = '2020-02-01'",
            "group": "m",
        },
        "kc",
        f"SELECT TIMESTAMP '2020-02-01', count(*) FROM {T} WHERE date_trunc('month', creation_date) = TIMESTAMP '2020-02-01'",
    ),
    (
        {"select": "date_extract_y(:created_at) AS y, count(*)", "group": "y"},
        "kc",
        f"SELECT year(timezone('UTC', \":created_at\")), count(*) FROM {T} GROUP BY 1",
    ),
    # $select: aliases, arithmetic, concatenation, literals, case, coalesce, casts
    (
        {"select": "days_to_close AS strength", "limit": "10"},
        "kc",
        f'SELECT days_to_close FROM {T} ORDER BY ":id" LIMIT 10',
    ),
    (
        {
            "select": "case_id, days_to_close * 2 + 1 AS x, days_to_close / 2, days_to_close % 7, -days_to_close, days_to_close - 1",
            "limit": "30",
        },
        "kc",
        f'SELECT case_id, days_to_close * 2 + 1, days_to_close / 2, fmod(days_to_close, 7), -days_to_close, days_to_close - 1 FROM {T} ORDER BY ":id" LIMIT 30',
    ),
    (
        {"select": "street_address || ', ' || zip_code AS addr", "limit": "10"},
        "kc",
        f"SELECT street_address || ', ' || zip_code FROM {T} ORDER BY \":id\" LIMIT 10",
    ),
    (
        {"select": "'O''Brien' AS name, 42 AS n, true AS t, NULL AS z", "limit": "2"},
        "kc",
        f"SELECT 'O''Brien', 42.0, true, NULL FROM {T} LIMIT 2",
    ),
    (
        {
            "select": "case(days_to_close > 30, 'slow', days_to_close <= 30, 'fast') AS speed, count(*)",
            "group": "speed",
        },
        "kc",
        f"SELECT CASE WHEN days_to_close > 30 THEN 'slow' WHEN days_to_close <= 30 THEN 'fast' END s, count(*) FROM {T} GROUP BY s ORDER BY s NULLS LAST LIMIT 1000",
    ),
    (
        {"select": "case(exceeded, 1, true, 0) AS late, count(*)", "group": "late"},
        "kc",
        f"SELECT CASE WHEN exceeded THEN 1 ELSE 0 END l, count(*) FROM {T} GROUP BY l ORDER BY l",
    ),
    (
        {"select": "coalesce(days_to_close, -1) AS d, count(*)", "group": "d", "order": "d", "limit": "5"},
        "kc",
        f"SELECT coalesce(days_to_close, -1) d, count(*) FROM {T} GROUP BY d ORDER BY d LIMIT 5",
    ),
    (
        {"select": "coalesce(closed_date, '2030-01-01') AS c", "where": "closed_date IS NULL", "limit": "3"},
        "kc",
        f"SELECT TIMESTAMP '2030-01-01' FROM {T} WHERE closed_date IS NULL ORDER BY \":id\" LIMIT 3",
    ),
    (
        {"select": "case_id", "where": "zip_code::number > 64150"},
        "kc",
        f'SELECT case_id FROM {T} WHERE TRY_CAST(zip_code AS DOUBLE) > 64150 ORDER BY ":id" LIMIT 1000',
    ),
    (
        {"select": "case_id::text AS t", "limit": "3"},
        "kc",
        f'SELECT CAST(case_id AS VARCHAR) FROM {T} ORDER BY ":id" LIMIT 3',
    ),
    ({"select": "distinct status"}, "kc", f"SELECT DISTINCT status FROM {T} ORDER BY status LIMIT 1000"),
    (
        {"select": "DISTINCT council_district, status", "order": "council_district DESC, status"},
        "kc",
        f"SELECT DISTINCT council_district, status FROM {T} ORDER BY council_district DESC NULLS FIRST, status LIMIT 1000",
    ),
    (
        {"select": ":id, case_id", "limit": "5"},
        "kc",
        f'SELECT ":id", case_id FROM {T} ORDER BY ":id" LIMIT 5',
    ),
    (
        {"select": ":*, *", "limit": "3", "offset": "7"},
        "kc",
        f'SELECT * FROM {T} ORDER BY ":id" LIMIT 3 OFFSET 7',
    ),
    (
        {"limit": "4", "offset": "100"},
        "kc",
        f'SELECT * EXCLUDE (":id", ":created_at", ":updated_at") FROM {T} ORDER BY ":id" LIMIT 4 OFFSET 100',
    ),
    # aggregates
    ({"select": "count(*)"}, "kc", f"SELECT count(*) FROM {T}"),
    (
        {"select": "count(days_to_close), count(DISTINCT neighborhood), count(geo)"},
        "kc",
        f"SELECT count(days_to_close), count(DISTINCT neighborhood), count(geo) FROM {T}",
    ),
    (
        {"select": "sum(days_to_close), avg(days_to_close), min(days_to_close), max(days_to_close)"},
        "kc",
        f"SELECT sum(days_to_close), avg(days_to_close), min(days_to_close), max(days_to_close) FROM {T}",
    ),
    (
        {
            "select": "stddev_pop(days_to_close), stddev_samp(days_to_close), median(days_to_close), percentile_cont(days_to_close, 0.9)"
        },
        "kc",
        f"SELECT stddev_pop(days_to_close), stddev_samp(days_to_close), quantile_cont(days_to_close, 0.5), quantile_cont(days_to_close, 0.9) FROM {T}",
    ),
    (
        {"select": "min(creation_date), max(closed_date), min(neighborhood), max(exceeded)"},
        "kc",
        f"SELECT min(creation_date), max(closed_date), min(neighborhood), bool_or(exceeded) FROM {T}",
    ),
    (
        {"select": "neighborhood, count(*)", "group": "neighborhood"},
        "kc",
        f"SELECT neighborhood, count(*) FROM {T} GROUP BY neighborhood ORDER BY neighborhood NULLS LAST LIMIT 1000",
    ),
    (
        {
            "select": "neighborhood, max(days_to_close) AS max_days",
            "group": "neighborhood",
            "having": "max_days > 40",
        },
        "kc",
        f"SELECT neighborhood, max(days_to_close) FROM {T} GROUP BY neighborhood HAVING max(days_to_close) > 40 ORDER BY neighborhood",
    ),
    (
        {
            "select": "neighborhood, count(*)",
            "group": "neighborhood",
            "having": "count(*) > 100",
            "order": "count(*) DESC",
        },
        "kc",
        f"SELECT neighborhood, count(*) c FROM {T} GROUP BY neighborhood HAVING count(*) > 100 ORDER BY c DESC, neighborhood",
    ),
    (
        {
            "select": "council_district, avg(days_to_close) AS avg_days",
            "where": "status = 'RESOL'",
            "group": "council_district",
            "order": "avg_days DESC",
        },
        "kc",
        f"SELECT council_district, avg(days_to_close) a FROM {T} WHERE status = 'RESOL' GROUP BY council_district ORDER BY a DESC NULLS FIRST",
    ),
    (
        {"select": "status", "group": "status", "order": "count(*) DESC"},
        "kc",
        f"SELECT status FROM {T} GROUP BY status ORDER BY count(*) DESC",
    ),
    (
        {"select": "status, exceeded, count(*)", "group": "status, exceeded", "having": "exceeded = true"},
        "kc",
        f"SELECT status, exceeded, count(*) FROM {T} GROUP BY status, exceeded HAVING exceeded ORDER BY status, exceeded",
    ),
    ({"select": "count(*)", "having": "count(*) > 0"}, "kc", f"SELECT count(*) FROM {T}"),
    (
        {"select": "upper(status) AS s, sum(days_to_close) / count(*) AS mean", "group": "upper(status)"},
        "kc",
        f"SELECT upper(status) s, sum(days_to_close) / count(*) FROM {T} GROUP BY s ORDER BY s",
    ),
    # aliases used in $where and $order
    (
        {"select": "case_id, days_to_close * 2 AS dbl", "where": "dbl > 100"},
        "kc",
        f'SELECT case_id, days_to_close * 2 FROM {T} WHERE days_to_close * 2 > 100 ORDER BY ":id" LIMIT 1000',
    ),
    (
        {
            "select": "case_id, days_to_close AS d",
            "where": "d IS NOT NULL",
            "order": "d DESC, case_id",
            "limit": "15",
        },
        "kc",
        f'SELECT case_id, days_to_close FROM {T} WHERE days_to_close IS NOT NULL ORDER BY days_to_close DESC, case_id, ":id" LIMIT 15',
    ),
    (
        {"select": "case_id", "order": "days_to_close DESC", "limit": "25"},
        "kc",
        f'SELECT case_id FROM {T} ORDER BY days_to_close DESC NULLS FIRST, ":id" LIMIT 25',
    ),
    (
        {"select": "case_id", "order": "neighborhood, days_to_close ASC", "limit": "25", "offset": "5"},
        "kc",
        f'SELECT case_id FROM {T} ORDER BY neighborhood NULLS LAST, days_to_close NULLS LAST, ":id" LIMIT 25 OFFSET 5',
    ),
    (
        {"select": "case_id", "order": ":id DESC", "limit": "5"},
        "kc",
        f'SELECT case_id FROM {T} ORDER BY ":id" DESC LIMIT 5',
    ),
    (
        {"select": "case_id", "order": "days_to_close * -1 ASC NULLS FIRST", "limit": "5"},
        "kc",
        f'SELECT case_id FROM {T} ORDER BY -days_to_close NULLS FIRST, ":id" LIMIT 5',
    ),
    # checkbox
    (
        {"select": "case_id", "where": "exceeded = true"},
        "kc",
        f'SELECT case_id FROM {T} WHERE exceeded ORDER BY ":id" LIMIT 1000',
    ),
    (
        {"select": "case_id", "where": "exceeded = 'false' and not exceeded"},
        "kc",
        f'SELECT case_id FROM {T} WHERE NOT exceeded ORDER BY ":id" LIMIT 1000',
    ),
    (
        {"select": "case_id", "where": "exceeded AND (days_to_close > 30) = FALSE"},
        "kc",
        f'SELECT case_id FROM {T} WHERE exceeded AND (days_to_close > 30) = false ORDER BY ":id" LIMIT 1000',
    ),
    # geospatial (Socrata's within_circle and within_box examples)
    (
        {"select": "case_id", "where": "within_circle(geo, 39.014495, -94.527365, 500)"},
        "kc",
        f'SELECT case_id FROM {T} WHERE {DIST.format(lat=GEO_LAT, lon=GEO_LON, clat=39.014495, clon=-94.527365)} <= 500 ORDER BY ":id" LIMIT 1000',
    ),
    (
        {"select": "count(*)", "where": "within_circle(geo, 39.1, -94.58, 5000)"},
        "kc",
        f"SELECT count(*) FROM {T} WHERE {DIST.format(lat=GEO_LAT, lon=GEO_LON, clat=39.1, clon=-94.58)} <= 5000",
    ),
    (
        {"select": "count(*)", "where": "within_box(geo, 39.1, -94.6, 39.0, -94.5)"},
        "kc",
        f"SELECT count(*) FROM {T} WHERE {GEO_LAT} BETWEEN 39.0 AND 39.1 AND {GEO_LON} BETWEEN -94.6 AND -94.5",
    ),
    (
        {"select": "count(*)", "where": "within_box(address_with_geocode, 39.1, -94.6, 39.0, -94.5)"},
        "kc",
        f"SELECT count(*) FROM {T} WHERE address_with_geocode.latitude BETWEEN 39.0 AND 39.1 AND address_with_geocode.longitude BETWEEN -94.6 AND -94.5",
    ),
    (
        {
            "select": "zip_code, count(*)",
            "where": "within_circle(zip_code, 34.05, -118.25, 10000)",
            "group": "zip_code",
        },
        "la",
        f"SELECT zip_code, count(*) FROM {W} WHERE {DIST.format(lat='zip_code.latitude', lon='zip_code.longitude', clat=34.05, clon=-118.25)} <= 10000 GROUP BY zip_code ORDER BY zip_code",
    ),
    (
        {
            "select": "date_trunc_y(value_date) AS y, sum(water_use), avg(power_use)",
            "group": "y",
            "where": "value_date < '2008-01-01'",
        },
        "la",
        f"SELECT date_trunc('year', value_date) y, sum(water_use), avg(power_use) FROM {W} WHERE value_date < TIMESTAMP '2008-01-01' GROUP BY y ORDER BY y",
    ),
    # $q full-text search and simple filters
    (
        {"select": "case_id", "q": "swope"},
        "kc",
        f"SELECT case_id FROM {T} WHERE contains(lower(concat_ws(' ', source, department, work_group, request_type, category, type, detail, creation_time, status, exceeded_est_timeframe, street_address, zip_code, neighborhood, county, police_district, case_url)), 'swope') ORDER BY \":id\" LIMIT 1000",
    ),
    (
        {"select": "count(*)", "q": "PARKWAY  elmwood"},
        "kc",
        f"SELECT count(*) FROM {T} WHERE contains(lower(concat_ws(' ', neighborhood, street_address)), 'parkway') AND contains(lower(concat_ws(' ', source, department, work_group, request_type, category, type, detail, creation_time, status, exceeded_est_timeframe, street_address, zip_code, neighborhood, county, police_district, case_url)), 'elmwood')",
    ),
    (
        {"select": "case_id", "filters": (("status", "OPEN"), ("council_district", "5"))},
        "kc",
        f"SELECT case_id FROM {T} WHERE status = 'OPEN' AND council_district = 5 ORDER BY \":id\" LIMIT 1000",
    ),
    (
        {"select": "case_id", "filters": (("creation_date", "2020-01-07T00:00:00.000"),)},
        "kc",
        f"SELECT case_id FROM {T} WHERE creation_date = TIMESTAMP '2020-01-07' ORDER BY \":id\" LIMIT 1000",
    ),
    # $query (Socrata's query page)
    (
        {"query": "SELECT * WHERE days_to_close > 3.0 ORDER BY days_to_close DESC LIMIT 5"},
        "kc",
        f'SELECT * EXCLUDE (":id", ":created_at", ":updated_at") FROM {T} WHERE days_to_close > 3 ORDER BY days_to_close DESC, ":id" LIMIT 5',
    ),
    (
        {
            "query": "SELECT `case_id`, `days_to_close` AS `strength` WHERE `days_to_close` > 3.0 AND `status` = 'RESOL' LIMIT 7 OFFSET 3"
        },
        "kc",
        f"SELECT case_id, days_to_close FROM {T} WHERE days_to_close > 3 AND status = 'RESOL' ORDER BY \":id\" LIMIT 7 OFFSET 3",
    ),
    (
        {
            "query": "select neighborhood, count(*) as n where status = 'OPEN' group by neighborhood having n >= 20 order by n desc, neighborhood"
        },
        "kc",
        f"SELECT neighborhood, count(*) n FROM {T} WHERE status = 'OPEN' GROUP BY neighborhood HAVING count(*) >= 20 ORDER BY n DESC, neighborhood LIMIT 1000",
    ),
    (
        {"query": "SELECT count(*) SEARCH 'swope'"},
        "kc",
        f"SELECT count(*) FROM {T} WHERE contains(lower(neighborhood || ' ' || coalesce(street_address, '')), 'swope') OR contains(lower(coalesce(work_group, '')), 'swope') OR contains(lower(street_address), 'swope')",
    ),
    (
        {"query": "SELECT DISTINCT status"},
        "kc",
        f"SELECT DISTINCT status FROM {T} ORDER BY status LIMIT 1000",
    ),
]

# (SoQL parameters, the Socrata error code expected)
INVALID: list[tuple[dict[str, Any], str]] = [
    ({"where": "nope > 1"}, "query.soql.no-such-column"),
    ({"select": "nope"}, "query.soql.no-such-column"),
    ({"select": "case_id", "order": "nope"}, "query.soql.no-such-column"),
    ({"select": "count(*)", "group": "nope"}, "query.soql.no-such-column"),
    ({"filters": (("nope", "1"),)}, "query.soql.no-such-column"),
    ({"where": "`days to close` > 1"}, "query.soql.no-such-column"),
    ({"where": ":deleted = true"}, "query.soql.no-such-column"),
    ({"where": "foo(1) = 1"}, "query.soql.no-such-function"),
    ({"select": "read_csv('/etc/passwd')"}, "query.soql.no-such-function"),
    ({"select": "read_parquet('x')"}, "query.soql.no-such-function"),
    ({"where": "upper(status, status) = 'A'"}, "query.soql.no-such-function"),
    ({"select": "count()"}, "query.soql.no-such-function"),
    ({"select": "case(status = 'OPEN')"}, "query.soql.no-such-function"),
    ({"select": "current_setting('TimeZone')"}, "query.soql.no-such-function"),
    ({"where": "days_to_close = 'abc'"}, "query.soql.type-mismatch"),
    ({"where": "status = 5"}, "query.soql.type-mismatch"),
    ({"where": "status > days_to_close"}, "query.soql.type-mismatch"),
    ({"where": "days_to_close like '%1'"}, "query.soql.type-mismatch"),
    ({"select": "upper(days_to_close)"}, "query.soql.type-mismatch"),
    ({"select": "sum(status)"}, "query.soql.type-mismatch"),
    ({"where": "creation_date > 'not a date'"}, "query.soql.type-mismatch"),
    ({"where": "creation_date > 5"}, "query.soql.type-mismatch"),
    ({"where": ":created_at > creation_date"}, "query.soql.type-mismatch"),
    ({"where": "creation_date > '2020-01-01T00:00:00+02:00'"}, "query.soql.type-mismatch"),
    ({"where": "within_circle(status, 1, 2, 3)"}, "query.soql.type-mismatch"),
    ({"where": "within_circle(geo, 'a', 2, 3)"}, "query.soql.type-mismatch"),
    ({"where": "exceeded > true"}, "query.soql.type-mismatch"),
    ({"where": "exceeded = 'maybe'"}, "query.soql.type-mismatch"),
    ({"where": "days_to_close"}, "query.soql.type-mismatch"),
    ({"where": "geo = 'POINT (1 2)'"}, "query.soql.type-mismatch"),
    ({"where": "address_with_geocode > 1"}, "query.soql.type-mismatch"),
    ({"select": "status || 5"}, "query.soql.type-mismatch"),
    ({"select": "-status"}, "query.soql.type-mismatch"),
    ({"where": "NOT status"}, "query.soql.type-mismatch"),
    ({"where": "status = 'a' AND 1"}, "query.soql.type-mismatch"),
    ({"select": "percentile_cont(days_to_close, 2)"}, "query.soql.type-mismatch"),
    ({"select": "percentile_cont(days_to_close, days_to_close)"}, "query.soql.type-mismatch"),
    ({"select": "status::blob"}, "query.soql.type-mismatch"),
    ({"select": "coalesce(status, days_to_close)"}, "query.soql.type-mismatch"),
    ({"where": "days_to_close > 1e999"}, "query.soql.type-mismatch"),
    ({"filters": (("days_to_close", "ten"),)}, "query.soql.type-mismatch"),
    ({"filters": (("geo", "POINT (1 2)"),)}, "query.soql.type-mismatch"),
    ({"where": "status = "}, "query.soql.bad-parse"),
    ({"where": "status = 'unterminated"}, "query.soql.bad-parse"),
    ({"where": "(status = 'a'"}, "query.soql.bad-parse"),
    ({"where": "status === 'a'"}, "query.soql.bad-parse"),
    ({"where": "days_to_close > 1 2"}, "query.soql.bad-parse"),
    ({"where": "1); COPY (SELECT 1) TO '/tmp/x'; --"}, "query.soql.bad-parse"),
    ({"where": "status = 'a'; DROP TABLE x"}, "query.soql.bad-parse"),
    ({"where": "status = 'a' /* comment */"}, "query.soql.bad-parse"),
    ({"where": "status = 'a' -- comment"}, "query.soql.no-such-column"),  # no comments: `- -comment`
    ({"where": "status = $1"}, "query.soql.bad-parse"),
    ({"where": "status = ?"}, "query.soql.bad-parse"),
    ({"where": "(" * 200 + "true" + ")" * 200}, "query.soql.bad-parse"),
    ({"where": "NOT " * 200 + "true"}, "query.soql.bad-parse"),
    ({"where": "1" + " + 1" * 200 + " = 2"}, "query.soql.bad-parse"),
    ({"where": "x" * 30000}, "query.soql.bad-parse"),
    ({"select": ""}, "query.soql.bad-parse"),
    ({"select": "status AS"}, "query.soql.bad-parse"),
    ({"select": "status AS :x"}, "query.soql.bad-parse"),
    ({"order": "days_to_close sideways"}, "query.soql.bad-parse"),
    ({"limit": "abc"}, "query.soql.bad-parse"),
    ({"limit": "-1"}, "query.soql.bad-parse"),
    ({"offset": "1.5"}, "query.soql.bad-parse"),
    ({"select": "sum(DISTINCT days_to_close)"}, "query.soql.bad-parse"),
    ({"query": "SELECT status SELECT type"}, "query.soql.bad-parse"),
    ({"query": "SELECT * FROM other"}, "query.soql.bad-parse"),
    ({"query": "SELECT * LIMIT 'a'"}, "query.soql.bad-parse"),
    ({"where": "count(*) > 1"}, "query.soql.aggregate-in-ungrouped-context"),
    (
        {"select": "status, max(days_to_close) AS m", "group": "status", "where": "m > 5"},
        "query.soql.aggregate-in-ungrouped-context",
    ),
    ({"select": "count(*)", "group": "count(*)"}, "query.soql.aggregate-in-ungrouped-context"),
    ({"select": "sum(max(days_to_close))"}, "query.soql.aggregate-in-ungrouped-context"),
    ({"select": "status, count(*)"}, "query.soql.column-not-in-group-bys"),
    ({"select": "status, neighborhood, count(*)", "group": "status"}, "query.soql.column-not-in-group-bys"),
    (
        {"select": "status", "group": "status", "having": "days_to_close > 1"},
        "query.soql.column-not-in-group-bys",
    ),
    ({"select": "status", "group": "status", "order": "neighborhood"}, "query.soql.column-not-in-group-bys"),
    ({"select": "status AS a, type AS A"}, "query.soql.duplicate-alias"),
    ({"limit": "50001"}, "query.soql.limit-too-large"),
    ({"query": "SELECT * LIMIT 100000"}, "query.soql.limit-too-large"),
    ({"query": "SELECT *", "limit": "5"}, "query.soql.conflicting-parameters"),
    ({"select": "geo", "order": "geo"}, "query.soql.unorderable-order-by"),
    ({"select": "distinct status", "order": "type"}, "query.soql.unorderable-order-by"),
]


def _info(env: tuple[Store, DatasetInfo, DatasetInfo], name: str) -> DatasetInfo:
    return env[1] if name == "kc" else env[2]


@pytest.mark.parametrize(
    ("params", "dataset", "expected_sql"), VALID, ids=[str(i) for i in range(len(VALID))]
)
def test_valid_query_matches_hand_written_sql(
    env: tuple[Store, DatasetInfo, DatasetInfo], params: dict[str, Any], dataset: str, expected_sql: str
) -> None:
    store = env[0]
    compiled = compile_soql(QueryParams(**params), _info(env, dataset))
    assert "?" not in expected_sql
    got = run(store, compiled.sql, compiled.params)
    want = run(store, expected_sql)
    assert got == want
    assert len(compiled.columns) == len(run(store, f"DESCRIBE {compiled.sql}", compiled.params))


def test_the_table_covers_every_function_and_parameter() -> None:
    """Each SoQL function the compiler knows (the geospatial ones: test_soql_geo) is called in a
    valid case, and each query parameter is given in one: a function added without a case fails."""
    text = " ".join(str(value) for params, _, _ in VALID for value in params.values()).lower()
    uncalled = [
        name
        for name in FUNCTIONS
        if name not in GEO_FUNCTIONS and not re.search(rf"\b{re.escape(name)}\s*\(", text)
    ]
    assert uncalled == []
    assert {key for params, _, _ in VALID for key in params} >= set(SOQL_PARAMS.values())


@pytest.mark.parametrize(("params", "code"), INVALID, ids=[str(i) for i in range(len(INVALID))])
def test_invalid_query_gives_socrata_code(
    env: tuple[Store, DatasetInfo, DatasetInfo], params: dict[str, Any], code: str
) -> None:
    with pytest.raises(SoqlError) as caught:
        compile_soql(QueryParams(**params), env[1])
    assert caught.value.code == code, caught.value.message
    assert caught.value.http_status == 400
    assert caught.value.message.endswith((".", ")")) and len(caught.value.message) > 30


def test_output_columns_follow_socrata_names_and_types(env: tuple[Store, DatasetInfo, DatasetInfo]) -> None:
    info = env[1]
    compiled = compile_soql(
        QueryParams(
            select="count(*), sum(days_to_close), date_trunc_ym(creation_date), status AS s, "
            "max(:created_at), count(*)",
            group="date_trunc_ym(creation_date), s",
        ),
        info,
    )
    assert compiled.columns == (
        OutputColumn("count", "number"),
        OutputColumn("sum_days_to_close", "number"),
        OutputColumn("date_trunc_ym_creation_date", "floating_timestamp"),
        OutputColumn("s", "text"),
        OutputColumn("max_created_at", "fixed_timestamp"),
        OutputColumn("count_1", "number"),
    )
    table = env[0].cursor().cursor().sql(compiled.sql, params=compiled.params).to_arrow_table()
    assert table.column_names == [c.field_name for c in compiled.columns]
    assert table.schema.field("count").type == pa.float64()


def test_default_select_and_system_fields(env: tuple[Store, DatasetInfo, DatasetInfo]) -> None:
    info = env[1]
    plain = compile_soql(QueryParams(), info)
    assert [c.field_name for c in plain.columns] == [c.field_name for c in info.columns]
    with_system = compile_soql(QueryParams(select=":*, *"), info)
    names = [c.field_name for c in with_system.columns]
    assert names[:3] == [":id", ":created_at", ":updated_at"]
    assert [c.data_type for c in with_system.columns[:3]] == ["text", "fixed_timestamp", "fixed_timestamp"]


def test_limits_none_means_unlimited(env: tuple[Store, DatasetInfo, DatasetInfo]) -> None:
    store, info = env[0], env[1]
    compiled = compile_soql(QueryParams(select="case_id"), info, default_limit=None, max_limit=None)
    assert "LIMIT" not in compiled.sql
    assert len(run(store, compiled.sql, compiled.params)) == info.row_count
    big = compile_soql(QueryParams(limit="900000"), info, max_limit=None)
    assert "LIMIT 900000" in big.sql


def test_paging_with_offset_is_stable(env: tuple[Store, DatasetInfo, DatasetInfo]) -> None:
    store, info = env[0], env[1]
    pages = []
    for offset in range(0, info.row_count, 1000):
        q = compile_soql(QueryParams(select="case_id", order="status", offset=str(offset)), info)
        pages.extend(run(store, q.sql, q.params))
    assert sorted(pages) == sorted(run(store, f"SELECT case_id FROM {T}"))


def test_compile_where_fragment(env: tuple[Store, DatasetInfo, DatasetInfo]) -> None:
    store, info = env[0], env[1]
    sql, params = compile_where("type = 'Pothole' AND days_to_close <= 7", info)
    assert "Pothole" not in sql and params == ["Pothole", 7.0]
    got = run(store, f"SELECT count(*) FROM {info.table} WHERE {sql}", params)
    assert got == run(store, f"SELECT count(*) FROM {T} WHERE type = 'Pothole' AND days_to_close <= 7")
    for bad, code in [
        ("count(*) > 1", "query.soql.aggregate-in-ungrouped-context"),
        ("days_to_close", "query.soql.type-mismatch"),
    ]:
        with pytest.raises(SoqlError) as caught:
            compile_where(bad, info)
        assert caught.value.code == code


def test_from_request_splits_parameters() -> None:
    params = QueryParams.from_request(
        [
            ("$select", "a"),
            ("$WHERE", "b > 1"),
            ("status", "OPEN"),
            ("$$app_token", "t"),
            ("$$read_from_nbe", "true"),
        ]
    )
    assert params == QueryParams(select="a", where="b > 1", filters=(("status", "OPEN"),))
    for pairs, code in [
        ([("$foo", "1")], "query.soql.unknown-parameter"),
        ([("$limit", "1"), ("$limit", "2")], "query.soql.duplicate-parameter"),
    ]:
        with pytest.raises(SoqlError) as caught:
            QueryParams.from_request(pairs)
        assert caught.value.code == code


def test_bad_parse_names_line_and_column(env: tuple[Store, DatasetInfo, DatasetInfo]) -> None:
    with pytest.raises(SoqlError) as caught:
        compile_soql(QueryParams(where="status = 'OPEN'\n  AND AND days_to_close > 1"), env[1])
    assert "line 2, column 7" in caught.value.message
    assert "expected an expression" in caught.value.message
    assert caught.value.data["line"] == 2


def test_timestamp_literal_types(env: tuple[Store, DatasetInfo, DatasetInfo]) -> None:
    _sql, params = compile_where(
        "creation_date > '2020-01-31T08:30:00' AND :updated_at > '2020-01-31T00:00:00Z'", env[1]
    )
    assert params[0] == datetime(2020, 1, 31, 8, 30)
    assert params[1].tzinfo is not None and params[1].utcoffset().total_seconds() == 0
