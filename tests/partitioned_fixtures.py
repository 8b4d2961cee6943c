"""Shared by the partitioned-pull tests: a small source dataset served by the local portal, and a
real S3-protocol server (moto) with a bucket per test."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from faults import serve_portal
from s3_server import S3Server, s3_server

from btvstat_open.store import Store
from btvstat_open.types import Column
from connectors import connect

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


@pytest.fixture(scope="session")
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


def pull_command(url: str, target: str, *extra: str) -> list[str]:
    """``btvstat-open pull URL cases -o TARGET --partition-by opened:month`` as a child process runs it."""
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
