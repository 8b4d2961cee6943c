"""Partitioned pulls through a slow link: 4 connections against 1, time per row at two sizes, memory.

The portal runs in its own process over the generated dataset; a throttling proxy
(``tests/throttle.py``, in a process of its own too) gives every connection a link of 20 MB/s and
50 ms round trip, the way a city's office reaches a far portal. Each pull runs in a fresh process
(``bench/partitioned_child.py``) into an empty folder, partitioned by ``created_date:year`` in ranges
of 250,000 rows, so its peak memory is its own.

Rows:

* the large pull (10M rows; 50,000 quick) with 4 connections against the same pull with 1: rows/s,
  goal >= 3x;
* time per row of the large pull against the small one (1M rows; 20,000 quick), both with 4
  connections: goal within 1.2x (shown as a ratio, small / large, of at least 0.83);
* the peak memory (RSS, whole process) of the large 4-connection pull: goal <= 400 MB.

Example:
    >>> results = partitioned_rows(small=20_000, large=50_000, workdir=Path("/tmp/b"))  # doctest: +SKIP
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from bench.generate import DATASET_ID, dataset_store
from bench.harness import Goal, Result, size_label
from bench.partitioned_child import PARTITION_BY, measure_partitioned_pull
from bench.serve import REPO, running_server

__all__ = ["LINK_RATE", "LINK_RTT", "partitioned_rows", "throttled"]

LINK_RATE = 20e6  # bytes per second, per connection
LINK_RTT = 0.05  # seconds of round trip, per connection
LINK = "20 MB/s + 50 ms link"


@contextmanager
def throttled(url: str, *, rate: float = LINK_RATE, rtt: float = LINK_RTT) -> Iterator[str]:
    """The throttling proxy in front of ``url``, in its own process; yields the proxy's URL."""
    parts = urlsplit(url)
    cmd = [
        sys.executable,
        str(REPO / "tests" / "throttle.py"),
        parts.netloc,
        "--rate",
        str(rate),
        "--rtt",
        str(rtt),
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        if not line.isdigit():
            raise RuntimeError(f"the throttling proxy did not start (exit {proc.poll()})")
        yield f"http://127.0.0.1:{line}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _pull(url: str, workdir: Path, name: str, parallel: int, rows: int) -> dict[str, float]:
    out = workdir / name
    shutil.rmtree(out, ignore_errors=True)
    report = measure_partitioned_pull(url, DATASET_ID, out, parallel=parallel)
    shutil.rmtree(out, ignore_errors=True)
    if int(report["rows"]) != rows:
        raise RuntimeError(f"the partitioned pull wrote {report['rows']:,} rows, expected {rows:,}")
    return {k: float(v) for k, v in report.items()}


def partitioned_rows(*, small: int, large: int, workdir: Path) -> list[Result]:
    """The three rows (see the module doc); one pull of each kind (the large ones take minutes)."""
    with running_server("portal", store=dataset_store(large)) as url, throttled(url) as link:
        four = _pull(link, workdir, "four", 4, large)
        one = _pull(link, workdir, "one", 1, large)
    with running_server("portal", store=dataset_store(small)) as url, throttled(url) as link:
        few = _pull(link, workdir, "small", 4, small)
    big, little = size_label(large), size_label(small)
    per_row_large = four["seconds"] / large * 1e6
    per_row_small = few["seconds"] / small * 1e6
    how = f"partitioned by {PARTITION_BY}, ranges of 250,000 rows, fresh process each"
    return [
        Result(
            group="partitioned",
            work=f"pull {big} rows partitioned, {LINK}: 4 connections vs 1",
            unit="rows/s",
            ours=large / four["seconds"],
            peer=large / one["seconds"],
            peer_name="1 connection",
            goal=Goal("ratio", 3),
            samples={"ours": [four["seconds"]], "peer": [one["seconds"]]},
            notes=(
                f"{how}; each connection a link of 20 MB/s and 50 ms round trip; "
                f"4 connections {four['seconds']:.1f} s, 1 connection {one['seconds']:.1f} s"
            ),
        ),
        Result(
            group="partitioned",
            work=f"partitioned pull: time per row, {big} vs {little} rows",
            unit="us/row",
            ours=per_row_large,
            peer=per_row_small,
            peer_name=little,
            higher_is_better=False,
            goal=Goal("ratio", round(1 / 1.2, 2)),
            samples={"ours": [four["seconds"]], "peer": [few["seconds"]]},
            notes=f"4 connections each; ratio = per row at {little} / at {big}; >= 0.83x is within 1.2x",
        ),
        Result(
            group="partitioned",
            work=f"partitioned pull of {big} rows: peak memory (RSS)",
            unit="MB",
            ours=four["peak_mb"],
            higher_is_better=False,
            goal=Goal("max", 400, "MB"),
            samples={"ours": [four["peak_mb"]], "base": [four["base_mb"]]},
            notes=(
                f"the 4-connection pull, whole process; {four['base_mb']:.0f} MB resident after imports; "
                f"the 1-connection pull peaked at {one['peak_mb']:.0f} MB, "
                f"the {little}-row one at {few['peak_mb']:.0f} MB"
            ),
        ),
    ]
