"""SODA as scripts and harvesters call it with plain HTTP (requests): the routes no packaged client wraps.

One-row reads, SODA 3 GET queries, the dataset page ``/d/{id}`` that the catalog links to, the
Metadata API, the headers and value shapes Socrata sends (``X-SODA2-Legacy-Types``, location
``human_address`` as a JSON string), the 501 for the publishing and import APIs, and the content
types a write may carry (JSON and CSV, or none as sodapy sends; never a form or plain text).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pytest
import requests
from interop_helpers import SessionCA

from btvstat_open.store import Store
from btvstat_open.types import LOCATION_ARROW, Column

KC = "kc-311-potholes"
CASE = "2020002530"  # the first row of the real file
LEGACY_TYPES = {"calendar_date", "date", "money", "double", "percent", "html", "meta_data"}


@pytest.fixture()
def http(trust_test_ca: SessionCA) -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def test_one_row_by_row_identifier(interop_url: str, http: requests.Session) -> None:
    row = http.get(f"{interop_url}/resource/{KC}/{CASE}.json", timeout=30)
    assert row.status_code == 200, row.text
    by_query = http.get(f"{interop_url}/resource/{KC}.json", params={"case_id": CASE}, timeout=30).json()
    assert row.json() == by_query[0]  # a single object, as Socrata answers
    missing = http.get(f"{interop_url}/resource/{KC}/1.json", timeout=30)
    assert missing.status_code == 404 and missing.json()["error"] is True


def test_soda3_get_query_answers_as_post(interop_url: str, http: requests.Session) -> None:
    query = "SELECT status, count(*) AS n GROUP BY status ORDER BY status"
    url = f"{interop_url}/api/v3/views/{KC}/query.json"
    got = http.get(url, params={"query": query}, timeout=30)
    posted = http.post(url, json={"query": query}, timeout=30)
    assert got.status_code == posted.status_code == 200, got.text
    assert got.json() == posted.json() and len(got.json()) >= 2


def test_legacy_types_header_agrees_with_types(interop_url: str, http: requests.Session) -> None:
    answer = http.get(f"{interop_url}/resource/typed-sample.json", timeout=30)
    types = json.loads(answer.headers["X-SODA2-Types"])
    legacy = answer.headers["X-SODA2-Legacy-Types"]
    assert legacy in ("true", "false")
    assert (legacy == "true") == bool(LEGACY_TYPES & set(types))
    assert "floating_timestamp" in types  # SODA 2.1 names, so not legacy
    assert legacy == "false"


def test_location_human_address_is_a_json_string(interop_url: str, http: requests.Session) -> None:
    rows = http.get(f"{interop_url}/resource/typed-sample.json", timeout=30).json()
    addresses = [row["place"]["human_address"] for row in rows if "human_address" in row.get("place", {})]
    assert addresses
    for address in addresses:
        assert isinstance(address, str)
        assert json.loads(address)["address"] == "4900 E 63rd St"


@pytest.fixture()
def plain_address(portal_store: Store) -> Iterator[str]:
    """A location whose address was loaded as plain text (as a CSV column gives it)."""
    portal_store.create("plain-address", "Plain address", [Column("place", "Place", "location")])
    place = {"latitude": 39.0, "longitude": -94.5, "human_address": "4900 E 63rd St"}
    portal_store.replace("plain-address", pa.table({"place": pa.array([place], LOCATION_ARROW)}))
    yield "plain-address"
    portal_store.drop("plain-address")


def test_plain_text_address_is_sent_as_json(
    interop_url: str, http: requests.Session, plain_address: str
) -> None:
    [row] = http.get(f"{interop_url}/resource/{plain_address}.json", timeout=30).json()
    assert json.loads(row["place"]["human_address"])["address"] == "4900 E 63rd St"


def test_catalog_permalink_is_the_dataset_page(interop_url: str, http: requests.Session) -> None:
    catalog = http.get(f"{interop_url}/api/catalog/v1", params={"ids": KC}, timeout=30).json()
    [result] = [r for r in catalog["results"] if r["resource"]["id"] == KC]
    page = http.get(result["permalink"], timeout=30)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "KC 311 pothole requests" in page.text and "4,493" in page.text
    data_json = http.get(f"{interop_url}/data.json", timeout=30).json()
    landing = {
        entry["identifier"]: entry["landingPage"] for entry in data_json["dataset"] if "landingPage" in entry
    }
    assert any(url.endswith(f"/d/{KC}") for url in landing.values())


def test_metadata_api_lists_and_describes(interop_url: str, http: requests.Session) -> None:
    listing = http.get(f"{interop_url}/api/views/metadata/v1", timeout=30)
    assert listing.status_code == 200, listing.text
    ids = {entry["id"] for entry in listing.json()}
    assert {KC, "la-indicators", "typed-sample"} <= ids
    one = http.get(f"{interop_url}/api/views/metadata/v1/{KC}", timeout=30)
    assert one.status_code == 200
    assert one.json()["id"] == KC and one.json()["name"] == "KC 311 pothole requests"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/api/publishing/v1/revision/abcd-1234"),
        ("get", "/api/publishing/v1/revision/abcd-1234/0"),
        ("post", "/api/imports2"),
    ],
)
def test_publishing_and_imports_answer_501(
    interop_url: str, http: requests.Session, write_token: str, method: str, path: str
) -> None:
    answer = http.request(method, interop_url + path, auth=("publisher", write_token), timeout=30)
    assert answer.status_code == 501
    body = answer.json()
    assert body["error"] is True and body["code"] and body["message"]


@pytest.fixture()
def notes(portal_store: Store) -> Iterator[str]:
    portal_store.create("csrf-notes", "Notes", [Column("note", "Note", "text")])
    yield "csrf-notes"
    portal_store.drop("csrf-notes")


def _post(http: requests.Session, url: str, token: str, body: bytes, content_type: str | None) -> Any:
    headers = {"Content-Type": content_type} if content_type else {}
    return http.post(url, data=body, headers=headers, auth=("publisher", token), timeout=30)


def test_writes_take_json_csv_or_no_content_type(
    interop_url: str, http: requests.Session, write_token: str, notes: str, portal_store: Store
) -> None:
    url = f"{interop_url}/resource/{notes}.json"
    accepted = [
        (b'[{"note": "json"}]', "application/json"),
        (b'[{"note": "json utf-8"}]', "application/json; charset=utf-8"),
        (b"note\ncsv\n", "text/csv"),
        (b'[{"note": "untyped"}]', None),  # sodapy sends JSON bodies without a Content-Type
    ]
    for body, content_type in accepted:
        answer = _post(http, url, write_token, body, content_type)
        assert answer.status_code == 200, (content_type, answer.text)
    refused = [
        (b'[{"note": "plain"}]', "text/plain"),
        (b"note=form", "application/x-www-form-urlencoded"),
        (b'[{"note": "multipart"}]', "multipart/form-data; boundary=x"),
    ]
    for body, content_type in refused:
        answer = _post(http, url, write_token, body, content_type)
        assert answer.status_code == 415, (content_type, answer.status_code, answer.text)
        assert answer.json()["error"] is True
    notes_now = sorted(portal_store.arrow(notes).column("note").to_pylist())
    assert notes_now == ["csv", "json", "json utf-8", "untyped"]
