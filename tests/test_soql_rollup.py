"""Counts by month or year, counted by day first (btvstat_open.soql.rollup): the same rows and order
as the direct count, at the edges (nulls, the last microsecond of a month, before 1970)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

import pyarrow as pa
import pytest

from btvstat_open.soql import QueryParams, compile_soql
from btvstat_open.store import DatasetInfo, Store
from btvstat_open.types import Column

STAMPS = [
    datetime(1969, 12, 31, 23, 0),
    datetime(1970, 1, 1, 0, 0),
    datetime(2020, 1, 31, 23, 59, 59, 999999),
    datetime(2020, 2, 1, 0, 0),
    datetime(2020, 2, 29, 12, 30),
    datetime(2020, 12, 31, 23, 59, 59),
    datetime(2021, 1, 1, 0, 0, 0, 1),
    None,
    None,
    datetime(2020, 2, 1, 0, 0),
]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Store, DatasetInfo]:
    s = Store(tmp_path_factory.mktemp("rollup"))
    columns = [Column("opened", "Opened", "floating_timestamp"), Column("kind", "Kind", "text")]
    kinds = ["a" if i % 3 else "b" for i in range(len(STAMPS))]
    info = s.load("r", pa.table({"opened": pa.array(STAMPS, pa.timestamp("us")), "kind": kinds}), columns)
    return s, info


def _run(store: tuple[Store, DatasetInfo], **params: str) -> tuple[str, list[tuple[Any, ...]]]:
    s, info = store
    compiled = compile_soql(QueryParams(**params), info)
    return compiled.sql, s.cursor().execute(compiled.sql, compiled.params).fetchall()


def _month(stamp: datetime | None) -> datetime | None:
    return None if stamp is None else stamp.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def test_count_by_month_is_counted_by_day_and_exact(store: tuple[Store, DatasetInfo]) -> None:
    sql, rows = _run(store, select="date_trunc_ym(opened) AS m, count(*) AS n", group="m")
    assert ":day_count" in sql
    counts = Counter(_month(s) for s in STAMPS)
    expected = sorted(((m, float(n)) for m, n in counts.items()), key=lambda r: (r[0] is None, r[0] or 0))
    assert rows == expected


def test_ordered_by_count_and_filtered(store: tuple[Store, DatasetInfo]) -> None:
    params = {
        "select": "date_trunc_y(opened) AS y, count(*) AS n",
        "group": "y",
        "order": "n DESC, y",
        "where": "opened >= '1970-01-01'",
    }
    sql, rows = _run(store, **params)
    assert ":day_count" in sql
    assert rows == [(datetime(2020, 1, 1), 5.0), (datetime(1970, 1, 1), 1.0), (datetime(2021, 1, 1), 1.0)]


@pytest.mark.parametrize(
    "params",
    [
        {"select": "date_trunc_ym(opened) AS m, count(*) AS n", "group": "m", "having": "count(*) > 1"},
        {"select": "date_trunc_ym(opened) AS m, kind, count(*) AS n", "group": "m, kind"},
        {"select": "date_trunc_ym(opened) AS m, count(kind) AS n", "group": "m"},
        {"select": "date_trunc_ymd(opened) AS d, count(*) AS n", "group": "d"},
    ],
)
def test_other_shapes_compile_as_written(store: tuple[Store, DatasetInfo], params: dict[str, str]) -> None:
    sql, rows = _run(store, **params)
    assert ":day_count" not in sql and rows


def test_the_bench_shape_matches_the_direct_query(store: tuple[Store, DatasetInfo]) -> None:
    s, info = store
    sql, rows = _run(store, select="date_trunc_ym(opened) AS m, count(*) AS n", group="m", order="m DESC")
    direct = s.cursor().execute(
        f"SELECT date_trunc('month', opened), CAST(count(*) AS DOUBLE) FROM {info.table} "
        "GROUP BY 1 ORDER BY 1 DESC NULLS FIRST"
    )
    assert ":day_count" in sql and rows == direct.fetchall()
