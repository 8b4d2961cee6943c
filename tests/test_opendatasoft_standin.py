"""The Opendatasoft connector against the stand-in portal (tests/opendatasoft_standin.py)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest
import requests
from faults import fault_proxy
from opendatasoft_standin import StandinOds
from servers import serve

from btvstat_open.errors import NotSupported, PortalError, PortalRequestError, UsageError
from btvstat_open.store import Store
from btvstat_open.sync import sync_dataset
from connectors.ckan import recognizes as ckan_recognizes
from connectors.opendatasoft import OpendatasoftConnector
from connectors.opendatasoft import recognizes as opendatasoft_recognizes
from connectors.testing import CONTRACT_COLUMNS, ConnectorContract, ContractSetup, source_table


@pytest.fixture(scope="module")
def portal() -> Iterator[tuple[str, StandinOds]]:
    standin = StandinOds(offer_parquet=False)  # the CSV path; tests/test_opendatasoft_parquet.py: Parquet
    standin.put("contract-cases", source_table(), "2024-01-02T03:04:05+00:00")
    standin.put("big-cases", source_table(20_000, salt="b"), "2024-01-02T03:04:05+00:00")
    with serve(standin.app()) as url:
        yield url, standin


@pytest.fixture
def contract(portal: tuple[str, StandinOds]) -> ContractSetup:
    url, _ = portal
    return ContractSetup(OpendatasoftConnector(url), "contract-cases", None, source_table().num_rows)


class TestOpendatasoftContract(ConnectorContract):
    """Every contract test, for the Opendatasoft connector (reads only: writable_id is None)."""


def checksum(table: pa.Table) -> str:
    ordered = table.select([c.field_name for c in CONTRACT_COLUMNS]).sort_by("case_id")
    digest = hashlib.sha256()
    for column in ordered.combine_chunks().columns:
        for buf in column.chunks[0].buffers():
            if buf is not None:
                digest.update(buf.to_pybytes())
    return f"{ordered.num_rows}:{digest.hexdigest()}"


def pull_big_cases_through_faults(url: str, export: str, seed: int) -> None:
    """Pull ``big-cases`` through 20% faults until every kind has met one and an ``export`` was cut.

    ``export`` is the path tail the pulls must use (``exports/csv`` or ``exports/parquet``);
    every pull must give exactly the source rows.
    """
    expected = checksum(source_table(20_000, salt="b"))
    drops_first = ("drop", "drop_chunked", "429", "202", "500")
    with fault_proxy(url, rate=0.2, seed=seed, faults=drops_first) as (proxy_url, proxy):
        conn = OpendatasoftConnector(proxy_url, retries=12, backoff=0.005, max_wait=0.05)
        # One export a pull: pull until every kind of fault has met one (the kinds take turns).
        for _ in range(40):
            assert checksum(conn.pull("big-cases")) == expected
            if len(proxy.injected) == 5 and any(
                export in line for f, line in proxy.failed_requests if "drop" in f
            ):
                break
    assert proxy.fault_share >= 0.15 and set(proxy.injected) == {"429", "202", "500", "drop", "drop_chunked"}
    assert any(export in line for fault, line in proxy.failed_requests if fault.startswith("drop"))


def test_pulls_through_faults_give_exactly_the_source_rows(portal: tuple[str, StandinOds]) -> None:
    url, _ = portal
    pull_big_cases_through_faults(url, "exports/csv", seed=7)


def test_odsql_where_select_and_order_reach_the_export(portal: tuple[str, StandinOds]) -> None:
    url, standin = portal
    standin.log.clear()
    table = OpendatasoftConnector(url).pull(
        "contract-cases", where="closed = true AND amount < 10", select="case_id, amount", order="amount DESC"
    )
    assert table.column_names == ["case_id", "amount"]
    assert table.column("amount").to_pylist() == sorted(table.column("amount").to_pylist(), reverse=True)
    assert table.num_rows == sum(1 for i in range(80) if i % 3 == 0 and i % 17)
    sent = [line for line in standin.log if line.startswith("export ")]
    assert "order_by=amount+DESC" in sent[0] and "delimiter=%3B" in sent[0] and "timezone=UTC" in sent[0]


def test_portal_query_errors_and_refusals_are_typed(portal: tuple[str, StandinOds]) -> None:
    url, _ = portal
    conn = OpendatasoftConnector(url)
    with pytest.raises(PortalRequestError, match=r"no_such_field") as bad:
        conn.pull("contract-cases", where="no_such_field > 1")
    assert (bad.value.status, bad.value.code) == (400, "ODSQLError")
    with pytest.raises(UsageError, match="no record timestamps"):
        conn.pull("contract-cases", since="2024-01-01")
    with pytest.raises(NotSupported, match="does not create Opendatasoft datasets"):
        conn.create("x", CONTRACT_COLUMNS)


def test_sync_is_unchanged_until_the_dataset_is_processed_again(
    portal: tuple[str, StandinOds], tmp_path: Path
) -> None:
    url, standin = portal
    standin.put("sync-cases", source_table(300), "2024-03-01T00:00:00+00:00")
    store = Store(tmp_path / "store")
    conn = OpendatasoftConnector(url)
    first = sync_dataset(conn, "sync-cases", store, progress=False)
    assert (first.mode, first.row_count) == ("full", 300)
    standin.log.clear()
    again = sync_dataset(conn, "sync-cases", store, progress=False)
    assert again.mode == "unchanged" and standin.log == ["dataset sync-cases"]  # one request
    standin.put("sync-cases", source_table(310, salt="n"), "2024-03-02T00:00:00+00:00")
    changed = sync_dataset(conn, "sync-cases", store, progress=False)
    assert (changed.mode, changed.row_count) == ("full", 310)
    assert store.arrow("sync-cases").sort_by("case_id").column("case_id")[0].as_py() == "n000000"
    store.close()


def test_catalog_answer_is_recognized_as_opendatasoft(portal: tuple[str, StandinOds]) -> None:
    url, _ = portal
    answer = requests.get(f"{url}/api/explore/v2.1/catalog/datasets", timeout=10).json()
    assert opendatasoft_recognizes(url, answer) and not ckan_recognizes(url, answer)
    listed = OpendatasoftConnector(url).datasets(limit=2)
    assert [d.id for d in listed] == ["contract-cases", "big-cases"]
    assert listed[0].columns == ("case_id", "amount", "opened", "closed")


def test_an_unquoted_export_broken_by_a_delimiter_in_a_value_is_a_portal_error(
    portal: tuple[str, StandinOds],
) -> None:
    url, standin = portal
    standin.put(
        "broken", pa.table({"name": ["ok", "semi;colon"], "n": [1.0, 2.0]}), "2024-01-01T00:00:00+00:00"
    )
    with pytest.raises(PortalError, match=r"'broken' .* does not parse"):
        OpendatasoftConnector(url).pull("broken")


def test_catalog_listing_pages_past_the_100_a_request_limit() -> None:
    standin = StandinOds()
    for i in range(130):
        standin.put(f"d{i:03d}", pa.table({"n": [1.0]}), "2024-01-01T00:00:00+00:00")
    with serve(standin.app()) as url:
        conn = OpendatasoftConnector(url)
        assert [d.id for d in conn.datasets(limit=120)] == [f"d{i:03d}" for i in range(120)]
        assert len(conn.datasets(limit=500)) == 130
