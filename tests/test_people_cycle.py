"""The monthly cycle through the forms: enter, approve or send back, publish; a pending value
reaches no public route; the published values match pandas; the audit lists each step."""

from __future__ import annotations

import io
import re
from typing import Any

import pandas as pd
from fastapi.testclient import TestClient
from people_site import APPROVER, OTHER, UPDATER, Site, csrf_of, pending_ids, sign_in, submit

from catalog import load_catalog
from widgets.packets.kept import produce

SENTINEL = "73914.0625"  # a pending value nobody else would print
SENTINEL_FORMS = ("73914", "73,914", "7.3914")


def _public_paths(client: TestClient) -> list[str]:
    """Every documented GET route, with each path parameter filled by every id it can take."""
    ids = {
        "kpi_id": ["sidewalk-repairs", "playground-inspections", "parks-staff-injuries"],
        "dataset_id": [
            "entries-sidewalk-repairs",
            "entries-playground-inspections",
            "entries-parks-staff-injuries",
        ],
        "resource": [
            "entries-sidewalk-repairs.json",
            "entries-sidewalk-repairs.csv",
            "entries-sidewalk-repairs",
        ],
        "meeting_id": ["2020-03-25-public-works"],
        "slug": ["public-works", "parks"],
        "goal_id": ["none"],
        "story_id": ["none"],  # the people catalog has no stories: the route answers 404
        "row": ["2020-02-01"],
        "number": ["1"],  # a kept packet's revision
    }
    paths = []
    for path, ops in client.app.openapi()["paths"].items():  # type: ignore[attr-defined]
        if "get" not in ops:
            continue
        filled = [path]
        for name in re.findall(r"{(\w+)}", path):
            filled = [p.replace("{" + name + "}", value) for p in filled for value in ids[name]]
        paths.extend(filled)
    # SODA queries and downloads of the entries dataset
    paths += [
        "/resource/entries-sidewalk-repairs.json?$select=max(value)",
        "/resource/entries-sidewalk-repairs.json?$where=value>1000",
        "/resource/entries-sidewalk-repairs.csv?$q=7391",
        "/api/views/entries-sidewalk-repairs/rows.csv?accessType=DOWNLOAD",
        "/resource/entries-parks-staff-injuries.json",
        "/api/views/entries-parks-staff-injuries/rows.csv?accessType=DOWNLOAD",
    ]
    return paths


def _text(response: Any) -> str:
    kind = response.headers.get("content-type", "")
    if "pdf" in kind:
        from pypdf import PdfReader

        return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    if "parquet" in kind or "octet-stream" in kind:
        return pd.read_parquet(io.BytesIO(response.content)).to_csv()
    if kind.startswith("image/png"):
        return ""  # pixels: the same chart's SVG is searched
    return response.text


def _public_hits(site: Site) -> dict[str, str]:
    anonymous = site.new_client()
    hits = {}
    for path in _public_paths(anonymous):
        response = anonymous.get(path)
        text = _text(response)
        found = [form for form in SENTINEL_FORMS if form in text]
        if found:
            hits[path] = found[0]
    return hits


def test_a_pending_value_reaches_no_public_route_until_it_is_approved(people: Site) -> None:
    updater = people.new_client()
    sign_in(updater, UPDATER)
    answer = submit(updater, "sidewalk-repairs|2020-02-01", value=SENTINEL, comment="Crews were out.")
    assert answer.status_code == 303
    page = updater.get("/updates").text
    assert "waiting for approval" in page and "73914.0625" in page  # the updater sees it, marked pending
    assert _public_hits(people) == {}
    approver = people.new_client()
    sign_in(approver, APPROVER)
    [submission] = pending_ids(approver)
    token = re.search(r'name="csrf" value="([^"]+)"', approver.get("/approvals").text)
    assert token is not None
    decided = approver.post(
        f"/approvals/{submission}/approve", data={"csrf": token.group(1)}, follow_redirects=False
    )
    assert decided.status_code == 303
    hits = _public_hits(people)  # the same search finds it once it is published
    assert "/kpi/sidewalk-repairs.json" in hits and "/resource/entries-sidewalk-repairs.json" in hits
    # The meeting's packet was kept as first shown (before the approval): it stays so.
    assert "/meetings/2020-03-25-public-works" not in hits
    # the comment entered with the value is shown with it, on the KPI page and in the next packet
    assert "2020-02-01: Crews were out." in people.new_client().get("/kpi/sidewalk-repairs").text
    produce(load_catalog(people.root, people.store), people.store, "2020-03-25-public-works", refresh=True)
    refreshed = people.new_client().get("/meetings/2020-03-25-public-works?revision=2").text
    assert "2020-02-01: Crews were out." in refreshed
    assert any(form in refreshed for form in SENTINEL_FORMS)


def test_a_private_kpis_values_pending_or_approved_reach_no_public_route(people: Site) -> None:
    bo, ops = people.new_client(), people.new_client()
    sign_in(bo, OTHER)
    sign_in(ops, APPROVER)
    assert submit(bo, "parks-staff-injuries|2020-02-01", value=SENTINEL).status_code == 303
    assert SENTINEL_FORMS[1] in bo.get("/kpi/parks-staff-injuries").text  # its department sees it
    assert _public_hits(people) == {}
    token = csrf_of(ops.get("/approvals").text)
    [submission] = pending_ids(ops)
    assert ops.post(f"/approvals/{submission}/approve", data={"csrf": token}).status_code == 200
    assert SENTINEL_FORMS[1] in ops.get("/kpi/parks-staff-injuries.csv").text.replace("73914.0625", "73,914")
    assert _public_hits(people) == {}


def test_values_entered_and_approved_match_pandas(people: Site) -> None:
    updater, parks, approver = people.new_client(), people.new_client(), people.new_client()
    sign_in(updater, UPDATER)
    sign_in(parks, OTHER)
    sign_in(approver, APPROVER)
    sidewalks = {"2019-10-01": "120", "2019-12-01": "1,040.5", "2020-01-01": "0"}
    rates = {"2019-10-01": ("18", "20"), "2019-11-01": ("7", "9"), "2020-02-01": ("0", "3")}
    for start, value in sidewalks.items():
        assert submit(updater, f"sidewalk-repairs|{start}", value=value).status_code == 303
    for start, (num, den) in rates.items():
        assert (
            submit(parks, f"playground-inspections|{start}", numerator=num, denominator=den).status_code
            == 303
        )
    csrf = re.search(r'name="csrf" value="([^"]+)"', approver.get("/approvals").text)
    assert csrf is not None
    for submission in pending_ids(approver):
        approver.post(f"/approvals/{submission}/approve", data={"csrf": csrf.group(1)})
    assert pending_ids(approver) == []

    entered = pd.DataFrame(
        {"start": list(sidewalks), "value": [float(v.replace(",", "")) for v in sidewalks.values()]}
    )
    series = pd.read_csv(io.StringIO(people.client.get("/kpi/sidewalk-repairs.csv").text))
    got = series.set_index("period_start")["value"].dropna()
    expected = entered.set_index("start")["value"]
    assert got.loc[expected.index].tolist() == expected.tolist()
    november = series.set_index("period_start").loc["2019-11-01"]
    assert pd.isna(november["value"]) and november["status"] == "no_data"  # not entered: no data, not zero

    parts = pd.DataFrame(
        [(s, float(n), float(d)) for s, (n, d) in rates.items()], columns=["start", "n", "d"]
    )
    parts["value"] = parts["n"] / parts["d"] * 100
    rate = pd.read_csv(io.StringIO(people.client.get("/kpi/playground-inspections.csv").text)).set_index(
        "period_start"
    )
    assert rate.loc[parts["start"], "value"].round(6).tolist() == parts["value"].round(6).tolist()
    assert rate.loc[parts["start"], "numerator"].tolist() == parts["n"].tolist()

    audit = approver.get("/audit.csv").text
    assert audit.count(",submitted,") == len(sidewalks) + len(rates)
    assert audit.count(",approved,") == len(sidewalks) + len(rates)
    assert f"{UPDATER},sign_in" in audit and f"{APPROVER},sign_in" in audit
    assert "catalog,roles_changed,access," in audit  # the access rules the server started with


def test_sent_back_shows_the_reason_and_a_bad_value_is_tied_to_its_field(people: Site) -> None:
    updater, approver = people.new_client(), people.new_client()
    sign_in(updater, UPDATER)
    sign_in(approver, APPROVER)
    bad = submit(updater, "sidewalk-repairs|2020-01-01", value="twelve")
    assert bad.status_code == 400
    assert (
        "is not a number" in bad.text
        and 'aria-describedby="f' in bad.text
        and 'aria-invalid="true"' in bad.text
    )
    submit(updater, "sidewalk-repairs|2020-01-01", value="12")
    [submission] = pending_ids(approver)
    csrf = re.search(r'name="csrf" value="([^"]+)"', approver.get("/approvals").text)
    assert csrf is not None
    empty = approver.post(f"/approvals/{submission}/send-back", data={"csrf": csrf.group(1), "reason": " "})
    assert empty.status_code == 400 and "Say why" in empty.text
    approver.post(
        f"/approvals/{submission}/send-back", data={"csrf": csrf.group(1), "reason": "Count only repaired"}
    )
    page = updater.get("/updates").text
    assert "Sent back: Count only repaired" in page
    assert people.new_client().get("/resource/entries-sidewalk-repairs.json").json() == []


def test_a_locked_period_takes_an_approver_and_a_reason_and_is_a_revision(people: Site) -> None:
    ann, ops = people.new_client(), people.new_client()
    sign_in(ann, UPDATER)
    sign_in(ops, APPROVER)
    submit(ann, "sidewalk-repairs|2020-01-01", value="80")
    csrf = re.search(r'name="csrf" value="([^"]+)"', ops.get("/approvals").text)
    assert csrf is not None
    [first] = pending_ids(ops)
    ops.post(f"/approvals/{first}/approve", data={"csrf": csrf.group(1)})
    locked = ops.post("/approvals/lock", data={"csrf": csrf.group(1), "meeting": "2020-03-25-public-works"})
    assert locked.status_code == 200 and "Locked 1 period." in locked.text
    assert "Locked after the meeting 2020-03-25-public-works" in ann.get("/updates").text
    assert submit(ann, "sidewalk-repairs|2020-01-01", value="81").status_code == 403
    no_reason = submit(ops, "sidewalk-repairs|2020-01-01", value="81")
    assert no_reason.status_code == 400 and "give the reason" in no_reason.text
    assert (
        submit(ops, "sidewalk-repairs|2020-01-01", value="81", reason="Crew log corrected").status_code == 303
    )
    [revision] = pending_ids(ops)
    ops.post(f"/approvals/{revision}/approve", data={"csrf": csrf.group(1)})
    rows = people.new_client().get("/resource/entries-sidewalk-repairs.json").json()
    assert [float(r["value"]) for r in rows] == [81.0]
    audit = ops.get("/audit.csv").text
    assert ",locked,2020-03-25-public-works,1 periods" in audit and ",revised,sidewalk-repairs" in audit
    assert "Crew log corrected" in audit


def _approve_all(ops: TestClient) -> None:
    token = csrf_of(ops.get("/approvals").text)
    for submission in pending_ids(ops):
        assert ops.post(f"/approvals/{submission}/approve", data={"csrf": token}).status_code == 200


def test_commentary_and_action_progress_wait_for_approval_then_show_on_the_kpi_page_and_packet(
    people: Site,
) -> None:
    ann, bo, ops = people.new_client(), people.new_client(), people.new_client()
    sign_in(ann, UPDATER)
    sign_in(bo, OTHER)
    sign_in(ops, APPROVER)
    submit(ann, "sidewalk-repairs|2020-02-01", value="60")  # off track: the target is 100
    _approve_all(ops)
    page = ann.get("/updates").text
    assert "commentary due before the meeting on 2020-03-25" in page
    token = csrf_of(page)
    comment = {
        "csrf": token,
        "kpi": "sidewalk-repairs",
        "period": "2020-02-01",
        "text": "Snow: crews on plows.",
    }
    assert (
        bo.post("/updates/comment", data={**comment, "csrf": csrf_of(bo.get("/updates").text)}).status_code
        == 403
    )
    assert ann.post("/updates/comment", data={**comment, "text": " "}).status_code == 400
    assert ann.post("/updates/comment", data=comment, follow_redirects=False).status_code == 303
    added = ops.post(
        "/approvals/actions",
        data={
            "csrf": csrf_of(ops.get("/approvals").text),
            "kpi": "sidewalk-repairs",
            "title": "Hire a third crew",
        },
        follow_redirects=False,
    )
    assert added.status_code == 303
    action_id = re.search(r'name="action" value="([^"]+)"', ann.get("/updates").text)
    assert action_id is not None
    update = {"csrf": token, "kpi": "sidewalk-repairs", "action": action_id.group(1), "status": "done"}
    assert (
        ann.post(
            "/updates/action", data={**update, "note": "Hired in March."}, follow_redirects=False
        ).status_code
        == 303
    )
    public = people.new_client()
    kpi_page = public.get("/kpi/sidewalk-repairs").text
    assert "Snow: crews on plows." not in kpi_page and "Hired in March." not in kpi_page  # pending
    assert "New action: Hire a third crew" in kpi_page  # added by the program office: published at once
    _approve_all(ops)
    kpi_page = public.get("/kpi/sidewalk-repairs").text
    assert "2020-02-01: Snow: crews on plows." in kpi_page
    assert f"Action {action_id.group(1)} done: Hired in March." in kpi_page
    packet = public.get("/meetings/2020-03-25-public-works").text
    assert "Snow: crews on plows." in packet and "Hired in March." in packet
    audit = ops.get("/audit.csv").text
    assert ",action_added,sidewalk-repairs,Hire a third crew" in audit
