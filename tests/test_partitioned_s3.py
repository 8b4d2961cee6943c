"""Partitioned pulls into a real S3-protocol server (moto, through s3fs), read back with
pyarrow.dataset: the rows, incremental sync rewriting only touched partitions (ETags), resume after
SIGKILL of the command-line pull (on S3 and on a local folder), a missing bucket."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import fsspec
import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.parquet as pq
import pytest
from partitioned_fixtures import REPO, ROWS, cases, portal, pull_command, read_back, source_rows
from s3_server import S3Server
from throttle import ThrottlingProxy

from btvstat_open.store import Store
from connectors.partitioned import MANIFEST_NAME, OutputError, pull_partitioned


def test_s3_pull_reads_back_with_pyarrow_dataset(
    source: tuple[Store, str], s3: S3Server, bucket: str
) -> None:
    store, url = source
    target = f"s3://{bucket}/cases"
    result = pull_partitioned(
        portal(url),
        "cases",
        target,
        partition_by="opened:year",
        parallel=3,
        storage_options=s3.storage_options,
    )
    assert result.rows == ROWS
    fs = s3.filesystem()
    table = pads.dataset(f"{bucket}/cases", filesystem=fs, format="parquet", partitioning="hive").to_table()
    assert read_back(table).equals(source_rows(store))
    assert json.loads(fs.cat_file(f"{bucket}/cases/{MANIFEST_NAME}"))["complete"] is True


def _objects(fs: Any, prefix: str) -> dict[str, str]:
    """Every Parquet object under ``prefix`` and its ETag (its modification time on a local disk)."""
    found = fs.find(prefix, detail=True).items()
    return {k: str(v.get("ETag", v.get("mtime"))) for k, v in found if k.endswith(".parquet")}


def test_incremental_sync_rewrites_only_touched_partitions(
    source: tuple[Store, str], s3: S3Server, bucket: str
) -> None:
    store, url = source
    target, options = f"s3://{bucket}/cases", s3.storage_options
    pull_partitioned(
        portal(url), "cases", target, partition_by="opened:year", parallel=2, storage_options=options
    )
    fs = s3.filesystem()
    before = _objects(fs, f"{bucket}/cases")
    # Nothing changed: nothing is fetched, no object is written again.
    again = pull_partitioned(
        portal(url), "cases", target, partition_by="opened:year", storage_options=options
    )
    assert again.fetched == () and _objects(fs, f"{bucket}/cases") == before
    # A change in 2019, a deletion in 2022, and rows in a year the output does not have yet.
    store.upsert("cases", cases(10, 12, status="REOPENED"))
    victim = store.arrow("cases", system=True).filter(
        pa.compute.equal(store.arrow("cases").column("case_id"), "002500")
    )
    assert victim.num_rows == 1 and store.delete_row("cases", victim.column(":id")[0].as_py()) == 1
    late = cases(9_000, 9_003).set_column(
        1, "opened", pa.array([datetime(2031, 5, 1)] * 3, pa.timestamp("us"))
    )
    store.upsert("cases", late)
    synced = pull_partitioned(
        portal(url), "cases", target, partition_by="opened:year", storage_options=options
    )
    assert synced.fetched == ("2019", "2022", "2031")
    after = _objects(fs, f"{bucket}/cases")
    untouched = {k: v for k, v in before.items() if "=2019/" not in k and "=2022/" not in k}
    assert {k: after[k] for k in untouched} == untouched
    assert all(after.get(k) != v for k, v in before.items() if "=2019/" in k or "=2022/" in k)
    assert any("opened_year=2031/" in k for k in after)
    table = pads.dataset(f"{bucket}/cases", filesystem=fs, format="parquet", partitioning="hive").to_table()
    assert read_back(table).equals(source_rows(store))


def _manifest_bytes(fs: Any, prefix: str) -> bytes:
    try:
        data: bytes = fs.cat_file(f"{prefix}/{MANIFEST_NAME}")
    except FileNotFoundError:
        return b""
    return data


def _wait_for(condition: Any, within: float = 60) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "the pull did not get going"
        time.sleep(0.05)


def _check_consistent(fs: Any, prefix: str) -> int:
    """After a kill: every Parquet object is whole, and the manifest claims only what is there."""
    for key in _objects(fs, prefix):
        pq.read_metadata(fs.open(key, "rb"))  # a cut-off file has no footer and fails here
    if not fs.exists(f"{prefix}/{MANIFEST_NAME}"):
        return 0
    manifest = json.loads(fs.cat_file(f"{prefix}/{MANIFEST_NAME}"))
    done = 0
    for part in manifest["partitions"].values():
        if part["done"]:
            done += 1
            rows = sum(pq.read_metadata(fs.open(f"{prefix}/{f}", "rb")).num_rows for f in part["files"])
            assert rows == part["rows"]
    return done


@pytest.mark.parametrize("where", ["s3", "local"])
def test_resume_after_sigkill_ends_with_exactly_the_source_rows(
    source: tuple[Store, str], s3: S3Server, bucket: str, tmp_path: Path, where: str
) -> None:
    store, url = source
    # A slow link, so that a pull takes long enough to be killed in the middle.
    host, port = url.removeprefix("http://").split(":")
    env = {**os.environ, **s3.env, "PYTHONPATH": str(REPO)}
    if where == "s3":
        target, prefix = f"s3://{bucket}/cases", f"{bucket}/cases"
        fs = s3.filesystem()
    else:
        target = prefix = str(tmp_path / "cases")
        fs = fsspec.filesystem("file")
    rng = random.Random(15)
    done_seen: list[int] = []
    last = b""
    with ThrottlingProxy(host, int(port), rate=400_000, rtt=0.1) as proxy:
        command = pull_command(proxy.url, target, "--parallel", "3", "--page-size", "150")
        for number in range(6):
            child = subprocess.Popen(
                command, env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            if number > 0:  # the first is killed while it starts; the others once this run writes
                _wait_for(lambda: _manifest_bytes(fs, prefix) != last or child.poll() is not None)  # noqa: B023
            time.sleep(rng.uniform(0.1, 1.2))  # a random moment from there
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=30)
            done_seen.append(_check_consistent(fs, prefix))
            last = _manifest_bytes(fs, prefix)
        finished = subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr
    assert any(d > 0 for d in done_seen), done_seen  # some kills came after partitions were done
    assert _check_consistent(fs, prefix) > 0
    manifest = json.loads(fs.cat_file(f"{prefix}/{MANIFEST_NAME}"))
    assert manifest["complete"] and all(p["done"] for p in manifest["partitions"].values())
    table = pads.dataset(prefix, filesystem=fs, format="parquet", partitioning="hive").to_table()
    assert read_back(table).equals(source_rows(store))
    # Temporary files of killed runs (local disks) are gone once a run has completed.
    assert not [k for k in fs.find(prefix) if k.endswith(".tmp")]


def test_a_missing_bucket_is_one_clear_error(source: tuple[Store, str], s3: S3Server) -> None:
    _, url = source
    with pytest.raises(OutputError, match="Check that the folder or bucket exists") as caught:
        pull_partitioned(
            portal(url),
            "cases",
            "s3://no-such-bucket/x",
            partition_by="status",
            storage_options=s3.storage_options,
        )
    assert caught.value.exit_code == 1
