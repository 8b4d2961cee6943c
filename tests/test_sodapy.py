"""sodapy, unchanged, against the local portal; reads agree with DuckDB run directly on the file."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from portal_fixtures import kc_file
from sodapy import Socrata

KC = "kc-311-potholes"


@pytest.fixture()
def client(portal_url: str, write_token: str, caplog: pytest.LogCaptureFixture) -> Iterator[Socrata]:
    caplog.set_level(logging.ERROR)  # sodapy warns about the missing app token; restored after the test
    adapter = {"prefix": "http://", "adapter": requests.adapters.HTTPAdapter()}
    with Socrata(
        portal_url.removeprefix("http://"),
        None,
        username="any",
        password=write_token,
        session_adapter=adapter,
    ) as socrata:
        yield socrata


def test_get_select_group_order(client: Socrata, real_data: Path) -> None:
    rows = client.get(KC, select="status, count(*) AS n", group="status", order="status")
    expected = kc_file(real_data, "SELECT STATUS, count(*) FROM kc GROUP BY STATUS ORDER BY STATUS")
    assert [(r["status"], int(r["n"])) for r in rows] == expected


def test_get_where_having(client: Socrata, real_data: Path) -> None:
    rows = client.get(
        KC,
        select="source, avg(days_to_close) AS avg_days, count(*) AS n",
        where="days_to_close IS NOT NULL",
        group="source",
        order="source",
        **{"$having": "count(*) > 100"},
    )
    expected = kc_file(
        real_data,
        'SELECT SOURCE, avg("DAYS TO CLOSE"), count(*) FROM kc WHERE "DAYS TO CLOSE" IS NOT NULL '
        "GROUP BY SOURCE HAVING count(*) > 100 ORDER BY SOURCE",
    )
    assert len(rows) == len(expected) > 0
    for row, (source, average, count) in zip(rows, expected, strict=True):
        assert row["source"] == source and int(row["n"]) == count
        assert float(row["avg_days"]) == pytest.approx(average, rel=1e-12)


def test_get_query(client: Socrata, real_data: Path) -> None:
    rows = client.get(
        KC,
        query="SELECT case_id, days_to_close WHERE days_to_close > 30 "
        "ORDER BY days_to_close DESC, case_id LIMIT 5",
    )
    expected = kc_file(
        real_data,
        'SELECT "CASE ID", "DAYS TO CLOSE" FROM kc WHERE "DAYS TO CLOSE" > 30 '
        'ORDER BY "DAYS TO CLOSE" DESC, "CASE ID" LIMIT 5',
    )
    assert [(int(r["case_id"]), int(r["days_to_close"])) for r in rows] == expected


def test_get_limit_offset_and_simple_filters(client: Socrata, real_data: Path) -> None:
    rows = client.get(KC, select="case_id", status="OPEN", order="case_id", limit=20, offset=10)
    expected = kc_file(
        real_data, "SELECT \"CASE ID\" FROM kc WHERE STATUS = 'OPEN' ORDER BY 1 LIMIT 20 OFFSET 10"
    )
    assert [int(r["case_id"]) for r in rows] == [e[0] for e in expected]


def test_get_full_text_search(client: Socrata) -> None:
    rows = client.get(KC, q="Swope", limit=50)
    assert rows
    for row in rows:
        assert any("swope" in str(value).lower() for value in row.values())


def test_get_all_with_order(client: Socrata, real_data: Path) -> None:
    ids = [int(r["case_id"]) for r in client.get_all(KC, select="case_id", order="case_id")]
    expected = kc_file(real_data, 'SELECT "CASE ID" FROM kc ORDER BY 1')
    assert ids == [e[0] for e in expected]
    assert len(ids) > 1000  # get_all really paged


def test_get_csv(client: Socrata) -> None:
    records = client.get(KC, content_type="csv", select="case_id, status", limit=3)
    assert records[0] == ["case_id", "status"] and len(records) == 4


def test_metadata_and_datasets(client: Socrata, real_data: Path) -> None:
    meta = client.get_metadata(KC)
    headers = kc_file(real_data, "SELECT column_name FROM (DESCRIBE kc)")
    assert [c["name"] for c in meta["columns"]] == [h[0] for h in headers]
    found = {d["resource"]["id"] for d in client.datasets()}
    assert {KC, "la-indicators", "typed-sample"} <= found


def test_create_upsert_replace_delete(client: Socrata) -> None:
    created = client.create(
        "Foo Bar",
        description="test dataset",
        columns=[
            {"fieldName": "foo", "name": "Foo", "dataTypeName": "text"},
            {"fieldName": "bar", "name": "Bar", "dataTypeName": "number"},
        ],
        row_identifier="foo",
    )
    dataset_id = created["id"]
    assert created["name"] == "Foo Bar" and created["description"] == "test dataset"
    assert {c["fieldName"]: c["id"] for c in created["columns"]}["foo"] == created["rowIdentifierColumnId"]
    result = client.upsert(dataset_id, [{"foo": "a", "bar": "1"}, {"foo": "b", "bar": 2}])
    assert result["Rows Created"] == 2 and result["Errors"] == 0
    result = client.upsert(dataset_id, io.StringIO("foo,bar\na,10\nc,3\n"))
    assert (result["Rows Created"], result["Rows Updated"]) == (1, 1)
    assert client.get(dataset_id, order="foo") == [
        {"foo": "a", "bar": "10"},
        {"foo": "b", "bar": "2"},
        {"foo": "c", "bar": "3"},
    ]
    result = client.replace(dataset_id, [{"foo": "z", "bar": "26"}])
    assert result["Rows Created"] == 1
    assert client.get(dataset_id) == [{"foo": "z", "bar": "26"}]
    client.upsert(dataset_id, [{"foo": "y", "bar": "25"}])
    client.delete(dataset_id, row_id="z")
    assert client.get(dataset_id) == [{"foo": "y", "bar": "25"}]
    client.delete(dataset_id)
    with pytest.raises(requests.exceptions.HTTPError):
        client.get_metadata(dataset_id)


def test_errors_reach_sodapy_as_http_errors(client: Socrata) -> None:
    with pytest.raises(requests.exceptions.HTTPError) as info:
        client.get(KC, where="no_such_field > 1")
    assert "400" in str(info.value) and "no_such_field" in str(info.value)


def test_empty_clauses_are_ignored_as_socrata_ignores_them(client: Socrata, real_data: Path) -> None:
    # Tools built on sodapy pass "" for the clauses they do not use; sodapy sends them as they are.
    empty = dict.fromkeys(("select", "where", "order", "group", "q", "offset"), "")
    rows = client.get(KC, limit=3, **empty)
    first = client.get(KC, limit=3)
    assert rows == first and len(rows) == 3
    counted = client.get(KC, select="count(*) AS n", where="", order="", group="", q="")
    assert int(counted[0]["n"]) == kc_file(real_data, "SELECT count(*) FROM kc")[0][0]
