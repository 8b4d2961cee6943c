"""Fixtures that serve the local portal over real HTTP on a store loaded with real data.

``portal_store`` holds:
- ``kc-311-potholes``: Kansas City 311 pothole requests (real CSV, loaded with the loader);
- ``la-indicators``: Los Angeles operating indicators (real CSV);
- ``typed-sample``: a few rows with every Socrata type, to check encodings.

Read-only tests share these; tests that write create their own datasets.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest
from servers import serve

from btvstat_open.load import load_file
from btvstat_open.portal.app import create_portal_app
from btvstat_open.store import Store
from btvstat_open.types import LOCATION_ARROW, Column
from btvstat_open.web.settings import Settings

KC_CSV = "kc-311-potholes/311_Call_Center_Service_Requests.csv"
LA_CSV = "la-city-kpis/Operating_Indicators_for_City_Departments.csv"
MAX_LIMIT = 5000
MAX_BODY = 200_000
MAX_WRITE_ROWS = 2000

TYPED_COLUMNS = [
    Column("name", "Name", "text"),
    Column("amount", "Amount", "number"),
    Column("done", "Done", "checkbox"),
    Column("opened", "Opened", "floating_timestamp"),
    Column("stamped", "Stamped", "fixed_timestamp"),
    Column("spot", "Spot", "point"),
    Column("place", "Place", "location"),
    Column("link", "Link", "url"),
]


def typed_table() -> pa.Table:
    """Three rows with every type, nulls in the last one."""
    return pa.table(
        {
            "name": ['Pothole "A"\nline two', "B", None],
            "amount": [36.0, 0.1, None],
            "done": [True, False, None],
            "opened": pa.array([datetime(2020, 1, 7), datetime(2021, 5, 6, 7, 8, 9, 123000), None]),
            "stamped": pa.array(
                [datetime(2020, 1, 7, 12, tzinfo=UTC), datetime(2021, 5, 6, tzinfo=UTC), None],
                pa.timestamp("us", tz="UTC"),
            ),
            "spot": ["POINT (-94.527365 39.014495)", "POINT (-118.25 34.05)", None],
            "place": pa.array(
                [
                    {
                        "latitude": 39.014495,
                        "longitude": -94.527365,
                        "human_address": '{"address": "4900 E 63rd St"}',
                    },
                    {"latitude": 34.05, "longitude": -118.25, "human_address": None},
                    None,
                ],
                LOCATION_ARROW,
            ),
            "link": ["https://example.gov/a", None, None],
        }
    )


def kc_file(real_data: Path, sql: str) -> list[tuple[Any, ...]]:
    """Run SQL over the real Kansas City 311 CSV (as table ``kc``) with DuckDB directly, for expectations."""
    con = duckdb.connect()
    con.execute(f"CREATE VIEW kc AS SELECT * FROM read_csv('{real_data / KC_CSV}')")
    rows: list[tuple[Any, ...]] = con.execute(sql).fetchall()
    return rows


@pytest.fixture(scope="session")
def write_token() -> str:
    """The write token the test portal is configured with."""
    return "test-" + secrets.token_hex(8)


@pytest.fixture(scope="session")
def portal_store(tmp_path_factory: pytest.TempPathFactory, real_data: Path) -> Iterator[Store]:
    """A store loaded with real datasets and a typed sample."""
    store = Store(tmp_path_factory.mktemp("portal-store"))
    load_file(
        store, real_data / KC_CSV, "kc-311-potholes", name="KC 311 pothole requests", row_identifier="case_id"
    )
    load_file(store, real_data / LA_CSV, "la-indicators", name="LA operating indicators")
    store.create("typed-sample", "Typed sample", TYPED_COLUMNS, description="Every Socrata type")
    store.replace("typed-sample", typed_table())
    yield store
    store.close()


@pytest.fixture(scope="session")
def portal_settings(write_token: str) -> Settings:
    """Settings of the test portal: small limits so caps and 413s are cheap to reach."""
    return Settings(
        write_token=write_token,
        max_limit=MAX_LIMIT,
        max_body_bytes=MAX_BODY,
        max_write_rows=MAX_WRITE_ROWS,
        batch_size=2048,
    )


@pytest.fixture(scope="session")
def portal_url(portal_store: Store, portal_settings: Settings) -> Iterator[str]:
    """Base URL of the portal served with uvicorn on 127.0.0.1."""
    with serve(create_portal_app(portal_store, portal_settings)) as url:
        yield url
