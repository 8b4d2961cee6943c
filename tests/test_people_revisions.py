"""A change to a locked period is a revision in the ledger of published values, with the
approver's reason: the KPI page shows both values, the series downloads carry the ledger
columns, and the next meeting's packet lists it."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from people_site import APPROVER, UPDATER, Site, csrf_of, pending_ids, running_site, sign_in, submit

from btvstat_open.people.access import Person, grants_for
from btvstat_open.people.locks import lock_meeting
from btvstat_open.people.submissions import Submissions, ValueEntry
from catalog import load_catalog
from catalog.ledger import LEDGER_DATASET
from catalog.packet import build_packet

TODAY = datetime.now(UTC).date()
NEXT = {
    "meetings/next-public-works.yaml": f"""\
        id: next-public-works
        date: {TODAY.isoformat()}
        title: Public Works review, next
        departments: [Public Works, Parks]
        """
}
REASON = "Crew log corrected"


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    with running_site(tmp_path, extra=NEXT) as made:
        yield made


def _ledger(site: Site) -> list[dict[str, object]]:
    table = site.store.info(LEDGER_DATASET).table
    cursor = site.store.cursor().execute(
        f"SELECT kpi, CAST(period_start AS DATE), revision, value, previous_value, reason FROM {table} "
        "ORDER BY kpi, period_start, revision"
    )
    names = ["kpi", "period_start", "revision", "value", "previous_value", "reason"]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _lock_and_change(site: Site) -> None:
    ann, ops = site.new_client(), site.new_client()
    sign_in(ann, UPDATER)
    sign_in(ops, APPROVER)
    assert submit(ann, "sidewalk-repairs|2020-01-01", value="80").status_code == 303
    token = csrf_of(ops.get("/approvals").text)
    [first] = pending_ids(ops)
    assert ops.post(f"/approvals/{first}/approve", data={"csrf": token}).status_code == 200
    locked = ops.post("/approvals/lock", data={"csrf": token, "meeting": "2020-03-25-public-works"})
    assert "Locked 1 period." in locked.text
    changed = submit(ops, "sidewalk-repairs|2020-01-01", value="81", reason=REASON)
    assert changed.status_code == 303
    [revision] = pending_ids(ops)
    assert ops.post(f"/approvals/{revision}/approve", data={"csrf": token}).status_code == 200


def test_a_locked_change_is_a_ledger_revision_with_the_approvers_reason(site: Site) -> None:
    _lock_and_change(site)
    first, second = _ledger(site)
    assert (first["revision"], first["value"], first["reason"]) == (0, 80.0, None)
    assert (second["revision"], second["value"], second["previous_value"]) == (1, 81.0, 80.0)
    assert second["reason"] == f"changed after the meeting 2020-03-25-public-works: {REASON}"
    anonymous = site.new_client()
    page = anonymous.get("/kpi/sidewalk-repairs").text
    assert "Period from 2020-01-01: first reported 80.0 on" in page and "now 81.0" in page and REASON in page
    rows = list(csv.DictReader(io.StringIO(anonymous.get("/kpi/sidewalk-repairs.csv").text)))
    january = next(r for r in rows if r["period_start"] == "2020-01-01")
    assert (float(january["value"]), float(january["first_published_value"])) == (81.0, 80.0)
    assert january["revised_at"] and january["first_published_at"] < january["revised_at"]
    [entry] = [r for r in anonymous.get("/kpi/sidewalk-repairs.json").json() if r["revised_at"]]
    assert (entry["value"], entry["first_published_value"]) == (81.0, 80.0)
    public = anonymous.get("/resource/published-values.json?$where=revision=1").json()
    assert [r["reason"] for r in public] == [second["reason"]]


def test_the_next_packet_lists_the_revision(site: Site) -> None:
    _lock_and_change(site)
    catalog = load_catalog(site.root, site.store)
    packet = build_packet(catalog, site.store, "next-public-works")
    [line] = packet.revised
    assert line.startswith("Sidewalk panels repaired, period from 2020-01-01: 80")
    assert "81" in line and REASON in line
    page = site.new_client().get("/meetings/next-public-works").text
    assert "period from 2020-01-01" in page and REASON in page


def test_the_revision_keeps_the_value_first_published_when_the_ledger_never_recorded_it(
    site: Site,
) -> None:
    """Values approved by a program with no server (nothing ran the ledger after the approval)."""
    catalog = load_catalog(site.root, site.store)
    submissions = Submissions(site.store, catalog)  # no on_change: the ledger is not told
    ann = grants_for(Person(UPDATER, "Ann", ("public-works-staff",)), catalog.settings.access)
    ops = grants_for(Person(APPROVER, "Ops"), catalog.settings.access)
    january = (date(2020, 1, 1), date(2020, 1, 31))
    first = submissions.submit_value(ann, ValueEntry("sidewalk-repairs", *january, value=80))
    submissions.approve(ops, first)
    assert not site.store.exists(LEDGER_DATASET)
    assert lock_meeting(site.store, catalog, ops, "2020-03-25-public-works") == 1
    entry = ValueEntry("sidewalk-repairs", *january, value=79, reason=REASON)
    submissions.approve(ops, submissions.submit_value(ops, entry))
    values = [(r["revision"], r["value"], r["previous_value"]) for r in _ledger(site)]
    assert values == [(0, 80.0, None), (1, 79.0, 80.0)]


def test_an_unlocked_change_is_recorded_as_before(site: Site) -> None:
    ann, ops = site.new_client(), site.new_client()
    sign_in(ann, UPDATER)
    sign_in(ops, APPROVER)
    token = csrf_of(ops.get("/approvals").text)
    for value in ("80", "82"):
        submit(ann, "sidewalk-repairs|2020-01-01", value=value)
        [pending] = pending_ids(ops)
        ops.post(f"/approvals/{pending}/approve", data={"csrf": token})
    assert [(r["revision"], r["reason"]) for r in _ledger(site)] == [(0, None), (1, "data changed")]
