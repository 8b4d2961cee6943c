"""Partitioned pulls against the local portal over real HTTP into a local folder, read back with
DuckDB (``read_parquet(..., hive_partitioning=true)``), pyarrow.dataset and polars:
the rows, the folders, the manifest, bad usage, N connections through a throttled link, the command
line, a sync with nothing new. The S3 tests are in test_partitioned_s3.py."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pads
import pyarrow.parquet as pq
import pytest
from faults import serve_portal
from partitioned_fixtures import COLUMNS, REPO, ROWS, cases, portal, pull_command, read_back, source_rows
from throttle import ThrottlingProxy

from btvstat_open.errors import NotSupported, UsageError
from btvstat_open.store import Store
from btvstat_open.types import Column
from connectors import connect
from connectors.partitioned import (
    MANIFEST_NAME,
    NULL_PARTITION,
    ManifestError,
    pooled_session,
    pull_partitioned,
)


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
        pull_command(url, str(out), "--parallel", "2"), cwd=REPO, capture_output=True, text=True, timeout=120
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


def test_readers_take_the_folder_as_one_table_with_nulls_in_their_own_partition(
    source: tuple[Store, str], tmp_path: Path
) -> None:
    """What Spark and Hive rely on, read by pyarrow.dataset (the folder itself, as ``spark.read.parquet``
    takes it) and polars: the manifest beside the data is skipped (its name starts with ``_``), the
    key comes from the folder names, and the null folder reads as null."""
    store, url = source
    out = tmp_path / "folder"
    pull_partitioned(portal(url), "cases", str(out), partition_by="opened:year", parallel=2)
    assert (out / MANIFEST_NAME).is_file() and (out / f"opened_year={NULL_PARTITION}").is_dir()
    expected = source_rows(store)
    nulls = expected.column("opened").null_count
    assert 0 < nulls < ROWS  # the source has rows in the null folder and in the others
    folder = pads.dataset(out, format="parquet", partitioning="hive").to_table()
    lazy = pl.scan_parquet(f"{out}/**/*.parquet", hive_partitioning=True)
    frame = lazy.collect().to_arrow()
    for table in (folder, frame):
        assert table.num_rows == ROWS and "opened_year" in table.column_names
        assert read_back(table).column("case_id").to_pylist() == expected.column("case_id").to_pylist()
        assert table.column("opened_year").null_count == nulls  # __HIVE_DEFAULT_PARTITION__ is null
        years = pc.unique(pc.drop_null(table.column("opened_year"))).to_pylist()
        assert sorted(years) == list(range(2019, 2025))


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


def test_a_kind_without_soql_is_not_supported(tmp_path: Path) -> None:
    from connectors.arcgis import ArcgisConnector

    layer = ArcgisConnector("http://127.0.0.1:9/arcgis/rest/services/Roads/FeatureServer")
    with pytest.raises(NotSupported, match="grouped SoQL count"):
        pull_partitioned(layer, "0", str(tmp_path / "x"), partition_by="created:year")
    assert not (tmp_path / "x").exists()  # refused before anything is written


def test_a_pooled_session_keeps_one_connection_per_range_in_flight(
    source: tuple[Store, str], tmp_path: Path
) -> None:
    _, url = source
    host, port = url.removeprefix("http://").split(":")
    with ThrottlingProxy(host, int(port), rate=5_000_000, rtt=0.01) as proxy:
        with pooled_session(6) as session:
            conn = connect(proxy.url, concurrency=1, page_size=300, session=session)
            result = pull_partitioned(
                conn, "cases", str(tmp_path / "o"), partition_by="opened:month", parallel=6
            )
        # Six at a time, each kept open for the next range (the connector's own pool of 4 opens more).
        assert proxy.max_open == 6 and proxy.connections == 6
    assert result.rows == ROWS


def test_a_schema_change_rewrites_every_partition(tmp_path: Path) -> None:
    with Store(tmp_path / "source") as store, serve_portal(store) as (url, _):
        store.load("cases", cases(0, 1_000), COLUMNS, row_identifier="case_id")
        out = tmp_path / "out"
        first = pull_partitioned(portal(url), "cases", str(out), partition_by="opened:year")
        wider = cases(0, 1_000).append_column("ward", pa.array([str(i % 7) for i in range(1_000)]))
        store.load("cases", wider, [*COLUMNS, Column("ward", "Ward", "text")], row_identifier="case_id")
        again = pull_partitioned(portal(url), "cases", str(out), partition_by="opened:year")
        assert again.fetched == first.fetched  # every partition: old files lack the new column
        wards = duckdb.sql(
            f"SELECT count(ward) FROM read_parquet('{out}/**/*.parquet', hive_partitioning=true)"
        ).fetchall()
        assert wards == [(1_000,)]
