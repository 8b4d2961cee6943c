"""``/docs`` in headless Chromium: Swagger UI draws the API from this server's own files.

Nothing may leave 127.0.0.1 (the browser blocks and records such requests), the page's strict CSP
(no inline script, no CDN) must not be violated, and the routes of /openapi.json must show.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from browser.chromium import Browser, assert_local, screenshot
from servers import serve

from btvstat_open.server import create_app
from btvstat_open.store import Store

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    store = Store(tmp_path_factory.mktemp("docs-store"))
    with serve(create_app(store)) as url:
        yield url
    store.close()


def test_docs_draw_the_api_from_this_servers_own_files(browser: Browser, site: str, tmp_path: Path) -> None:
    page, watch = browser.open(site + "/docs")
    page.wait_for_selector(".opblock", timeout=30_000)
    page.wait_for_load_state("networkidle")
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert any("/resource/" in p for p in paths) and any("/api/catalog/v1" in p for p in paths)
    assert watch.clean(), watch  # a CSP violation is a console error
    assert_local(watch, site)
    assert any(u.startswith(f"{site}/static/swagger-ui-bundle.js") for u in watch.requests)
    screenshot(page, "docs")
    page.close()
