"""Writes over real HTTP: the write token, create, upsert, replace, delete, all-or-nothing, limits."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from portal_fixtures import MAX_BODY, MAX_WRITE_ROWS
from servers import serve

from btvstat_open.portal import auth
from btvstat_open.portal.app import create_portal_app
from btvstat_open.store import Store
from btvstat_open.web.settings import Settings

SONG_COLUMNS = [
    {"fieldName": "title", "name": "Title", "dataTypeName": "text"},
    {"fieldName": "year", "name": "Year", "dataTypeName": "number"},
    {"fieldName": "released", "name": "Released", "dataTypeName": "calendar_date"},
    {"fieldName": "spot", "name": "Spot", "dataTypeName": "point"},
    {"fieldName": "hit", "name": "Hit", "dataTypeName": "checkbox"},
]


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _create(portal_url: str, token: str, *, row_identifier: str | None = "title") -> str:
    payload: dict[str, Any] = {"name": "Songs " + uuid.uuid4().hex[:6], "columns": SONG_COLUMNS}
    if row_identifier:
        payload["metadata"] = {"rowIdentifier": row_identifier}
    response = requests.post(f"{portal_url}/api/views.json", data=json.dumps(payload), headers=_bearer(token))
    assert response.status_code == 200, response.text
    view = response.json()
    assert [c["fieldName"] for c in view["columns"]] == [c["fieldName"] for c in SONG_COLUMNS]
    dataset_id: str = view["id"]
    return dataset_id


def _rows(portal_url: str, dataset_id: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = requests.get(
        f"{portal_url}/resource/{dataset_id}.json", params={"$order": "title"}
    ).json()
    return rows


def test_create_answers_like_socrata(portal_url: str, write_token: str, portal_store: Store) -> None:
    dataset_id = _create(portal_url, write_token)
    assert len(dataset_id) == 9 and dataset_id[4] == "-"
    view = requests.get(f"{portal_url}/api/views/{dataset_id}.json").json()
    assert view["columns"][2]["dataTypeName"] == "floating_timestamp"  # legacy names are mapped
    assert portal_store.info(dataset_id).row_identifier == "title"
    assert _rows(portal_url, dataset_id) == []


@pytest.mark.parametrize(
    "payload",
    [
        {"columns": SONG_COLUMNS},
        {"name": "x", "columns": [{"fieldName": "a", "name": "A", "dataTypeName": "hologram"}]},
        {"name": "x", "columns": [{"fieldName": "Bad Name", "name": "A", "dataTypeName": "text"}]},
        {"name": "x", "columns": SONG_COLUMNS, "metadata": {"rowIdentifier": "nope"}},
    ],
)
def test_create_refuses_bad_definitions(portal_url: str, write_token: str, payload: dict[str, Any]) -> None:
    response = requests.post(f"{portal_url}/api/views.json", json=payload, headers=_bearer(write_token))
    assert response.status_code == 400
    assert response.json()["error"] is True


def test_upsert_by_row_identifier_with_deletes(portal_url: str, write_token: str) -> None:
    dataset_id = _create(portal_url, write_token)
    url = f"{portal_url}/resource/{dataset_id}.json"
    first = requests.post(
        url,
        json=[
            {"title": "a", "year": "1999", "released": "1999-05-01T00:00:00.000", "hit": True},
            {"title": "b", "year": 2000, "spot": {"type": "Point", "coordinates": [-73.5, 40.25]}},
            {"title": "c", "year": "3.5"},
        ],
        headers=_bearer(write_token),
    )
    assert first.json() == {
        "Errors": 0,
        "Rows Deleted": 0,
        "Rows Updated": 0,
        "By SID": 0,
        "Rows Created": 3,
        "By RowIdentifier": 0,
    }
    second = requests.post(
        url,
        json=[{"title": "a", "year": "2001"}, {"title": "c", ":deleted": True}, {"title": "d"}],
        headers=_bearer(write_token),
    ).json()
    assert (second["Rows Created"], second["Rows Updated"], second["Rows Deleted"]) == (1, 1, 1)
    assert second["By RowIdentifier"] == 2 and second["Errors"] == 0
    rows = _rows(portal_url, dataset_id)
    assert [r["title"] for r in rows] == ["a", "b", "d"]
    assert rows[0] == {"title": "a", "year": "2001", "released": "1999-05-01T00:00:00.000", "hit": True}
    assert rows[1]["spot"] == {"type": "Point", "coordinates": [-73.5, 40.25]}


def test_upsert_without_row_identifier_uses_id(portal_url: str, write_token: str) -> None:
    dataset_id = _create(portal_url, write_token, row_identifier=None)
    url = f"{portal_url}/resource/{dataset_id}.json"
    requests.post(url, json=[{"title": "x", "year": "1"}], headers=_bearer(write_token)).raise_for_status()
    row_id = requests.get(url, params={"$select": ":id"}).json()[0][":id"]
    result = requests.post(url, json=[{":id": row_id, "year": "2"}], headers=_bearer(write_token)).json()
    assert (result["Rows Updated"], result["By SID"], result["Rows Created"]) == (1, 1, 0)
    assert _rows(portal_url, dataset_id) == [{"title": "x", "year": "2"}]


def test_bad_rows_are_reported_and_nothing_is_written(portal_url: str, write_token: str) -> None:
    dataset_id = _create(portal_url, write_token)
    url = f"{portal_url}/resource/{dataset_id}.json"
    requests.post(url, json=[{"title": "keep", "year": "1"}], headers=_bearer(write_token)).raise_for_status()
    etag = requests.get(url).headers["ETag"]
    response = requests.post(
        url,
        json=[
            {"title": "ok", "year": "5"},
            {"title": "bad", "year": "abc"},
            {"title": "worse", "colour": "red"},
            {"title": "date", "released": "yesterday"},
        ],
        headers=_bearer(write_token),
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "write.bad-rows"
    assert {(e["row"], e["field"]) for e in body["data"]["errors"]} == {
        (1, "year"),
        (2, "colour"),
        (3, "released"),
    }
    assert _rows(portal_url, dataset_id) == [{"title": "keep", "year": "1"}]
    assert requests.get(url).headers["ETag"] == etag


def test_csv_body(portal_url: str, write_token: str) -> None:
    dataset_id = _create(portal_url, write_token)
    body = 'title,year,hit\n"Multi\nline",7,true\nplain,,false\n'
    response = requests.post(
        f"{portal_url}/resource/{dataset_id}.json",
        data=body.encode(),
        headers={**_bearer(write_token), "Content-Type": "text/csv"},
    )
    assert response.json()["Rows Created"] == 2
    assert _rows(portal_url, dataset_id) == [
        {"title": "Multi\nline", "year": "7", "hit": True},
        {"title": "plain", "hit": False},
    ]


def test_replace_and_delete_one_row(portal_url: str, write_token: str) -> None:
    dataset_id = _create(portal_url, write_token)
    url = f"{portal_url}/resource/{dataset_id}.json"
    auth_pair = ("anyone", write_token)
    requests.post(url, json=[{"title": "old"}], auth=auth_pair).raise_for_status()
    replaced = requests.put(url, json=[{"title": "n1"}, {"title": "n2"}], auth=auth_pair).json()
    assert (replaced["Rows Created"], replaced["Rows Deleted"]) == (2, 1)
    assert [r["title"] for r in _rows(portal_url, dataset_id)] == ["n1", "n2"]
    deleted = requests.delete(f"{portal_url}/resource/{dataset_id}/n1.json", auth=auth_pair)
    assert deleted.status_code == 200 and deleted.json()["Rows Deleted"] == 1
    assert [r["title"] for r in _rows(portal_url, dataset_id)] == ["n2"]
    missing = requests.delete(f"{portal_url}/resource/{dataset_id}/n1.json", auth=auth_pair)
    assert missing.status_code == 404 and missing.json()["code"] == "row.missing"


def test_writes_change_the_etag(portal_url: str, write_token: str) -> None:
    dataset_id = _create(portal_url, write_token)
    url = f"{portal_url}/resource/{dataset_id}.json"
    before = requests.get(url).headers["ETag"]
    requests.post(url, json=[{"title": "t"}], headers=_bearer(write_token)).raise_for_status()
    response = requests.get(url, headers={"If-None-Match": before})
    assert response.status_code == 200 and response.headers["ETag"] != before


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong-token"},
        {"Authorization": "Basic " + base64.b64encode(b"user:wrong-token").decode()},
        {"Authorization": "Basic not-base64!"},
        {"Authorization": "Digest something"},
    ],
)
def test_writes_need_the_token(portal_url: str, portal_store: Store, headers: dict[str, str]) -> None:
    before = portal_store.info("typed-sample").version
    for method, path in [
        ("POST", "/resource/typed-sample.json"),
        ("PUT", "/resource/typed-sample.json"),
        ("DELETE", "/resource/typed-sample/row-x.json"),
        ("POST", "/api/views.json"),
        ("DELETE", "/api/views/typed-sample.json"),
    ]:
        response = requests.request(method, portal_url + path, json=[{"name": "x"}], headers=headers)
        assert response.status_code == 401, (method, path)
        assert response.json()["code"] == "authentication_required"
        assert "WWW-Authenticate" not in response.headers  # never lead a browser to ask (test_portal_csrf)
    assert portal_store.info("typed-sample").version == before


def test_token_comparison_results() -> None:
    """token_matches (hmac.compare_digest on the UTF-8 bytes, whose time does not depend on where
    the tokens differ) accepts the token alone: not a prefix, an extension, another case or length."""
    token = "s3cret-tökén"
    assert auth.token_matches(token, token)
    for other in ("", "s3cret", token + "x", token.upper(), "x" * len(token), token[:-1] + "m"):
        assert not auth.token_matches(other, token), other
        assert not auth.token_matches(token, other), other


def test_near_miss_tokens_are_refused(portal_url: str, portal_store: Store, write_token: str) -> None:
    before = portal_store.info("typed-sample").version
    for near in (write_token[:-1], write_token + "x", write_token.upper(), "x" * len(write_token)):
        response = requests.post(
            f"{portal_url}/resource/typed-sample.json",
            json=[{"name": "x"}],
            headers=_bearer(near),
            timeout=30,
        )
        assert response.status_code == 401, near
    assert portal_store.info("typed-sample").version == before


def test_no_token_configured_means_no_writes(portal_store: Store) -> None:
    with serve(create_portal_app(portal_store, Settings())) as url:
        response = requests.post(f"{url}/resource/typed-sample.json", json=[], headers=_bearer("anything"))
        assert response.status_code == 401
        assert "BTVSTAT_WRITE_TOKEN" in response.json()["message"]
        assert requests.get(f"{url}/resource/typed-sample.json").status_code == 200


def test_body_and_row_limits(portal_url: str, write_token: str) -> None:
    dataset_id = _create(portal_url, write_token)
    url = f"{portal_url}/resource/{dataset_id}.json"
    big = json.dumps([{"title": "x" * 1000}] * (MAX_BODY // 1000 + 5)).encode()
    response = requests.post(url, data=big, headers=_bearer(write_token))
    assert response.status_code == 413 and response.json()["code"] == "request.too-large"

    def chunked() -> Iterator[bytes]:  # no Content-Length: the limit must hold while reading
        yield b"["
        for _ in range(MAX_BODY // 100):
            yield b'{"title": "' + b"y" * 100 + b'"},'
        yield b'{"title": "z"}]'

    streamed = requests.post(url, data=chunked(), headers=_bearer(write_token))
    assert streamed.status_code == 413
    many = json.dumps([{}] * (MAX_WRITE_ROWS + 1)).encode()
    assert len(many) < MAX_BODY
    too_many = requests.post(url, data=many, headers=_bearer(write_token))
    assert too_many.status_code == 413
    assert _rows(portal_url, dataset_id) == []


def test_drop_dataset(portal_url: str, write_token: str) -> None:
    dataset_id = _create(portal_url, write_token)
    response = requests.delete(f"{portal_url}/api/views/{dataset_id}.json", headers=_bearer(write_token))
    assert response.status_code == 200
    assert requests.get(f"{portal_url}/resource/{dataset_id}.json").status_code == 404
