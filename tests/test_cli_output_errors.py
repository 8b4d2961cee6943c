"""A write the operating system refuses (full disk, size limit) is one line of advice, not a traceback.

The limit is real: the command runs in a child process whose file-size limit (``RLIMIT_FSIZE``) is
far below the output's size, so the kernel refuses the write with ``EFBIG`` as a full disk refuses
with ``ENOSPC``.
"""

from __future__ import annotations

import csv
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest

LIMIT = 50_000  # bytes: the output of 20,000 rows is about ten times more


def _small_file_limit() -> None:
    # Without this the kernel ends the process with SIGXFSZ instead of failing the write.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (LIMIT, LIMIT))


@pytest.fixture
def source(tmp_path: Path) -> Path:
    folder = tmp_path / "source"
    folder.mkdir()
    with (folder / "requests.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["case_id", "note"])
        # Random text: Parquet compresses repeated text below the limit.
        writer.writerows([i, os.urandom(12).hex()] for i in range(20_000))
    return folder


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_a_refused_write_is_one_line_and_leaves_nothing(source: Path, tmp_path: Path, suffix: str) -> None:
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    output = out_dir / f"requests.{suffix}"
    proc = subprocess.run(
        [sys.executable, "-m", "btvstat_open", "pull", str(source), "requests", "-o", str(output)],
        preexec_fn=_small_file_limit,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == [
        "error: A file could not be written: File too large. Free some space (or choose another "
        "place to write) and run the command again; nothing was left half-written."
    ]
    assert list(out_dir.iterdir()) == []  # no output, no temporary file left behind


def test_the_same_command_without_the_limit_writes_the_file(source: Path, tmp_path: Path) -> None:
    out = tmp_path / "requests.csv"
    proc = subprocess.run(
        [sys.executable, "-m", "btvstat_open", "pull", str(source), "requests", "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert out.stat().st_size > LIMIT
