"""Hostile and random SoQL over real HTTP: never a 500, never a file read or written.

test_soql_property.py proves the compiler's SQL safe; these tests send the same strings
through uvicorn, the routes and the error handlers, in every SODA 2.1 parameter, as simple
filters and as SODA 3 query bodies, and check what a client sees. The store itself refuses
DuckDB's file features, so even SQL written by hand on its cursor cannot reach a file.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from servers import serve
from test_portal_engine_errors import assert_no_engine_text
from test_soql_property import FIELDS, HOSTILE, PARAMS, any_text
from test_soql_table import build_store

from btvstat_open.portal.app import create_portal_app
from btvstat_open.store import Store
from btvstat_open.web.settings import Settings

# A line every Unix /etc/passwd holds; a response quoting it would mean a file was read.
PASSWD_MARK = "root:x:0:0"


class Portal:
    """The served portal, a session to talk to it, and a file no request may create."""

    def __init__(self, url: str, store: Store, sentinel: Path) -> None:
        self.url = url
        self.store = store
        self.sentinel = sentinel
        self.http = requests.Session()

    def fill(self, text: str) -> str:
        return text.replace("{sentinel}", str(self.sentinel))

    def check(self, response: requests.Response) -> None:
        """A 200 with JSON rows, or a 4xx in Socrata's error shape; nothing leaked or written.

        Nor does any body quote DuckDB's error text (the compiler or the mapping in
        ``btvstat_open.store.engine_errors`` speaks for it).
        """
        assert response.status_code in (200, 400), (response.status_code, response.text[:300])
        body: Any = response.json()
        if response.status_code == 400:
            assert body["error"] is True and isinstance(body["message"], str) and body["message"]
            assert body["code"].startswith(("query.", "bad.request")), body["code"]
        else:
            assert isinstance(body, list)
        assert "Traceback" not in response.text and PASSWD_MARK not in response.text
        assert_no_engine_text(response)
        assert not self.sentinel.exists()

    def get(self, params: dict[str, str]) -> None:
        self.check(self.http.get(f"{self.url}/resource/kc.json", params=params, timeout=60))

    def soda3(self, query: str) -> None:
        body = {"query": query, "page": {"pageNumber": 1, "pageSize": 10}}
        self.check(self.http.post(f"{self.url}/api/v3/views/kc/query.json", json=body, timeout=60))


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory, real_data: Path) -> Iterator[Portal]:
    store, _, _ = build_store(tmp_path_factory.mktemp("hostile-http"), real_data)
    sentinel = tmp_path_factory.mktemp("sentinel") / "pwned.csv"
    with serve(create_portal_app(store, Settings(write_token="not-used-here"))) as url:
        yield Portal(url, store, sentinel)
    store.close()


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_strings_in_every_parameter_over_http(portal: Portal, text: str) -> None:
    text = portal.fill(text)
    for name in PARAMS:
        portal.get({"$" + name: text})
    portal.get({"status": text})  # a simple column=value filter
    portal.soda3(text)
    portal.soda3("SELECT status WHERE " + text)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(PARAMS), text=any_text)
def test_random_text_in_any_parameter_over_http(portal: Portal, name: str, text: str) -> None:
    portal.get({"$" + name: portal.fill(text)})


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=st.sampled_from(FIELDS), value=any_text, query=any_text)
def test_random_filters_and_soda3_bodies_over_http(portal: Portal, key: str, value: str, query: str) -> None:
    portal.get({key: portal.fill(value)})
    portal.soda3(portal.fill(query))


def test_a_valid_query_still_answers(portal: Portal) -> None:
    """The checks above would also pass on a server that refused everything: this one must not."""
    response = portal.http.get(
        f"{portal.url}/resource/kc.json", params={"$select": "count(*) AS n", "$where": "status IS NOT NULL"}
    )
    assert response.status_code == 200
    expected = (
        portal.store.cursor().execute('SELECT count(*) FROM "ds_kc" WHERE status IS NOT NULL').fetchall()
    )
    assert response.json() == [{"n": str(expected[0][0])}]


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT * FROM read_text('/etc/passwd')",
        "SELECT * FROM glob('/*')",
        "COPY (SELECT 1) TO '{sentinel}'",
        "ATTACH '{sentinel}' AS other",
        "INSTALL httpfs",
        "SET enable_external_access = true",
    ],
)
def test_the_store_refuses_file_features_even_to_hand_written_sql(portal: Portal, sql: str) -> None:
    cursor = portal.store.cursor().cursor()
    try:
        with pytest.raises(duckdb.Error) as raised:
            cursor.execute(portal.fill(sql)).fetchall()
    finally:
        cursor.close()
    assert isinstance(raised.value, duckdb.PermissionException | duckdb.InvalidInputException)
    assert not portal.sentinel.exists()


@pytest.mark.parametrize(
    "select",
    [
        "read_csv('/etc/passwd')",
        "read_parquet('x.parquet')",
        "glob('/*')",
        "getenv('HOME')",
        "query('SELECT 1')",
    ],
)
def test_duckdb_file_and_system_functions_are_unknown_soql_functions(portal: Portal, select: str) -> None:
    response = portal.http.get(f"{portal.url}/resource/kc.json", params={"$select": select})
    assert response.status_code == 400
    assert response.json()["code"] == "query.soql.no-such-function"
    assert PASSWD_MARK not in response.text
