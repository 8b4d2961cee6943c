"""Row: ``/healthz`` p99 while 50 slow SoQL queries run (goal <= 100 ms).

Fifty clients each send a query that costs the most a clause may (a LIKE of a five-fold
concatenation against a pattern of many ``_``) over the whole dataset; the query pool takes as many
as it has places for and answers the rest with a 503. Meanwhile ``/healthz`` is asked for one at a
time; health answers on the event loop, never behind the heavy pools. Then the clients hang up,
which interrupts their queries.

Example:
    >>> health_rows(url, slow=50, samples=200)  # doctest: +SKIP
"""

from __future__ import annotations

import socket
import time
from urllib.parse import urlencode, urlsplit

import requests

from bench.generate import DATASET_ID
from bench.harness import Goal, Result, percentile

__all__ = ["health_rows"]

SLOW_WHERE = "(" + " || ".join(["descriptor"] * 5) + ") like '%" + "_" * 99 + "x'"


def _slow_client(url: str) -> socket.socket:
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80))
    query = urlencode({"$where": SLOW_WHERE})
    sock.sendall(f"GET /resource/{DATASET_ID}.json?{query} HTTP/1.1\r\nHost: bench\r\n\r\n".encode())
    return sock


def health_rows(url: str, *, slow: int = 50, samples: int = 200) -> list[Result]:
    """p99 of ``/healthz`` in milliseconds while ``slow`` slow queries are sent."""
    clients = [_slow_client(url) for _ in range(slow)]
    latencies: list[float] = []
    try:
        time.sleep(0.5)  # let the pool fill
        with requests.Session() as session:
            for _ in range(samples):
                start = time.perf_counter()
                session.get(f"{url}/healthz", timeout=30).raise_for_status()
                latencies.append((time.perf_counter() - start) * 1000)
    finally:
        for sock in clients:
            sock.close()
    return [
        Result(
            group="health",
            work=f"/healthz p99 while {slow} slow queries run",
            unit="ms",
            ours=percentile(latencies, 99),
            higher_is_better=False,
            goal=Goal("max", 100, "ms"),
            samples={"ours": latencies},
            notes=f"{samples} requests, one at a time; the query pool answers what it cannot take with 503",
        )
    ]
