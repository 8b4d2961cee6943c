"""Writes a page on another site could lead a browser to send are refused (real HTTP, real server).

A cross-site page can POST only "simple" bodies (text/plain, form fields, multipart) without a
CORS preflight, and could send Basic credentials only if a 401 had made the browser ask for them.
"""

from __future__ import annotations

import base64
import json
import uuid

import pytest
import requests

from btvstat_open.store import Store
from btvstat_open.types import Column

ROWS = json.dumps([{"name": "forged"}]).encode()


def _dataset(store: Store) -> str:
    dataset_id = "csrf-" + uuid.uuid4().hex[:8]
    store.create(dataset_id, "CSRF target", [Column("name", "Name", "text")])
    return dataset_id


def _basic(token: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"any:{token}".encode()).decode()}


@pytest.mark.parametrize("method", ["POST", "PUT"])
@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded", "multipart/form-data"],
)
def test_rows_sent_as_a_simple_cross_site_body_are_refused(
    portal_url: str, portal_store: Store, write_token: str, method: str, content_type: str
) -> None:
    dataset_id = _dataset(portal_store)
    before = portal_store.info(dataset_id).version
    response = requests.request(
        method,
        f"{portal_url}/resource/{dataset_id}.json",
        data=ROWS,
        headers={**_basic(write_token), "Content-Type": content_type},
    )
    assert response.status_code == 415, response.text
    body = response.json()
    assert body["error"] is True and body["code"] == "unsupported.media-type"
    assert "application/json" in body["message"] and "text/csv" in body["message"]
    assert portal_store.info(dataset_id).version == before


def test_a_body_without_a_type_from_a_browser_is_refused(
    portal_url: str, portal_store: Store, write_token: str
) -> None:
    """fetch() with a Blob body sends no Content-Type, but it sends Origin and Sec-Fetch-Site."""
    dataset_id = _dataset(portal_store)
    url = f"{portal_url}/resource/{dataset_id}.json"
    for marks in ({"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}):
        response = requests.post(url, data=ROWS, headers={**_basic(write_token), **marks})
        assert "content-type" not in response.request.headers
        assert response.status_code == 415, (marks, response.text)
    assert portal_store.info(dataset_id).row_count == 0


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/json", ROWS),
        ("application/json; charset=utf-8", ROWS),
        ("text/csv", b"name\nsent\n"),
        ("text/csv; charset=utf-8", b"name\nsent\n"),
        (None, ROWS),  # how sodapy sends rows: json.dumps(...) with no Content-Type, from no browser
    ],
)
def test_json_and_csv_bodies_are_written(
    portal_url: str, portal_store: Store, write_token: str, content_type: str | None, body: bytes
) -> None:
    dataset_id = _dataset(portal_store)
    headers = _basic(write_token) | ({"Content-Type": content_type} if content_type else {})
    response = requests.post(f"{portal_url}/resource/{dataset_id}.json", data=body, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["Rows Created"] == 1


@pytest.mark.parametrize("content_type", ["text/plain", "text/csv", "application/x-www-form-urlencoded"])
def test_creating_a_dataset_needs_json(portal_url: str, write_token: str, content_type: str) -> None:
    payload = json.dumps({"name": "Forged " + uuid.uuid4().hex[:6], "columns": []}).encode()
    response = requests.post(
        f"{portal_url}/api/views.json",
        data=payload,
        headers={**_basic(write_token), "Content-Type": content_type},
    )
    assert response.status_code == 415 and response.json()["code"] == "unsupported.media-type"
    assert "'Content-Type: application/json'" in response.json()["message"]
    names = [
        r["resource"]["name"]
        for r in requests.get(f"{portal_url}/api/catalog/v1?limit=1000").json()["results"]
    ]
    assert not any(n.startswith("Forged") for n in names)


def test_deletes_carry_no_body_and_need_no_type(
    portal_url: str, portal_store: Store, write_token: str
) -> None:
    dataset_id = _dataset(portal_store)
    requests.post(
        f"{portal_url}/resource/{dataset_id}.json", json=[{"name": "x", ":id": "row-aaaa-bbbb-cccc"}],
        headers=_basic(write_token),
    ).raise_for_status()  # fmt: skip
    response = requests.delete(
        f"{portal_url}/resource/{dataset_id}/row-aaaa-bbbb-cccc.json", headers=_basic(write_token)
    )
    assert response.status_code == 200 and portal_store.info(dataset_id).row_count == 0


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/resource/typed-sample.json"),
        ("PUT", "/resource/typed-sample.json"),
        ("DELETE", "/resource/typed-sample/row-x.json"),
        ("POST", "/api/views.json"),
        ("DELETE", "/api/views/typed-sample.json"),
        ("POST", "/api/views/typed-sample/publication.json"),
    ],
)
def test_no_401_asks_a_browser_for_credentials(portal_url: str, method: str, path: str) -> None:
    for headers in ({}, _basic("wrong")):
        response = requests.request(method, portal_url + path, json=[], headers=headers)
        assert response.status_code == 401
        assert "www-authenticate" not in {name.lower() for name in response.headers}
