"""Metadata, discovery and DCAT-US over real HTTP."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import requests
from referencing import Registry, Resource

from btvstat_open.store import Store

SCHEMAS = Path(__file__).parent / "data" / "schemas" / "dcat-us-1.1"


def test_view_metadata_has_socrata_shape(portal_url: str, portal_store: Store) -> None:
    info = portal_store.info("kc-311-potholes")
    response = requests.get(f"{portal_url}/api/views/kc-311-potholes.json")
    assert response.status_code == 200
    view = response.json()
    assert view["id"] == "kc-311-potholes" and view["name"] == info.name
    assert view["assetType"] == "dataset"
    assert [c["fieldName"] for c in view["columns"]] == [c.field_name for c in info.columns]
    assert [c["dataTypeName"] for c in view["columns"]] == [c.data_type for c in info.columns]
    assert [c["name"] for c in view["columns"]] == [c.name for c in info.columns]
    assert [c["position"] for c in view["columns"]] == list(range(1, len(info.columns) + 1))
    for key in ("rowsUpdatedAt", "viewLastModified", "createdAt"):
        assert isinstance(view[key], int) and view[key] > 1_500_000_000
    by_id = {c["id"]: c["fieldName"] for c in view["columns"]}
    assert by_id[view["rowIdentifierColumnId"]] == "case_id" == info.row_identifier
    assert view["metadata"]["rowIdentifier"] == view["rowIdentifierColumnId"]
    cached = requests.get(
        f"{portal_url}/api/views/kc-311-potholes.json", headers={"If-None-Match": response.headers["ETag"]}
    )
    assert cached.status_code == 304


def test_view_without_json_suffix_and_without_row_identifier(portal_url: str) -> None:
    view = requests.get(f"{portal_url}/api/views/la-indicators").json()
    assert view["id"] == "la-indicators"
    assert "rowIdentifierColumnId" not in view


def _settled(read: Callable[[], Any], expected: Callable[[], Any], key: Callable[[Any], Any]) -> Any:
    """``read()`` once what it lists matches ``expected()`` (other tests on this session's store may
    have written a moment ago, and the server's version lookups refresh every 0.25 s), or after 10 s."""
    deadline = time.monotonic() + 10
    while True:
        got = read()
        if key(got) == expected() or time.monotonic() > deadline:
            return got
        time.sleep(0.1)


def _listed(store: Store) -> list[str]:
    """The datasets anonymous readers are shown: public and published (other tests on this
    session's store make private and unpublished ones)."""
    return [i.id for i in store.datasets() if i.public and i.published]


def test_catalog_lists_every_dataset(portal_url: str, portal_store: Store) -> None:
    body = _settled(
        lambda: requests.get(f"{portal_url}/api/catalog/v1").json(),
        lambda: _listed(portal_store),
        lambda b: [r["resource"]["id"] for r in b["results"]],
    )
    ids = [r["resource"]["id"] for r in body["results"]]
    # every public, published dataset is listed, and nothing the store does not hold
    assert set(_listed(portal_store)) <= set(ids) <= {i.id for i in portal_store.datasets()}
    assert body["resultSetSize"] == len(ids)
    kc = next(r for r in body["results"] if r["resource"]["id"] == "kc-311-potholes")
    info = portal_store.info("kc-311-potholes")
    assert kc["resource"]["columns_field_name"] == [c.field_name for c in info.columns]
    assert kc["resource"]["columns_datatype"] == [c.data_type for c in info.columns]
    assert kc["resource"]["type"] == "dataset"
    assert kc["metadata"]["domain"] == portal_url.removeprefix("http://")
    assert kc["link"].startswith(portal_url)


def test_catalog_search_ids_and_paging(portal_url: str) -> None:
    url = f"{portal_url}/api/catalog/v1"
    found = requests.get(url, params={"q": "pothole"}).json()
    assert [r["resource"]["id"] for r in found["results"]] == ["kc-311-potholes"]
    assert requests.get(url, params={"q": "no such words anywhere"}).json()["resultSetSize"] == 0
    picked = requests.get(url, params=[("ids", "la-indicators"), ("ids", "typed-sample")]).json()
    assert sorted(r["resource"]["id"] for r in picked["results"]) == ["la-indicators", "typed-sample"]
    everything = requests.get(url).json()
    page = requests.get(url, params={"limit": 1, "offset": 1}).json()
    assert page["resultSetSize"] == everything["resultSetSize"]
    assert page["results"] == everything["results"][1:2]
    bad = requests.get(url, params={"limit": "many"})
    assert bad.status_code == 400 and bad.json()["error"] is True


def _validator() -> jsonschema.Draft4Validator:
    registry: Registry[Any] = Registry()
    schemas: dict[str, Any] = {}
    for path in SCHEMAS.glob("*.json"):
        schema = json.loads(path.read_text(encoding="utf-8"))
        if path.name == "dataset.json":
            # Federal-only fields, left out by state and local catalogs (see SOURCE.md).
            schema["required"] = [r for r in schema["required"] if r not in ("bureauCode", "programCode")]
        schemas[path.name] = schema
        resource = Resource.from_contents(schema)
        registry = registry.with_resource(schema["id"].rstrip("#"), resource)
    return jsonschema.Draft4Validator(schemas["catalog.json"], registry=registry)


def test_data_json_is_valid_dcat_us(portal_url: str, portal_store: Store) -> None:
    document = _settled(
        lambda: requests.get(f"{portal_url}/data.json").json(),
        lambda: {i.name for i in portal_store.datasets() if i.id in _listed(portal_store)},
        lambda d: {e["title"] for e in d["dataset"]},
    )
    errors = sorted(_validator().iter_errors(document), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors[:5]]
    assert document["@type"] == "dcat:Catalog"
    titles = {d["title"] for d in document["dataset"]}
    listed = {i.name for i in portal_store.datasets() if i.id in _listed(portal_store)}
    assert listed <= titles <= {i.name for i in portal_store.datasets()}
    for entry in document["dataset"]:
        assert "bureauCode" not in entry and "programCode" not in entry
        csv_url = next(d["downloadURL"] for d in entry["distribution"] if d["mediaType"] == "text/csv")
        assert requests.get(csv_url).status_code == 200


def test_schema_validation_catches_a_broken_entry(portal_url: str) -> None:
    document = requests.get(f"{portal_url}/data.json").json()
    del document["dataset"][0]["contactPoint"]
    assert list(_validator().iter_errors(document))
