"""Pulls and pushes through a proxy that fails at least 20% of requests: nothing lost or doubled."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from faults import fault_proxy, serve_portal

from btvstat_open.store import Store
from btvstat_open.types import Column
from connectors import connect

TOKEN = "fault-test-token"
COLUMNS = [
    Column("case_id", "Case ID", "text"),
    Column("amount", "Amount", "number"),
    Column("ward", "Ward", "text"),
]
ROWS = 100_000


def source_rows(n: int, salt: str = "") -> pa.Table:
    return pa.table(
        {
            "case_id": [f"{i:08d}" for i in range(n)],
            "amount": [float(i % 9973) / 4 for i in range(n)],
            "ward": [f"{salt}w{i % 37:02d}" for i in range(n)],
        }
    )


def checksum(table: pa.Table) -> str:
    """A digest of the rows, independent of their order."""
    ordered = table.select([c.field_name for c in COLUMNS]).sort_by("case_id")
    digest = hashlib.sha256()
    for column in ordered.columns:
        for chunk in column.chunks:
            for buf in chunk.buffers():
                if buf is not None:
                    digest.update(buf.to_pybytes())
    return f"{ordered.num_rows}:{digest.hexdigest()}"


@pytest.fixture(scope="module")
def portal_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, str]]:
    store = Store(tmp_path_factory.mktemp("faults") / "store")
    store.load("big", source_rows(ROWS), COLUMNS, row_identifier="case_id")
    with serve_portal(store, TOKEN) as (url, _):
        yield store, url
    store.close()


def test_pull_through_faults_gives_exactly_the_source_rows(
    portal_store: tuple[Store, str], tmp_path: Path
) -> None:
    store, url = portal_store
    expected = checksum(store.arrow("big"))
    with fault_proxy(url, rate=0.35, seed=11) as (proxy_url, proxy):
        conn = connect(proxy_url, page_size=4_000, concurrency=4, retries=12, backoff=0.005, max_wait=0.05)
        # Paged (a filter forces pages) and the full export, to Parquet.
        paged = conn.pull("big", where="amount >= 0")
        result = conn.pull_to("big", tmp_path / "big.parquet")
    assert proxy.fault_share >= 0.2
    assert set(proxy.injected) == {"429", "202", "500", "drop", "drop_chunked"}
    assert paged.num_rows == ROWS and checksum(paged) == expected
    assert result.rows == ROWS
    assert checksum(pq.read_table(result.path)) == expected


def test_push_through_faults_leaves_the_portal_equal_to_the_source(portal_store: tuple[Store, str]) -> None:
    store, url = portal_store
    store.create("target", "Target", COLUMNS, row_identifier="case_id", replace=True)
    store.upsert("target", source_rows(500, salt="stale-"))  # rows a replace must remove
    wanted = source_rows(20_000, salt="new-")
    with fault_proxy(url, rate=0.3, seed=5) as (proxy_url, proxy):
        conn = connect(proxy_url, username="any", password=TOKEN, retries=12, backoff=0.005, max_wait=0.05)
        result = conn.push(wanted, "target", mode="replace", batch_size=1_000)
        # An upsert re-run of the same rows changes nothing.
        again = conn.push(wanted, "target", mode="upsert", batch_size=2_500)
    assert proxy.fault_share >= 0.2
    assert result.batches == 20 and result.errors == 0
    assert again.created == 0 and again.batches == 8
    assert checksum(store.arrow("target")) == checksum(wanted)


@pytest.mark.parametrize("seed", [3, 8])
def test_export_dropped_mid_body_resumes_to_exactly_the_source_rows(
    portal_store: tuple[Store, str], tmp_path: Path, seed: int
) -> None:
    """A full pull whose CSV export is cut mid-body re-reads it and skips the bytes it already has."""
    store, url = portal_store
    expected = checksum(store.arrow("big"))
    with fault_proxy(url, rate=0.5, seed=seed, faults=("drop",)) as (proxy_url, proxy):
        conn = connect(proxy_url, retries=12, backoff=0.005, max_wait=0.05)
        result = conn.pull_to("big", tmp_path / "big.parquet")
    dropped_exports = [line for _, line in proxy.failed_requests if "rows.csv" in line or "export" in line]
    assert dropped_exports, proxy.failed_requests  # the export itself was cut at least once
    assert result.rows == ROWS
    assert checksum(pq.read_table(result.path)) == expected
