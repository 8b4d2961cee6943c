"""The contract suite against the Socrata connector and the local portal, over SODA 2.1 and SODA 3."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from faults import serve_portal

from btvstat_open.store import Store
from connectors import connect
from connectors.testing import CONTRACT_COLUMNS, ConnectorContract, ContractSetup, source_table

TOKEN = "contract-token"


@pytest.fixture(scope="module")
def portal_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Store]]:
    store = Store(tmp_path_factory.mktemp("contract"))
    store.load("contract-read", source_table(), list(CONTRACT_COLUMNS), row_identifier="case_id")
    with serve_portal(store, TOKEN) as (url, _):
        yield url, store
    store.close()


@pytest.fixture(params=["soda2", "soda3"])
def contract(request: pytest.FixtureRequest, portal_url: tuple[str, Store]) -> ContractSetup:
    url, store = portal_url
    store.create("contract-write", "Writable", list(CONTRACT_COLUMNS), row_identifier="case_id", replace=True)
    if store.exists("contract-write-new"):  # made by test_create_then_push under the other api
        store.drop("contract-write-new")
    conn = connect(url, api=request.param, page_size=500, username="any", password=TOKEN)
    return ContractSetup(conn, "contract-read", "contract-write", source_table().num_rows)


class TestSocrataContract(ConnectorContract):
    """Every contract test, for the Socrata connector."""
