"""The program's pages in headless Chromium: the dashboard, a goal, a department and a KPI page with a
breakdown draw offline and cleanly, axe-core finds nothing serious or critical, the filters work
with the keyboard (with and without JavaScript), cards sit side by side on a desktop and stack on a
phone, and hostile goal, note and action text shows as text. Screenshots at both widths are kept in
tests/artifacts/."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from browser.chromium import AXE, Browser, launch, require, screenshot, serious_violations, settle
from browser.widget_catalogs import (
    HOSTILE_ACTION,
    HOSTILE_GOAL_TITLE,
    HOSTILE_ID,
    HOSTILE_NOTE,
    PROGRAM_ID,
    write_test_catalog,
)
from demo_store import demo_store
from servers import serve

from btvstat_open.server import create_app
from catalog import load_catalog

pytestmark = pytest.mark.browser

PAGES = {
    "dashboard": "/",
    "goal": "/goals/test-streets",
    "department": "/departments/public-works",
    "kpi-breakdown": f"/kpi/{PROGRAM_ID}",
    "kpi-dated-goal": "/kpi/water-use-monthly",
    "goal-dated-goal": "/goals/conserve-water-power",
    "kpi-peers": "/kpi/trees-planted-yearly",  # the comparison with a peer city (docs/peers.md)
}
WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("browser-program")
    store = demo_store(root / "store")
    catalog = load_catalog(write_test_catalog(root / "catalog"), store)
    with serve(create_app(store, catalog)) as base:
        yield base
    store.close()


@pytest.fixture(scope="module")
def no_script_browser(chromium: Any) -> Iterator[Browser]:
    """A context with JavaScript turned off: the pages must still filter (by query string)."""
    require(AXE, "axe-core (run `npm ci --prefix tests/browser`)")
    context = launch(chromium, java_script_enabled=False)
    yield Browser(context)
    context.close()


def open_at(browser: Browser, url: str, width: str, scheme: str = "light") -> tuple[Any, Any]:
    page, watch = browser.open("about:blank", color_scheme=scheme)
    page.set_viewport_size(dict(zip(("width", "height"), WIDTHS[width], strict=True)))
    page.goto(url)
    if "/kpi/" in url:
        page.wait_for_selector("#chart.chart-ready svg", timeout=20_000)
        if PROGRAM_ID in url:  # the KPI with a breakdown
            page.wait_for_selector("#breakdown-chart.chart-ready svg", timeout=20_000)
        if "trees-planted-yearly" in url:  # the KPI with peers
            page.wait_for_selector("#peers-chart.chart-ready svg", timeout=20_000)
    settle(page)
    return page, watch


@pytest.mark.parametrize("width", list(WIDTHS))
@pytest.mark.parametrize("name", list(PAGES))
def test_program_pages_draw_offline_and_cleanly(browser: Browser, site: str, name: str, width: str) -> None:
    page, watch = open_at(browser, site + PAGES[name], width)
    assert watch.clean(), watch
    assert watch.blocked == []
    assert [u for u in watch.requests if not u.startswith((site, "data:", "about:"))] == []
    # Nothing wider than the screen (the page scrolls down, never sideways).
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTHS[width][0]
    screenshot(page, f"program-{name}-{width}")
    page.close()


def test_kpi_page_breakdown_chart_and_hidden_table(browser: Browser, site: str) -> None:
    page, _ = open_at(browser, site + PAGES["kpi-breakdown"], "desktop")
    chart = page.locator("#breakdown-chart")
    assert (chart.get_attribute("aria-label") or "").startswith("Bar chart of")
    assert page.locator("#breakdown-chart svg .mark-rect path").count() > 0
    assert "suppressed" in page.inner_html("#breakdown-chart")
    table = page.locator("table.breakdown-table")
    # Visually hidden (a 1 px clipped box), still read by screen readers.
    assert table.evaluate("e => e.parentElement.getBoundingClientRect().width") <= 1
    assert table.locator("tbody tr").count() > 10
    assert "Suppressed" in (table.text_content() or "")
    # Notes on the trend chart: rules Vega labels for assistive technology.
    labels = page.eval_on_selector_all(
        "#chart svg [aria-label^='Note ']", "els => els.map(e => e.getAttribute('aria-label'))"
    )
    assert any("Second pothole crew added" in label for label in labels)
    page.close()


def test_goal_cards_sit_side_by_side_on_a_desktop_and_stack_on_a_phone(browser: Browser, site: str) -> None:
    for width in WIDTHS:
        page, _ = open_at(browser, site + "/goals/test-reading", width)
        boxes = [page.locator("ul.cards > li.card").nth(i).bounding_box() for i in range(2)]
        assert all(boxes)
        if width == "desktop":
            assert boxes[0]["y"] == boxes[1]["y"] and boxes[1]["x"] > boxes[0]["x"] + boxes[0]["width"]
        else:
            assert boxes[0]["x"] == boxes[1]["x"] and boxes[1]["y"] >= boxes[0]["y"] + boxes[0]["height"]
        page.close()


def visible_statuses(page: Any) -> set[str]:
    return set(
        page.eval_on_selector_all("[data-kpi-card]:not([hidden])", "els => els.map(e => e.dataset.status)")
    )


def test_filters_work_with_the_keyboard(browser: Browser, site: str) -> None:
    page, watch = open_at(browser, site + "/", "desktop")
    total = page.locator("[data-kpi-card]").count()
    page.focus("#kpi-filter")
    page.keyboard.press("Tab")  # to the status filter
    assert page.evaluate("document.activeElement.id") == "status-filter"
    # Down through the options until "Off track" (a closed select changes with the arrow keys).
    for _ in range(6):
        if page.input_value("#status-filter") == "off_track":
            break
        page.keyboard.press("ArrowDown")
    assert page.input_value("#status-filter") == "off_track"
    assert visible_statuses(page) == {"off_track"}
    assert "status=off_track" in page.url  # the address follows, so the view can be shared
    shown = page.locator("[data-kpi-card]:not([hidden])").count()
    assert 0 < shown < total
    count = page.text_content("#kpi-count") or ""
    assert count.endswith("shown") and int(count.split()[0]) <= shown
    page.focus("#kpi-filter")
    page.keyboard.type("zzz-nothing")
    assert page.locator("[data-kpi-card]:not([hidden])").count() == 0 and page.is_visible("#no-results")
    for _ in range(len("zzz-nothing")):
        page.keyboard.press("Backspace")
    page.focus("#status-filter")
    page.keyboard.press("Home")  # back to "Any"
    assert page.input_value("#status-filter") == "" and "status=" not in page.url
    page.focus("#department-filter")
    page.keyboard.press("ArrowDown")
    department = page.input_value("#department-filter")
    cards = page.eval_on_selector_all(
        "[data-kpi-card]:not([hidden])", "els => els.map(e => e.dataset.department)"
    )
    assert cards and set(cards) == {department}
    assert watch.clean(), watch
    page.close()


def test_filters_work_without_javascript(no_script_browser: Browser, site: str) -> None:
    page, _ = no_script_browser.open(site + "/")
    page.focus("#status-filter")
    page.keyboard.press("ArrowDown")  # the first status: on track
    page.focus("button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_url("**/?*status=on_track*")
    assert visible_statuses(page) == {"on_track"}
    assert page.input_value("#status-filter") == "on_track"  # the form shows what is applied
    screenshot(page, "program-dashboard-no-script-filtered")
    page.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("name", list(PAGES))
def test_axe_finds_no_serious_or_critical_violations(
    audit_browser: Browser, site: str, name: str, scheme: str
) -> None:
    page, _ = open_at(audit_browser, site + PAGES[name], "desktop", scheme)
    serious = serious_violations(page)
    assert serious == [], serious
    page.close()


def test_hostile_goal_note_and_action_text_shows_as_text(browser: Browser, site: str) -> None:
    for path, expected in (
        ("/", HOSTILE_GOAL_TITLE),
        ("/goals/test-hostile-goal", HOSTILE_GOAL_TITLE),
        (f"/kpi/{HOSTILE_ID}", HOSTILE_NOTE),
        (f"/kpi/{HOSTILE_ID}", HOSTILE_ACTION),
        ("/departments", HOSTILE_ACTION),
    ):
        page, watch = browser.open(site + path)
        page.wait_for_load_state("networkidle")
        assert page.evaluate("window.__pwned") is None
        assert watch.dialogs == [] and watch.page_errors == []
        assert expected in page.inner_text("main")
        page.close()
    page, _ = open_at(browser, site + "/goals/test-hostile-goal", "desktop")
    assert page.text_content("h1") == HOSTILE_GOAL_TITLE
    screenshot(page, "program-hostile-goal")
    page.close()
