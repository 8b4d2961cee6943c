"""The demo's site built as files and served by a plain static file server (the standard library's
``http.server``, answering with linkchecker's header: ``static_host.py``), in Chromium: pages and
charts, the dashboard's filters from the address (with JavaScript), an embed sized through
``embed.js`` on a page of another origin (a second static server), downloads byte for byte the
server's; and ``linkchecker`` (PyPI) finds no broken link on the whole site."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from browser.chromium import Browser, assert_local
from browser.widget_catalogs import HOSTILE_TITLE, PRIVATE_ID, write_test_catalog
from demo_store import demo_store
from servers import free_port
from site_build_fixtures import set_locales

from btvstat_open.server import create_app
from btvstat_open.server.site_command import PUBLIC_ROUTES
from btvstat_open.web.inprocess import inprocess_session
from catalog import load_catalog
from widgets.sitebuild import build_site

pytestmark = pytest.mark.browser

KPI = "pothole-days-to-close"
LINKCHECKER = Path(sys.executable).parent / "linkchecker"
STATIC_HOST = Path(__file__).with_name("static_host.py")
# With the server's `LinkChecker` header, this rate is the only pause between two requests.
LINKCHECKER_RC = "[checking]\nmaxrequestspersecond=1000\n"


@dataclass
class Static:
    site: str  # the built site on a static file server
    host: str  # another origin: a webmaster's page with the embed snippet
    folder: Path
    app: Any  # the app the site was built from


@contextmanager
def static_server(folder: Path, port: int, *, link_checked: bool = False) -> Iterator[str]:
    """``python -m http.server`` on 127.0.0.1:``port`` over ``folder`` until the block ends; with
    ``link_checked``, the same server answering with the header that lets linkchecker go at full
    speed (``static_host.py``)."""
    argv = [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(folder)]
    if link_checked:
        argv = [sys.executable, str(STATIC_HOST), str(port), str(folder)]
    server = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(url + "/", timeout=2)
                break
            except requests.ConnectionError:
                assert server.poll() is None and time.monotonic() < deadline, "http.server did not start"
                time.sleep(0.1)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=20)


@pytest.fixture(scope="module")
def static(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Static]:
    root = tmp_path_factory.mktemp("static-site")
    store = demo_store(root / "store")
    port, host_port = free_port(), free_port()
    base = f"http://127.0.0.1:{port}"  # the site is built for the address it is served at
    # the demo with a private KPI, a hostile one, and the host page's origin allowed to embed
    folder = write_test_catalog(root / "catalog", allowed_origins=[f"http://127.0.0.1:{host_port}"])
    set_locales(folder, ("en", "es"))
    app = create_app(store, load_catalog(folder, store))
    report = build_site(app, root / "site", base_url=base, public=PUBLIC_ROUTES)
    assert report.broken == []
    host = root / "host"
    host.mkdir()
    (host / "index.html").write_text(
        "<!doctype html><html lang=en><head><title>Host</title></head><body><main><h1>Host page</h1>"
        f'<iframe id="embed" src="{base}/embed/{KPI}" title="KPI" height="150" style="border:0;width:100%">'
        f'</iframe><script src="{base}/embed.js" async></script></main></body></html>'
    )
    with (
        static_server(root / "site", port, link_checked=True) as site,
        static_server(host, host_port) as other,
    ):
        yield Static(site, other, root / "site", app)
    store.close()


def test_no_file_holds_the_private_kpi_and_hostile_text_stays_text(static: Static) -> None:
    for path in static.folder.rglob("*"):
        if path.is_file():
            body = path.read_bytes()
            assert PRIVATE_ID.encode() not in body and b"Not public yet" not in body, path
            if path.suffix in (".html", ".svg"):  # markup: the title only ever escaped
                assert HOSTILE_TITLE.encode() not in body, path


def test_pages_and_charts_from_plain_files(browser: Browser, static: Static) -> None:
    pages = ("/", f"/kpi/{KPI}", "/goals/fix-potholes-fast", "/departments/public-works", "/meetings")
    for path in (*pages, f"/es/kpi/{KPI}"):
        page, watch = browser.open(static.site + path)
        assert page.title() and page.locator("main h1").count() == 1, path
        if path.endswith(f"/kpi/{KPI}"):
            assert page.url == f"{static.site}{path}/"  # the static server's slash: links still work
            page.wait_for_selector(".chart.chart-ready svg", timeout=30_000)
        assert watch.clean(), (path, watch)
        assert_local(watch, static.site)
        page.close()


def test_the_dashboards_filters_work_from_the_address(browser: Browser, static: Static) -> None:
    page, watch = browser.open(static.site + "/?status=off_track")
    cards = page.locator("[data-kpi-card]")
    shown = [cards.nth(i) for i in range(cards.count()) if cards.nth(i).is_visible()]
    assert 0 < len(shown) < cards.count()
    assert all(card.get_attribute("data-status") == "off_track" for card in shown)
    assert page.locator("#status-filter").input_value() == "off_track"
    kpis = {card.get_attribute("data-kpi") for card in shown}  # a KPI under two goals has two cards
    assert page.locator("#kpi-count").inner_text().startswith(f"{len(kpis)} KPI")
    page.select_option("#status-filter", "")  # the controls work as on the server
    assert sum(1 for i in range(cards.count()) if cards.nth(i).is_visible()) == cards.count()
    assert watch.clean(), watch
    page.close()


def test_an_embed_on_another_origin_takes_its_charts_height(browser: Browser, static: Static) -> None:
    page, watch = browser.open(static.host + "/")
    sized = page.wait_for_selector("#embed[data-btvstat-height]", timeout=30_000)
    assert int(sized.get_attribute("data-btvstat-height") or 0) > 150
    assert watch.clean(), watch
    page.close()


def test_the_language_selector_works_without_a_server(browser: Browser, static: Static) -> None:
    page, watch = browser.open(static.site + f"/kpi/{KPI}")
    assert page.get_attribute("html", "lang") == "en"
    page.goto(static.site + f"/locale/es?next=/kpi/{KPI}")  # the selector's link to Spanish
    page.wait_for_url(f"{static.site}/es/kpi/{KPI}/", timeout=20_000)
    assert page.get_attribute("html", "lang") == "es"
    assert watch.clean(), watch
    page.close()


def test_downloads_are_the_servers_bytes(browser: Browser, static: Static) -> None:
    page, _ = browser.open(static.site + f"/kpi/{KPI}")
    paths = [
        f"/kpi/{KPI}.csv",
        f"/kpi/{KPI}.json",
        f"/kpi/{KPI}/breakdown.csv",
        "/program.json",
        "/data.json",
    ]
    with inprocess_session(static.app, static.site) as http:
        for path in paths:
            got = page.request.get(static.site + path)
            assert got.status == 200, path
            assert got.body() == http.get(static.site + path, timeout=120).content, path
    page.close()


def test_linkchecker_finds_no_broken_link(static: Static, tmp_path: Path) -> None:
    assert LINKCHECKER.exists(), "linkchecker is missing: install the test extra (pip install -e '.[test]')"
    config = tmp_path / "linkcheckerrc"
    config.write_text(LINKCHECKER_RC)
    argv = [str(LINKCHECKER), "-f", str(config), "--no-status", "--no-warnings", "--threads", "4"]
    done = subprocess.run(
        [*argv, static.site + "/"],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "0 errors found" in done.stdout or " 0 errors" in done.stdout, done.stdout[-2000:]
    # it went through the whole site: at least one URL checked per page written
    checked = re.search(r"in ([\d,]+) URLs? checked", done.stdout)
    assert checked, done.stdout[-2000:]
    pages = sum(1 for _ in static.folder.rglob("*.html"))
    assert int(checked.group(1).replace(",", "")) >= pages > 100, (checked.group(0), pages)
