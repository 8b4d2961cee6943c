"""The site in each shipped language, in headless Chromium (issue 26): English, Spanish, French and
Arabic pages have the right ``lang`` and ``dir``, axe-core finds nothing serious or critical, long
French and Spanish labels never push a page sideways at phone width (375 px), and the language
selector works by keyboard, with and without JavaScript, and is remembered."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from browser.chromium import AXE, Browser, launch, require, screenshot, serious_violations, settle
from demo_store import demo_store
from servers import serve

from btvstat_open.server import create_app
from catalog import load_catalog
from catalog.demo import DEMO_DIR

pytestmark = pytest.mark.browser

LANGUAGES = {"en": "ltr", "es": "ltr", "fr": "ltr", "ar": "rtl"}
PAGES = {
    "dashboard": "/",
    "kpi": "/kpi/pothole-days-to-close",
    "departments": "/departments",
    "goal": "/goals/streets-in-repair",
    "meetings": "/meetings",
}
PHONE = {"width": 375, "height": 812}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    store = demo_store(tmp_path_factory.mktemp("browser-languages") / "store")
    with serve(create_app(store, load_catalog(DEMO_DIR, store))) as base:
        yield base
    store.close()


@pytest.fixture(scope="module")
def no_script_browser(chromium: Any) -> Iterator[Browser]:
    context = launch(chromium, java_script_enabled=False)
    yield Browser(context)
    context.close()


def _address(site: str, locale: str, path: str) -> str:
    return site + ("" if locale == "en" else f"/{locale}") + path


def _open(browser: Browser, url: str) -> Any:
    page, watch = browser.open(url)
    if "/kpi/" in url:
        page.wait_for_selector("#chart.chart-ready svg", timeout=20_000)
    settle(page)
    assert watch.clean(), watch
    return page


@pytest.mark.parametrize("name", list(PAGES))
@pytest.mark.parametrize("locale", list(LANGUAGES))
def test_lang_dir_and_axe(audit_browser: Browser, site: str, locale: str, name: str) -> None:
    page = _open(audit_browser, _address(site, locale, PAGES[name]))
    assert page.get_attribute("html", "lang") == locale
    assert page.get_attribute("html", "dir") == LANGUAGES[locale]
    # Laid out from the right in Arabic: the main heading starts at the right edge of its box.
    if LANGUAGES[locale] == "rtl":
        assert page.evaluate("getComputedStyle(document.querySelector('main')).direction") == "rtl"
    serious = serious_violations(page)
    assert serious == [], serious
    page.close()


@pytest.mark.parametrize("name", list(PAGES))
@pytest.mark.parametrize("locale", list(LANGUAGES))
def test_nothing_overflows_at_phone_width(browser: Browser, site: str, locale: str, name: str) -> None:
    page, _ = browser.open("about:blank")
    page.set_viewport_size(PHONE)
    page.goto(_address(site, locale, PAGES[name]))
    settle(page)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{locale} {name}: {width} px wide"
    if name == "kpi":
        _caption_stays_in_its_box(page, f"{locale} {name}", scrolls=locale == "ar")
    if name in ("dashboard", "kpi"):
        screenshot(page, f"languages-{name}-{locale}-phone")
    page.close()


# Where the target-history caption lies, against its scrolling box and the window.
_CAPTION = """c => { const r = c.getBoundingClientRect(), box = c.closest('.table-scroll');
  const b = box.getBoundingClientRect();
  return {left: r.left, right: r.right, boxLeft: b.left, boxRight: b.right, view: innerWidth,
          scrolls: box.scrollWidth > box.clientWidth}; }"""


def _caption_stays_in_its_box(page: Any, what: str, *, scrolls: bool) -> None:
    """The target-history table scrolls inside its box at phone width; its caption stays whole in
    view at both ends of the scroll (on the left too, in Arabic), never cut by the box's edge."""
    caption = page.locator(".history-table caption")
    for end in (0, -10_000, 10_000):  # the start, then each edge (right to left scrolls negative)
        caption.evaluate(f"c => {{ c.closest('.table-scroll').scrollLeft = {end}; }}")
        at = caption.evaluate(_CAPTION)
        assert at["scrolls"] or not scrolls, f"{what}: the table fits, nothing to prove"
        assert at["boxLeft"] <= at["left"] and at["right"] <= at["boxRight"], (what, end, at)
        assert at["left"] >= 0 and at["right"] <= at["view"], (what, end, at)


def test_an_arabic_packet_does_not_scroll_sideways_at_phone_width(browser: Browser, site: str) -> None:
    """A right-to-left page scrolls to the left: nothing may hide off its left edge (the skip link
    sits off the starting edge, the right one in Arabic)."""
    page, _ = browser.open("about:blank")
    page.set_viewport_size(PHONE)
    page.goto(site + "/ar/meetings/2020-03-04-public-works")
    settle(page)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"ar packet: {width} px wide"
    page.close()


def _choose_by_keyboard(page: Any, name: str) -> None:
    """Tab from the top of the page to the selector's link named ``name`` and press Enter."""
    page.keyboard.press("Tab")  # the skip link
    for _ in range(12):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == name:
            break
    assert page.evaluate("document.activeElement.closest('nav').className") == "language-selector"
    page.keyboard.press("Enter")


@pytest.mark.parametrize("script", [True, False])
def test_the_selector_works_by_keyboard_and_is_remembered(
    browser: Browser, no_script_browser: Browser, site: str, script: bool
) -> None:
    chosen = browser if script else no_script_browser
    page, _ = chosen.open(site + "/departments")
    _choose_by_keyboard(page, "Français")
    page.wait_for_url("**/fr/departments")
    assert page.get_attribute("html", "lang") == "fr"
    assert page.locator("h1").text_content() == "Services"
    # The choice is remembered: the unprefixed address now sends this browser to its French page.
    page.goto(site + "/meetings")
    page.wait_for_url("**/fr/meetings")
    _choose_by_keyboard(page, "العربية")
    page.wait_for_url("**/ar/meetings")
    assert page.get_attribute("html", "dir") == "rtl"
    _choose_by_keyboard(page, "English")
    page.wait_for_url(site + "/meetings")
    assert page.get_attribute("html", "lang") == "en"
    page.close()


def test_the_browser_language_is_a_first_visit_hint(chromium: Any, site: str) -> None:
    require(AXE, "axe-core (run `npm ci --prefix tests/browser`)")
    context = launch(chromium, locale="es-ES")
    try:
        page = Browser(context).open(site + "/kpi/pothole-days-to-close")[0]
        page.wait_for_url("**/es/kpi/pothole-days-to-close")
        assert page.get_attribute("html", "lang") == "es"
        page.goto(site + "/fr/departments")  # a locale in the address wins over the browser's
        assert page.get_attribute("html", "lang") == "fr"
    finally:
        context.close()


def test_charts_in_the_page_use_the_page_language(browser: Browser, site: str) -> None:
    page = _open(browser, site + "/fr/kpi/pothole-days-to-close")
    axis = page.eval_on_selector_all("#chart svg text", "els => els.map(e => e.textContent).join(' ')")
    assert "févr." in axis or "janv." in axis, axis[:300]
    assert "Statut" in axis  # the legend's title
    page.close()


def test_charts_in_an_arabic_page_write_arabic_digits(browser: Browser, site: str) -> None:
    """Vega's time format has no digits of its own: the dates on the time axis, drawn in the
    browser, are still in the page's Arabic-Indic digits (and so is every other label)."""
    page = _open(browser, site + "/ar/kpi/pothole-days-to-close")
    texts = page.eval_on_selector_all("#chart svg text", "els => els.map(e => e.textContent)")
    dates = [t for t in texts if re.search("[0-9٠-٩]{4}", t)]
    assert dates and all(re.search("[٠-٩]{4}", t) for t in dates), texts
    assert not [t for t in texts if re.search("[0-9]", t)], texts
    page.close()
