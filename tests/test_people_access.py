"""Access, tried as an attacker would: an updater of one department cannot submit, approve,
read a pending value of, or upload into another department through any route."""

from __future__ import annotations

import re

from people_site import APPROVER, OTHER, UPDATER, VIEWER, Site, csrf_of, pending_ids, sign_in, submit


def _entries(site: Site, kpi: str) -> list[object]:
    rows: list[object] = site.new_client().get(f"/resource/entries-{kpi}.json").json()
    return rows


def test_an_updater_cannot_submit_for_another_department(people: Site) -> None:
    parks = people.new_client()
    sign_in(parks, OTHER)
    assert "sidewalk-repairs" not in parks.get("/updates").text  # no form for Public Works
    # a crafted POST with Bo's own valid CSRF token
    crafted = submit(parks, "sidewalk-repairs|2020-02-01", value="5")
    assert crafted.status_code == 403
    approver = people.new_client()
    sign_in(approver, APPROVER)
    assert pending_ids(approver) == []


def test_an_updater_cannot_approve_or_see_another_departments_pending_value(people: Site) -> None:
    ann, bo = people.new_client(), people.new_client()
    sign_in(ann, UPDATER)
    sign_in(bo, OTHER)
    submit(ann, "sidewalk-repairs|2020-02-01", value="4242.5")
    assert "4242.5" not in bo.get("/updates").text
    csrf = csrf_of(bo.get("/updates").text)
    for decision in ("approve", "send-back"):
        answer = bo.post(
            f"/approvals/1/{decision}", data={"csrf": csrf, "reason": "x"}, follow_redirects=False
        )
        assert answer.status_code == 403
    # Ann cannot approve her own department's value either: that takes an approver.
    own = ann.post("/approvals/1/approve", data={"csrf": csrf_of(ann.get("/updates").text)})
    assert own.status_code == 403
    assert _entries(people, "sidewalk-repairs") == []


def test_a_viewer_reads_but_cannot_submit(people: Site) -> None:
    viewer = people.new_client()
    sign_in(viewer, VIEWER)
    page = viewer.get("/updates").text
    assert "sidewalk-repairs" not in page or "Submit for approval" not in page
    assert 'action="/updates/value"' not in page
    assert submit(viewer, "sidewalk-repairs|2020-02-01", value="5").status_code == 403


def test_a_form_post_without_the_csrf_token_changes_nothing(people: Site) -> None:
    ann = people.new_client()
    sign_in(ann, UPDATER)
    data = {"item": "sidewalk-repairs|2020-02-01", "value": "5"}
    assert ann.post("/updates/value", data=data, follow_redirects=False).status_code == 403
    assert (
        ann.post("/updates/value", data={**data, "csrf": "x" * 43}, follow_redirects=False).status_code == 403
    )
    approver = people.new_client()
    sign_in(approver, APPROVER)
    assert pending_ids(approver) == []
    bare = people.new_client()  # no session at all: sent to sign in
    assert bare.post("/updates/value", data=data, follow_redirects=False).status_code == 303


def test_a_token_acts_only_for_its_departments_and_only_as_an_updater(people: Site) -> None:
    ann = people.new_client()
    sign_in(ann, UPDATER)
    made = ann.post("/tokens", data={"csrf": csrf_of(ann.get("/tokens").text), "label": "nightly"})
    secret = re.search(r'<code id="new-token">([^<]+)</code>', made.text)
    assert secret is not None
    api = people.new_client()
    auth = {"authorization": f"Bearer {secret.group(1)}"}
    other = [
        {"kpi": "playground-inspections", "period_start": "2020-02-01", "numerator": 1, "denominator": 2}
    ]
    assert api.post("/api/entries", json=other, headers=auth).status_code == 403
    mixed = [{"kpi": "sidewalk-repairs", "period_start": "2020-02-01", "value": 3}, *other]
    refused = api.post("/api/entries", json=mixed, headers=auth)
    assert refused.status_code == 403 and refused.json()["data"]["errors"][0]["row"] == 1
    bad = api.post(
        "/api/entries",
        json=[{"kpi": "sidewalk-repairs", "period_start": "2020-02-01", "value": "x"}],
        headers=auth,
    )
    assert bad.status_code == 400
    approver = people.new_client()
    sign_in(approver, APPROVER)
    assert pending_ids(approver) == []  # nothing of the refused requests was submitted
    good = api.post("/api/entries", json=mixed[:1], headers=auth)
    assert good.status_code == 201 and good.json()["state"] == "pending"
    # the token cannot sign in to pages, approve, or act without its header
    assert api.get("/approvals", headers=auth, follow_redirects=False).status_code == 303
    assert api.post("/api/entries", json=mixed[:1]).status_code == 401
    assert (
        api.post("/api/entries", json=mixed[:1], headers={"authorization": "Bearer btvp_forged"}).status_code
        == 401
    )
    audit = approver.get("/audit.csv").text
    assert ",token_used," in audit and ",token_created," in audit


def test_private_kpis_are_shown_to_viewers_of_their_department_only(people: Site) -> None:
    viewer, ann, bo = people.new_client(), people.new_client(), people.new_client()
    for client, email in ((viewer, VIEWER), (ann, UPDATER), (bo, OTHER)):
        sign_in(client, email)
    assert "Staff injuries reported" in viewer.get("/updates").text  # a viewer of every department
    assert "Staff injuries reported" in bo.get("/updates").text  # Parks
    assert "Staff injuries reported" not in ann.get("/updates").text  # Public Works only
    public = people.new_client()
    assert public.get("/kpi/parks-staff-injuries").status_code == 404
    assert "parks-staff-injuries" not in public.get("/api/kpis").text
