"""``/d/{id}``, the dataset's human page, over real HTTP: where the catalog's permalinks lead,
what it shows, its security headers, escaping of hostile metadata and cells, and privacy.
(tests/browser/test_dataset_page_browser.py opens it in Chromium with axe-core.)"""

from __future__ import annotations

import csv
import io
import re
import uuid
from html.parser import HTMLParser

import pyarrow as pa
import pytest
import requests
from servers import serve

from btvstat_open.portal.app import create_portal_app
from btvstat_open.store import MetadataChange, Store
from btvstat_open.types import Column
from btvstat_open.web.settings import Settings

HOSTILE = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">'


class _Page(HTMLParser):
    """The tags of a page and the text inside every element, for assertions."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(text: str) -> _Page:
    page = _Page()
    page.feed(text)
    return page


@pytest.fixture(scope="module")
def hostile_id(portal_store: Store) -> str:
    """A dataset whose name, description, tags, column name and cells are all markup."""
    dataset_id = "hostile-" + uuid.uuid4().hex[:6]
    portal_store.load(
        dataset_id,
        pa.table({"note": [HOSTILE, "plain"], "n": [1.0, 2.0]}),
        [Column("note", HOSTILE, "text", description=HOSTILE), Column("n", "N", "number")],
        name=HOSTILE,
        description=HOSTILE + "\n\nSecond paragraph.",
    )
    portal_store.update_metadata(dataset_id, MetadataChange(tags=(HOSTILE,), category=HOSTILE))
    return dataset_id


def test_catalog_permalink_leads_to_the_page(portal_url: str) -> None:
    results = requests.get(f"{portal_url}/api/catalog/v1", params={"ids": "kc-311-potholes"}).json()[
        "results"
    ]
    permalink = results[0]["permalink"]
    # Socrata's permalinks name the 4x4; the readable link is beside it.
    assert permalink == f"{portal_url}/d/{results[0]['resource']['fourByFour']}"
    assert results[0]["link"] == f"{portal_url}/d/kc-311-potholes"
    response = requests.get(permalink)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    page = _parse(response.text)
    text = " ".join(page.text)
    assert "KC 311 pothole requests" in text and "4,493" in text  # name and row count
    # Columns with types; display names, field names.
    assert "CASE ID" in text and "case_id" in text and "floating_timestamp" in text
    links = {a.get("href") for tag, a in page.tags if tag == "a"}
    assert "/api/views/kc-311-potholes/rows.csv?accessType=DOWNLOAD" in links
    json_link = next(h for h in links if h and h.startswith("/resource/kc-311-potholes.json"))
    assert len(requests.get(portal_url + json_link).json()) == 4493  # the JSON link brings every row
    assert any(h and h.startswith("/resource/kc-311-potholes.json") for h in links)
    assert any(h and h.startswith("/resource/kc-311-potholes.geojson") for h in links)  # it has a location
    # Every download link works.
    for href in [h for h in links if h and h.startswith(("/api/views/kc-311-potholes/", "/resource/"))]:
        assert requests.get(portal_url + href).status_code == 200, href
    # The sample: the first rows by :id, as the export writes them.
    export = list(
        csv.reader(io.StringIO(requests.get(f"{portal_url}/api/views/kc-311-potholes/rows.csv").text))
    )
    assert export[1][0] in text and export[2][0] in text


def test_page_structure_is_accessible(portal_url: str) -> None:
    response = requests.get(f"{portal_url}/d/kc-311-potholes")
    assert re.search(r'<html lang="en" dir="ltr">', response.text)
    page = _parse(response.text)
    names = [tag for tag, _ in page.tags]
    assert {"header", "main", "footer", "nav", "h1", "caption"} <= set(names)
    assert names.count("h1") == 1
    headers = [a for tag, a in page.tags if tag == "th"]
    assert headers and all(a.get("scope") in ("col", "row") for a in headers)
    assert ("a", {"class": "skip-link", "href": "#main"}) in page.tags
    regions = [a for tag, a in page.tags if a.get("role") == "region"]
    assert regions and all(a.get("tabindex") == "0" and a.get("aria-labelledby") for a in regions)


def test_page_runs_no_script_and_says_so(portal_url: str) -> None:
    response = requests.get(f"{portal_url}/d/kc-311-potholes")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp and "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "<script" not in response.text and " style=" not in response.text
    again = requests.get(
        f"{portal_url}/d/kc-311-potholes", headers={"If-None-Match": response.headers["ETag"]}
    )
    assert again.status_code == 304


def test_hostile_metadata_and_cells_show_as_text(portal_url: str, hostile_id: str) -> None:
    response = requests.get(f"{portal_url}/d/{hostile_id}")
    assert response.status_code == 200
    assert "<script>window" not in response.text and "<img src=x" not in response.text
    page = _parse(response.text)
    assert not any(tag in ("script", "img") for tag, _ in page.tags)
    assert not any(name.startswith("on") for _, attrs in page.tags for name in attrs)
    texts = [t.strip() for t in page.text]
    # Name (title and h1), description, column name and description, category, tag, a cell.
    assert texts.count(HOSTILE) >= 7
    assert "Second paragraph." in texts
    assert ("meta", {"name": "description", "content": HOSTILE}) in page.tags  # an attribute, escaped


def test_private_and_missing_datasets_are_404(
    portal_url: str, portal_store: Store, write_token: str, hostile_id: str
) -> None:
    portal_store.update_metadata(hostile_id, MetadataChange(public=False))
    try:
        hidden = requests.get(f"{portal_url}/d/{hostile_id}")
        assert hidden.status_code == 404 and hidden.json()["code"] == "dataset.missing"
        seen = requests.get(
            f"{portal_url}/d/{hostile_id}", headers={"Authorization": f"Bearer {write_token}"}
        )
        assert seen.status_code == 200
    finally:
        portal_store.update_metadata(hostile_id, MetadataChange(public=True))
    assert requests.get(f"{portal_url}/d/no-such-dataset").status_code == 404
    empty = "empty-" + uuid.uuid4().hex[:6]
    portal_store.create(empty, "Empty", [Column("n", "N", "number")])
    page = requests.get(f"{portal_url}/d/{empty}")
    assert page.status_code == 200 and "This dataset has no rows yet." in page.text
    assert "/resource/" + empty + ".geojson" not in page.text  # no point or location column


@pytest.mark.parametrize(
    ("max_limit", "rows", "note"), [(0, 4493, "every row"), (100, 100, "the first 100 rows")]
)
def test_json_download_follows_the_limit_setting(
    portal_store: Store, max_limit: int, rows: int, note: str
) -> None:
    with serve(create_portal_app(portal_store, Settings(max_limit=max_limit, default_limit=50))) as url:
        page = _parse(requests.get(f"{url}/d/kc-311-potholes").text)
        link = next(
            a["href"]
            for tag, a in page.tags
            if tag == "a" and (a.get("href") or "").startswith("/resource/kc-311-potholes.json")
        )
        assert link is not None
        assert len(requests.get(url + link).json()) == rows
        assert note in " ".join(page.text)


def test_page_follows_every_change(portal_url: str, portal_store: Store) -> None:
    dataset_id = "changing-" + uuid.uuid4().hex[:6]
    portal_store.load(dataset_id, pa.table({"n": [1.0]}), [Column("n", "N", "number")], name="First name")
    first = requests.get(f"{portal_url}/d/{dataset_id}")
    assert requests.get(f"{portal_url}/d/{dataset_id}").text == first.text  # kept, same version
    portal_store.update_metadata(dataset_id, MetadataChange(name="Second name"))
    assert "<h1>Second name</h1>" in requests.get(f"{portal_url}/d/{dataset_id}").text
    portal_store.upsert(dataset_id, pa.table({"n": [2.0, 3.0]}))
    assert "The first 3 of 3 rows" in requests.get(f"{portal_url}/d/{dataset_id}").text
