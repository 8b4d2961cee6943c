"""The department cycle's notifications, received by a real SMTP server (aiosmtpd): values due soon
and late to the department's updaters, pending submissions to the approvers (once), a sent-back
submission to its updater, a revised published value once in a digest and in the KPI's Atom feed;
a pending value in no message at all."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import feedparser  # type: ignore[import-untyped]
import pytest
from catalog_files import write
from fastapi.testclient import TestClient
from notify_helpers import run_notify
from people_site import APPROVER, FILES, OTHER, PASSWORD, UPDATER, csrf_of, pending_ids, sign_in, submit
from smtp_server import Inbox, smtp_inbox

from btvstat_open.people.access import Person
from btvstat_open.people.accounts import Accounts
from btvstat_open.people.context import PeopleContext
from btvstat_open.people.submissions import ValueEntry
from btvstat_open.server import create_app
from btvstat_open.store import Store
from btvstat_open.web.settings import Settings
from catalog import load_catalog
from catalog.notify.run import notify, plan

__all__ = ["smtp_inbox"]

SENTINEL_FORMS = ("73914", "73,914", "7.3914")  # a pending value nobody else would print
CATALOG = FILES["catalog.yaml"].replace(
    "access:\n",
    "access:\n          - {who: ann@example.gov, role: updater, departments: [Public Works]}\n",
)


@dataclass
class CycleSite:
    """The app over a catalog whose access: rules name the updaters and the approver by e-mail."""

    client: TestClient
    store: Store
    root: Path
    inbox: Inbox

    def signed_in(self, email: str) -> TestClient:
        client = TestClient(self.client.app, base_url="https://testserver")
        sign_in(client, email)
        return client

    def settle(self) -> None:
        """Wait for the notifications the last change started."""
        people: PeopleContext = self.client.app.state.people  # type: ignore[attr-defined]
        assert people.after_change is not None and people.after_change.wait()

    def bodies(self, address: str) -> list[str]:
        return _bodies(self.inbox, address)


def _bodies(inbox: Inbox, address: str) -> list[str]:
    """The plain-text part of each message ``address`` received, in order."""
    return [
        m.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        for rcpts, m in inbox.received
        if rcpts == [address]
    ]


@pytest.fixture
def cycle(tmp_path: Path, smtp_inbox: Inbox, monkeypatch: pytest.MonkeyPatch) -> Iterator[CycleSite]:
    for name, value in smtp_inbox.env().items():
        monkeypatch.setenv(name, value)  # the runs after each change read the environment
    smtp_inbox.clear()
    root = write(tmp_path / "catalog", {**FILES, "catalog.yaml": CATALOG})
    store = Store(tmp_path / "store")
    accounts = Accounts(store)
    accounts.add(UPDATER, PASSWORD, name="Ann", groups=["public-works-staff"])
    accounts.add(OTHER, PASSWORD, name="Bo")
    accounts.add(APPROVER, PASSWORD, name="Ops")
    app = create_app(store, load_catalog(root, store), Settings(warm_up=False))
    with TestClient(app, base_url="https://testserver") as client:
        yield CycleSite(client, store, root, smtp_inbox)
    store.close()


def _every_message(inbox: Inbox) -> list[tuple[str, str]]:
    """Each message's recipient and its plain and HTML parts together."""
    found = []
    for rcpts, message in inbox.received:
        parts = [p.get_content() for p in message.iter_parts()]
        assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
        found.append((rcpts[0], "\n".join(parts)))
    return found


def test_an_updater_is_reminded_before_the_due_date_and_told_when_it_is_late(
    tmp_path: Path, smtp_inbox: Inbox
) -> None:
    smtp_inbox.clear()
    root = write(tmp_path / "catalog", {**FILES, "catalog.yaml": CATALOG})
    env = smtp_inbox.env()
    with Store(tmp_path / "store") as store:
        catalog = load_catalog(root, store)
        # February is due 2020-03-10 (10 days after it ends); the reminder is 3 business days before
        first, _ = notify(catalog, store, date(2020, 3, 4), env=env)
        assert {(e.kind, e.subject_id) for e in first.events if e.kpi_id == "sidewalk-repairs"} == {
            ("late", f"sidewalk-repairs|2019-{m}-01") for m in ("10", "11", "12")
        } | {("late", "sidewalk-repairs|2020-01-01")}
        reminder, _ = notify(catalog, store, date(2020, 3, 5), env=env)
        mine = {"playground-inspections", "sidewalk-repairs"}  # the updater's department's entered KPIs
        assert sorted((e.kind, e.subject_id) for e in reminder.events if e.kpi_id in mine) == [
            ("due", "playground-inspections|2020-02-01"),
            ("due", "sidewalk-repairs|2020-02-01"),
        ]
        assert notify(catalog, store, date(2020, 3, 10), env=env)[0].events == []  # due today: not late
        late, _ = notify(catalog, store, date(2020, 3, 11), env=env)
        assert sorted((e.kind, e.subject_id) for e in late.events if e.kpi_id in mine) == [
            ("late", "playground-inspections|2020-02-01"),
            ("late", "sidewalk-repairs|2020-02-01"),
        ]
    ann = _bodies(smtp_inbox, UPDATER)
    assert len(ann) == 3  # the late ones, the reminder, the late notice
    assert "Values due soon" in ann[1] and "2020-02-01 to 2020-02-29 is due 2020-03-10" in ann[1]
    assert "Late values" in ann[2] and "2020-02-01 to 2020-02-29 was due 2020-03-10" in ann[2]
    assert all("Sidewalk panels repaired" in b and "Playgrounds" not in b for b in ann)
    bo = _bodies(smtp_inbox, OTHER)
    assert len(bo) == 3 and all("Playgrounds inspected on time" in b and "Sidewalk" not in b for b in bo)
    assert all(rcpts != [APPROVER] for rcpts, _ in smtp_inbox.received)  # due items go to departments


def test_pending_reaches_the_approver_once_and_a_sent_back_one_reaches_its_updater(cycle: CycleSite) -> None:
    ann, bo, ops = cycle.signed_in(UPDATER), cycle.signed_in(OTHER), cycle.signed_in(APPROVER)
    assert submit(ann, "sidewalk-repairs|2020-02-01", value="73914.0625").status_code == 303
    cycle.settle()
    [waiting] = cycle.bodies(APPROVER)
    assert "Submissions waiting for your approval" in waiting and f"submitted by {UPDATER}" in waiting
    assert "Sidewalk panels repaired" in waiting
    assert submit(bo, "playground-inspections|2020-02-01", numerator="9", denominator="10").status_code == 303
    cycle.settle()
    _first, second = cycle.bodies(APPROVER)
    assert f"submitted by {OTHER}" in second and f"submitted by {UPDATER}" not in second  # listed once
    [submission] = [i for i in pending_ids(ops) if f"#{i}" in waiting]
    token = csrf_of(ops.get("/approvals").text)
    answer = ops.post(
        f"/approvals/{submission}/send-back", data={"csrf": token, "reason": "Count panels, not slabs"}
    )
    assert answer.status_code in (200, 303)
    cycle.settle()
    back = [b for b in cycle.bodies(UPDATER) if "Values sent back to you" in b]
    assert len(back) == 1 and "Count panels, not slabs" in back[0] and "Sidewalk panels repaired" in back[0]
    assert not any("sent back" in b for b in cycle.bodies(OTHER))
    for address, text in _every_message(cycle.inbox):
        assert not any(form in text for form in SENTINEL_FORMS), address  # no message carries the value
        if "waits for approval" in text:
            assert address == APPROVER


def _approve_all(ops: TestClient) -> None:
    for submission in pending_ids(ops):
        answer = ops.post(
            f"/approvals/{submission}/approve", data={"csrf": csrf_of(ops.get("/approvals").text)}
        )
        assert answer.status_code in (200, 303)


def test_a_revision_appears_once_in_a_digest_and_in_the_kpi_feed(cycle: CycleSite) -> None:
    ann, ops = cycle.signed_in(UPDATER), cycle.signed_in(APPROVER)
    submit(ann, "sidewalk-repairs|2020-01-01", value="80")
    _approve_all(ops)
    cycle.settle()
    assert not any("Revised values" in b for b in cycle.bodies(UPDATER))  # first published: no revision
    submit(ann, "sidewalk-repairs|2020-01-01", value="95")
    _approve_all(ops)
    cycle.settle()
    sentence = "the value for the period from 2020-01-01 was revised from 80.0 to 95.0 (data changed)"
    revised = [b for b in cycle.bodies(UPDATER) if sentence in b]
    assert len(revised) == 1 and "Revised values" in revised[0]
    submit(ann, "sidewalk-repairs|2019-12-01", value="70")  # another change: the revision is not sent again
    cycle.settle()
    assert len([b for b in cycle.bodies(UPDATER) if sentence in b]) == 1
    assert not any(sentence in b for b in cycle.bodies(APPROVER))  # approvers are not its department
    feed = feedparser.parse(cycle.client.get("/kpi/sidewalk-repairs.atom").content)
    assert not feed.bozo
    entries = [e for e in feed.entries if "revised" in e.title]
    assert len(entries) == 1 and "revised from 80.0 to 95.0 (data changed)" in entries[0].summary
    assert entries[0].link.endswith("/kpi/sidewalk-repairs")
    assert re.match(r"\d{4}-\d\d-\d\d", entries[0].updated)
    program = feedparser.parse(cycle.client.get("/program.atom").content)
    assert [e.id for e in program.entries if "revised" in e.title] == [entries[0].id]


def test_cycle_events_reach_no_named_address_nor_webhook_and_count_the_city_holidays(tmp_path: Path) -> None:
    rules = """\
        holidays: [2020-03-09]
        webhooks: {ops: {url: "https://hooks.example.gov/stat"}}
        notify:
          - on: [due, late, pending, sent_back]
            to: [mayor@example.gov, approvers]
            by: [email, webhook]
            webhook: ops
        """
    root = write(tmp_path / "catalog", {**FILES, "catalog.yaml": CATALOG.rstrip(" ") + rules})
    with Store(tmp_path / "store") as store:
        catalog = load_catalog(root, store)
        accounts = Accounts(store)
        accounts.add(UPDATER, PASSWORD, name="Ann", groups=["public-works-staff"])
        people = PeopleContext.create(store, catalog, Settings())
        grants = people.grants(Person(UPDATER, "Ann", ("public-works-staff",)))
        people.submissions.submit_value(
            grants, ValueEntry("sidewalk-repairs", date(2020, 1, 1), date(2020, 1, 31), 5)
        )
        # with the Monday off, 3 business days before Tuesday 10 March is Wednesday 4 March
        found = plan(catalog, store, date(2020, 3, 4))
        assert people.after_change is not None and people.after_change.wait()
    kinds = {(e.kind, e.subject_id.split("|")[0]) for e in found.events}
    assert ("due", "sidewalk-repairs") in kinds and ("pending", "submission-1") in kinds
    targets = {item.target for item in found.items}
    assert targets == {APPROVER}  # neither the named address nor the webhook: none of it is public


def test_the_command_line_dry_run_lists_the_cycle_events(tmp_path: Path) -> None:
    root = write(tmp_path / "catalog", {**FILES, "catalog.yaml": CATALOG})
    with Store(tmp_path / "store") as store:
        load_catalog(root, store)
    done = run_notify(root, tmp_path / "store", {}, "--dry-run", "--as-of", "2020-03-05")
    assert done.returncode == 0, done.stderr
    lines = [line.split() for line in done.stdout.splitlines()]
    assert ["due", "Sidewalk"] in [line[:2] for line in lines]
    assert "e-mail to ann@example.gov" in done.stdout and "e-mail to ops@example.gov" not in done.stdout
