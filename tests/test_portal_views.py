"""Dataset metadata over real HTTP, driven by sodapy: create (unpublished) and publish,
update_metadata, set_permission (a private dataset is a 404 everywhere to anonymous readers),
and Socrata's Metadata API.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import sodapy

from btvstat_open.store import Store


def _client(portal_url: str, token: str | None = None) -> sodapy.Socrata:
    client = sodapy.Socrata(
        portal_url.removeprefix("http://"), None, username="any" if token else None, password=token
    )
    client.uri_prefix = "http://"
    return client


@pytest.fixture
def writer(portal_url: str, write_token: str) -> Iterator[sodapy.Socrata]:
    client = _client(portal_url, write_token)
    yield client
    client.close()


def _new_dataset(writer: sodapy.Socrata) -> str:
    created = writer.create(
        "Songs " + uuid.uuid4().hex[:6],
        description="test dataset",
        columns=[
            {"fieldName": "title", "name": "Title", "dataTypeName": "text"},
            {"fieldName": "year", "name": "Year", "dataTypeName": "number"},
        ],
        tags=["music"],
        category="Culture",
        row_identifier="title",
    )
    dataset_id: str = created["id"]
    writer.upsert(dataset_id, [{"title": "Hey Ya", "year": 2003}])
    return dataset_id


def test_create_is_unpublished_until_published(
    portal_url: str, writer: sodapy.Socrata, real_data: Path
) -> None:
    recorded = json.loads((real_data / "sodapy-fixtures/create_foobar.txt").read_text())
    assert recorded["publicationStage"] == "unpublished"  # what Socrata answers to create
    dataset_id = _new_dataset(writer)
    view = writer.get_metadata(dataset_id)
    assert view["publicationStage"] == "unpublished"
    assert view["tags"] == ["music"] and view["category"] == "Culture"
    # Rows of an unpublished dataset are readable here (decided: writes land where readers look).
    assert requests.get(f"{portal_url}/resource/{dataset_id}.json").json() == [
        {"title": "Hey Ya", "year": "2003"}
    ]
    published = writer.publish(dataset_id)
    assert published["id"] == dataset_id and published["publicationStage"] == "published"
    assert writer.get_metadata(dataset_id)["publicationStage"] == "published"


def test_update_metadata_as_sodapy_sends_it(
    portal_url: str, writer: sodapy.Socrata, portal_store: Store, real_data: Path
) -> None:
    dataset_id = _new_dataset(writer)
    before = writer.get_metadata(dataset_id)
    rows_updated_at = portal_store.info(dataset_id).rows_updated_at
    updated = writer.update_metadata(
        dataset_id,
        {
            "name": "Songs <b>of</b> 2003",
            "description": "Hits, by year",
            "tags": ["music", "hits"],
            "category": "Public Safety",
            "attribution": "City Archive",
            "attributionLink": "http://foo.bar.com",  # kept by Socrata, ignored here
            "columns": [{"fieldName": "year", "description": "Year of release"}],
        },
    )
    assert updated["name"] == "Songs <b>of</b> 2003" and updated["description"] == "Hits, by year"
    assert updated["tags"] == ["music", "hits"] and updated["attribution"] == "City Archive"
    # The same keys Socrata's recorded answer to an update carries.
    recorded = json.loads((real_data / "sodapy-fixtures/update_song_metadata.txt").read_text())
    assert {"id", "category", "publicationStage", "columns", "metadata", "owner"} <= set(recorded) & set(
        updated
    )
    info = portal_store.info(dataset_id)
    assert info.column("year").description == "Year of release" and info.category == "Public Safety"
    assert info.rows_updated_at == rows_updated_at  # the rows did not change
    assert info.view_last_modified > info.rows_updated_at
    assert updated["viewLastModified"] >= before["viewLastModified"]
    assert requests.get(f"{portal_url}/resource/{dataset_id}.json").json() == [
        {"title": "Hey Ya", "year": "2003"}
    ]
    # The Discovery API places them where Socrata's recorded results do.
    result = requests.get(f"{portal_url}/api/catalog/v1", params={"ids": dataset_id}).json()["results"][0]
    assert result["classification"]["domain_tags"] == ["music", "hits"]
    assert result["classification"]["domain_category"] == "Public Safety"
    assert result["resource"]["attribution"] == "City Archive"
    entries = requests.get(f"{portal_url}/data.json").json()["dataset"]
    entry = next(e for e in entries if e["identifier"].endswith("/" + dataset_id))
    assert entry["keyword"] == ["music", "hits"] and entry["theme"] == ["Public Safety"]
    # A whole view document sent back (GET, edit, PUT) works too.
    view = writer.get_metadata(dataset_id)
    view["description"] = "Edited"
    assert writer.update_metadata(dataset_id, view)["description"] == "Edited"


def test_update_metadata_errors(portal_url: str, writer: sodapy.Socrata, write_token: str) -> None:
    dataset_id = _new_dataset(writer)
    url = f"{portal_url}/api/views/{dataset_id}.json"
    auth = {"Authorization": f"Bearer {write_token}"}
    assert requests.put(url, json={"name": "x"}).status_code == 401
    bad_tags = requests.put(url, json={"tags": "music"}, headers=auth)
    assert bad_tags.status_code == 400 and "tags" in bad_tags.json()["message"]
    bad_column = requests.put(
        url, json={"name": "Changed", "columns": [{"fieldName": "nope", "description": "d"}]}, headers=auth
    )
    assert bad_column.status_code == 400 and bad_column.json()["code"] == "column.missing"
    missing = requests.put(f"{portal_url}/api/views/no-such-set.json", json={"name": "x"}, headers=auth)
    assert missing.status_code == 404 and missing.json()["code"] == "dataset.missing"
    bad_permission = requests.put(url, params={"method": "setPermission", "value": "world"}, headers=auth)
    assert bad_permission.status_code == 400
    assert writer.get_metadata(dataset_id)["name"].startswith("Songs ")  # nothing of it was written


def _anonymous_reads(portal_url: str, dataset_id: str) -> dict[str, int]:
    paths = [
        f"/resource/{dataset_id}.json",
        f"/resource/{dataset_id}.csv",
        f"/resource/{dataset_id}/Hey Ya.json",
        f"/api/views/{dataset_id}.json",
        f"/api/views/{dataset_id}/rows.csv?accessType=DOWNLOAD",
        f"/api/v3/views/{dataset_id}/export.csv",
        f"/api/v3/views/{dataset_id}/query.json?query=SELECT *",
        f"/api/views/metadata/v1/{dataset_id}",
    ]
    return {path: requests.get(portal_url + path).status_code for path in paths}


def _listed(portal_url: str, dataset_id: str, headers: dict[str, str] | None = None) -> dict[str, bool]:
    catalog = requests.get(f"{portal_url}/api/catalog/v1", params={"limit": 1000}, headers=headers).json()
    data_json = requests.get(f"{portal_url}/data.json", headers=headers).json()
    metadata = requests.get(f"{portal_url}/api/views/metadata/v1", headers=headers).json()
    return {
        "catalog": any(r["resource"]["id"] == dataset_id for r in catalog["results"]),
        "data.json": any(e["identifier"].endswith("/" + dataset_id) for e in data_json["dataset"]),
        "metadata": any(m["id"] == dataset_id for m in metadata),
    }


def test_private_dataset_is_invisible_to_anonymous_readers(
    portal_url: str, writer: sodapy.Socrata, write_token: str
) -> None:
    dataset_id = _new_dataset(writer)
    assert set(_anonymous_reads(portal_url, dataset_id).values()) == {200}
    assert _listed(portal_url, dataset_id) == {"catalog": True, "data.json": True, "metadata": True}

    response = writer.set_permission(dataset_id, "private")
    assert response.status_code == 200
    assert set(_anonymous_reads(portal_url, dataset_id).values()) == {404}
    body = requests.get(f"{portal_url}/resource/{dataset_id}.json").json()
    assert body["code"] == "dataset.missing"  # the same answer as for no dataset at all
    assert _listed(portal_url, dataset_id) == {"catalog": False, "data.json": False, "metadata": False}

    # The write token still sees it (data.json is the public catalog: never).
    auth = {"Authorization": f"Bearer {write_token}"}
    assert writer.get(dataset_id) == [{"title": "Hey Ya", "year": "2003"}]
    assert writer.get_metadata(dataset_id)["grants"] == []
    assert requests.get(f"{portal_url}/api/views/metadata/v1/{dataset_id}", headers=auth).status_code == 200
    assert _listed(portal_url, dataset_id, auth) == {"catalog": True, "data.json": False, "metadata": True}
    # What the write token reads is never kept by a shared cache (which could hand it to anyone).
    for path in (f"/resource/{dataset_id}.json", f"/api/views/{dataset_id}.json", f"/d/{dataset_id}"):
        assert requests.get(portal_url + path, headers=auth).headers["Cache-Control"] == "private, no-store"
    wrong = {"Authorization": "Bearer not-the-token"}
    assert requests.get(f"{portal_url}/resource/{dataset_id}.json", headers=wrong).status_code == 404

    writer.set_permission(dataset_id, "public")
    assert set(_anonymous_reads(portal_url, dataset_id).values()) == {200}


def test_private_dataset_is_not_downloadable_from_the_site(
    portal_store: Store, writer: sodapy.Socrata
) -> None:
    from servers import serve

    from btvstat_open.server import create_app

    dataset_id = _new_dataset(writer)
    with serve(create_app(portal_store)) as site:
        assert requests.get(f"{site}/datasets/{dataset_id}.csv").status_code == 200
        writer.set_permission(dataset_id, "private")
        for path in (f"/datasets/{dataset_id}.csv", f"/datasets/{dataset_id}.parquet", f"/d/{dataset_id}"):
            assert requests.get(site + path).status_code == 404, path


def test_permission_survives_a_reload(portal_store: Store) -> None:
    import pyarrow as pa

    from btvstat_open.store import MetadataChange
    from btvstat_open.types import Column

    columns = [Column("n", "N", "number")]
    dataset_id = "reload-" + uuid.uuid4().hex[:6]
    portal_store.load(dataset_id, pa.table({"n": [1.0]}), columns)
    portal_store.update_metadata(dataset_id, MetadataChange(public=False, tags=("a",)))
    again = portal_store.load(dataset_id, pa.table({"n": [2.0]}), columns)
    assert again.public is False and again.tags == ("a",)  # reloading never publishes a private dataset
    portal_store.drop(dataset_id)


def test_metadata_api_documents(portal_url: str, writer: sodapy.Socrata, write_token: str) -> None:
    dataset_id = _new_dataset(writer)
    one = requests.get(f"{portal_url}/api/views/metadata/v1/{dataset_id}")
    assert one.status_code == 200
    doc: dict[str, Any] = one.json()
    expected_keys = {
        "id", "name", "description", "attribution", "category", "tags", "createdAt", "dataUpdatedAt",
        "metadataUpdatedAt", "updatedAt", "dataUri", "webUri", "domain", "license", "provenance",
        "customFields", "hideFromCatalog", "hideFromDataJson",
    }  # fmt: skip
    assert expected_keys <= set(doc)
    assert doc["id"] == dataset_id and doc["tags"] == ["music"] and doc["category"] == "Culture"
    assert doc["dataUri"] == f"{portal_url}/resource/{dataset_id}"
    assert doc["webUri"] == f"{portal_url}/d/{dataset_id}"
    assert doc["createdAt"].endswith("+0000") and doc["createdAt"][10] == "T"
    listed = requests.get(f"{portal_url}/api/views/metadata/v1").json()
    assert [m["id"] for m in listed] == sorted(m["id"] for m in listed)
    assert {"kc-311-potholes", dataset_id} <= {m["id"] for m in listed}
    assert requests.get(f"{portal_url}/api/views/metadata/v1", params={"limit": 1}).json() == listed[:1]
    # PATCH changes the named fields only.
    auth = {"Authorization": f"Bearer {write_token}"}
    patched = requests.patch(
        f"{portal_url}/api/views/metadata/v1/{dataset_id}", json={"attribution": "Parks"}, headers=auth
    )
    assert patched.status_code == 200
    assert patched.json()["attribution"] == "Parks" and patched.json()["tags"] == ["music"]
    missing = requests.get(f"{portal_url}/api/views/metadata/v1/no-such-set")
    assert missing.status_code == 404 and missing.json()["code"] == "dataset.missing"
