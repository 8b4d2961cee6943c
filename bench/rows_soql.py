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

__all__ = ["soql_rows"]

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


def soql_rows(url: str, *, rows: int, reps: int) -> list[Result]:
    """p50 and p99 latency in milliseconds of each query; the goal is on group-by-month's p50."""
    queries = _queries()
    resource = f"{url}/resource/{DATASET_ID}.json"
    latencies: dict[str, list[float]] = {name: [] for name in queries}
    with requests.Session() as session:
        first = session.get(resource, params=queries["filtered count"](0), timeout=60)
        first.raise_for_status()
        got, want = int(first.json()[0]["n"]), _expected_count(rows, 0)
        if got != want:
            raise RuntimeError(f"the portal counted {got:,} rows, the data holds {want:,}")
        for rep in range(WARMUP + reps):
            for name, params in queries.items():
                start = time.perf_counter()
                resp = session.get(resource, params=params(rep + 1), timeout=60)
                resp.content  # noqa: B018 - the whole body is part of the latency
                elapsed = (time.perf_counter() - start) * 1000
                resp.raise_for_status()
                if rep >= WARMUP:
                    latencies[name].append(elapsed)
    size = size_label(rows)
    results: list[Result] = []
    for name, values in latencies.items():
        for pct in (50, 99):
            goal = Goal("max", 50, "ms") if name == "group-by-month" and pct == 50 else None
            results.append(
                Result(
                    group="soql",
                    work=f"SoQL {name} over {size} rows, p{pct}",
                    unit="ms",
                    ours=percentile(values, pct),
                    higher_is_better=False,
                    goal=goal,
                    samples={"ours": values} if pct == 50 else {},
                    notes="" if results else f"{len(values)} requests per query over HTTP, interleaved",
                )
            )
    return results
