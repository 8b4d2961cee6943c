"""The CKAN connector against the stand-in site (tests/ckan_standin.py): contract, faults, sync, queries."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest
import requests
from ckan_standin import StandinCkan
from faults import fault_proxy
from servers import serve
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from btvstat_open.errors import NotSupported, PortalError, PortalRequestError, UsageError
from btvstat_open.store import Store
from btvstat_open.sync import sync_dataset
from btvstat_open.types import Column
from connectors.ckan import CkanConnector
from connectors.ckan.fields import records_to_batch
from connectors.testing import CONTRACT_COLUMNS, ConnectorContract, ContractSetup, source_table

RID = "5b1c7a8e-0000-4000-8000-000000000001"
BIG = "5b1c7a8e-0000-4000-8000-000000000002"
FILE = "5b1c7a8e-0000-4000-8000-000000000003"


@pytest.fixture(scope="module")
def site() -> Iterator[tuple[str, StandinCkan]]:
    standin = StandinCkan()
    standin.add_table("contract-cases", RID, source_table(), "2024-01-02T03:04:05.000001")
    standin.add_table("big-cases", BIG, source_table(20_000, salt="b"), "2024-01-02T03:04:05")
    standin.add_file("file-cases", FILE, source_table(120), "2024-02-01T00:00:00")
    with serve(standin.app()) as url:
        standin.url = url
        yield url, standin


@pytest.fixture
def contract(site: tuple[str, StandinCkan]) -> ContractSetup:
    url, _ = site
    return ContractSetup(CkanConnector(url, page_size=500), "contract-cases", None, source_table().num_rows)


class TestCkanContract(ConnectorContract):
    """Every contract test, for the CKAN connector (reads only: writable_id is None)."""


def checksum(table: pa.Table) -> str:
    ordered = table.select([c.field_name for c in CONTRACT_COLUMNS]).sort_by("case_id")
    digest = hashlib.sha256()
    for row in ordered.to_pylist():
        digest.update(repr(sorted(row.items())).encode())
    return f"{ordered.num_rows}:{digest.hexdigest()}"


def test_pull_through_faults_gives_exactly_the_source_rows(site: tuple[str, StandinCkan]) -> None:
    url, _ = site
    with fault_proxy(url, rate=0.2, seed=13) as (proxy_url, proxy):
        table = CkanConnector(proxy_url, page_size=1_000, retries=12, backoff=0.005, max_wait=0.05).pull(BIG)
    assert proxy.fault_share >= 0.15 and set(proxy.injected) == {"429", "202", "500", "drop", "drop_chunked"}
    assert checksum(table) == checksum(source_table(20_000, salt="b"))


def test_pages_stop_at_total_even_when_it_is_a_whole_number_of_pages(site: tuple[str, StandinCkan]) -> None:
    url, standin = site
    standin.log.clear()
    table = CkanConnector(url, page_size=469, concurrency=3).pull(RID)  # 2,345 rows: five full pages
    assert table.num_rows == 2_345 and table.column("case_id").to_pylist() == sorted(
        table.column("case_id").to_pylist()
    )
    searches = [line for line in standin.log if line.startswith("datastore_search?")]
    heads = [line for line in searches if re.search(r"[?&]limit=0(&|$)", line)]
    assert len(heads) == 1  # the fields and the count, asked once before the pages
    assert len(searches) == 6  # and five pages: no sixth page for the empty one after total


def test_resource_id_and_package_name_mean_the_same_rows(site: tuple[str, StandinCkan]) -> None:
    url, _ = site
    conn = CkanConnector(url, page_size=700)
    by_id, by_name = conn.pull(RID, where="closed = true"), conn.pull("contract-cases", where="closed = true")
    assert by_id.equals(by_name) and by_id.num_rows == sum(1 for i in range(2_345) if i % 3 == 0)


def test_equality_where_runs_as_filters(site: tuple[str, StandinCkan]) -> None:
    url, standin = site
    standin.log.clear()
    table = CkanConnector(url).pull(RID, where="case_id = '000042'", select="case_id, amount")
    assert table.to_pylist() == [{"case_id": "000042", "amount": 42 / 8}]
    assert any("filters=" in line for line in standin.log) and not any("_sql" in line for line in standin.log)


def test_full_text_q_runs_in_datastore_search(site: tuple[str, StandinCkan]) -> None:
    url, _ = site
    conn = CkanConnector(url)
    table = pa.Table.from_batches(list(conn.iter_batches(RID, q="00004", where="closed = true")))
    assert table.column("case_id").to_pylist() == [f"0000{n}" for n in (42, 45, 48)]
    with pytest.raises(UsageError, match="full-text q only in datastore_search"):
        list(conn.iter_batches(RID, q="x", where="amount > 3"))


def test_other_comparisons_need_datastore_search_sql(site: tuple[str, StandinCkan]) -> None:
    url, standin = site
    conn = CkanConnector(url, page_size=300)
    table = conn.pull(RID, where="amount >= 100 AND (closed = true OR amount IS NULL)", order="amount DESC")
    src = source_table()
    keep = pc.and_(pc.greater_equal(src["amount"], 100), pc.equal(src["closed"], True))
    assert table.num_rows == src.filter(keep).num_rows
    assert table.column("amount").to_pylist() == sorted(table.column("amount").to_pylist(), reverse=True)
    with pytest.raises(PortalRequestError, match="nope"):  # the query's own fault, said as such
        conn.pull(RID, where="nope > 1")
    standin.sql_enabled = False
    try:
        with pytest.raises(UsageError, match="does not run datastore_search_sql"):
            conn.pull(RID, where="amount > 100")
    finally:
        standin.sql_enabled = True


def test_what_the_datastore_cannot_do_is_refused_clearly(site: tuple[str, StandinCkan]) -> None:
    url, _ = site
    conn = CkanConnector(url)
    with pytest.raises(UsageError, match="functions such as upper"):
        conn.pull(RID, where="upper(case_id) = 'X'")
    with pytest.raises(UsageError, match="only plain field names"):
        conn.pull(RID, select="count(*)")
    with pytest.raises(UsageError, match="no update time"):
        conn.pull(RID, since="2024-01-01")
    with pytest.raises(NotSupported, match="reads from CKAN"):
        conn.push(source_table(1), RID)


def test_csv_resource_is_downloaded_and_typed_by_inference(
    site: tuple[str, StandinCkan], tmp_path: Path
) -> None:
    url, _ = site
    conn = CkanConnector(url)
    desc = conn.describe("file-cases")
    assert [(c.field_name, c.data_type) for c in desc.columns] == [
        (c.field_name, c.data_type) for c in CONTRACT_COLUMNS
    ]
    table = conn.pull(FILE, where="closed = true", order="case_id DESC", select="case_id, opened")
    src = source_table(120)
    assert table.column_names == ["case_id", "opened"] and table.num_rows == 40
    assert table.column("case_id")[0].as_py() == "000117"  # leading zeros kept: text
    assert table.column("opened").type == pa.timestamp("us")
    assert table.column("opened")[0].as_py() == src.column("opened")[117].as_py()
    with pytest.raises(UsageError, match="file outside the DataStore"):
        conn.pull(FILE, where="amount > 3")


def test_sync_is_unchanged_until_metadata_changes_then_pulls_whole(
    site: tuple[str, StandinCkan], tmp_path: Path
) -> None:
    url, standin = site
    standin.add_table(
        "sync-cases", "5b1c7a8e-0000-4000-8000-000000000009", source_table(300), "2024-03-01T00:00:00"
    )
    store = Store(tmp_path / "store")
    conn = CkanConnector(url)
    first = sync_dataset(conn, "sync-cases", store, progress=False)
    assert (first.mode, first.row_count) == ("full", 300)
    standin.log.clear()
    again = sync_dataset(conn, "sync-cases", store, progress=False)
    # package_show, a limit=0 search and the content fingerprint (one datastore_search_sql)
    assert again.mode == "unchanged" and len(standin.log) == 3
    standin.touch("sync-cases", "2024-03-02T00:00:00", source_table(310, salt="n"))
    changed = sync_dataset(conn, "sync-cases", store, progress=False)
    assert (changed.mode, changed.row_count) == ("full", 310)
    assert store.arrow("sync-cases").sort_by("case_id").column("case_id")[0].as_py() == "n000000"
    store.close()


def test_the_api_key_goes_to_the_site_but_not_to_a_file_on_another_host(
    site: tuple[str, StandinCkan],
) -> None:
    url, standin = site
    seen: list[tuple[str | None, str | None]] = []

    async def elsewhere(request: Request) -> Response:
        seen.append((request.headers.get("authorization"), request.headers.get("x-caller")))
        return Response(b"case_id,amount\n007,1.5\n", media_type="text/csv")

    with serve(Starlette(routes=[Route("/f.csv", elsewhere)])) as other:
        standin.add_file("elsewhere", "5b1c7a8e-0000-4000-8000-00000000000e", source_table(1), "2024-01-01")
        standin.packages["elsewhere"]["resources"][0]["url"] = f"{other}/f.csv"
        standin.authorizations.clear()
        mine = requests.Session()
        mine.headers["X-Caller"] = "mine"  # the caller's session is used, as it is
        table = CkanConnector(url, api_key="secret-key", session=mine).pull("elsewhere")
    assert table.to_pylist() == [{"case_id": "007", "amount": 1.5}]
    assert "Authorization" not in mine.headers  # the key went with requests, not into the session
    assert standin.authorizations and set(standin.authorizations) == {"secret-key"}
    assert seen == [(None, "mine")]


def test_a_value_that_does_not_fit_its_field_type_is_a_portal_error() -> None:
    with pytest.raises(PortalError, match="'v' that is not a number"):
        records_to_batch([{"v": "n/a"}], (Column("v", "V", "number"),))


@pytest.mark.parametrize("sql", [True, False], ids=["fingerprint-sql", "fingerprint-rows"])
def test_sync_sees_an_update_that_moves_no_metadata(
    site: tuple[str, StandinCkan], tmp_path: Path, sql: bool
) -> None:
    url, standin = site
    rid = f"5b1c7a8e-0000-4000-8000-00000000001{int(sql)}"
    standin.add_table(f"upserted-{sql}", rid, source_table(300), "2024-03-01T00:00:00")
    with Store(tmp_path / "store") as store, CkanConnector(url, page_size=100) as conn:
        standin.sql_enabled = sql
        try:
            assert sync_dataset(conn, rid, store, dataset_id="cases", progress=False).mode == "full"
            assert sync_dataset(conn, rid, store, dataset_id="cases", progress=False).mode == "unchanged"
            before = conn.describe(rid)
            standin.update_in_place(rid, "amount", 7, 12345.0)  # datastore_upsert, method update
            after = conn.describe(rid)
            assert (after.row_count, after.last_modified) == (before.row_count, before.last_modified)
            synced = sync_dataset(conn, rid, store, dataset_id="cases", progress=False)
            assert (synced.mode, synced.row_count) == ("full", 300)
            amounts = store.arrow("cases").column("amount").to_pylist()
            assert 12345.0 in amounts
            fingerprint = conn.fingerprint(rid)
            assert fingerprint.startswith("sql:300:" if sql else "rows:300:")
        finally:
            standin.sql_enabled = True
