"""A private KPI's page, chart and series for signed-in people who may see it; a 404 for everyone
else (anonymous, or signed in without the role), as for a KPI that does not exist; pending values
only where the role allows, marked as pending; nothing of it in any cache."""

from __future__ import annotations

import csv
import io

from fastapi.testclient import TestClient
from people_site import APPROVER, OTHER, UPDATER, VIEWER, Site, csrf_of, pending_ids, sign_in, submit

PRIVATE = "parks-staff-injuries"
ROUTES = (f"/kpi/{PRIVATE}", f"/kpi/{PRIVATE}.svg", f"/kpi/{PRIVATE}.png", f"/kpi/{PRIVATE}.csv",
          f"/kpi/{PRIVATE}.json")  # fmt: skip
SENTINEL = "48213.5"  # a pending value nobody else would print
FORMS = ("48213", "48,213")


def _with_values(people: Site) -> tuple[TestClient, TestClient]:
    """Bo (updater, Parks) enters two values; the approver approves the first; the second waits."""
    bo, ops = people.new_client(), people.new_client()
    sign_in(bo, OTHER)
    sign_in(ops, APPROVER)
    assert submit(bo, f"{PRIVATE}|2020-01-01", value="4").status_code == 303
    token = csrf_of(ops.get("/approvals").text)
    [first] = pending_ids(ops)
    assert ops.post(f"/approvals/{first}/approve", data={"csrf": token}).status_code == 200
    assert submit(bo, f"{PRIVATE}|2020-02-01", value=SENTINEL).status_code == 303
    return bo, ops


def _not_found_like_a_missing_kpi(client: TestClient) -> None:
    for path in ROUTES:
        answer = client.get(path)
        missing = client.get(path.replace(PRIVATE, "no-such-kpi"))
        assert answer.status_code == 404 == missing.status_code, path
        assert answer.text.replace(PRIVATE, "no-such-kpi") == missing.text, path
        assert "Staff injuries" not in answer.text and not any(f in answer.text for f in FORMS)


def test_anonymous_and_unentitled_people_get_the_404_of_a_missing_kpi(people: Site) -> None:
    _with_values(people)
    _not_found_like_a_missing_kpi(people.new_client())
    ann = people.new_client()
    sign_in(ann, UPDATER)  # Public Works only
    _not_found_like_a_missing_kpi(ann)
    assert ann.get("/kpi/sidewalk-repairs").status_code == 200


def test_a_viewer_sees_the_page_chart_and_series_without_pending_values(people: Site) -> None:
    _with_values(people)
    viewer = people.new_client()
    sign_in(viewer, VIEWER)
    for path in ROUTES:
        answer = viewer.get(path)
        assert answer.status_code == 200, path
        assert answer.headers["cache-control"] == "private, no-store"
        assert not any(f in answer.text for f in FORMS), path
    page = viewer.get(f"/kpi/{PRIVATE}").text
    assert "Staff injuries reported" in page and "Internal:" in page and "Pending values" not in page
    assert viewer.get(f"/kpi/{PRIVATE}.png").content.startswith(b"\x89PNG")
    rows = list(csv.DictReader(io.StringIO(viewer.get(f"/kpi/{PRIVATE}.csv").text)))
    assert [r["value"] for r in rows if r["period_start"] == "2020-01-01"] == ["4"]
    assert all(r["pending_value"] == "" for r in rows)
    _not_found_like_a_missing_kpi(people.new_client())  # nothing the viewer saw was cached


def test_the_department_sees_its_pending_value_marked_as_pending(people: Site) -> None:
    bo, ops = _with_values(people)
    for client in (bo, ops):
        page = client.get(f"/kpi/{PRIVATE}").text
        assert "Pending values" in page and "48,213.5" in page and "(pending)" in page
        svg = client.get(f"/kpi/{PRIVATE}.svg").text
        assert "Pending approval: 48,213.5" in svg
        rows = list(csv.DictReader(io.StringIO(client.get(f"/kpi/{PRIVATE}.csv").text)))
        february = next(r for r in rows if r["period_start"] == "2020-02-01")
        assert (february["value"], float(february["pending_value"])) == ("", float(SENTINEL))
        entries = {r["period_start"]: r for r in client.get(f"/kpi/{PRIVATE}.json").json()}
        assert entries["2020-02-01"]["pending_value"] == float(SENTINEL)
    _not_found_like_a_missing_kpi(people.new_client())
    public = people.new_client().get("/resource/entries-parks-staff-injuries.json")
    assert not any(f in public.text for f in FORMS)


def test_a_private_kpis_entries_dataset_is_private_as_long_as_the_kpi_is(people: Site) -> None:
    from catalog import load_catalog

    assert not people.store.info(f"entries-{PRIVATE}").public
    assert people.store.info("entries-sidewalk-repairs").public
    path = people.root / "parks" / "private-count.yaml"
    path.write_text(path.read_text().replace("public: false", "public: true"))
    load_catalog(people.root, people.store)
    assert people.store.info(f"entries-{PRIVATE}").public
