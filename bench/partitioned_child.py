"""Run one partitioned pull in a fresh process and report its time and the process's peak memory.

``python -m bench.partitioned_child URL DATASET_ID OUT_DIR PARALLEL`` prints one JSON line: rows,
partitions, seconds, ``base_mb`` (resident after imports) and ``peak_mb`` (the kernel's high-water
mark of the whole process, see :mod:`bench.pull_child`).

Example:
    >>> measure_partitioned_pull(url, "bench-311", Path("/tmp/p"), parallel=4)  # doctest: +SKIP
    {'rows': 10000000, 'partitions': 8, 'seconds': 61.2, 'base_mb': 98.0, 'peak_mb': 240.5}
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.pull_child import _peak_mb, _rss_mb

__all__ = ["PARTITION_BY", "ROWS_PER_FILE", "measure_partitioned_pull"]

REPO = Path(__file__).resolve().parent.parent
PARTITION_BY = "created_date:year"
#: Ranges of about this many rows: seven years of a 10M-row dataset make about 40 of them.
ROWS_PER_FILE = 250_000


def main(argv: list[str]) -> None:
    """Run the pull named on the command line and print the measurements as JSON."""
    url, dataset_id, out, parallel = argv
    from connectors import connect
    from connectors.partitioned import pooled_session, pull_partitioned

    # As the command line connects: one page at a time per range, one kept-open connection per range.
    portal = connect(url, concurrency=1, session=pooled_session(int(parallel)))
    base_mb = _rss_mb()
    start = time.perf_counter()
    result = pull_partitioned(
        portal,
        dataset_id,
        out,
        partition_by=PARTITION_BY,
        parallel=int(parallel),
        rows_per_file=ROWS_PER_FILE,
    )
    seconds = time.perf_counter() - start
    report = {
        "rows": result.rows,
        "partitions": result.partitions,
        "seconds": seconds,
        "base_mb": base_mb,
        "peak_mb": _peak_mb(),
    }
    print(json.dumps(report))


def measure_partitioned_pull(url: str, dataset_id: str, out: Path, *, parallel: int) -> dict[str, Any]:
    """Run a partitioned pull into the empty folder ``out`` in a child process; returns its report."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH", "")]))
    proc = subprocess.run(
        [sys.executable, "-m", "bench.partitioned_child", url, dataset_id, str(out), str(parallel)],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=900,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"the partitioned pull failed ({proc.returncode}): {proc.stderr.strip()[-800:]}")
    report: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return report


if __name__ == "__main__":
    main(sys.argv[1:])
