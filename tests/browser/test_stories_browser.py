"""Story pages in headless Chromium: they load cleanly and offline at desktop and phone widths, pass
axe-core, and a story written to attack runs nothing (no dialog, no error, no request off the server).
Screenshots are kept in tests/artifacts/."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
from browser.chromium import Browser, assert_local, screenshot, serious_violations
from demo_store import demo_store
from servers import serve

from catalog import load_catalog
from catalog.demo import DEMO_DIR

pytestmark = pytest.mark.browser

STORY = "2020-02-potholes"
ATTACK = """---
title: An attack
date: 2020-02-20
author: Someone
status: published
---
<script>alert("script")</script>
<img src="x" onerror="alert('onerror')"> <img src="https://evil.example/p.png">
<a href="javascript:alert('link')">click</a> [md](javascript:alert('md'))
<iframe src="https://evil.example/"></iframe>
<svg onload="alert('svg')"></svg>
<details open ontoggle="alert('toggle')"><summary>x</summary></details>

```kpi-chart
id: pothole-days-to-close
```
"""


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from btvstat_open.server import create_app

    root = tmp_path_factory.mktemp("browser-stories")
    folder = root / "catalog"
    shutil.copytree(DEMO_DIR, folder, ignore=shutil.ignore_patterns("data"))
    (folder / "stories" / "attack.md").write_text(ATTACK, encoding="utf-8")
    store = demo_store(root / "store")
    with serve(create_app(store, load_catalog(folder, store))) as url:
        yield url
    store.close()


@pytest.mark.parametrize("path", ["/stories", f"/stories/{STORY}"])
def test_story_pages_load_offline_and_cleanly(browser: Browser, base: str, path: str) -> None:
    name = "stories" if path == "/stories" else "story"
    for width, label in ((1100, "desktop"), (390, "phone")):
        page, watch = browser.open(base + path)
        page.set_viewport_size({"width": width, "height": 800})
        assert page.locator("h1").count() == 1
        if path != "/stories":
            assert page.locator("figure.story-chart svg[role=img][aria-label]").count() == 1
            assert page.locator("[data-story-block]").count() == 5
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 1, f"the page scrolls sideways at {width}px"
        assert watch.clean(), (watch.console_errors, watch.page_errors, watch.blocked)
        assert_local(watch, base)
        screenshot(page, f"{name}-{label}")
        page.close()


@pytest.mark.parametrize("path", ["/stories", f"/stories/{STORY}"])
def test_axe_finds_no_serious_or_critical_violations(audit_browser: Browser, base: str, path: str) -> None:
    page, _ = audit_browser.open(base + path)
    serious = serious_violations(page)
    assert serious == [], serious
    page.close()


def test_an_attacking_story_runs_nothing(browser: Browser, base: str) -> None:
    page, watch = browser.open(f"{base}/stories/attack")
    page.wait_for_load_state("load")
    assert page.locator("details, summary, svg[onload]").count() == 0  # kept as words only
    page.mouse.move(10, 10)
    assert watch.dialogs == []
    assert watch.page_errors == [] and watch.console_errors == []
    assert_local(watch, base)
    assert page.locator("script, iframe, img:not(.site-logo > img)").count() == 0  # the theme logo aside
    assert page.locator("figure.story-chart svg[role=img]").count() == 1  # its block still renders
    page.close()
