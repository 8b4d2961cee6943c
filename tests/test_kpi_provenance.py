"""A KPI page says where its data comes from: the dataset, the portal (title and kind) and a link,
escaped; a file portal's data links to the download of the local copy and names the file."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
import requests
from demo_store import demo_store
from markupsafe import escape
from servers import mounted

from btvstat_open.server import create_app
from catalog import load_catalog
from catalog.demo import DEMO_DIR

HTTP = requests.Session()  # reaches the site's app in process (see the site fixture)
HOSTILE_TITLE = 'City <script>alert("x")</script> & Data'


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("provenance")
    catalog_dir = root / "catalog"
    shutil.copytree(DEMO_DIR, catalog_dir)
    settings = (catalog_dir / "catalog.yaml").read_text()
    settings = settings.replace(
        "portals:\n",
        f"portals:\n  city:\n    url: 'https://data.example.gov/?q=<b>'\n    title: '{HOSTILE_TITLE}'\n",
    )
    (catalog_dir / "catalog.yaml").write_text(settings)
    kpi = (DEMO_DIR / "library" / "library-visitors-quarterly.yaml").read_text()
    kpi = kpi.replace("id: library-visitors-quarterly", "id: library-visitors-from-city")
    (catalog_dir / "library" / "from-city.yaml").write_text(kpi.replace("portal: local", "portal: city"))
    with (
        demo_store(root / "store") as store,
        mounted(create_app(store, load_catalog(catalog_dir, store)), HTTP) as base,
    ):
        yield base


def _page(base: str, kpi_id: str) -> str:
    response = HTTP.get(f"{base}/kpi/{kpi_id}", timeout=60)
    assert response.status_code == 200, response.text[:300]
    return response.text


def test_a_file_source_names_the_file_and_links_to_the_local_copy(site: str) -> None:
    page = _page(site, "trees-planted-yearly")
    assert (
        '<p class="provenance">Data: <bdi>planting-sites.csv</bdi> from <bdi>Burlington, VT open data '
        '(Opendatasoft CSV exports)</bdi> (files), <a href="/datasets/planting-sites.csv" download>'
        "download the local copy of "
        "planting-sites.csv</a>.</p>"
    ) in page
    download = HTTP.get(f"{site}/datasets/planting-sites.csv", timeout=60)
    assert download.status_code == 200
    assert download.text.count("\n") == 12_837  # the header and every site, as synced from the file


def test_a_local_dataset_says_it_was_loaded_here(site: str) -> None:
    page = _page(site, "library-visitors-annual")
    name = "Los Angeles operating indicators for city departments, FY2004-FY2013"
    assert f"Data: <bdi>{name}</bdi> from" in page
    assert '(loaded here), <a href="/datasets/la-operating-indicators.csv" download>' in page


def test_a_portal_source_links_to_its_page_there_escaped(site: str) -> None:
    page = _page(site, "library-visitors-from-city")
    line = next(p for p in page.split("\n") if 'class="provenance"' in p)
    assert "<script>" not in line and str(escape(HOSTILE_TITLE)) in line
    assert "(Socrata portal)" in line
    link = "https://data.example.gov/?q=&lt;b&gt;/d/la-library-monthly"
    assert f'<a href="{link}">{link}</a>' in line
