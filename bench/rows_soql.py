"""Row 5: SoQL queries over the whole dataset, latency over HTTP (p50 and p99).

Three queries, interleaved, each asked many times through one keep-alive connection: a filtered count,
a count by month (``date_trunc_ym``) and a 90th percentile. Every repetition changes a literal in the
filter, so each request is a real query over all the rows and never a cached answer. The filtered count
is checked against the generated data.

Example:
    >>> soql_rows(url, rows=20_000, reps=8)  # doctest: +SKIP
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pyarrow.compute as pc
import pyarrow.parquet as pq
import requests

from bench.generate import DATASET_ID, REQUEST_TYPES, dataset_parquet
from bench.harness import Goal, Result, percentile, size_label

__all__ = ["soql_big_rows", "soql_rows"]

WARMUP = 2


def _since(rep: int) -> str:
    """A date in the first weeks of the data: the filter keeps nearly every row but differs each time."""
    return f"2019-01-{1 + rep % 28:02d}T00:00:00"


def _request_type(rep: int) -> str:
    return REQUEST_TYPES[rep % len(REQUEST_TYPES)]


def _queries() -> dict[str, Callable[[int], dict[str, str]]]:
    return {
        "filtered count": lambda rep: {
            "$select": "count(*) AS n",
            "$where": f"request_type = '{_request_type(rep)}' AND created_date >= '{_since(rep)}'",
        },
        "group-by-month": lambda rep: {
            "$select": "date_trunc_ym(created_date) AS month, count(*) AS n",
            "$where": f"created_date >= '{_since(rep)}'",
            "$group": "month",
            "$order": "month",
        },
        "percentile (p90)": lambda rep: {
            "$select": "percentile_cont(days_to_close, 0.9) AS p90",
            "$where": f"created_date >= '{_since(rep)}'",
        },
    }


def _expected_count(rows: int, rep: int) -> int:
    """The filtered count computed from the generated Parquet file, to check the portal's answer."""
    table = pq.read_table(dataset_parquet(rows), columns=["request_type", "created_date"])
    since = pc.strptime(_since(rep), "%Y-%m-%dT%H:%M:%S", "us")
    mask = pc.and_(
        pc.equal(table["request_type"], _request_type(rep)),
        pc.greater_equal(table["created_date"], since),
    )
    return int(pc.sum(mask.cast("int64")).as_py())


def _latencies(
    url: str, queries: dict[str, Callable[[int], dict[str, str]]], reps: int
) -> dict[str, list[float]]:
    """Milliseconds of each query's requests after the warm-up, interleaved on one connection."""
    resource = f"{url}/resource/{DATASET_ID}.json"
    latencies: dict[str, list[float]] = {name: [] for name in queries}
    with requests.Session() as session:
        for rep in range(WARMUP + reps):
            for name, params in queries.items():
                start = time.perf_counter()
                resp = session.get(resource, params=params(rep + 1), timeout=60)
                resp.content  # noqa: B018 - the whole body is part of the latency
                elapsed = (time.perf_counter() - start) * 1000
                resp.raise_for_status()
                if rep >= WARMUP:
                    latencies[name].append(elapsed)
    return latencies


def _check_count(url: str, rows: int) -> None:
    """The filtered count the portal gives equals the one computed from the generated data."""
    params = _queries()["filtered count"](0)
    first = requests.get(f"{url}/resource/{DATASET_ID}.json", params=params, timeout=120)
    first.raise_for_status()
    got, want = int(first.json()[0]["n"]), _expected_count(rows, 0)
    if got != want:
        raise RuntimeError(f"the portal counted {got:,} rows, the data holds {want:,}")


def _results(
    latencies: dict[str, list[float]], rows: int, goals: dict[str, float], note: str
) -> list[Result]:
    size = size_label(rows)
    results: list[Result] = []
    for name, values in latencies.items():
        for pct in (50, 99):
            goal = Goal("max", goals[name], "ms") if name in goals and pct == 50 else None
            results.append(
                Result(
                    group="soql",
                    work=f"SoQL {name} over {size} rows, p{pct}",
                    unit="ms",
                    ours=percentile(values, pct),
                    higher_is_better=False,
                    goal=goal,
                    samples={"ours": values} if pct == 50 else {},
                    notes="" if results else note,
                )
            )
    return results


def soql_rows(url: str, *, rows: int, reps: int) -> list[Result]:
    """p50 and p99 latency in milliseconds of each query; the goal is on group-by-month's p50."""
    _check_count(url, rows)
    latencies = _latencies(url, _queries(), reps)
    note = f"{reps} requests per query over HTTP, interleaved"
    return _results(latencies, rows, {"group-by-month": 50}, note)


def soql_big_rows(url: str, *, rows: int, reps: int) -> list[Result]:
    """p50 and p99 of the count by month alone over the big dataset (10M rows); goal p50 <= 150 ms."""
    _check_count(url, rows)
    query = {"group-by-month": _queries()["group-by-month"]}
    note = f"{reps} requests over HTTP, one connection"
    return _results(_latencies(url, query, reps), rows, {"group-by-month": 150}, note)
