"""Headless Chromium for the browser tests: launching, watching pages, screenshots.

Debian's chromium, driven by Playwright's Python package.

CI (``CI=true``) must run these tests: a missing Chromium is a failure there. Elsewhere they are
skipped only when /usr/bin/chromium does not exist. Every page is watched: console errors, page
errors and every request (anything not addressed to 127.0.0.1 is recorded and blocked).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).parent.parent / "artifacts"
AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"


def require(path: Path, what: str) -> None:
    """Fail in CI, skip elsewhere, when something the browser tests need is missing."""
    if path.exists():
        return
    message = f"{what} is missing at {path}"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message}; CI requires the browser tests (.ci/run installs it).")
    pytest.skip(f"{message}; install it to run the browser tests.")


@dataclass
class Watch:
    """What one page did: console errors, uncaught errors, dialogs and every request's URL."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)

    def clean(self) -> bool:
        return not (self.console_errors or self.page_errors or self.dialogs or self.blocked)


class Browser:
    """One fresh browser context (as a new profile); :meth:`open` gives a watched page."""

    def __init__(self, context: Any) -> None:
        self.context = context
        self.blocked: list[str] = []
        context.route("**/*", self._route)

    def _route(self, route: Any) -> None:
        host = urlsplit(route.request.url).hostname
        if host == "127.0.0.1":
            route.continue_()
        else:
            self.blocked.append(route.request.url)
            route.abort()

    def open(self, url: str, *, color_scheme: str = "light") -> tuple[Any, Watch]:
        page = self.context.new_page()
        page.emulate_media(color_scheme=color_scheme)
        watch = Watch(blocked=self.blocked)
        page.on("console", lambda m: watch.console_errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: watch.page_errors.append(str(e)))
        page.on("request", lambda r: watch.requests.append(r.url))

        def on_dialog(dialog: Any) -> None:
            watch.dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", on_dialog)
        page.goto(url)
        return page, watch


# Drawn: the page's fonts are loaded and every chart site.js draws is drawn (or gave up). Pages fetch
# nothing after their load event (chart specs are in the page), so this is what half a second of
# network silence ("networkidle") waited for, without the half second. With scripts off (no Vega on
# the page) there is nothing to draw.
_DRAWN = """() => document.fonts.status === 'loaded' && (typeof window.vegaEmbed !== 'function' ||
  [...document.querySelectorAll('[data-chart]')].every(e => e.matches('.chart-ready, .chart-error')))"""


def settle(page: Any, *, timeout: float = 20_000) -> None:
    """Wait until ``page`` and each of its frames has loaded and drawn its charts."""
    page.wait_for_load_state("load")
    for frame in page.frames:
        frame.wait_for_function(_DRAWN, timeout=timeout)


def assert_local(watch: Watch, *origins: str) -> None:
    """Every request the page made went to one of ``origins`` (or was a ``data:`` URL)."""
    assert watch.blocked == [], f"requests left 127.0.0.1: {watch.blocked}"
    strays = [u for u in watch.requests if not u.startswith((*origins, "data:"))]
    assert strays == []


def start(playwright: Any) -> Any:
    """Debian's Chromium, headless (one per test process: see ``conftest.chromium``)."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)


def launch(chromium: Any, **options: Any) -> Any:
    """A fresh browser context of the running ``chromium``: nothing shared with any other context."""
    return chromium.new_context(viewport={"width": 1100, "height": 800}, **options)


def serious_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page (each with up to 5 offending nodes)."""
    page.add_script_tag(path=str(AXE))
    found: list[dict[str, Any]] = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}))"
    )
    return [v for v in found if v["impact"] in ("serious", "critical")]


def screenshot(page: Any, name: str) -> Path:
    """Keep a full-page screenshot in tests/artifacts/ (look at them after a run)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
