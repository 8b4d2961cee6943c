"""Meeting packets in headless Chromium: the page loads cleanly and offline, passes axe-core, and prints
(Chromium's own page.pdf) with every chart whole on one page. Screenshots and the printed PDF are kept
in tests/artifacts/."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from io import BytesIO
from typing import Any

import pypdf
import pytest
from browser.chromium import ARTIFACTS, Browser, Watch, screenshot, serious_violations
from browser.widget_catalogs import write_test_catalog
from demo_store import demo_store
from servers import serve

from catalog import load_catalog
from catalog.models import Catalog
from catalog.packet import Packet, build_packet

pytestmark = pytest.mark.browser

MEETING = "2020-03-04-public-works"


@dataclass
class Site:
    base: str
    catalog: Catalog
    packet: Packet


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    from btvstat_open.server import create_app

    root = tmp_path_factory.mktemp("browser-meetings")
    store = demo_store(root / "store")
    catalog = load_catalog(write_test_catalog(root / "catalog"), store)
    packet = build_packet(catalog, store, MEETING)
    with serve(create_app(store, catalog)) as base:
        yield Site(base, catalog, packet)
    store.close()


def assert_clean(watch: Watch, base: str) -> None:
    assert watch.clean(), (watch.console_errors, watch.page_errors, watch.blocked)
    assert [u for u in watch.requests if not u.startswith(base)] == []


def flat(text: str) -> str:
    """Whitespace collapsed, ligatures (ﬀ, ﬁ) spelt out as the letters they join."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip()


@pytest.mark.parametrize("path", ["/meetings", f"/meetings/{MEETING}"])
def test_meeting_pages_load_offline_and_cleanly(browser: Browser, site: Site, path: str) -> None:
    name = "meetings" if path == "/meetings" else "packet"
    for width, label in ((1100, "desktop"), (390, "phone")):
        page, watch = browser.open(site.base + path)
        page.set_viewport_size({"width": width, "height": 800})
        assert page.locator("h1").count() == 1
        if path != "/meetings":
            # every chart is inline SVG with its description; nothing is fetched for it
            assert page.locator("figure.chart svg[role=img][aria-label]").count() == len(site.packet.items)
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 1, f"the page scrolls sideways at {width}px"
        assert_clean(watch, site.base)
        screenshot(page, f"{name}-{label}")
        page.close()


@pytest.mark.parametrize("path", ["/meetings", f"/meetings/{MEETING}"])
def test_axe_finds_no_serious_or_critical_violations(audit_browser: Browser, site: Site, path: str) -> None:
    page, _ = audit_browser.open(site.base + path)
    serious = serious_violations(page)
    assert serious == [], serious
    page.close()


def test_the_packet_prints_with_no_chart_cut_across_pages(browser: Browser, site: Site) -> None:
    page, watch = browser.open(f"{site.base}/meetings/{MEETING}")
    page.emulate_media(media="print")
    styles = page.evaluate(
        "[...document.querySelectorAll('figure.chart')].map(f => getComputedStyle(f).breakInside)"
    )
    assert styles == ["avoid"] * len(site.packet.items)
    pdf: bytes = page.pdf(format="Letter", print_background=True)
    assert_clean(watch, site.base)
    page.close()
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "packet-printed-by-chromium.pdf").write_bytes(pdf)
    # each page's text, less the page number its footer prints first
    pages = [
        re.sub(r"^Page \d+ of \d+ ", "", flat(p.extract_text())) for p in pypdf.PdfReader(BytesIO(pdf)).pages
    ]
    assert len(pages) > len(site.packet.items)  # a cover, follow-ups, then a page per item
    for item in site.packet.items:
        kpi = item.kpi
        # The chart's first text (its title, at the top of the SVG) and the whole caption under it
        # are on one page: the chart between them is whole on that page.
        top = f"{kpi.title} {kpi.unit + ' · ' if kpi.unit else ''}{kpi.department}"
        caption = flat(page_caption(site, kpi.id))
        on = [n for n, text in enumerate(pages) if top in text]
        assert on, f"the chart of {kpi.id} is not in the printed PDF"
        assert any(caption in pages[n] for n in on), f"the chart of {kpi.id} is cut across pages"
    # every item starts a page (page breaks between items)
    starts = [
        n for n, text in enumerate(pages) for item in site.packet.items if text.startswith(item.kpi.title)
    ]
    assert len(starts) >= len(site.packet.items) - 2  # the first item of each section follows its heading


def page_caption(site: Site, kpi_id: str) -> str:
    from widgets.charts import describe
    from widgets.summary import rows

    item = next(i for i in site.packet.items if i.kpi.id == kpi_id)
    return "Chart: " + describe(item.kpi, rows(item.kpi, item.series))


def test_the_meeting_list_links_every_packet_by_keyboard(browser: Browser, site: Site) -> None:
    page, watch = browser.open(f"{site.base}/meetings")
    links: list[Any] = page.evaluate(
        "[...document.querySelectorAll('main a')].map(a => a.getAttribute('href'))"
    )
    for meeting_id in site.catalog.meetings:
        assert f"/meetings/{meeting_id}" in links and f"/meetings/{meeting_id}.pdf" in links
    page.focus(f"a[href='/meetings/{MEETING}']")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/meetings/{MEETING}")
    assert page.locator("h1").inner_text() == site.packet.meeting.title
    assert_clean(watch, site.base)
    page.close()
