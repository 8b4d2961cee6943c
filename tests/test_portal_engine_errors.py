"""Queries and writes that used to reach DuckDB and fail there: each answers right or is a typed 400.

Every response is checked for DuckDB's own error text (it names internal functions and casts);
a damaged store shows the last line of defence, a 500 that says only that the log has the details.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from datetime import datetime

import duckdb
import pyarrow as pa
import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from servers import serve

from btvstat_open.portal.app import create_portal_app
from btvstat_open.store import Store
from btvstat_open.types import Column
from btvstat_open.web.settings import Settings

# Words DuckDB puts in its messages ("Binder Error: ...", "Could not choose a best candidate ...").
ENGINE_TEXT = re.compile(
    r"(Binder|Conversion|Catalog|Parser|Invalid Input|Out of Range|Constraint|Dependency|"
    r"Not implemented|INTERNAL|IO|Transaction|Permission|Serialization) Error"
    r"|best candidate|duckdb|STRING_LITERAL|non-integer literal|LINE \d+:|must appear in the GROUP BY",
    re.IGNORECASE,
)
COLUMNS = [
    Column("name", "Name", "text"),
    Column("n", "N", "number"),
    Column("opened", "Opened", "floating_timestamp"),
    Column("stamped", "Stamped", "fixed_timestamp"),
]


def assert_no_engine_text(response: requests.Response) -> None:
    """The body is in Socrata's shape when it is an error, and never quotes DuckDB."""
    assert not ENGINE_TEXT.search(response.text), response.text[:400]
    if response.status_code >= 400:
        body = response.json()
        assert body["error"] is True and body["code"] and body["message"], body


class Portal:
    def __init__(self, url: str, store: Store, token: str) -> None:
        self.url, self.store, self.token = url, store, token

    def get(self, params: dict[str, str], dataset: str = "nums") -> requests.Response:
        response = requests.get(f"{self.url}/resource/{dataset}.json", params=params, timeout=60)
        assert_no_engine_text(response)
        return response

    def new_dataset(self) -> str:
        dataset_id = "w-" + uuid.uuid4().hex[:8]
        self.store.create(dataset_id, "Writes", COLUMNS)
        return dataset_id

    def post(self, dataset_id: str, body: bytes, content_type: str) -> requests.Response:
        response = requests.post(
            f"{self.url}/resource/{dataset_id}.json",
            data=body,
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": content_type},
            timeout=60,
        )
        assert_no_engine_text(response)
        return response


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    store = Store(tmp_path_factory.mktemp("engine-errors"))
    store.create("nums", "Numbers", COLUMNS)
    store.replace(
        "nums",
        pa.table(
            {
                "name": ["a", "b", "c", None],
                "n": [3.0, 1.0, 2.0, None],
                "opened": [datetime(2020, 1, 7), datetime(2021, 5, 6), datetime(2021, 7, 1), None],
            }
        ),
    )
    with serve(create_portal_app(store, Settings(write_token="engine-token"))) as url:
        yield Portal(url, store, "engine-token")
    store.close()


DATE_FUNCTIONS = [
    "date_trunc_y", "date_trunc_ym", "date_trunc_ymd", "date_extract_y", "date_extract_m", "date_extract_d",
    "date_extract_hh", "date_extract_mm", "date_extract_ss", "date_extract_dow", "date_extract_woy",
]  # fmt: skip


@pytest.mark.parametrize("function", DATE_FUNCTIONS)
def test_date_functions_of_null_are_null(portal: Portal, function: str) -> None:
    response = portal.get({"$select": f"{function}(null) AS d, name", "$order": "name", "$limit": "2"})
    assert response.status_code == 200
    assert response.json() == [{"name": "a"}, {"name": "b"}]  # d is null, so absent
    grouped = portal.get({"$select": f"{function}(null) AS d, count(*) AS c", "$group": "d"})
    assert grouped.status_code == 200 and grouped.json() == [{"c": "4"}]


def test_aggregates_and_text_functions_of_null(portal: Portal) -> None:
    response = portal.get({"$select": "sum(null) AS s, min(null) AS lo, count(null) AS c, upper(null) AS u"})
    assert response.status_code == 200
    assert response.json() == [{"c": "0"}]
    assert json.loads(response.headers["X-SODA2-Types"])[:2] == ["number", "number"]


@pytest.mark.parametrize("order", ["null", "null DESC", "'a'", "1 + 1", "null, n DESC"])
def test_ordering_by_a_constant_changes_nothing(portal: Portal, order: str) -> None:
    response = portal.get({"$select": "name", "$order": order})
    assert response.status_code == 200
    names = [row.get("name") for row in response.json()]
    if "n DESC" in order:
        assert names == [None, "a", "c", "b"]  # nulls first when descending, as Socrata sorts
    else:  # the default order (by :id)
        default = portal.get({"$select": "name"}).json()
        assert names == [row.get("name") for row in default] and len(names) == 4


def test_grouping_by_null(portal: Portal) -> None:
    assert portal.get({"$select": "count(*) AS c", "$group": "null"}).json() == [{"c": "4"}]
    assert portal.get({"$select": "count(*) AS c", "$group": "null", "$order": "null"}).json() == [{"c": "4"}]
    refused = portal.get({"$group": "null"})  # $select * keeps fields that are not grouped
    assert refused.status_code == 400 and refused.json()["code"] == "query.soql.column-not-in-group-bys"


def test_a_group_key_with_a_value_repeated_in_order(portal: Portal) -> None:
    refused = portal.get({"$select": "count(*) AS c", "$group": "n + 1", "$order": "n + 1"})
    assert refused.status_code == 400
    assert refused.json()["code"] == "query.soql.column-not-in-group-bys"
    assert "order by the alias" in refused.json()["message"]
    selected = portal.get({"$select": "n + 1 AS k, count(*) AS c", "$group": "n + 1", "$order": "n + 1 DESC"})
    assert selected.status_code == 200
    assert [row.get("k") for row in selected.json()] == [None, "4", "3", "2"]
    having = portal.get({"$select": "count(*) AS c", "$group": "n > 1", "$having": "n > 1"})
    assert having.status_code == 400 and "$where" in having.json()["message"]


@pytest.mark.parametrize(
    "where",
    [
        ":created_at > '0001-01-01T00:00:00+05:00'",
        "stamped > '0001-01-01T00:00:00+05:00'",
        "stamped < '9999-12-31T23:00:00-05:00'",
        "'0001-01-01T00:00:00+05:00'::fixed_timestamp IS NULL",
    ],
)
def test_fixed_timestamps_outside_the_years_1_to_9999_in_utc(portal: Portal, where: str) -> None:
    response = portal.get({"$where": where})
    assert response.status_code == 400
    assert response.json()["code"] == "query.soql.type-mismatch"
    assert "years 1 to 9999" in response.json()["message"]


@pytest.mark.parametrize("fraction", ["-0", "-0.0", "0", "0.0"])
def test_percentile_zero_is_the_minimum_whatever_its_sign(portal: Portal, fraction: str) -> None:
    response = portal.get({"$select": f"percentile_cont(n, {fraction}) AS p"})
    assert response.status_code == 200 and response.json() == [{"p": "1"}]
    assert portal.get({"$select": "percentile_cont(n, 1) AS p"}).json() == [{"p": "3"}]


def test_a_csv_cell_over_128_kib_is_written_whole(portal: Portal) -> None:
    dataset_id = portal.new_dataset()
    cell = "x" * (200 * 1024)
    response = portal.post(dataset_id, f"name,n\n{cell},1\n".encode(), "text/csv")
    assert response.status_code == 200, response.text[:300]
    assert response.json()["Rows Created"] == 1
    rows = portal.get({"$select": "name"}, dataset=dataset_id).json()
    assert rows == [{"name": cell}]


@pytest.mark.parametrize("body_format", ["json", "csv"])
@pytest.mark.parametrize("stamp", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:00:00-05:00"])
def test_a_fixed_timestamp_out_of_range_in_utc_is_a_bad_row(
    portal: Portal, body_format: str, stamp: str
) -> None:
    dataset_id = portal.new_dataset()
    if body_format == "json":
        body, kind = (
            json.dumps([{"name": "ok"}, {"name": "far", "stamped": stamp}]).encode(),
            "application/json",
        )
    else:
        body, kind = f"name,stamped\nok,\nfar,{stamp}\n".encode(), "text/csv"
    response = portal.post(dataset_id, body, kind)
    assert response.status_code == 400, response.text[:300]
    payload = response.json()
    assert payload["code"] == "write.bad-rows"
    assert [(e["row"], e["field"]) for e in payload["data"]["errors"]] == [(1, "stamped")]
    assert portal.store.info(dataset_id).row_count == 0


def test_a_damaged_store_is_a_500_without_engine_text(portal: Portal) -> None:
    """The last line of defence: a table dropped behind the server's back (a real DuckDB error)."""
    dataset_id = portal.new_dataset()
    portal.store.cursor().execute(f'DROP TABLE "ds_{dataset_id}"')
    response = portal.get({}, dataset=dataset_id)
    assert response.status_code == 500
    body = response.json()
    assert body["code"] == "store.error" and "log has the details" in body["message"]
    assert re.fullmatch(r"[0-9a-f]{8}", body["data"]["reference"])


# Expressions built from the functions and operators SoQL allows, with nulls, extreme values and
# timestamps at the edges of the calendar: the shapes that once reached DuckDB untyped.
ATOMS = [
    "name", "n", "opened", "stamped", ":id", ":created_at", "null", "0", "-0", "1e308", "'x'", "true",
    "'2020-01-01'", "'0001-01-01T00:00:00+05:00'", "'9999-12-31T23:59:59-05:00'", "'NaN'",
]  # fmt: skip
CALLS = [
    "count(*)", "count({})", "sum({})", "avg({})", "min({})", "max({})", "median({})",
    "percentile_cont({}, -0)", "upper({})", "coalesce({}, {})", "case({}, {}, true, {})",
    "starts_with({}, {})", "{}::number", "{}::text", "{}::fixed_timestamp", "{}::floating_timestamp",
    "-{}", "{} + {}", "{} || {}", "{} / {}", "{} % {}", "{} = {}", "{} > {}", "{} IS NULL", "NOT {}",
    "{} BETWEEN {} AND {}", "{} IN ({}, {})", "{} LIKE {}", *(f"{f}({{}})" for f in DATE_FUNCTIONS),
]  # fmt: skip


def _call(template: str, args: list[str]) -> str:
    return template.format(*args)


expressions = st.recursive(
    st.sampled_from(ATOMS),
    lambda inner: st.sampled_from(CALLS).flatmap(
        lambda t: st.lists(inner, min_size=t.count("{}"), max_size=t.count("{}")).map(lambda a: _call(t, a))
    ),
    max_leaves=6,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    expr=expressions,
    other=expressions,
    shape=st.sampled_from(["select", "where", "order", "group", "group-order", "having"]),
)
def test_no_typed_query_reaches_the_engine_untyped(portal: Portal, expr: str, other: str, shape: str) -> None:
    params = {
        "select": {"$select": f"{expr} AS e, {other} AS o"},
        "where": {"$where": f"{expr} = {other}"},
        "order": {"$order": f"{expr}, {other} DESC"},
        "group": {"$select": f"{expr} AS e, count(*)", "$group": expr},
        "group-order": {"$select": "count(*)", "$group": f"{expr}, {other}", "$order": other},
        "having": {"$select": f"{expr} AS e, count(*)", "$group": "e", "$having": f"{other} = e"},
    }[shape]
    response = portal.get(params)
    assert response.status_code in (200, 400), (params, response.text[:300])
    if response.status_code == 400:
        assert response.json()["code"].startswith("query.soql."), response.text


def test_the_checks_above_can_fail(portal: Portal) -> None:
    """The engine-text pattern matches DuckDB's real messages, so its absence above means something."""
    cursor = portal.store.cursor().cursor()
    messages = []
    for sql in ["SELECT date_trunc('year', NULL)", "SELECT 1 ORDER BY NULL", "SELECT CAST('x' AS DOUBLE)"]:
        try:
            cursor.execute(sql).fetchall()
        except duckdb.Error as exc:
            messages.append(str(exc))
    cursor.close()
    assert len(messages) == 3 and all(ENGINE_TEXT.search(m) for m in messages), messages
