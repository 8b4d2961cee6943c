"""The demo in French in headless Chromium: a translated KPI's page, and an untranslated one whose
English text is marked ``lang="en"`` inside the French page; axe-core finds nothing serious or
critical on either, nor on the dashboard in Spanish."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from browser.chromium import Browser, screenshot, serious_violations
from demo_store import demo_store
from servers import serve

from btvstat_open.server import create_app
from catalog import load_catalog
from catalog.demo import DEMO_DIR

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    store = demo_store(tmp_path_factory.mktemp("localized-browser") / "store")
    with serve(create_app(store, load_catalog(DEMO_DIR, store))) as url:
        yield url
    store.close()


def test_a_translated_kpi_in_french_passes_axe(audit_browser: Browser, base: str) -> None:
    page, watch = audit_browser.open(base + "/fr/kpi/pothole-days-to-close")
    assert page.evaluate("document.documentElement.lang") == "fr"
    assert (
        page.locator("h1").inner_text().strip() == "Délai médian de fermeture des demandes de nids-de-poule"
    )
    assert page.locator("h1 [lang]").count() == 0
    assert page.locator("#chart svg, #chart img, figure").count() >= 1
    assert serious_violations(page) == [] and watch.clean(), watch
    page.close()


def test_the_untranslated_kpi_shows_english_marked_and_passes_axe(audit_browser: Browser, base: str) -> None:
    page, watch = audit_browser.open(base + "/fr/kpi/water-use-monthly")
    assert page.evaluate("document.documentElement.lang") == "fr"
    marked = page.locator("h1 span[lang]")
    assert marked.count() == 1 and marked.get_attribute("lang") == "en"
    assert marked.inner_text() == "Average monthly water use per ZIP code"
    # the language the browser resolves for the marked text, and for the translated department beside it
    assert marked.evaluate("e => e.closest('[lang]').lang") == "en"
    department = page.locator('a[href="/fr/departments/water-and-power"]').first
    assert department.inner_text() == "Eau et Électricité"
    assert department.evaluate("e => e.closest('[lang]').lang") == "fr"
    screenshot(page, "kpi-fallback-fr")
    assert serious_violations(page) == [] and watch.clean(), watch
    page.close()


def test_the_dashboard_in_spanish_passes_axe(audit_browser: Browser, base: str) -> None:
    page, watch = audit_browser.open(base + "/es/")
    assert page.evaluate("document.documentElement.lang") == "es"
    assert "Calles en buen estado" in page.locator("main").inner_text()
    assert serious_violations(page) == [] and watch.clean(), watch
    page.close()
