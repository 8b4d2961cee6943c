"""A sync killed with SIGKILL leaves the current rows and their history consistent: the open
versions are exactly the current rows, and the dataset as known after every recorded write is a
state the source was in."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pyarrow as pa
import pytest
from faults import serve_portal
from test_sync_kill import COLUMNS, SCRIPT, rows

from btvstat_open.store import Store
from btvstat_open.store.history import open_versions

KILLS = 6
MAX_ROUNDS = 30


def content(table: pa.Table) -> list[tuple[object, object]]:
    return sorted(zip(table.column("case_id").to_pylist(), table.column("amount").to_pylist(), strict=True))


def check_history(store_dir: Path, seen: list[list[tuple[object, object]]]) -> int:
    """The open versions equal the current rows; each recorded write left a state the source had."""
    with Store(store_dir) as store:
        if not store.exists("cases"):
            return 0
        cur = store.cursor()
        current = cur.sql(open_versions("cases", "case_id, amount")).to_arrow_table()
        assert content(current) == content(store.arrow("cases"))
        moments = [r[0] for r in cur.execute("SELECT recorded_at FROM btvstat_history_log").fetchall()]
        for moment in moments:
            assert content(store.arrow("cases", as_known=moment + timedelta(microseconds=1))) in seen
        return len(moments)


@pytest.mark.slow
def test_sigkill_during_sync_leaves_rows_and_history_consistent(tmp_path: Path) -> None:
    source = Store(tmp_path / "source")
    source.load("cases", rows(0, 4_000), COLUMNS, row_identifier="case_id")
    script = tmp_path / "sync_once.py"
    script.write_text(SCRIPT)
    target = tmp_path / "target"
    rng = random.Random(23)
    seen = [content(source.arrow("cases"))]
    kills, lifetime, writes = 0, 2.0, 0
    with serve_portal(source) as (url, _):
        for round_number in range(MAX_ROUNDS):
            if kills >= KILLS:
                break
            source.upsert("cases", rows(round_number * 100, round_number * 100 + 200, salt=round_number))
            doomed = rows(3_000 + round_number * 20, 3_020 + round_number * 20).select(["case_id"])
            source.upsert("cases", doomed, deleted=[True] * doomed.num_rows)
            seen.append(content(source.arrow("cases")))
            started = time.monotonic()
            proc = subprocess.Popen([sys.executable, str(script), url, str(target)])
            if round_number in (0, 4):
                assert proc.wait(timeout=120) == 0  # whole syncs now and then: a past to keep
                lifetime = time.monotonic() - started
            else:
                time.sleep(rng.uniform(0.05, 0.95) * lifetime)
                if proc.poll() is None:
                    os.kill(proc.pid, signal.SIGKILL)
                    kills += 1
                proc.wait(timeout=30)
            recorded = check_history(target, seen)
            assert recorded >= writes  # a kill never takes back a recorded write
            writes = recorded
        assert kills >= KILLS
        subprocess.run([sys.executable, str(script), url, str(target)], check=True)
        check_history(target, seen)
        with Store(target) as store:
            assert content(store.arrow("cases")) == seen[-1]
    source.close()
