"""Row: the cost of a Discovery API page (``/api/catalog/v1?limit=10``) with 1,000 datasets.

The store holds 1,000 small datasets (200 in the quick run), built once and cached like the other
stores; the portal runs in its own process. Each repetition asks for a different page (``offset``
moves), so no page is answered twice the same way; the row reports the p50 and p99 over HTTP
through one keep-alive connection. Goal: p50 <= 50 ms at 1,000 datasets, about what it costs at 10.

Example:
    >>> discovery_rows(quick=True)  # doctest: +SKIP
"""

from __future__ import annotations

import time
from pathlib import Path

import requests

from bench.generate import _store_fingerprint, cache_dir
from bench.harness import Goal, Result, percentile
from bench.serve import running_server

__all__ = ["catalog_store", "discovery_rows"]

WARMUP = 3


def catalog_store(datasets: int) -> Path:
    """A store folder with ``datasets`` small datasets (``bench-cat-0000``...), built on first use."""
    from btvstat_open.store import Store
    from btvstat_open.store.writes import create_table
    from btvstat_open.types import Column

    root = cache_dir() / f"catalog-{_store_fingerprint()}-{datasets}"
    done = root / ".complete"
    if not done.exists():
        columns = [Column("label", "Label", "text"), Column("value", "Value", "number")]
        with Store(root) as store, store.transaction() as con:
            for i in range(datasets):
                name = f"Bench catalog dataset {i:04d}"
                create_table(con, f"bench-cat-{i:04d}", name, columns, "Generated.", None, replace=True)
        done.touch()
    return root


def discovery_rows(*, quick: bool, reps: int | None = None, datasets: int | None = None) -> list[Result]:
    """p50 and p99 in milliseconds of ``/api/catalog/v1?limit=10`` (different pages) over ``datasets``
    datasets (default: 200 quick, 1,000 full)."""
    datasets = datasets or (200 if quick else 1000)
    reps = reps or (20 if quick else 100)
    latencies: list[float] = []
    with running_server("portal", store=catalog_store(datasets)) as url, requests.Session() as session:
        for rep in range(WARMUP + reps):
            params = {"limit": "10", "offset": str((rep * 10) % datasets)}
            start = time.perf_counter()
            response = session.get(f"{url}/api/catalog/v1", params=params, timeout=60)
            response.content  # noqa: B018 - the whole body is part of the latency
            elapsed = (time.perf_counter() - start) * 1000
            response.raise_for_status()
            body = response.json()
            if body["resultSetSize"] != datasets or len(body["results"]) != 10:
                raise RuntimeError(f"the catalog listed {body['resultSetSize']} datasets, not {datasets}")
            if rep >= WARMUP:
                latencies.append(elapsed)
    label = f"{datasets:,}"
    return [
        Result(
            group="discovery",
            work=f"GET /api/catalog/v1?limit=10 with {label} datasets, p{pct}",
            unit="ms",
            ours=percentile(latencies, pct),
            higher_is_better=False,
            goal=Goal("max", 50, "ms") if pct == 50 else None,
            samples={"ours": latencies} if pct == 50 else {},
            notes=f"{len(latencies)} pages over HTTP, each a different offset" if pct == 50 else "",
        )
        for pct in (50, 99)
    ]
