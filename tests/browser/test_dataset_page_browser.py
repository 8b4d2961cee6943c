"""``/d/{id}`` in headless Chromium, served by the widgets app: the site's stylesheet applies,
nothing leaves 127.0.0.1, no console or CSP error, hostile metadata and cells stay text, and
axe-core finds nothing serious or critical in either colour scheme."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pytest
from browser.chromium import Browser, screenshot, serious_violations
from servers import serve

from btvstat_open.load import load_file
from btvstat_open.server import create_app
from btvstat_open.store import MetadataChange, Store
from btvstat_open.types import Column

pytestmark = pytest.mark.browser

HOSTILE = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">'
KC_CSV = "kc-311-potholes/311_Call_Center_Service_Requests.csv"


@dataclass
class Site:
    url: str
    hostile: str


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, real_data: Path) -> Iterator[Site]:
    store = Store(tmp_path_factory.mktemp("browser-dataset-page"))
    load_file(
        store, real_data / KC_CSV, "kc-311-potholes", name="KC 311 pothole requests", row_identifier="case_id"
    )
    store.update_metadata(
        "kc-311-potholes",
        MetadataChange(description="Pothole requests to Kansas City's 311.", tags=("streets", "311")),
    )
    store.load(
        "hostile",
        pa.table({"note": [HOSTILE], "n": [1.0]}),
        [Column("note", HOSTILE, "text", description=HOSTILE), Column("n", "N", "number")],
        name=HOSTILE,
        description=HOSTILE,
    )
    with serve(create_app(store)) as url:
        yield Site(url, "hostile")
    store.close()


def test_page_uses_the_site_stylesheet_and_stays_local(browser: Browser, site: Site) -> None:
    page, watch = browser.open(f"{site.url}/d/kc-311-potholes")
    page.wait_for_load_state("networkidle")
    assert watch.clean(), (watch.console_errors, watch.page_errors, watch.blocked)
    assert any("/static/site.css" in u for u in watch.requests)
    # site.css applied: the header has the site's surface colour, the skip link is off screen.
    assert page.evaluate("getComputedStyle(document.querySelector('.skip-link')).position") == "absolute"
    assert page.text_content("h1") == "KC 311 pothole requests"
    header = page.text_content(".site-header")
    dashboard, _ = browser.open(f"{site.url}/")
    assert header == dashboard.text_content(".site-header")  # the site's own header, title and publisher
    dashboard.close()
    assert page.locator("table.data-table").count() == 2
    assert page.locator("table.data-table >> nth=1 >> tbody tr").count() == 10  # the sample
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    screenshot(page, "dataset-page")
    page.close()


def test_hostile_dataset_shows_text_and_runs_nothing(browser: Browser, site: Site) -> None:
    page, watch = browser.open(f"{site.url}/d/{site.hostile}")
    page.wait_for_load_state("networkidle")
    assert page.evaluate("window.__pwned") is None
    assert page.locator("main img, main script").count() == 0
    assert watch.dialogs == [] and watch.page_errors == []
    assert page.text_content("h1") == HOSTILE
    assert page.title().startswith(HOSTILE)
    assert HOSTILE in page.locator("table.data-table >> nth=1 >> td").all_text_contents()
    page.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_no_serious_or_critical_violations(audit_browser: Browser, site: Site, scheme: str) -> None:
    page, _ = audit_browser.open(f"{site.url}/d/kc-311-potholes", color_scheme=scheme)
    serious = serious_violations(page)
    assert serious == [], serious
    page.close()
