"""Browser-test fixtures: one Chromium per test module, a fresh browser context (its own cookies,
storage and cache, as a new profile) per use (see chromium.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from browser.chromium import AXE, CHROMIUM, Browser, launch, require, start


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Chromium, started once per test module: Playwright's sync API runs an event loop in this
    thread while it is open, which would break every later test of the process that starts one
    (``asyncio.run``), so it closes with the module."""
    require(CHROMIUM, "Chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        running = start(playwright)
        yield running
        running.close()


@pytest.fixture(scope="module")
def browser(chromium: Any) -> Iterator[Browser]:
    context = launch(chromium)
    yield Browser(context)
    context.close()


@pytest.fixture(scope="module")
def audit_browser(chromium: Any) -> Iterator[Browser]:
    """A context that lets the test inject axe-core into pages (their CSP forbids foreign scripts)."""
    require(AXE, "axe-core (run `npm ci --prefix tests/browser`)")
    context = launch(chromium, bypass_csp=True)
    yield Browser(context)
    context.close()


@pytest.fixture(scope="session", autouse=True)
def chart_renderer_warmed_up() -> None:
    """The chart renderer started once per test process, as a server starts it (the tests' servers
    skip their warm-up, see tests/conftest.py): the pages below draw charts under a load timeout."""
    from widgets.warmup import warm_up_in_background

    warm_up_in_background().join()
