"""Partitioned pulls against the local portal over real HTTP, into a local folder (read back with
DuckDB) and into a real S3-protocol server (moto, through s3fs; read back with pyarrow.dataset):
the rows, the manifest, resume after SIGKILL, incremental sync of touched partitions only, N
connections through a throttled link, the command line."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import fsspec
import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.parquet as pq
import pytest
from faults import serve_portal
from s3_server import S3Server, s3_server
from throttle import ThrottlingProxy

from btvstat_open.errors import NotSupported, UsageError
from btvstat_open.store import Store
from btvstat_open.types import Column
from connectors import connect
from connectors.partitioned import (
    MANIFEST_NAME,
    NULL_PARTITION,
    ManifestError,
    OutputError,
    pull_partitioned,
)

COLUMNS = [
    Column("case_id", "Case ID", "text"),
    Column("opened", "Opened", "floating_timestamp"),
    Column("status", "Status", "text"),
    Column("amount", "Amount", "number"),
]
ROWS = 4_000
REPO = Path(__file__).resolve().parent.parent


def cases(start: int, stop: int, status: str = "OPEN") -> pa.Table:
    """Rows spread over 2019-2023 (13 hours apart), every 97th without an opened date."""
    base = datetime(2019, 1, 1)
    return pa.table(
        {
            "case_id": [f"{i:06d}" for i in range(start, stop)],
            "opened": pa.array(
                [None if i % 97 == 0 else base + timedelta(hours=11 * i) for i in range(start, stop)],
                pa.timestamp("us"),
            ),
            "status": [status if i % 3 else "CLOSED" for i in range(start, stop)],
            "amount": [i * 0.25 for i in range(start, stop)],
        }
    )


def source_rows(store: Store) -> pa.Table:
    return store.arrow("cases").select([c.field_name for c in COLUMNS]).sort_by("case_id")


def read_back(table: pa.Table) -> pa.Table:
    return table.select([c.field_name for c in COLUMNS]).sort_by("case_id")


@pytest.fixture
def source(tmp_path: Path) -> Iterator[tuple[Store, str]]:
    store = Store(tmp_path / "source")
    store.load("cases", cases(0, ROWS), COLUMNS, row_identifier="case_id")
    with serve_portal(store) as (url, _):
        yield store, url
    store.close()


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Server]:
    with s3_server() as server:
        yield server


@pytest.fixture
def bucket(s3: S3Server, request: pytest.FixtureRequest) -> str:
    name = "t-" + request.node.name.lower().replace("_", "-")[:40].strip("-")
    s3.create_bucket(name)
    return name


def portal(url: str) -> Any:
    return connect(url, concurrency=1, page_size=300, retries=2, backoff=0.01)


def test_local_folder_reads_back_as_one_table_with_duckdb(source: tuple[Store, str], tmp_path: Path) -> None:
    store, url = source
    out = tmp_path / "out"
    result = pull_partitioned(
        portal(url), "cases", str(out), partition_by="opened:year", parallel=3, rows_per_file=400
    )
    assert result.rows == ROWS and result.skipped == 0
    folders = sorted(p.name for p in out.iterdir() if p.is_dir())
    assert folders == [f"opened_year={y}" for y in range(2019, 2025)] + [f"opened_year={NULL_PARTITION}"]
    # Partitions bigger than rows_per_file are split into several files.
    assert len(list((out / "opened_year=2020").glob("part-*.parquet"))) >= 2
    got = duckdb.sql(
        f"SELECT * FROM read_parquet('{out}/**/*.parquet', hive_partitioning=true)"
    ).to_arrow_table()
    assert read_back(got).equals(source_rows(store))
    # The key is a column too: every row's key matches its own opened date (null in the null folder).
    check = duckdb.sql(
        f"SELECT count(*) FROM read_parquet('{out}/**/*.parquet', hive_partitioning=true) "
        "WHERE opened_year IS DISTINCT FROM year(opened)"
    ).fetchall()
    assert check == [(0,)]
    manifest = json.loads((out / MANIFEST_NAME).read_text())
    assert manifest["version"] == 1 and manifest["complete"] is True
    assert manifest["partition_by"] == "opened:year" and manifest["key"] == "opened_year"
    assert sum(p["rows"] for p in manifest["partitions"].values()) == ROWS
    assert [f["name"] for f in manifest["schema"]] == [c.field_name for c in COLUMNS]
    assert manifest["source"]["dataset"] == "cases" and manifest["source"]["row_count"] == ROWS
    for part in manifest["partitions"].values():
        assert part["done"] and sum(pq.read_metadata(out / f).num_rows for f in part["files"]) == part["rows"]


def test_plain_field_and_month_partitions(source: tuple[Store, str], tmp_path: Path) -> None:
    store, url = source
    by_status = pull_partitioned(portal(url), "cases", str(tmp_path / "s"), partition_by="status", parallel=2)
    assert sorted(p.name for p in (tmp_path / "s").iterdir() if p.is_dir()) == [
        "status=CLOSED",
        "status=OPEN",
    ]
    table = pads.dataset(tmp_path / "s", format="parquet", partitioning="hive").to_table()
    assert by_status.rows == ROWS and read_back(table).equals(source_rows(store))
    pull_partitioned(portal(url), "cases", str(tmp_path / "m"), partition_by="opened:month", parallel=2)
    assert (tmp_path / "m" / "opened_month=2020-03").is_dir()
    months = duckdb.sql(
        f"SELECT * FROM read_parquet('{tmp_path}/m/**/*.parquet', hive_partitioning=true)"
    ).to_arrow_table()
    assert read_back(months).equals(source_rows(store))


def test_bad_requests_are_usage_errors(source: tuple[Store, str], tmp_path: Path) -> None:
    _, url = source
    with pytest.raises(UsageError, match="no such field"):
        pull_partitioned(portal(url), "cases", str(tmp_path / "x"), partition_by="nope:year")
    with pytest.raises(UsageError, match="needs a date or timestamp"):
        pull_partitioned(portal(url), "cases", str(tmp_path / "x"), partition_by="status:year")
    with pytest.raises(UsageError, match=":year or :month"):
        pull_partitioned(portal(url), "cases", str(tmp_path / "x"), partition_by="opened:week")
    pull_partitioned(portal(url), "cases", str(tmp_path / "y"), partition_by="status")
    with pytest.raises(ManifestError, match="another folder"):
        pull_partitioned(portal(url), "cases", str(tmp_path / "y"), partition_by="opened:year")


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


def _pull_command(url: str, target: str, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "btvstat_open",
        "pull",
        url,
        "cases",
        "-o",
        target,
        "--partition-by",
        "opened:month",
        *extra,
    ]


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
        command = _pull_command(proxy.url, target, "--parallel", "3", "--page-size", "150")
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


def test_parallel_ranges_each_take_a_connection_through_a_throttled_link(
    source: tuple[Store, str], tmp_path: Path
) -> None:
    store, url = source
    host, port = url.removeprefix("http://").split(":")
    with ThrottlingProxy(host, int(port), rate=2_000_000, rtt=0.02) as proxy:
        result = pull_partitioned(
            portal(proxy.url), "cases", str(tmp_path / "o"), partition_by="opened:year", parallel=3
        )
        assert proxy.max_open >= 3
    got = pads.dataset(tmp_path / "o", format="parquet", partitioning="hive").to_table()
    assert result.rows == ROWS and read_back(got).equals(source_rows(store))


def test_command_line_pulls_partitioned_and_rejects_bad_usage(
    source: tuple[Store, str], tmp_path: Path
) -> None:
    store, url = source
    out = tmp_path / "cli"
    ok = subprocess.run(
        _pull_command(url, str(out), "--parallel", "2"), cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert ok.returncode == 0, ok.stderr
    assert f"{ROWS:,} rows in" in ok.stdout
    got = duckdb.sql(
        f"SELECT * FROM read_parquet('{out}/**/*.parquet', hive_partitioning=true)"
    ).to_arrow_table()
    assert read_back(got).equals(source_rows(store))
    bad = subprocess.run(
        [sys.executable, "-m", "btvstat_open", "pull", url, "cases", "-o", "x.parquet", "--parallel", "2"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and "--partition-by" in bad.stderr and "Traceback" not in bad.stderr


def test_spark_reads_the_output_as_one_table(source: tuple[Store, str], tmp_path: Path) -> None:
    pyspark = pytest.importorskip(
        "pyspark", reason="pyspark is not installed (pip install pyspark; needs Java)"
    )
    store, url = source
    out = tmp_path / "spark"
    pull_partitioned(portal(url), "cases", str(out), partition_by="opened:year", parallel=2)
    spark = pyspark.sql.SparkSession.builder.master("local[1]").appName("btvstat-test").getOrCreate()
    try:
        frame = spark.read.parquet(str(out))
        assert frame.count() == ROWS
        assert "opened_year" in frame.columns
        ids = sorted(r.case_id for r in frame.select("case_id").collect())
    finally:
        spark.stop()
    assert ids == source_rows(store).column("case_id").to_pylist()


def test_a_sync_with_nothing_new_is_a_few_small_requests_and_writes_no_data(tmp_path: Path) -> None:
    with Store(tmp_path / "source") as store, serve_portal(store) as (url, app):
        store.load("cases", cases(0, 1_000), COLUMNS, row_identifier="case_id")
        out = tmp_path / "out"
        pull_partitioned(portal(url), "cases", str(out), partition_by="opened:year")
        stamps = {p: p.stat().st_mtime_ns for p in out.rglob("*.parquet")}
        app.reset()
        again = pull_partitioned(portal(url), "cases", str(out), partition_by="opened:year")
        assert again.fetched == () and again.skipped == len(stamps)
        # describe and count, two cursor counts, the grouped count (with its describe), the change count
        assert app.total <= 8
        assert {p: p.stat().st_mtime_ns for p in out.rglob("*.parquet")} == stamps


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


def test_a_kind_without_soql_is_not_supported(tmp_path: Path) -> None:
    from connectors.arcgis import ArcgisConnector

    layer = ArcgisConnector("http://127.0.0.1:9/arcgis/rest/services/Roads/FeatureServer")
    with pytest.raises(NotSupported, match="grouped SoQL count"):
        pull_partitioned(layer, "0", str(tmp_path / "x"), partition_by="created:year")
    assert not (tmp_path / "x").exists()  # refused before anything is written
