"""SODA details real clients rely on, over real HTTP: export headers, system fields, one-row
reads, SODA 3 GET queries, the legacy-types header, human_address, and 501s for the APIs left out.

Each checks the portal against Socrata's recorded behaviour (tests/data/real/) or sodapy itself.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
import requests
import sodapy
from portal_fixtures import KC_CSV

from btvstat_open.store import Store

KC = "kc-311-potholes"


def _real_header(path: Path) -> list[str]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return next(csv.reader(fh))


@pytest.mark.parametrize(
    "path", [f"/api/views/{KC}/rows.csv?accessType=DOWNLOAD", f"/api/v3/views/{KC}/export.csv"]
)
def test_exports_are_headed_with_display_names(portal_url: str, real_data: Path, path: str) -> None:
    response = requests.get(portal_url + path)
    assert response.status_code == 200
    records = list(csv.reader(io.StringIO(response.text)))
    # The loaded file came from Socrata's own export: the portal's export has its header back.
    assert records[0] == _real_header(real_data / KC_CSV)
    assert records[0][0] == "CASE ID"
    # The SODA headers still name the API fields.
    assert json.loads(response.headers["X-SODA2-Fields"])[0] == "case_id"
    # /resource CSV keeps field names, as Socrata's does.
    page = requests.get(f"{portal_url}/resource/{KC}.csv", params={"$limit": 1})
    assert next(csv.reader(io.StringIO(page.text)))[0] == "case_id"


def test_exclude_system_fields_false_as_sodapy_sends_it(portal_url: str, portal_store: Store) -> None:
    client = sodapy.Socrata(portal_url.removeprefix("http://"), None)
    client.uri_prefix = "http://"
    with_system = client.get(KC, limit=3, order="case_id", exclude_system_fields=False)
    without = client.get(KC, limit=3, order="case_id")
    client.close()
    assert all({":id", ":created_at", ":updated_at"} <= set(row) for row in with_system)
    assert not any(key.startswith(":") for row in without for key in row)
    assert [{k: v for k, v in row.items() if not k.startswith(":")} for row in with_system] == without
    ids = {r[0] for r in portal_store.cursor().execute(f'SELECT ":id" FROM "ds_{KC}"').fetchall()}
    assert {row[":id"] for row in with_system} <= ids
    assert with_system[0][":created_at"].endswith("Z")  # a fixed timestamp
    response = requests.get(
        f"{portal_url}/resource/{KC}.csv", params={"$$exclude_system_fields": "false", "$limit": 1}
    )
    fields = json.loads(response.headers["X-SODA2-Fields"])
    assert fields[:3] == [":id", ":created_at", ":updated_at"]
    assert json.loads(response.headers["X-SODA2-Types"])[:3] == ["text", "fixed_timestamp", "fixed_timestamp"]
    assert next(csv.reader(io.StringIO(response.text)))[:3] == [":id", ":created_at", ":updated_at"]


def test_one_row_by_row_identifier_and_by_id(portal_url: str, portal_store: Store) -> None:
    listed = requests.get(f"{portal_url}/resource/{KC}.json", params={"case_id": "2020002530"}).json()
    assert len(listed) == 1
    one = requests.get(f"{portal_url}/resource/{KC}/2020002530.json")
    assert one.status_code == 200 and one.headers["content-type"].startswith("application/json")
    assert one.json() == listed[0]  # the row object itself, not a list
    row_id = (
        portal_store.cursor().execute(f'SELECT ":id" FROM "ds_{KC}" WHERE case_id = 2020002530').fetchone()
    )
    assert row_id is not None
    by_id = requests.get(
        f"{portal_url}/resource/{KC}/{row_id[0]}.json", params={"$$exclude_system_fields": "false"}
    ).json()
    assert by_id[":id"] == row_id[0] and by_id["case_id"] == "2020002530"
    missing = requests.get(f"{portal_url}/resource/{KC}/999999999999.json")
    assert missing.status_code == 404
    body = missing.json()
    assert body["error"] is True and body["code"] == "row.missing" and body["data"] == {"id": "999999999999"}


def test_soda3_get_query_pages_like_post(portal_url: str) -> None:
    soql = "SELECT case_id, status ORDER BY case_id"
    url = f"{portal_url}/api/v3/views/{KC}/query.json"
    for number in (1, 2):
        got = requests.get(url, params={"query": soql, "pageNumber": number, "pageSize": 25})
        posted = requests.post(url, json={"query": soql, "page": {"pageNumber": number, "pageSize": 25}})
        assert got.status_code == 200, got.text
        assert got.json() == posted.json() and len(got.json()) == 25
    synthetic = requests.get(
        url, params={"query": "SELECT * ORDER BY case_id", "pageSize": 1, "includeSynthetic": "true"}
    )
    assert ":id" in synthetic.json()[0]
    bad = requests.get(url, params={"query": "SELECT *", "pageNumber": 0, "pageSize": 10})
    assert bad.status_code == 400 and bad.json()["error"] is True


def test_legacy_types_header_says_soda_2_1(portal_url: str, real_data: Path) -> None:
    # Socrata marks SODA 2.0 answers (legacy type names such as calendar_date) "true".
    recorded = (real_data / "soda-ruby-http-responses/earthquakes_50.response").read_text()
    assert "X-SODA2-Legacy-Types: true" in recorded and '"calendar_date"' in recorded
    response = requests.get(f"{portal_url}/resource/typed-sample.json")
    assert response.headers["X-SODA2-Legacy-Types"] == "false"
    assert "floating_timestamp" in json.loads(response.headers["X-SODA2-Types"])


def test_human_address_is_a_json_text(portal_url: str) -> None:
    # Socrata sends a location's human_address as a JSON text of address, city, state and zip;
    # KC's loaded CSV cell "4900 E 63rd St64130\n(39.01..., -94.52...)" kept the plain address.
    rows = requests.get(
        f"{portal_url}/resource/{KC}.json",
        params={"case_id": "2020002530", "$select": "address_with_geocode"},
    ).json()
    address = json.loads(rows[0]["address_with_geocode"]["human_address"])
    assert address == {"address": "4900 E 63rd St64130", "city": "", "state": "", "zip": ""}
    typed = requests.get(f"{portal_url}/resource/typed-sample.json", params={"name": "B"}).json()
    assert "human_address" not in typed[0]["place"]  # a null address stays out


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/publishing/v1/revision/abcd-1234"),
        ("GET", "/api/publishing/v1/source/1"),
        ("PUT", "/api/publishing/v1"),
        ("POST", "/api/imports2/?method=blob"),
        ("GET", "/api/imports2"),
    ],
)
def test_apis_left_out_answer_501(portal_url: str, write_token: str, method: str, path: str) -> None:
    response = requests.request(method, portal_url + path, headers={"Authorization": f"Bearer {write_token}"})
    assert response.status_code == 501
    body = response.json()
    assert body["error"] is True and body["code"] == "not_implemented"
    assert "POST /api/views.json" in body["message"]
