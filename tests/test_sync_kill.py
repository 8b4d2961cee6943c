"""A sync process killed with SIGKILL at random moments never leaves half-written data or state."""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pytest
from faults import serve_portal

from btvstat_open.store import Store
from btvstat_open.sync.state import STATE_FILE, load_state
from btvstat_open.types import Column

COLUMNS = [Column("case_id", "Case ID", "text"), Column("amount", "Amount", "number")]
KILLS = 10
MAX_ROUNDS = 60

SCRIPT = """
import sys
from btvstat_open.store import Store
from btvstat_open.sync import sync_dataset
from connectors import connect

url, store_dir = sys.argv[1], sys.argv[2]
with Store(store_dir) as store:
    result = sync_dataset(connect(url, page_size=250, concurrency=1), "cases", store, progress=False)
print(result.mode, result.row_count)
"""


def rows(start: int, stop: int, salt: int = 0) -> pa.Table:
    return pa.table(
        {
            "case_id": [f"{i:07d}" for i in range(start, stop)],
            "amount": [float(i + salt) for i in range(start, stop)],
        }
    )


def fingerprint(table: pa.Table) -> str:
    ordered = table.select(["case_id", "amount"]).sort_by("case_id")
    text = json.dumps(ordered.to_pydict(), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def local_fingerprint(store_dir: Path) -> str | None:
    with Store(store_dir) as store:
        return fingerprint(store.arrow("cases")) if store.exists("cases") else None


@pytest.mark.slow
def test_sigkill_at_random_moments_leaves_previous_output_and_state(tmp_path: Path) -> None:
    source = Store(tmp_path / "source")
    source.load("cases", rows(0, 5_000), COLUMNS, row_identifier="case_id")
    script = tmp_path / "sync_once.py"
    script.write_text(SCRIPT)
    target = tmp_path / "target"
    rng = random.Random(2026)
    seen = {fingerprint(source.arrow("cases"))}  # every state the source has been in
    kills = 0
    lifetime = 2.0  # seconds a whole sync takes; measured on the first completed sync
    with serve_portal(source) as (url, _):
        for round_number in range(MAX_ROUNDS):
            if kills >= KILLS:
                break
            # Change the source: add, change and delete rows; once, replace it all.
            if round_number == 6:
                source.replace("cases", rows(50_000, 54_000, salt=round_number))
            else:
                source.upsert("cases", rows(40_000 + round_number * 100, 40_100 + round_number * 100))
                source.upsert("cases", rows(round_number * 100, round_number * 100 + 300, salt=round_number))
                doomed = rows(3_000 + round_number * 50, 3_050 + round_number * 50).select(["case_id"])
                source.upsert("cases", doomed, deleted=[True] * doomed.num_rows)
            seen.add(fingerprint(source.arrow("cases")))
            state_path = target / STATE_FILE
            state_before = state_path.read_bytes() if state_path.exists() else None
            data_before = local_fingerprint(target) if target.exists() else None
            started = time.monotonic()
            proc = subprocess.Popen([sys.executable, str(script), url, str(target)], stdout=subprocess.PIPE)
            if round_number in (2, 8):
                proc.wait(timeout=60)  # now and then a sync completes, so later kills have a past to keep
                assert proc.returncode == 0
                # Kill moments are drawn within the time a whole sync takes on this machine, so
                # the kills land during the sync however fast or slow the machine is.
                lifetime = time.monotonic() - started
            else:
                time.sleep(rng.uniform(0.05, 0.95) * lifetime)
                if proc.poll() is None:
                    os.kill(proc.pid, signal.SIGKILL)
                    kills += 1
                proc.wait(timeout=30)
            after = local_fingerprint(target)
            # The local copy is whole: the previous copy (none before the first sync), or the source
            # as it was at some moment; a kill never leaves it gone once there was one.
            assert after == data_before or after in seen
            if state_path.exists():
                state = load_state(target)["cases"]  # parses: never half-written
                if state_path.read_bytes() != state_before:
                    # A new state is only ever written after the data it describes.
                    with Store(target) as store:
                        assert state.row_count == store.info("cases").row_count
        assert kills >= KILLS
        done = subprocess.run([sys.executable, str(script), url, str(target)], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        assert local_fingerprint(target) == fingerprint(source.arrow("cases"))
        with Store(target) as store:
            assert load_state(target)["cases"].row_count == store.info("cases").row_count
    source.close()
