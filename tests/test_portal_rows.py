"""One-row writes and truncation over HTTP: POST/PUT ``/resource/{id}/{row}``, DELETE ``/resource/{id}``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from btvstat_open.store import Store
from btvstat_open.types import Column


@pytest.fixture()
def stops(portal_store: Store) -> Iterator[str]:
    portal_store.create(
        "row-stops",
        "Stops",
        [
            Column("stop", "Stop", "text"),
            Column("riders", "Riders", "number"),
            Column("note", "Note", "text"),
        ],
        row_identifier="stop",
    )
    yield "row-stops"
    portal_store.drop("row-stops")


def _rows(portal_url: str, dataset_id: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = requests.get(
        f"{portal_url}/resource/{dataset_id}.json", params={"$order": "stop"}, timeout=30
    ).json()
    return found


def test_update_keeps_other_fields_and_replace_nulls_them(
    portal_url: str, write_token: str, stops: str
) -> None:
    auth = ("any", write_token)
    start = [{"stop": "a", "riders": 1, "note": "x"}, {"stop": "b", "riders": 2, "note": "y"}]
    assert requests.post(f"{portal_url}/resource/{stops}.json", json=start, auth=auth, timeout=30).ok
    updated = requests.post(
        f"{portal_url}/resource/{stops}/a.json", json={"riders": 5}, auth=auth, timeout=30
    )
    assert updated.status_code == 200 and updated.json()["Rows Updated"] == 1
    replaced = requests.put(f"{portal_url}/resource/{stops}/b", json=[{"riders": 7}], auth=auth, timeout=30)
    assert replaced.status_code == 200 and replaced.json()["Rows Updated"] == 1
    assert _rows(portal_url, stops) == [
        {"stop": "a", "riders": "5", "note": "x"},
        {"stop": "b", "riders": "7"},
    ]


def test_row_writes_refuse_a_conflicting_key_and_no_token(
    portal_url: str, write_token: str, stops: str
) -> None:
    conflicting = requests.post(
        f"{portal_url}/resource/{stops}/a", json={"stop": "z"}, auth=("any", write_token), timeout=30
    )
    assert conflicting.status_code == 400 and "names row 'a'" in conflicting.json()["message"]
    for method in ("post", "put"):
        anonymous = requests.request(
            method, f"{portal_url}/resource/{stops}/a", json={"riders": 1}, timeout=30
        )
        assert anonymous.status_code == 401 and anonymous.json()["error"] is True
    assert requests.delete(f"{portal_url}/resource/{stops}.json", timeout=30).status_code == 401
    assert _rows(portal_url, stops) == []


def test_delete_on_the_dataset_empties_it(
    portal_url: str, write_token: str, stops: str, portal_store: Store
) -> None:
    auth = ("any", write_token)
    rows = [{"stop": s, "riders": i} for i, s in enumerate("abc")]
    assert requests.post(f"{portal_url}/resource/{stops}.json", json=rows, auth=auth, timeout=30).ok
    emptied = requests.delete(f"{portal_url}/resource/{stops}.json", auth=auth, timeout=30)
    assert emptied.status_code == 200 and emptied.json()["Rows Deleted"] == 3
    assert _rows(portal_url, stops) == []
    assert [c.field_name for c in portal_store.info(stops).columns] == ["stop", "riders", "note"]
