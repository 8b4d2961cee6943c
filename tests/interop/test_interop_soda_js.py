"""soda-js (Socrata's JavaScript client, from npm), unchanged under node, against the portal over HTTPS.

Consumer: the query builder's clauses (select, where as text and as objects, group, having,
order, limit, offset, q, a whole SoQL query) give the rows DuckDB finds in the real file.
Producer: add, upsert (with ``:deleted``), delete a row, update and replace a row, truncate,
each with the write token, and a wrong token changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from interop_helpers import SessionCA, domain_of, run_soda_js
from portal_fixtures import kc_file

from btvstat_open.store import Store
from btvstat_open.types import Column

KC = "kc-311-potholes"


def query(*calls: tuple[str, list[Any]]) -> dict[str, Any]:
    """A consumer step: soda-js query builder calls, in order, on the KC dataset."""
    return {"consumer": {"dataset": KC, "calls": [[name, args] for name, args in calls]}}


def consume(interop_url: str, session_ca: SessionCA, *steps: dict[str, Any]) -> list[dict[str, Any]]:
    outcomes = run_soda_js(domain_of(interop_url), session_ca.ca_pem, list(steps))
    for outcome in outcomes:
        assert outcome["event"] == "success" and outcome["status"] == 200, outcome
        assert outcome["url"].startswith(interop_url + "/resource/kc-311-potholes.json")
    return outcomes


def test_consumer_select_where_order_limit_offset(
    interop_url: str, session_ca: SessionCA, real_data: Path
) -> None:
    [outcome] = consume(
        interop_url,
        session_ca,
        query(
            ("select", ["case_id", "status", "days_to_close"]),
            ("where", [{"status": "RESOL"}]),
            ("where", ["days_to_close > 30"]),
            ("order", ["days_to_close desc", "case_id"]),
            ("limit", [15]),
            ("offset", [5]),
        ),
    )
    expected = kc_file(
        real_data,
        'SELECT "CASE ID", STATUS, "DAYS TO CLOSE" FROM kc WHERE STATUS = \'RESOL\' AND "DAYS TO CLOSE" > 30 '
        'ORDER BY "DAYS TO CLOSE" DESC, "CASE ID" LIMIT 15 OFFSET 5',
    )
    assert len(expected) == 15
    assert [(int(r["case_id"]), r["status"], int(r["days_to_close"])) for r in outcome["body"]] == expected
    assert json.loads(outcome["headers"]["x-soda2-fields"]) == ["case_id", "status", "days_to_close"]


def test_consumer_group_having_and_number_literal(
    interop_url: str, session_ca: SessionCA, real_data: Path
) -> None:
    [outcome] = consume(
        interop_url,
        session_ca,
        query(
            ("select", ["neighborhood", "count(*) AS n"]),
            ("where", [{"council_district": 5}]),
            ("group", ["neighborhood"]),
            ("having", ["count(*) >= 20"]),
            ("order", ["neighborhood"]),
        ),
    )
    expected = kc_file(
        real_data,
        'SELECT NEIGHBORHOOD, count(*) FROM kc WHERE "COUNCIL DISTRICT" = 5 GROUP BY NEIGHBORHOOD '
        "HAVING count(*) >= 20 ORDER BY NEIGHBORHOOD NULLS FIRST",
    )
    assert len(expected) > 3
    assert [(r.get("neighborhood"), int(r["n"])) for r in outcome["body"]] == expected


def test_consumer_soql_and_full_text(interop_url: str, session_ca: SessionCA, real_data: Path) -> None:
    soql, text = consume(
        interop_url,
        session_ca,
        query(("soql", ["SELECT case_id, zip_code WHERE zip_code = '64130' ORDER BY case_id LIMIT 7"])),
        query(("q", ["Swope"]), ("limit", [50])),
    )
    expected = kc_file(
        real_data, 'SELECT "CASE ID", "ZIP CODE" FROM kc WHERE "ZIP CODE" = 64130 ORDER BY 1 LIMIT 7'
    )
    assert [(int(r["case_id"]), int(r["zip_code"])) for r in soql["body"]] == expected
    assert text["body"]
    assert all(any("swope" in str(value).lower() for value in row.values()) for row in text["body"])


def test_consumer_sees_errors_in_socrata_shape(interop_url: str, session_ca: SessionCA) -> None:
    [outcome] = run_soda_js(
        domain_of(interop_url), session_ca.ca_pem, [query(("where", ["no_such_field > 1"]))]
    )
    assert (outcome["event"], outcome["status"]) == ("error", 400)
    assert outcome["body"]["error"] is True and "no_such_field" in outcome["body"]["message"]


@pytest.fixture()
def tallies(portal_store: Store, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh dataset with a text row identifier, for the producer to write to."""
    dataset_id = "js-" + request.node.name.replace("_", "-")[-20:].strip("-")
    portal_store.create(
        dataset_id,
        "Tallies",
        [Column("name", "Name", "text"), Column("n", "N", "number")],
        row_identifier="name",
    )
    yield dataset_id
    portal_store.drop(dataset_id)


def produce(dataset: str, op: str, data: Any = None, row_id: str | None = None) -> dict[str, Any]:
    """A producer step: ``producer.operation().withDataset(dataset)[op]([row_id,] data)``."""
    step: dict[str, Any] = {"dataset": dataset, "op": op, "data": data}
    if row_id is not None:
        step["id"] = row_id
    return {"producer": step}


def read_all(dataset: str) -> dict[str, Any]:
    return {"consumer": {"dataset": dataset, "calls": [["order", ["name"]]]}}


def test_producer_add_upsert_delete(
    interop_url: str, session_ca: SessionCA, write_token: str, tallies: str
) -> None:
    outcomes = run_soda_js(
        domain_of(interop_url),
        session_ca.ca_pem,
        [
            produce(tallies, "add", [{"name": "a", "n": 1}, {"name": "b", "n": 2}, {"name": "c", "n": 3}]),
            produce(
                tallies, "upsert", [{"name": "a", "n": 10}, {"name": "b", ":deleted": True}, {"name": "d"}]
            ),
            produce(tallies, "delete", row_id="c"),
            read_all(tallies),
        ],
        username="publisher",
        password=write_token,
    )
    added, upserted, deleted, rows = outcomes
    assert [o["status"] for o in outcomes] == [200, 200, 200, 200], outcomes
    assert (added["body"]["Rows Created"], added["body"]["Errors"]) == (3, 0)
    assert (upserted["body"]["Rows Created"], upserted["body"]["Rows Updated"]) == (1, 1)
    assert upserted["body"]["Rows Deleted"] == 1
    assert deleted["body"]["Rows Deleted"] == 1
    assert rows["body"] == [{"name": "a", "n": "10"}, {"name": "d"}]


def test_producer_update_replace_and_truncate(
    interop_url: str, session_ca: SessionCA, write_token: str, tallies: str
) -> None:
    """soda-js's row operations: POST/PUT ``/resource/{id}/{row}`` and DELETE ``/resource/{id}``."""
    outcomes = run_soda_js(
        domain_of(interop_url),
        session_ca.ca_pem,
        [
            produce(tallies, "upsert", [{"name": "a", "n": 1}, {"name": "b", "n": 2}]),
            produce(tallies, "update", {"n": 5}, row_id="a"),
            produce(tallies, "replace", {"name": "b", "n": 7}, row_id="b"),
            read_all(tallies),
            produce(tallies, "truncate"),
            read_all(tallies),
        ],
        username="publisher",
        password=write_token,
    )
    assert [(o["event"], o["status"]) for o in outcomes] == [("success", 200)] * 6, outcomes
    assert outcomes[3]["body"] == [{"name": "a", "n": "5"}, {"name": "b", "n": "7"}]
    assert outcomes[5]["body"] == []


def test_producer_with_a_wrong_token_changes_nothing(
    interop_url: str, session_ca: SessionCA, tallies: str, portal_store: Store
) -> None:
    outcomes = run_soda_js(
        domain_of(interop_url),
        session_ca.ca_pem,
        [produce(tallies, "upsert", [{"name": "x", "n": 1}]), produce(tallies, "delete", row_id="x")],
        username="publisher",
        password="not-the-token",
    )
    assert [(o["event"], o["status"]) for o in outcomes] == [("error", 401)] * 2, outcomes
    assert "write token" in outcomes[0]["body"]["message"]
    assert portal_store.arrow(tallies).num_rows == 0


def test_a_client_that_checks_the_four_by_four_form_reads_by_it(
    interop_url: str, session_ca: SessionCA, portal_store: Store
) -> None:
    """soda-js behind the check Socrata clients make on ids: the 4x4 passes and reads the same rows."""
    fxf = portal_store.info(KC).four_by_four
    calls = [["select", ["case_id", "status"]], ["order", ["case_id"]], ["limit", [7]]]
    by_fxf, by_name = run_soda_js(
        domain_of(interop_url),
        session_ca.ca_pem,
        [
            {"consumer": {"dataset": fxf, "calls": calls, "fourByFour": True}},
            {"consumer": {"dataset": KC, "calls": calls}},
        ],
    )
    assert by_fxf["status"] == 200 and by_fxf["url"].startswith(f"{interop_url}/resource/{fxf}.json")
    assert by_fxf["body"] == by_name["body"] and len(by_fxf["body"]) == 7
    # The check is real: the readable id is refused before any request.
    with pytest.raises(AssertionError, match="not a Socrata dataset id"):
        run_soda_js(
            domain_of(interop_url),
            session_ca.ca_pem,
            [{"consumer": {"dataset": KC, "calls": calls, "fourByFour": True}}],
        )
