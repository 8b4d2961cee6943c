"""The demo theme and wide tables in headless Chromium at phone width (375 px): the page never
scrolls sideways, each wide table scrolls in its own focusable, labelled box with a visible cue,
the theme's colours, logo and heading font apply, and axe-core finds nothing serious or critical."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from browser.chromium import Browser, screenshot, serious_violations, settle
from browser.widget_catalogs import PROGRAM_ID, write_test_catalog
from servers import serve

from btvstat_open.server import create_app
from btvstat_open.store import Store
from catalog import load_catalog
from catalog.demo import load_demo_data

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 812}
PAGES = {
    "kpi": f"/kpi/{PROGRAM_ID}",  # target history, actions, data: the widest tables
    "dashboard": "/",
    "goal": "/goals/test-streets",
    "dataset": "/d/kc-311-potholes",
}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("browser-theme")
    store = Store(root / "store")
    load_demo_data(store)
    catalog = load_catalog(write_test_catalog(root / "catalog"), store)
    assert catalog.settings.theme is not None  # the demo's theme
    with serve(create_app(store, catalog)) as base:
        yield base
    store.close()


def open_phone(browser: Browser, url: str) -> tuple[Any, Any]:
    page, watch = browser.open("about:blank")
    page.set_viewport_size(PHONE)
    page.goto(url)
    if "/kpi/" in url:
        page.wait_for_selector("#chart.chart-ready svg", timeout=20_000)
    settle(page)
    return page, watch


@pytest.mark.parametrize("name", list(PAGES))
def test_pages_never_scroll_sideways_at_375px(audit_browser: Browser, site: str, name: str) -> None:
    page, watch = open_phone(audit_browser, site + PAGES[name])
    assert watch.clean(), watch
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), page.evaluate(
        "[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > innerWidth)"
        ".slice(0, 5).map(e => e.tagName + '.' + e.className)"
    )
    # Every table that is laid out sits in a scroll box: focusable, a region, named.
    boxes = page.evaluate(
        """[...document.querySelectorAll('table')]
        .filter(t => t.offsetWidth > 1 && !t.closest('.visually-hidden'))
        .map(t => { const box = t.closest('.table-scroll');
          return box && {tab: box.tabIndex, role: box.getAttribute('role'),
                         name: box.getAttribute('aria-label') || box.getAttribute('aria-labelledby')}; })"""
    )
    assert boxes or name in ("dashboard", "goal")  # the KPI and dataset pages have wide tables
    assert all(b and b["tab"] == 0 and b["role"] == "region" and b["name"] for b in boxes), boxes
    assert serious_violations(page) == []
    screenshot(page, f"theme-{name}-375")
    page.close()


def test_the_target_history_scrolls_in_its_box_with_a_cue(audit_browser: Browser, site: str) -> None:
    page, _ = open_phone(audit_browser, site + PAGES["kpi"])
    box = page.locator("section[aria-labelledby=targets-heading] .table-scroll")
    sizes = box.evaluate("b => [b.scrollWidth, b.clientWidth, b.getBoundingClientRect().right]")
    assert sizes[0] > sizes[1] and sizes[2] <= PHONE["width"]  # wider than its box; the box fits
    # The cue: shadows at the edges (CSS gradients behind the table).
    assert "radial-gradient" in box.evaluate("b => getComputedStyle(b).backgroundImage")
    # A keyboard user focuses the box and scrolls it with the arrow keys; the page stays put.
    box.focus()
    assert page.evaluate("document.activeElement.classList.contains('table-scroll')")
    for _ in range(6):
        page.keyboard.press("ArrowRight")
    box.evaluate("b => new Promise(done => b.scrollLeft > 0 ? done() : b.addEventListener('scroll', done))")
    assert box.evaluate("b => b.scrollLeft") > 0
    assert page.evaluate("window.scrollX") == 0
    page.close()


def test_the_demo_theme_applies(audit_browser: Browser, site: str) -> None:
    page, _ = open_phone(audit_browser, site + "/")
    header = page.locator(".site-header")
    assert header.evaluate("h => getComputedStyle(h).backgroundColor") == "rgb(22, 70, 111)"  # #16466f
    assert page.locator(".site-title").evaluate("t => getComputedStyle(t).color") == "rgb(255, 255, 255)"
    logo = page.locator(".site-logo img")
    assert logo.get_attribute("alt") == "Demo city home"
    assert logo.evaluate("i => i.complete && i.naturalWidth > 0")
    heading = page.locator("h1")
    assert heading.evaluate("h => getComputedStyle(h).fontFamily").startswith('"Demo Headings"')
    assert page.evaluate("document.fonts.check('700 16px \"Demo Headings\"')")
    page.close()
