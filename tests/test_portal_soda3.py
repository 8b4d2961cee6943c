"""SODA 3 query and export routes (over real HTTP, and in process for the settings' own portals)."""

from __future__ import annotations

import requests
from portal_fixtures import MAX_BODY
from servers import in_process

from btvstat_open.portal.app import create_portal_app
from btvstat_open.store import Store
from btvstat_open.web.settings import Settings


def _query(portal_url: str, body: dict[str, object], **kwargs: object) -> requests.Response:
    return requests.post(f"{portal_url}/api/v3/views/kc-311-potholes/query.json", json=body, **kwargs)  # type: ignore[arg-type]


def test_query_pages_match_soda2(portal_url: str) -> None:
    soql = "SELECT case_id, status, days_to_close WHERE type = 'Pothole' ORDER BY case_id"
    pages = [
        _query(portal_url, {"query": soql, "page": {"pageNumber": n, "pageSize": 50}}).json()
        for n in (1, 2, 3)
    ]
    soda2 = requests.get(
        f"{portal_url}/resource/kc-311-potholes.json",
        params={
            "$select": "case_id, status, days_to_close",
            "$where": "type = 'Pothole'",
            "$order": "case_id",
            "$limit": 150,
        },
    ).json()
    assert [r for page in pages for r in page] == soda2
    assert all(len(page) == 50 for page in pages)


def test_query_without_page_and_headers(portal_url: str) -> None:
    response = _query(portal_url, {"query": "SELECT status, count(*) AS n GROUP BY status ORDER BY status"})
    assert response.status_code == 200
    assert response.headers["X-SODA2-Fields"] == '["status", "n"]'
    rows = response.json()
    assert [r["status"] for r in rows] == sorted(r["status"] for r in rows)
    total = sum(int(r["n"]) for r in rows)
    count = requests.get(
        f"{portal_url}/resource/kc-311-potholes.json", params={"$select": "count(*) AS n"}
    ).json()
    assert str(total) == count[0]["n"]


def test_query_errors(portal_url: str) -> None:
    bad_soql = _query(portal_url, {"query": "SELECT nope"})
    assert bad_soql.status_code == 400 and bad_soql.json()["code"] == "query.soql.no-such-column"
    bad_page = _query(portal_url, {"query": "SELECT *", "page": {"pageNumber": 0, "pageSize": 10}})
    assert bad_page.status_code == 400 and bad_page.json()["error"] is True
    not_json = requests.post(
        f"{portal_url}/api/v3/views/kc-311-potholes/query.json",
        data=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    assert not_json.status_code == 400 and not_json.json()["error"] is True
    missing = requests.post(f"{portal_url}/api/v3/views/nope/query.json", json={"query": "SELECT *"})
    assert missing.status_code == 404 and missing.json()["code"] == "dataset.missing"


def test_export_equals_the_soda2_export(portal_url: str) -> None:
    soda3 = requests.get(f"{portal_url}/api/v3/views/la-indicators/export.csv")
    soda2 = requests.get(f"{portal_url}/api/views/la-indicators/rows.csv", params={"accessType": "DOWNLOAD"})
    assert soda3.status_code == 200 and soda3.headers["content-type"].startswith("text/csv")
    assert soda3.content == soda2.content


def test_app_token_can_be_required(portal_store: Store) -> None:
    with in_process(create_portal_app(portal_store, Settings(soda3_require_app_token=True))) as (url, http):
        refused = http.get(f"{url}/api/v3/views/typed-sample/export.csv")
        assert refused.status_code == 403 and refused.json()["error"] is True
        assert "X-App-Token" in refused.json()["message"]
        accepted = http.get(f"{url}/api/v3/views/typed-sample/export.csv", headers={"X-App-Token": "any"})
        assert accepted.status_code == 200
        assert http.get(f"{url}/resource/typed-sample.json").status_code == 200  # SODA 2 stays open


def test_pages_past_the_row_cap_are_served(portal_store: Store) -> None:
    """The cap bounds one page, not the query: a paged pull reads every row."""
    with in_process(create_portal_app(portal_store, Settings(max_limit=1000))) as (url, http):
        soql = "SELECT case_id ORDER BY case_id"
        pages = []
        for number in range(1, 7):
            body = {"query": soql, "page": {"pageNumber": number, "pageSize": 1000}}
            response = http.post(f"{url}/api/v3/views/kc-311-potholes/query.json", json=body)
            assert response.status_code == 200
            pages.append(response.json())
        assert [len(p) for p in pages] == [1000, 1000, 1000, 1000, 493, 0]
        ids = [row["case_id"] for page in pages for row in page]
        assert len(set(ids)) == 4493
        too_big = {"query": soql, "page": {"pageNumber": 1, "pageSize": 1001}}
        refused = http.post(f"{url}/api/v3/views/kc-311-potholes/query.json", json=too_big)
        assert refused.status_code == 400


def test_query_bodies_are_bounded_and_must_be_objects(portal_url: str, portal_store: Store) -> None:
    url = f"{portal_url}/api/v3/views/kc-311-potholes/query.json"
    padding = "x" * (MAX_BODY + 10)
    too_big = requests.post(url, json={"query": "SELECT case_id", "padding": padding})
    assert too_big.status_code == 413 and too_big.json()["code"] == "request.too-large"
    listed = requests.post(url, json=["SELECT case_id"])
    assert listed.status_code == 400 and listed.json()["code"] == "query.bad-body"
    empty = requests.post(url, data=b"")
    assert empty.status_code == 200  # no body: SELECT * (up to the cap, above this dataset's size)
    assert len(empty.json()) == portal_store.info("kc-311-potholes").row_count
