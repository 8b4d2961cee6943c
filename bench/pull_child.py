"""Pull one dataset to Parquet in a fresh process and report the process's peak memory.

``python -m bench.pull_child URL DATASET_ID OUT.parquet`` prints one JSON line: rows, seconds, the
resident set size after imports (``base_mb``) and the peak resident set size of the whole process
(``peak_mb``: everything the process ever held, libraries and threads included). A fresh process is the
only honest way to measure a peak: the parent's own memory never counts.

The peak is the kernel's high-water mark of this program (``VmHWM`` in ``/proc/self/status``), not
``getrusage``'s ``ru_maxrss``: that one keeps the peak from before ``exec``, when the child was still a
copy of the parent, so a parent holding 2 GB would make every child look like 2 GB.

Example:
    >>> measure_pull_memory("http://127.0.0.1:8000", "bench-311", Path("/tmp/x.parquet"))  # doctest: +SKIP
    {'rows': 5000000, 'seconds': 21.3, 'base_mb': 96.1, 'peak_mb': 181.0}
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

__all__ = ["measure_pull_memory"]

REPO = Path(__file__).resolve().parent.parent


def _rss_mb() -> float:
    """Current resident set size of this process, in MB (from /proc, Linux)."""
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _peak_mb() -> float:
    """Peak resident set size of this program since it started, in MB (Linux ``VmHWM``)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    raise RuntimeError("/proc/self/status has no VmHWM line: peak memory needs Linux")


def main(argv: list[str]) -> None:
    """Run the pull named on the command line and print the measurements as JSON."""
    url, dataset_id, out = argv
    from connectors import connect

    portal = connect(url)
    base_mb = _rss_mb()
    start = time.perf_counter()
    result = portal.pull_to(dataset_id, out)
    seconds = time.perf_counter() - start
    peak_mb = _peak_mb()
    print(json.dumps({"rows": result.rows, "seconds": seconds, "base_mb": base_mb, "peak_mb": peak_mb}))


def measure_pull_memory(url: str, dataset_id: str, out: Path) -> dict[str, Any]:
    """Run a pull in a child process; returns its JSON report (raises with its output on failure)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH", "")]))
    proc = subprocess.run(
        [sys.executable, "-m", "bench.pull_child", url, dataset_id, str(out)],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=900,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"the pull process failed ({proc.returncode}): {proc.stderr.strip()[-800:]}")
    report: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return report


if __name__ == "__main__":
    main(sys.argv[1:])
