"""SODA 3 query and export routes over real HTTP."""

from __future__ import annotations

import requests
from servers import serve

from btvstat_open.portal.app import create_portal_app
from btvstat_open.settings import Settings
from btvstat_open.store import Store


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
    with serve(create_portal_app(portal_store, Settings(soda3_require_app_token=True))) as url:
        refused = requests.get(f"{url}/api/v3/views/typed-sample/export.csv")
        assert refused.status_code == 403 and refused.json()["error"] is True
        assert "X-App-Token" in refused.json()["message"]
        accepted = requests.get(f"{url}/api/v3/views/typed-sample/export.csv", headers={"X-App-Token": "any"})
        assert accepted.status_code == 200
        assert requests.get(f"{url}/resource/typed-sample.json").status_code == 200  # SODA 2 stays open
