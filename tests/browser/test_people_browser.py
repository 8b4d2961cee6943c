"""The monthly cycle in headless Chromium: sign-in through the identity provider's real redirect
flow (node oidc-provider), entry with the keyboard only, approval, the value on the public KPI
page; axe-core on every form."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from browser.chromium import Browser, serious_violations
from catalog_files import write
from oidc_provider import Provider
from people_site import APPROVER, FILES, PASSWORD, UPDATER, Accounts
from servers import serve

from btvstat_open.server import create_app
from btvstat_open.store import Store
from catalog import load_catalog

pytestmark = pytest.mark.browser


@dataclass
class Live:
    base: str
    store: Store


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, oidc_provider: Provider) -> Iterator[Live]:
    root = tmp_path_factory.mktemp("people-browser")
    settings_file = FILES["catalog.yaml"].replace(
        "access:\n", "access:\n          - {group: program-office, role: approver}\n"
    )
    catalog_dir = write(root / "catalog", {**FILES, "catalog.yaml": settings_file})
    store = Store(root / "store")
    catalog = load_catalog(catalog_dir, store)
    Accounts(store).add(UPDATER, PASSWORD, name="Ann", groups=["public-works-staff"])
    Accounts(store).add(APPROVER, PASSWORD, name="Ops")
    app = create_app(store, catalog, oidc_provider.settings())
    with serve(app, port=oidc_provider.app_port) as base:
        yield Live(base, store)
    store.close()


def sso_sign_in(browser: Browser, base: str, login: str) -> Any:
    """Sign in through the provider's pages (its development form takes any password; a person
    the provider already knows in this browser goes straight back)."""
    page, _ = browser.open(base + "/login")
    page.get_by_role("link", name="Sign in with single sign-on").click()
    back = base + "/updates"
    for _ in range(3):  # the provider's sign-in form, then its consent form
        page.wait_for_url(lambda url: url == back or "/interaction/" in url)
        if page.url == back:
            return page
        if page.locator("input[name=login]").count():
            page.fill("input[name=login]", login)
            page.fill("input[name=password]", "any")
        page.click("button[type=submit]")
    page.wait_for_url(back)
    return page


def test_sign_in_through_the_identity_provider(browser: Browser, live: Live) -> None:
    page = sso_sign_in(browser, live.base, "ops")
    assert page.locator("h1").inner_text() == "Updates"
    assert page.get_by_role("link", name="Approvals").count() == 1
    page.goto(live.base + "/audit")
    assert "identity provider; groups: program-office" in page.content()
    page.close()


def tab_to(page: Any, selector: str) -> None:
    """Move the focus with the Tab key alone until it is on ``selector``."""
    for _ in range(80):
        if page.evaluate("(s) => document.activeElement && document.activeElement.matches(s)", selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {selector}")


def keyboard_sign_in(browser: Browser, base: str, email: str) -> Any:
    page, _ = browser.open(base + "/login")
    tab_to(page, "#email")
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(base + "/updates")
    return page


def test_the_cycle_with_the_keyboard_then_approval_then_the_public_page(browser: Browser, live: Live) -> None:
    page = keyboard_sign_in(browser, live.base, UPDATER)
    assert "Late" in page.locator("section.due-item").first.inner_text()
    tab_to(page, "#f1-value")
    page.keyboard.type("137")
    page.keyboard.press("Tab")
    page.keyboard.type("Two crews back from leave.")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/updates\?notice=.*"))
    first = page.locator("section.due-item").first.inner_text()
    assert "waiting for approval" in first and "137" in first
    page.close()
    public, _ = browser.open(live.base + "/kpi/sidewalk-repairs")
    assert "137" not in public.locator("main").inner_text()  # pending: not public
    public.close()

    ops = sso_sign_in(browser, live.base, "ops")
    ops.goto(live.base + "/approvals")
    assert "Two crews back from leave." in ops.locator("main").inner_text()
    ops.get_by_role("button", name=re.compile(r"^Approve #")).first.click()
    ops.wait_for_url(re.compile(r".*/approvals\?notice=.*"))
    ops.close()

    public, _ = browser.open(live.base + "/kpi/sidewalk-repairs")
    assert "137" in public.locator("main").inner_text()
    public.goto(live.base + "/meetings/2020-03-25-public-works")
    assert "137" in public.locator("main").inner_text()
    public.close()


def test_errors_are_tied_to_their_fields(browser: Browser, live: Live) -> None:
    page = keyboard_sign_in(browser, live.base, UPDATER)
    item = page.locator("section.due-item form").last
    item.locator("input[name=value]").fill("twelve")
    item.get_by_role("button", name="Submit for approval").click()
    field = page.locator("input[aria-invalid=true]")
    assert field.count() == 1
    message = page.locator("#" + field.get_attribute("aria-describedby"))
    assert "is not a number" in message.inner_text()
    page.close()


@pytest.mark.parametrize("path", ["/login", "/updates", "/approvals", "/audit", "/tokens"])
def test_axe_finds_no_serious_or_critical_violation_on_the_forms(
    audit_browser: Browser, live: Live, path: str
) -> None:
    page, _ = audit_browser.open(live.base + "/login")
    if path != "/login":
        page.fill("#email", APPROVER if path in ("/approvals", "/audit") else UPDATER)
        page.fill("#password", PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(live.base + "/updates")
        page.goto(live.base + path)
    assert page.locator("form").count() >= 1
    assert serious_violations(page) == []
    page.close()


def test_a_workbook_with_one_bad_cell_then_fixed_and_submitted(
    browser: Browser, live: Live, tmp_path: Path
) -> None:
    from openpyxl import load_workbook

    page = keyboard_sign_in(browser, live.base, UPDATER)
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the workbook of what is due").first.click()
    due = tmp_path / "due.xlsx"
    download.value.save_as(due)
    book = load_workbook(due)
    sheet = book["Entries"]
    keys = {row[0].value: row[0].row for row in sheet.iter_rows(min_row=2)}
    row = keys["sidewalk-repairs|2019-12-01"]
    sheet[f"H{row}"] = "n/a"
    bad = tmp_path / "bad.xlsx"
    book.save(bad)
    page.set_input_files("#sheet-file", str(bad))
    page.get_by_role("button", name="Check the workbook").click()
    errors = page.locator("table.cell-errors tbody tr")
    assert errors.count() == 1
    assert errors.first.inner_text().split("\t")[:2] == [str(row), "H (Value)"]
    assert "Nothing was saved" in page.locator("main").inner_text()
    sheet[f"H{row}"] = 118
    good = tmp_path / "good.xlsx"
    book.save(good)
    page.set_input_files("#sheet-file", str(good))
    page.get_by_role("button", name="Check the workbook").click()
    assert "1 value" in page.locator("table.preview caption").inner_text()
    page.get_by_role("button", name="Submit these values for approval").click()
    page.wait_for_url(re.compile(r".*/updates\?notice=values&n=1.*"))
    december = page.locator("section.due-item", has_text="2019-12-01").first.inner_text()
    assert "waiting for approval" in december and "118" in december
    page.close()
