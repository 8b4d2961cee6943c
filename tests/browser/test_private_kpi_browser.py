"""A private KPI's page in headless Chromium: a signed-in person of its department sees the page,
its chart and its pending value marked as pending, and axe-core finds nothing serious or critical;
a browser that is not signed in gets the 404 of a missing KPI."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from browser.chromium import Browser, serious_violations
from catalog_files import write
from people_site import APPROVER, FILES, OTHER, PASSWORD, Accounts
from servers import serve

from btvstat_open.people.access import Person, grants_for
from btvstat_open.people.submissions import Submissions, ValueEntry
from btvstat_open.server import create_app
from btvstat_open.store import Store
from catalog import load_catalog

pytestmark = pytest.mark.browser

PRIVATE = "/kpi/parks-staff-injuries"


@dataclass
class Live:
    base: str


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    root = tmp_path_factory.mktemp("private-kpi-browser")
    store = Store(root / "store")
    catalog = load_catalog(write(root / "catalog", FILES), store)
    Accounts(store).add(OTHER, PASSWORD, name="Bo")
    submissions = Submissions(store, catalog)
    bo = grants_for(Person(OTHER, "Bo"), catalog.settings.access)
    ops = grants_for(Person(APPROVER, "Ops"), catalog.settings.access)
    for start, end, value in (
        (date(2019, 12, 1), date(2019, 12, 31), 3.0),
        (date(2020, 1, 1), date(2020, 1, 31), 5.0),
    ):
        entry = ValueEntry("parks-staff-injuries", start, end, value)
        submissions.approve(ops, submissions.submit_value(bo, entry))
    submissions.submit_value(bo, ValueEntry("parks-staff-injuries", date(2020, 2, 1), date(2020, 2, 29), 7.0))
    with serve(create_app(store, catalog)) as base:
        yield Live(base)
    store.close()


def _sign_in(browser: Browser, base: str) -> Any:
    page, _ = browser.open(base + "/login")
    page.fill("#email", OTHER)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(base + "/updates")
    return page


def test_the_private_page_with_its_pending_value_passes_axe(audit_browser: Browser, live: Live) -> None:
    page = _sign_in(audit_browser, live.base)
    answer = page.goto(live.base + PRIVATE)
    assert answer.status == 200 and answer.headers["cache-control"] == "private, no-store"
    main = page.locator("main").inner_text()
    assert "Staff injuries reported" in main and "Internal:" in main
    pending = page.locator("table.pending-values tbody tr")
    assert pending.count() == 1 and "7.0 (pending)" in pending.first.inner_text()
    chart = page.goto(live.base + PRIVATE + ".svg")
    assert chart.status == 200 and "Pending approval: 7.0" in chart.text()
    page.goto(live.base + PRIVATE)
    assert page.locator("#chart svg, #chart img, figure").count() >= 1
    assert serious_violations(page) == []
    page.close()


def test_a_browser_not_signed_in_gets_a_404(browser: Browser, live: Live) -> None:
    page, _ = browser.open(live.base + "/")
    for path in (PRIVATE, PRIVATE + ".svg", PRIVATE + ".csv"):
        answer = page.goto(live.base + path)
        assert answer.status == 404, path
        assert "Staff injuries" not in page.content()
    page.close()
