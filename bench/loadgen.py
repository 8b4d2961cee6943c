"""Concurrent HTTP load from a separate process: requests/s and latency percentiles.

Uses ``wrk`` when it is installed (Debian's package; CI installs it) and the load lasts a second or more
(wrk's shortest). Otherwise it runs this module as a child process: an asyncio client with
``connections`` keep-alive HTTP/1.1 connections, each sending GET requests back to back for ``seconds``
and timing every response. Either way the load never shares a
process (or a GIL) with the server or with the benchmark's own bookkeeping.

Example:
    >>> load("http://127.0.0.1:8000/healthz", seconds=1, connections=4)  # doctest: +SKIP
    LoadReport(requests=9120, seconds=1.0, errors=0, p50_ms=0.4, p99_ms=1.2, tool='wrk')
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit

__all__ = ["LoadReport", "load"]

REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class LoadReport:
    """What a load run measured."""

    requests: int
    seconds: float
    errors: int
    p50_ms: float
    p99_ms: float
    tool: str

    @property
    def rate(self) -> float:
        """Completed requests per second."""
        return self.requests / self.seconds if self.seconds else 0.0


def load(url: str, *, seconds: float, connections: int) -> LoadReport:
    """Put ``connections`` concurrent keep-alive clients on ``url`` for ``seconds``."""
    # wrk runs whole seconds: a shorter load (the smoke run's) is the asyncio client's.
    if seconds >= 1 and shutil.which("wrk") and not os.environ.get("BENCH_NO_WRK"):
        return _wrk(url, seconds, connections)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH", "")]))
    proc = subprocess.run(
        [sys.executable, "-m", "bench.loadgen", url, str(seconds), str(connections)],
        capture_output=True,
        text=True,
        env=env,
        timeout=seconds + 60,
        check=True,
    )
    return LoadReport(**json.loads(proc.stdout))


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _wrk_ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not match:
        raise ValueError(f"wrk printed a latency this parser does not know: {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def _wrk(url: str, seconds: float, connections: int) -> LoadReport:
    threads = min(2, connections)
    proc = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency", url],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        check=True,
    )
    out = proc.stdout
    total = re.search(r"(\d+) requests in ([\d.]+)(ms|s|m)", out)
    p50 = re.search(r"^\s*50%\s+(\S+)", out, re.M)
    p99 = re.search(r"^\s*99%\s+(\S+)", out, re.M)
    if not (total and p50 and p99):
        raise RuntimeError(f"could not read wrk's output:\n{out}")
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors += int(bad.group(1)) if bad else 0
    elapsed = _wrk_ms(total.group(2) + total.group(3)) / 1000
    return LoadReport(
        int(total.group(1)), elapsed, errors, _wrk_ms(p50.group(1)), _wrk_ms(p99.group(1)), "wrk"
    )


async def _client(host: str, port: int, target: str, stop: float, latencies: list[float]) -> int:
    """One keep-alive connection sending requests until ``stop``; returns how many failed."""
    reader, writer = await asyncio.open_connection(host, port)
    request = f"GET {target} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode()
    errors = 0
    try:
        while time.perf_counter() < stop:
            start = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = re.search(rb"(?i)content-length:\s*(\d+)", head)
            if length is None:
                raise RuntimeError("the load generator needs responses with Content-Length")
            await reader.readexactly(int(length.group(1)))
            latencies.append((time.perf_counter() - start) * 1000)
            errors += status >= 400
    finally:
        writer.close()
    return errors


async def _run(url: str, seconds: float, connections: int) -> LoadReport:
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    latencies: list[float] = []
    start = time.perf_counter()
    stop = start + seconds
    errors = await asyncio.gather(
        *(
            _client(parts.hostname or "", parts.port or 80, target, stop, latencies)
            for _ in range(connections)
        )
    )
    elapsed = time.perf_counter() - start
    ordered = sorted(latencies)

    def pct(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))] if ordered else float("nan")

    return LoadReport(len(ordered), elapsed, sum(errors), pct(50), pct(99), "asyncio")


if __name__ == "__main__":
    report = asyncio.run(_run(sys.argv[1], float(sys.argv[2]), int(sys.argv[3])))
    print(json.dumps(asdict(report)))
