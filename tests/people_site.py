"""A small program with people for the sign-in, entry and approval tests: two departments, a
manual KPI in each (one a rate), access rules for an updater of each, an approver and a
viewer, and local accounts for them. The server is the real app (``create_app``), served in
process over https (cookies are Secure)."""

from __future__ import annotations

import atexit
import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from catalog_files import write
from fastapi.testclient import TestClient

from btvstat_open.people.accounts import Accounts
from btvstat_open.server import create_app
from btvstat_open.store import Store
from btvstat_open.web.settings import Settings
from catalog import load_catalog

PASSWORD = "correct horse battery staple"
UPDATER = "ann@example.gov"  # Public Works
OTHER = "bo@example.gov"  # Parks
APPROVER = "ops@example.gov"
VIEWER = "vi@example.gov"

FILES = {
    "catalog.yaml": """\
        title: People test city
        as_of: 2020-03-20
        entry: {due_days: 10}
        access:
          - {who: ops@example.gov, role: approver}
          - {group: public-works-staff, role: updater, departments: [Public Works]}
          - {who: bo@example.gov, role: updater, departments: [Parks]}
          - {who: vi@example.gov, role: viewer}
        """,
    "public-works/sidewalks.yaml": """\
        id: sidewalk-repairs
        title: Sidewalk panels repaired
        department: Public Works
        methodology: Counted by the crews each month (entered by the department).
        source: {entry: manual}
        unit: panels
        direction: higher_is_better
        target: {value: 100}
        period: {size: month, start: 2019-10-01}
        """,
    "parks/inspections.yaml": """\
        id: playground-inspections
        title: Playgrounds inspected on time
        department: Parks
        source: {entry: manual}
        measure: {calculation: rate, as_percent: true}
        unit: percent
        direction: higher_is_better
        period: {size: month, start: 2019-10-01}
        """,
    "parks/private-count.yaml": """\
        id: parks-staff-injuries
        title: Staff injuries reported
        department: Parks
        source: {entry: manual}
        public: false
        period: {size: month, start: 2019-10-01}
        """,
    "meetings/2020-03-25-public-works.yaml": """\
        id: 2020-03-25-public-works
        date: 2020-03-25
        title: Public Works review
        departments: [Public Works, Parks]
        """,
}


@dataclass
class Site:
    """The app, its store and catalog folder."""

    client: TestClient
    store: Store
    root: Path

    def new_client(self) -> TestClient:
        """Another browser (its own cookies)."""
        return TestClient(self.client.app, base_url="https://testserver")


_accounts_store: Path | None = None


def _store_with_accounts() -> Path:
    """A store holding the four local accounts, made once per test process and copied for each
    site: each password's argon2 hash takes a fifth of a second of CPU."""
    global _accounts_store
    if _accounts_store is None:
        folder = Path(tempfile.mkdtemp(prefix="people-accounts-"))
        atexit.register(shutil.rmtree, folder, True)
        with Store(folder / "store") as store:
            accounts = Accounts(store)
            accounts.add(UPDATER, PASSWORD, name="Ann", groups=["public-works-staff"])
            accounts.add(OTHER, PASSWORD, name="Bo")
            accounts.add(APPROVER, PASSWORD, name="Ops")
            accounts.add(VIEWER, PASSWORD, name="Vi")
        _accounts_store = folder / "store"
    return _accounts_store


def make_site(tmp: Path, settings: Settings | None = None, extra: dict[str, str] | None = None) -> Site:
    """Write the catalog (with ``extra`` files), make the accounts, and start the app."""
    root = write(tmp / "catalog", {**FILES, **(extra or {})})
    shutil.copytree(_store_with_accounts(), tmp / "store")
    store = Store(tmp / "store")
    catalog = load_catalog(root, store)
    app = create_app(store, catalog, settings or Settings(warm_up=False))
    return Site(TestClient(app, base_url="https://testserver"), store, root)


@contextlib.contextmanager
def running_site(tmp: Path, extra: dict[str, str] | None = None) -> Iterator[Site]:
    """:func:`make_site` started (the app's lifespan) for the ``with`` block, its store closed after."""
    made = make_site(tmp, extra=extra)
    with made.client:
        yield made
    made.store.close()


@pytest.fixture
def people(tmp_path: Path) -> Iterator[Site]:
    """A fresh site per test."""
    with running_site(tmp_path) as made:
        yield made


def csrf_of(html: str) -> str:
    """The first CSRF token in a page's forms."""
    marker = 'name="csrf" value="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]


def submit(client: TestClient, item: str, **fields: str) -> httpx.Response:
    """Post the value form of ``item`` (``kpi|period start``) with the page's CSRF token."""
    token = csrf_of(client.get("/updates").text)
    return client.post("/updates/value", data={"item": item, "csrf": token, **fields}, follow_redirects=False)


def pending_ids(client: TestClient) -> list[int]:
    """The submission ids an approver's /approvals page lists."""
    import re

    return [int(n) for n in re.findall(r'action="/approvals/(\d+)/approve"', client.get("/approvals").text)]


def sign_in(client: TestClient, email: str, password: str = PASSWORD, code: str = "") -> httpx.Response:
    """Sign in through the form (GET it for its token, POST it)."""
    form = client.get("/login")
    data = {
        "email": email,
        "password": password,
        "code": code,
        "csrf": csrf_of(form.text),
        "next": "/updates",
    }
    return client.post("/login", data=data, follow_redirects=False)


def due_sheet(root: Path, store_dir: str | Path) -> tuple[Any, dict[str, int]]:
    """The program's due workbook (``playground-inspections`` as a rate) and its rows by "kpi|period"."""
    import io

    from openpyxl import load_workbook

    from btvstat_open.people.due import due_items
    from btvstat_open.people.workbook import due_workbook

    with Store(store_dir) as store:
        catalog = load_catalog(root, store)
        items = due_items(store, catalog, list(catalog.kpis.values()), [], catalog.settings.as_of)  # type: ignore[arg-type]
        data = due_workbook(
            items, {k: v.title for k, v in catalog.kpis.items()}, {"playground-inspections": True}
        )
    book = load_workbook(io.BytesIO(data))
    rows = {row[0].value: row[0].row for row in book["Entries"].iter_rows(min_row=2)}
    return book, rows
