"""The dashboard, KPI pages and embeds in headless Chromium: charts draw, nothing leaves 127.0.0.1,
embeds resize on another site, dark theme, hostile catalog text stays text, axe-core finds nothing
serious or critical. Screenshots are kept in tests/artifacts/."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from browser.chromium import Browser, assert_local, screenshot, serious_violations, settle
from browser.widget_catalogs import HOSTILE_DESCRIPTION, HOSTILE_ID, HOSTILE_TITLE, write_test_catalog
from demo_store import demo_store
from servers import free_port, serve
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from btvstat_open.server import create_app
from catalog import load_catalog
from catalog.demo import DEMO_DIR

pytestmark = pytest.mark.browser

KPI = "pothole-days-to-close"
DEMO_KPIS = sorted(load_catalog(DEMO_DIR).kpis)
MARKS = ", ".join(
    f".chart svg .mark-{kind} {element}"
    for kind, element in (
        ("symbol", "path"),
        ("line", "path"),
        ("rect", "path"),
        ("area", "path"),
        ("text", "text"),
    )
)


@dataclass
class Sites:
    widgets: str  # the widget server
    host: str  # another site, allowed to embed
    stranger: str  # a site not in embed.allowed_origins


def host_app(widgets: str, kpi: str) -> Starlette:
    """A webmaster's page: one embed iframe pasted with embed.js."""

    def page(request: Request) -> HTMLResponse:
        return HTMLResponse(
            "<!doctype html><html lang=en><head><title>Host</title></head><body><main><h1>Host page</h1>"
            f'<iframe id="embed" src="{widgets}/embed/{kpi}" title="KPI" width="100%" height="150" '
            'style="border:0;width:100%"></iframe>'
            f'<script src="{widgets}/embed.js" async></script><p>After the chart.</p></main></body></html>'
        )

    return Starlette(routes=[Route("/", page)])


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sites]:
    root = tmp_path_factory.mktemp("browser-widgets")
    store = demo_store(root / "store")
    host_port, stranger_port = free_port(), free_port()
    folder = write_test_catalog(root / "catalog", allowed_origins=[f"http://127.0.0.1:{host_port}"])
    catalog = load_catalog(folder, store)
    with (
        serve(create_app(store, catalog)) as widgets,
        serve(host_app(widgets, KPI), port=host_port) as host,
        serve(host_app(widgets, KPI), port=stranger_port) as stranger,
    ):
        yield Sites(widgets, host, stranger)
    store.close()


def wait_for_chart(page: Any) -> int:
    page.wait_for_selector(".chart.chart-ready svg", timeout=20_000)
    count: int = page.locator(MARKS).count()
    return count


@pytest.mark.parametrize("kpi_id", DEMO_KPIS)
def test_every_demo_embed_draws_marks_without_console_errors(
    browser: Browser, sites: Sites, kpi_id: str
) -> None:
    page, watch = browser.open(f"{sites.widgets}/embed/{kpi_id}")
    assert wait_for_chart(page) > 0
    chart = page.locator(".chart")
    assert chart.get_attribute("role") == "graphics-document"  # Vega's ARIA, with the spec's description
    assert (chart.get_attribute("aria-label") or "").startswith(("Line", "Bar", "Area", "Big number"))
    settle(page)
    assert watch.console_errors == [] and watch.page_errors == []
    assert_local(watch, sites.widgets)
    if kpi_id in (KPI, "library-emedia-circulation", "pothole-requests-weekly"):
        screenshot(page, f"embed-{kpi_id}")
    page.close()


@pytest.mark.parametrize(("path", "name"), [("/", "dashboard"), (f"/kpi/{KPI}", "kpi-page")])
def test_pages_render_offline_and_cleanly(browser: Browser, sites: Sites, path: str, name: str) -> None:
    for scheme in ("light", "dark"):
        page, watch = browser.open(sites.widgets + path, color_scheme=scheme)
        if path != "/":
            assert wait_for_chart(page) > 0
        settle(page)
        assert watch.clean(), watch
        assert_local(watch, sites.widgets)
        screenshot(page, f"{name}-{scheme}")
        page.close()


def test_dashboard_filter_and_keyboard_focus(browser: Browser, sites: Sites) -> None:
    page, watch = browser.open(sites.widgets + "/")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.className")
    assert focused == "skip-link" and page.is_visible(".skip-link")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"
    page.keyboard.press("Enter")  # the skip link moves focus to the main content
    assert page.evaluate("document.activeElement.id") == "main"
    cards = page.locator("[data-kpi-card]")
    total = cards.count()
    page.fill("#kpi-filter", "pothole")
    visible = page.locator("[data-kpi-card]:visible")
    assert 0 < visible.count() < total
    assert all(
        "pothole" in (visible.nth(i).get_attribute("data-search") or "") for i in range(visible.count())
    )
    # A KPI serving two goals has two cards; the count is of KPIs.
    kpis = {visible.nth(i).get_attribute("data-kpi") for i in range(visible.count())}
    assert page.text_content("#kpi-count") == f"{len(kpis)} KPIs shown"
    page.fill("#kpi-filter", "zzz-nothing")
    assert page.locator("[data-kpi-card]:visible").count() == 0 and page.is_visible("#no-results")
    page.fill("#kpi-filter", "")
    page.select_option("#status-filter", "on_track")
    statuses = {visible.nth(i).get_attribute("data-status") for i in range(visible.count())}
    assert statuses == {"on_track"}
    assert watch.clean()
    page.close()


def test_dark_theme_applies(browser: Browser, sites: Sites) -> None:
    page, watch = browser.open(f"{sites.widgets}/embed/{KPI}?theme=dark")
    wait_for_chart(page)
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(13, 17, 23)"
    assert "#0d1117" in page.inner_html(".chart")  # the chart's own background
    screenshot(page, "embed-dark")
    page.close()
    auto, _ = browser.open(f"{sites.widgets}/embed/{KPI}", color_scheme="dark")
    wait_for_chart(auto)
    assert auto.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(13, 17, 23)"
    assert "#0d1117" in auto.inner_html(".chart")
    auto.close()
    light, _ = browser.open(f"{sites.widgets}/embed/{KPI}?theme=light", color_scheme="dark")
    wait_for_chart(light)
    assert light.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(255, 255, 255)"
    light.close()
    assert watch.clean()


def test_host_page_embed_takes_the_chart_height(browser: Browser, sites: Sites) -> None:
    page, watch = browser.open(sites.host + "/")
    frame_element = page.wait_for_selector("#embed[data-btvstat-height]", timeout=20_000)
    frame = frame_element.content_frame()
    frame.wait_for_selector(".chart.chart-ready svg")
    content = frame.evaluate("Math.ceil(document.querySelector('main').getBoundingClientRect().height)")
    page.wait_for_function(
        f"() => Math.abs(document.getElementById('embed').getBoundingClientRect().height - {content}) <= 1",
        timeout=10_000,
    )
    assert content > 150  # it grew from the pasted height
    assert watch.clean(), watch
    assert_local(watch, sites.host, sites.widgets)
    screenshot(page, "host-page-embed")
    page.close()


def test_sites_not_allowed_cannot_frame_embeds(browser: Browser, sites: Sites) -> None:
    page, watch = browser.open(sites.stranger + "/")
    # First the positive signal that the browser decided: its refusal (a frame-ancestors CSP
    # violation, reported on the console) and embed.js loaded; only then look for what is absent.
    deadline = time.monotonic() + 20
    while not any("frame-ancestors" in e for e in watch.console_errors) and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    assert any("frame-ancestors" in e for e in watch.console_errors), watch.console_errors
    page.wait_for_load_state("load")
    assert page.get_attribute("#embed", "data-btvstat-height") is None
    frame = page.query_selector("#embed").content_frame()
    assert frame is None or frame.query_selector(".chart") is None  # the browser refused to frame it
    page.close()


def test_hostile_catalog_text_shows_as_text_and_never_runs(browser: Browser, sites: Sites) -> None:
    for path in ("/", f"/kpi/{HOSTILE_ID}", f"/embed/{HOSTILE_ID}"):
        page, watch = browser.open(sites.widgets + path)
        if path != "/":
            wait_for_chart(page)
        page.wait_for_load_state("networkidle")
        assert page.evaluate("window.__pwned") is None
        assert page.locator("img[src=x], iframe, style").count() == 0
        assert watch.dialogs == [] and watch.page_errors == []
        if path == "/":
            assert HOSTILE_TITLE in page.locator("[data-kpi-card] a").all_text_contents()
        else:
            assert page.text_content("h1") == HOSTILE_TITLE
        if path.startswith("/kpi/"):
            assert page.text_content(".lead") == HOSTILE_DESCRIPTION
            screenshot(page, "hostile-kpi-page")
        page.close()


@pytest.mark.parametrize(
    "path",
    ["/", f"/kpi/{KPI}", f"/embed/{KPI}", f"/embed/{KPI}?theme=dark", "/kpi/library-emedia-circulation"],
)
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_no_serious_or_critical_violations(
    audit_browser: Browser, sites: Sites, path: str, scheme: str
) -> None:
    page, _ = audit_browser.open(sites.widgets + path, color_scheme=scheme)
    if path != "/":
        wait_for_chart(page)
    serious = serious_violations(page)
    assert serious == [], serious
    page.close()


def test_embed_has_no_action_menu_and_page_copies_embed_code(browser: Browser, sites: Sites) -> None:
    page, watch = browser.open(f"{sites.widgets}/embed/{KPI}")
    wait_for_chart(page)
    assert page.locator(".vega-actions, .vega-embed details, a[href*='vega.github.io']").count() == 0
    page.close()
    browser.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=sites.widgets)
    page, watch = browser.open(f"{sites.widgets}/kpi/{KPI}")
    snippet = page.input_value("#embed-code")
    assert snippet.startswith(f'<iframe src="{sites.widgets}/embed/{KPI}"') and "embed.js" in snippet
    page.click("button[data-copy='embed-code']")
    page.wait_for_function("document.querySelector('.copy-status').textContent !== ''")
    assert page.text_content(".copy-status") == "Copied."
    assert page.evaluate("navigator.clipboard.readText()") == snippet
    assert watch.clean(), watch
    page.close()


def test_rendered_html_file_draws_offline(browser: Browser, tmp_path: Path) -> None:
    from btvstat_open.cli import main

    store = tmp_path / "store"
    demo_store(store).close()
    out = tmp_path / "chart.html"
    argv = ["render", KPI, "--catalog", str(DEMO_DIR), "--store", str(store), "-o", str(out)]
    assert main(argv) == 0
    # Served as a plain file from a local port (file: URLs are outside the watched 127.0.0.1 world).
    plain_file = Starlette(routes=[Route("/chart.html", lambda _: HTMLResponse(out.read_text()))])
    with serve(plain_file) as base:
        page, watch = browser.open(f"{base}/chart.html")
        page.wait_for_selector("#chart svg .mark-symbol path", timeout=20_000)
        assert page.locator("#chart svg .mark-line path").count() > 0
        page.wait_for_load_state("networkidle")
        assert watch.clean(), watch
        assert watch.requests == [f"{base}/chart.html"]  # self-contained: nothing else is fetched
        screenshot(page, "render-html-file")
        page.close()


def test_embed_js_ignores_messages_from_other_origins(browser: Browser, sites: Sites) -> None:
    page, watch = browser.open(sites.host + "/")
    sized = page.wait_for_selector("#embed[data-btvstat-height]", timeout=20_000)
    height = sized.get_attribute("data-btvstat-height")
    # A forged height from the host page itself (not the embed's origin, not an embed window).
    # A listener added now runs after embed.js's (listeners run in the order they were added), so
    # once it has seen the forged message, embed.js has handled it too.
    page.evaluate(
        """() => {
            window.addEventListener("message", (e) => {
                if (e.data && e.data.height === 999) window.__forged = true;
            });
            window.postMessage({type: 'btvstat:height', height: 999}, '*');
        }"""
    )
    page.wait_for_function("window.__forged === true", timeout=10_000)
    assert sized.get_attribute("data-btvstat-height") == height != "999"
    assert watch.clean(), watch
    page.close()
