"""A draft story: a 404 for everyone but signed-in staff, who see it marked as a preview, never cached;
an anonymous request after a preview still gets the 404 (nothing of the preview is kept)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from catalog_files import write
from fastapi.testclient import TestClient
from people_site import FILES, PASSWORD, VIEWER, sign_in

from btvstat_open.people.accounts import Accounts
from btvstat_open.server import create_app
from btvstat_open.store import Store
from btvstat_open.web.settings import Settings
from catalog import load_catalog

NO_ROLE = "visitor@example.gov"  # an account that no access rule names
DRAFT = """\
    ---
    title: Sidewalks this winter
    date: 2020-03-01
    author: Public Works
    status: draft
    ---
    Not ready yet.

    ```kpi-card
    id: sidewalk-repairs
    ```
    """


@pytest.fixture
def app_client(tmp_path: Path) -> Iterator[TestClient]:
    root = write(tmp_path / "catalog", {**FILES, "stories/sidewalks.md": DRAFT})
    store = Store(tmp_path / "store")
    catalog = load_catalog(root, store)
    assert catalog.stories["sidewalks"].meta.status == "draft"
    accounts = Accounts(store)
    accounts.add(VIEWER, PASSWORD, name="Vi")
    accounts.add(NO_ROLE, PASSWORD, name="Visitor")
    client = TestClient(create_app(store, catalog, Settings(warm_up=False)), base_url="https://testserver")
    with client:
        yield client
    store.close()


def test_only_signed_in_staff_preview_a_draft(app_client: TestClient) -> None:
    app = app_client.app
    assert app_client.get("/stories/sidewalks").status_code == 404
    assert "/stories/sidewalks" not in app_client.get("/stories").text

    staff = TestClient(app, base_url="https://testserver")
    assert sign_in(staff, VIEWER).status_code == 303
    preview = staff.get("/stories/sidewalks")
    assert preview.status_code == 200
    assert "Preview for signed-in staff" in preview.text
    assert 'data-kpi="sidewalk-repairs"' in preview.text
    assert preview.headers["cache-control"] == "private, no-store"
    assert "/stories/sidewalks" not in staff.get("/stories").text  # the list stays the public one

    # after the preview, an anonymous reader still gets the 404 (the preview was not kept)
    anonymous = TestClient(app, base_url="https://testserver")
    assert anonymous.get("/stories/sidewalks").status_code == 404

    visitor = TestClient(app, base_url="https://testserver")
    assert sign_in(visitor, NO_ROLE).status_code == 303
    assert visitor.get("/stories/sidewalks").status_code == 404  # signed in, but no role
