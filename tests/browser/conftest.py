"""Browser-test fixtures: a fresh Chromium profile per module (see chromium.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from browser.chromium import AXE, CHROMIUM, Browser, launch, require


@pytest.fixture(scope="module")
def playwright_instance() -> Iterator[Any]:
    require(CHROMIUM, "Chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="module")
def browser(playwright_instance: Any) -> Iterator[Browser]:
    context = launch(playwright_instance)
    yield Browser(context)
    context.close()


@pytest.fixture(scope="module")
def audit_browser(playwright_instance: Any) -> Iterator[Browser]:
    """A profile that lets the test inject axe-core into pages (their CSP forbids foreign scripts)."""
    require(AXE, "axe-core (run `npm ci --prefix tests/browser`)")
    context = launch(playwright_instance, bypass_csp=True)
    yield Browser(context)
    context.close()
