"""sodapy, unchanged, over HTTPS (its default), through every method it has but the non-data files.

tests/test_sodapy.py checks reads (get with every SoQL clause, get_all, CSV) against DuckDB and
the create/upsert/replace/delete cycle; this file adds what a publisher and an analyst do next:
fetching a whole dataset in one call, system fields, publishing, metadata updates, permissions,
discovery filters, wrong credentials, and the clear 501 for non-data files.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from interop_helpers import SessionCA, domain_of
from portal_fixtures import kc_file
from sodapy import Socrata

KC = "kc-311-potholes"
COLUMNS = [
    {"fieldName": "stop", "name": "Stop", "dataTypeName": "text"},
    {"fieldName": "riders", "name": "Riders", "dataTypeName": "number"},
]


def sodapy_client(interop_url: str, password: str | None = None) -> Socrata:
    """A client as its users make one: the domain, no app token, and a login for writes."""
    logging.getLogger().setLevel(logging.ERROR)  # sodapy warns about the missing app token
    if password is None:
        return Socrata(domain_of(interop_url), None)
    return Socrata(domain_of(interop_url), None, username="publisher", password=password)


@pytest.fixture()
def publisher(interop_url: str, write_token: str, trust_test_ca: SessionCA) -> Iterator[Socrata]:
    with sodapy_client(interop_url, write_token) as client:
        yield client


@pytest.fixture()
def anonymous(interop_url: str, trust_test_ca: SessionCA) -> Iterator[Socrata]:
    with sodapy_client(interop_url) as client:
        yield client


@pytest.fixture()
def ridership(publisher: Socrata) -> Iterator[dict[str, Any]]:
    """A dataset sodapy created (and deletes afterwards)."""
    created: dict[str, Any] = publisher.create(
        "Bus ridership", description="Riders per stop", columns=COLUMNS, row_identifier="stop"
    )
    yield created
    publisher.delete(created["id"])


def test_get_a_whole_dataset_in_one_call(anonymous: Socrata, real_data: Path) -> None:
    """``get(id, limit=100000)``: SODA 2.1 has no cap, and scripts fetch everything this way."""
    rows = anonymous.get(KC, select="case_id", order="case_id", limit=100000)
    expected = kc_file(real_data, 'SELECT "CASE ID" FROM kc ORDER BY 1')
    assert [int(r["case_id"]) for r in rows] == [e[0] for e in expected]


def test_get_with_system_fields(anonymous: Socrata) -> None:
    """``exclude_system_fields=False`` (sent as ``$$exclude_system_fields=False``) adds :id and stamps."""
    plain = anonymous.get(KC, order=":id", limit=3)
    system = anonymous.get(KC, order=":id", limit=3, exclude_system_fields=False)
    assert all(not key.startswith(":") for row in plain for key in row)
    for without, with_system in zip(plain, system, strict=True):
        assert {":id", ":created_at", ":updated_at"} <= set(with_system)
        assert {k: v for k, v in with_system.items() if not k.startswith(":")} == without
    assert len({row[":id"] for row in system}) == 3


def test_create_is_unpublished_until_publish(publisher: Socrata, ridership: dict[str, Any]) -> None:
    assert ridership["publicationStage"] == "unpublished"
    published = publisher.publish(ridership["id"])
    assert published["id"] == ridership["id"] and published["publicationStage"] == "published"
    assert publisher.get_metadata(ridership["id"])["publicationStage"] == "published"


def test_update_metadata(publisher: Socrata, anonymous: Socrata, ridership: dict[str, Any]) -> None:
    dataset_id = ridership["id"]
    fields = {
        "name": "Bus ridership by stop",
        "description": "Weekday boardings, counted by the farebox",
        "tags": ["transit", "buses"],
        "category": "Transportation",
        "attribution": "City Transit Authority",
    }
    updated = publisher.update_metadata(dataset_id, fields)
    assert {key: updated[key] for key in fields} == fields
    assert [c["fieldName"] for c in updated["columns"]] == ["stop", "riders"]
    seen = anonymous.get_metadata(dataset_id)
    assert {key: seen[key] for key in fields} == fields
    found = anonymous.datasets(tags=["transit"])
    assert [d["resource"]["id"] for d in found] == [dataset_id]
    assert found[0]["resource"]["attribution"] == "City Transit Authority"
    assert found[0]["classification"]["domain_category"] == "Transportation"


def test_update_column_descriptions(publisher: Socrata, ridership: dict[str, Any]) -> None:
    dataset_id = ridership["id"]
    columns = [dict(c, description=f"What {c['fieldName']} means") for c in ridership["columns"]]
    updated = publisher.update_metadata(dataset_id, {"columns": columns})
    described = {c["fieldName"]: c["description"] for c in updated["columns"]}
    assert described == {"stop": "What stop means", "riders": "What riders means"}
    again = publisher.get_metadata(dataset_id)
    assert {c["fieldName"]: c["description"] for c in again["columns"]} == described


def test_set_permission_private_hides_the_dataset(
    publisher: Socrata, anonymous: Socrata, ridership: dict[str, Any]
) -> None:
    dataset_id = ridership["id"]
    publisher.upsert(dataset_id, [{"stop": "Main & 1st", "riders": 120}])
    publisher.set_permission(dataset_id, "private")
    for read in (
        lambda: anonymous.get(dataset_id),
        lambda: anonymous.get_metadata(dataset_id),
    ):
        with pytest.raises(requests.exceptions.HTTPError) as denied:
            read()
        assert denied.value.response.status_code in (403, 404)
        assert "Main & 1st" not in denied.value.response.text
    assert dataset_id not in {d["resource"]["id"] for d in anonymous.datasets()}
    assert publisher.get(dataset_id) == [{"stop": "Main & 1st", "riders": "120"}]
    publisher.set_permission(dataset_id, "public")
    assert anonymous.get(dataset_id) == [{"stop": "Main & 1st", "riders": "120"}]
    assert dataset_id in {d["resource"]["id"] for d in anonymous.datasets()}


def test_datasets_order_ids_and_search(anonymous: Socrata) -> None:
    """sodapy always sends ``domains=<its domain>``; order, ids and q narrow the answer."""
    by_name = anonymous.datasets(order="name")
    names = [d["resource"]["name"] for d in by_name]
    assert len(names) >= 3 and names == sorted(names, key=str.lower)
    backwards = [d["resource"]["name"] for d in anonymous.datasets(order="name DESC")]
    assert backwards == names[::-1]
    some = anonymous.datasets(ids=[KC, "la-indicators"])
    assert sorted(d["resource"]["id"] for d in some) == ["kc-311-potholes", "la-indicators"]
    searched = {d["resource"]["id"] for d in anonymous.datasets(q="pothole")}
    assert KC in searched and not searched & {"la-indicators", "typed-sample"}
    assert len(anonymous.datasets(limit=2)) == 2


def test_wrong_credentials_write_nothing(interop_url: str, trust_test_ca: SessionCA) -> None:
    with sodapy_client(interop_url, "not-the-token") as intruder:
        with pytest.raises(requests.exceptions.HTTPError) as denied:
            intruder.upsert(KC, [{"case_id": "1", "status": "HACKED"}])
        assert denied.value.response.status_code in (401, 403)
        assert "Basic" not in denied.value.response.headers.get("WWW-Authenticate", "")
        with pytest.raises(requests.exceptions.HTTPError):
            intruder.create("Nope", columns=COLUMNS)
        assert intruder.get(KC, status="HACKED") == []


def test_non_data_files_answer_501(publisher: Socrata) -> None:
    with pytest.raises(requests.exceptions.HTTPError) as refused:
        publisher.create_non_data_file({"method": "blob"}, {"file": ("notes.txt", b"hello")})
    assert refused.value.response.status_code == 501
    body = refused.value.response.json()
    assert body["error"] is True and body["code"] and "imports2" in body["message"]


def test_close_ends_the_session(interop_url: str, trust_test_ca: SessionCA) -> None:
    client = sodapy_client(interop_url)
    assert client.get(KC, limit=1)
    pools = client.session.get_adapter("https://").poolmanager.pools
    assert len(pools) == 1
    client.close()
    assert len(pools) == 0
