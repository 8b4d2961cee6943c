"""The CKAN connector against a real CKAN 2.12 with the DataStore (tests/ckan_site.py).

Kansas City's 4,493 pothole requests go into the DataStore as a city would publish them; the
pull must be exact, and a sync must see an in-place ``datastore_upsert`` (which moves neither
the metadata nor the row count) and a delete plus an insert (which leave the count as it was).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import requests
from ckan_site import CkanSite

from btvstat_open.store import Store
from btvstat_open.sync import sync_dataset
from connectors.ckan import CkanConnector

POTHOLES = Path(__file__).parents[1] / "catalog" / "demo" / "data" / "kc-311-potholes.parquet"
_CKAN_TYPES = {"double": "numeric", "string": "text", "timestamp[us]": "timestamp"}


def _records(table: pa.Table) -> list[dict[str, Any]]:
    return [
        {k: v.isoformat() if isinstance(v, datetime) else v for k, v in row.items()}
        for row in table.to_pylist()
    ]


@pytest.fixture(scope="module")
def potholes(ckan_site: CkanSite) -> Iterator[tuple[CkanSite, str, pa.Table]]:
    """The pothole requests as a DataStore resource of package ``kc-potholes``; its id."""
    table = pq.read_table(POTHOLES)
    fields = [{"id": f.name, "type": _CKAN_TYPES[str(f.type)]} for f in table.schema]
    ckan_site.action("package_create", name="kc-potholes", title="KC pothole requests")
    created = ckan_site.action(
        "datastore_create",
        resource={"package_id": "kc-potholes", "name": "requests"},
        fields=fields,
        primary_key=["case_id"],
        records=_records(table),
    )
    yield ckan_site, str(created["resource_id"]), table


def test_pull_is_exact(potholes: tuple[CkanSite, str, pa.Table]) -> None:
    site, rid, source = potholes
    asked: list[str] = []
    session = requests.Session()
    session.hooks["response"].append(lambda resp, *args, **kwargs: asked.append(resp.url))
    with CkanConnector(site.url, page_size=1000, session=session) as conn:
        assert conn.describe("kc-potholes").row_count == source.num_rows == 4_493
        pulled = conn.pull("kc-potholes")
        assert conn.fingerprint(rid).startswith("sql:4493:")  # the site runs datastore_search_sql
    # The pages came as PostgreSQL's CSV, as /datastore/dump asks for them (five of 1,000 rows).
    assert sum("records_format=csv" in url and "include_total=false" in url for url in asked) == 5
    assert pulled.num_rows == source.num_rows
    by_case = pulled.sort_by("case_id").select(source.column_names)
    expected = source.sort_by("case_id")
    for name in source.column_names:
        assert by_case.column(name).to_pylist() == expected.column(name).to_pylist(), name


def test_sync_sees_updates_and_deletes_that_move_no_metadata(
    potholes: tuple[CkanSite, str, pa.Table], tmp_path: Path
) -> None:
    site, rid, source = potholes
    first_case = source.column("case_id")[0].as_py()
    with Store(tmp_path / "store") as store, CkanConnector(site.url) as conn:
        assert sync_dataset(conn, rid, store, dataset_id="potholes", progress=False).mode == "full"
        assert sync_dataset(conn, rid, store, dataset_id="potholes", progress=False).mode == "unchanged"
        stamps = _stamps(site, rid)
        site.action(
            "datastore_upsert",
            resource_id=rid,
            method="update",
            records=[{"case_id": first_case, "status": "REOPENED"}],
            force=True,
        )
        assert _stamps(site, rid) == stamps  # CKAN moved neither stamp nor count
        updated = sync_dataset(conn, rid, store, dataset_id="potholes", progress=False)
        assert (updated.mode, updated.row_count) == ("full", 4_493)
        statuses = dict(zip(*_column_pairs(store, "case_id", "status"), strict=True))
        assert statuses[first_case] == "REOPENED"
        # A delete and an insert in one interval: the count is as it was.
        site.action("datastore_delete", resource_id=rid, filters={"case_id": first_case}, force=True)
        newcomer = {**_records(source.slice(1, 1))[0], "case_id": 1.0, "status": "NEW"}
        site.action("datastore_upsert", resource_id=rid, method="insert", records=[newcomer], force=True)
        assert _stamps(site, rid)[2] == 4_493
        replaced = sync_dataset(conn, rid, store, dataset_id="potholes", progress=False)
        assert (replaced.mode, replaced.row_count) == ("full", 4_493)
        cases = set(_column_pairs(store, "case_id", "status")[0])
        assert 1.0 in cases and first_case not in cases
        assert sync_dataset(conn, rid, store, dataset_id="potholes", progress=False).mode == "unchanged"


def _stamps(site: CkanSite, rid: str) -> tuple[object, object, object]:
    resource = site.action("resource_show", id=rid)
    package = site.action("package_show", id="kc-potholes")
    total = site.action("datastore_search", resource_id=rid, limit=0)["total"]
    return package["metadata_modified"], resource.get("last_modified"), total


def _column_pairs(store: Store, *names: str) -> list[list[Any]]:
    table = store.arrow("potholes")
    return [table.column(n).to_pylist() for n in names]
