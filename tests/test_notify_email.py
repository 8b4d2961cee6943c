"""Notifications by e-mail, end to end: the rules of the demo catalog, the outbox in a real store,
digests received by a real SMTP server (aiosmtpd) and parsed back with the standard library."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import requests
import yaml
from notify_helpers import load_demo, notify_argv, notify_env, run_notify
from servers import free_port, serve
from smtp_server import Inbox, SecureInbox, secure_smtp, smtp_inbox

from btvstat_open.server import create_app
from btvstat_open.store import Store
from catalog.demo import DEMO_DIR
from catalog.loader import load_catalog
from catalog.notify.events import Event, Observation
from catalog.notify.outbox import outbox_counts, record_run
from catalog.notify.run import deliver, notify, plan

__all__ = ["secure_smtp", "smtp_inbox"]

TODAY = date(2020, 3, 2)


@pytest.fixture(scope="module")
def loaded_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return load_demo(tmp_path_factory, "notify")


@pytest.fixture
def work(tmp_path: Path, loaded_store: Path, smtp_inbox: Inbox) -> Path:
    """A copy of the demo catalog and its loaded store, and an empty inbox."""
    shutil.copytree(DEMO_DIR, tmp_path / "catalog")
    shutil.copytree(loaded_store, tmp_path / "store")
    smtp_inbox.clear()
    return tmp_path


def _addresses(inbox: Inbox) -> list[str]:
    return sorted(r for rcpts, _ in inbox.received for r in rcpts)


def test_each_person_gets_one_digest_of_only_their_items_with_working_links(
    work: Path, smtp_inbox: Inbox
) -> None:
    catalog = load_catalog(work / "catalog")
    with Store(work / "store") as store:
        app = create_app(store, catalog)
        with serve(app) as base:
            found, done = notify(catalog, store, TODAY, base_url=base, env=smtp_inbox.env())
            assert not done.failed and len(done.delivered) == len(found.items) > 3
            received = {rcpts[0]: msg for rcpts, msg in smtp_inbox.received}
            assert len(received) == len(smtp_inbox.received)  # one message per person
            works = received["publicworks-stat@example.gov"]
            owner = received["street-maintenance@example.gov"]
            assert works["To"] == "publicworks-stat@example.gov" and works["From"] == "stat@example.gov"
            assert [p.get_content_type() for p in works.iter_parts()] == ["text/plain", "text/html"]
            text = works.get_body(("plain",)).get_content()  # type: ignore[union-attr]
            page = works.get_body(("html",)).get_content()  # type: ignore[union-attr]
            # Public Works' items only: its off-track, unattended KPI; no other department's KPI
            assert "Share of pothole requests closed within 7 days" in text and "unattended" in text
            assert "Airport passengers" not in text and "water" not in text.lower()
            # the overdue action goes to its owner, not to the department
            assert "Add a second pothole crew" in owner.get_body(("plain",)).get_content()  # type: ignore[union-attr]
            assert "Add a second pothole crew" not in text
            assert '<html lang="en" dir="ltr">' in page and "<h2>" in page
            links = set(re.findall(r'href="([^"]+)"', page))
            assert links and links == set(re.findall(rf"{re.escape(base)}\S+", text))
            for _, msg in smtp_inbox.received:  # every link of every message works
                links |= set(re.findall(r'href="([^"]+)"', msg.get_body(("html",)).get_content()))  # type: ignore[union-attr]
            assert any("#" in link for link in links)  # the action links point into the page
            for link in links:
                page_url, _, fragment = link.partition("#")
                reply = requests.get(page_url, timeout=60)
                assert reply.status_code == 200, link
                assert not fragment or f'id="{fragment}"' in reply.text, link
            for rcpts, msg in smtp_inbox.received:
                every = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
                departments = {e.departments[0] for e in found.events if e.summary in every}
                assert departments, rcpts


def test_a_second_run_without_change_sends_nothing_and_a_change_sends_exactly_it(
    work: Path, smtp_inbox: Inbox
) -> None:
    catalog = load_catalog(work / "catalog")
    with Store(work / "store") as store:
        first, _ = notify(catalog, store, TODAY, env=smtp_inbox.env())
        count = len(smtp_inbox.received)
        assert count == len(first.items) > 0
        again, done = notify(catalog, store, TODAY, env=smtp_inbox.env())
        assert again.events == [] and again.items == [] and done.delivered == []
        assert len(smtp_inbox.received) == count
    kpi_file = work / "catalog" / "public-works" / "pothole-days-to-close.yaml"
    doc = yaml.safe_load(kpi_file.read_text())
    doc["actions"].append(
        {
            "id": "cold-patch",
            "title": "Stock cold patch",
            "owner": "Street Maintenance",
            "opened": "2020-02-01",
            "due": "2020-02-20",
            "status": "open",
        }
    )
    kpi_file.write_text(yaml.safe_dump(doc, sort_keys=False))
    catalog = load_catalog(work / "catalog")
    with Store(work / "store") as store:
        changed, _ = notify(catalog, store, TODAY, env=smtp_inbox.env())
    assert [(e.kind, e.subject_id) for e in changed.events] == [("overdue", "cold-patch")]
    new = smtp_inbox.received[count:]
    assert [r for r, _ in new] == [["street-maintenance@example.gov"]]
    assert "Stock cold patch" in new[0][1].get_body(("plain",)).get_content()  # type: ignore[union-attr]


def test_a_failed_delivery_waits_with_backoff_and_is_delivered_later(work: Path, smtp_inbox: Inbox) -> None:
    catalog = load_catalog(work / "catalog")
    closed = {**smtp_inbox.env(), "BTVSTAT_SMTP_PORT": str(free_port())}  # nothing listens there
    start = datetime(2020, 3, 2, 8, tzinfo=UTC)
    with Store(work / "store") as store:
        found, done = notify(catalog, store, TODAY, env=closed, now=start)
        assert done.delivered == [] and len(done.failed) == len(found.items)
        assert "ConnectionRefusedError" in done.failed[0][1]
        assert outbox_counts(store) == {"pending": len(found.items)}
        # too early for the next attempt: nothing is tried
        assert deliver(catalog, store, env=smtp_inbox.env(), now=start + timedelta(seconds=30)).failed == []
        assert smtp_inbox.received == []
        later = deliver(catalog, store, env=smtp_inbox.env(), now=start + timedelta(minutes=2))
        assert len(later.delivered) == len(found.items) == len(smtp_inbox.received)
        assert outbox_counts(store) == {"delivered": len(found.items)}


def _notify_command(work: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        notify_argv(work / "catalog", work / "store"),
        env=notify_env(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize("kill_at", [0, 2])
def test_sigkill_mid_send_then_restart_delivers_every_message_exactly_once(
    work: Path, smtp_inbox: Inbox, kill_at: int
) -> None:
    catalog = load_catalog(work / "catalog")
    with Store(work / "store") as store:
        expected = sorted(i.target for i in plan(catalog, store, TODAY).items)
    assert len(expected) > kill_at + 2
    process = _notify_command(work, smtp_inbox.env())
    smtp_inbox.kill_at(process.pid, kill_at)
    process.communicate(timeout=300)
    assert process.returncode == -9  # killed in the middle of message number kill_at
    assert len(smtp_inbox.received) == kill_at
    again = _notify_command(work, smtp_inbox.env())
    _out, err = again.communicate(timeout=300)
    assert again.returncode == 0, err
    ids = Counter(str(m["Message-ID"]) for _, m in smtp_inbox.received)
    assert set(ids.values()) == {1}  # no message twice
    assert _addresses(smtp_inbox) == expected  # every message once
    with Store(work / "store") as store:
        assert outbox_counts(store) == {"delivered": len(expected)}
    third = _notify_command(work, smtp_inbox.env())
    third.communicate(timeout=300)
    assert len(smtp_inbox.received) == len(expected)


def test_dry_run_prints_the_demo_s_overdue_action_and_unattended_kpi_and_sends_nothing(
    work: Path, smtp_inbox: Inbox
) -> None:
    tables = "SELECT table_name FROM duckdb_tables() WHERE table_name LIKE 'btvstat_%'"
    with Store(work / "store") as store:
        before = {r[0] for r in store.cursor().execute(tables).fetchall()}
    process = run_notify(
        work / "catalog", work / "store", smtp_inbox.env(), "--dry-run", "--as-of", "2020-03-02"
    )
    assert process.returncode == 0, process.stderr
    lines = process.stdout.splitlines()
    assert lines[0] == "notify as of 2020-03-02, dry run: nothing recorded, nothing sent"
    assert any(line.strip().startswith("overdue") and "Add a second pothole crew" in line for line in lines)
    assert any(
        line.strip().startswith("unattended") and "pothole requests closed within 7" in line for line in lines
    )
    assert "e-mail to street-maintenance@example.gov" in process.stdout
    assert smtp_inbox.received == []
    with Store(work / "store") as store:  # nothing written, not even the notification tables
        after = {r[0] for r in store.cursor().execute(tables).fetchall()}
    assert not any("notify" in t or "outbox" in t for t in after - before)


def test_the_dagster_definitions_notify_after_the_kpis(
    work: Path, smtp_inbox: Inbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dagster as dg

    from btvstat_open.dagster import NOTIFY_KEY, definitions

    for name, value in smtp_inbox.env().items():
        monkeypatch.setenv(name, value)
    defs = definitions(work / "catalog", store=work / "store")
    # The demo's peer city portal is not running here: a peer asset fails on its own (tested in
    # test_dagster), and nothing else depends on it.
    own = [
        a
        for a in defs.assets or []
        if (a.group_name if isinstance(a, dg.AssetSpec) else set(a.group_names_by_key.values()))  # type: ignore[union-attr]
        not in ("peers", {"peers"})
    ]
    result = dg.materialize(own)  # type: ignore[arg-type]
    assert result.success
    run = next(e for e in result.get_asset_materialization_events() if e.asset_key == NOTIFY_KEY)
    metadata = run.materialization.metadata
    assert metadata["failed"].value == 0 and metadata["delivered"].value == len(smtp_inbox.received) > 0


def test_a_sync_notifies_and_a_failed_delivery_never_fails_it(
    work: Path, smtp_inbox: Inbox, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from btvstat_open.cli import main

    sync = ["sync", "--catalog", str(work / "catalog"), "--store", str(work / "store")]
    for name, value in {**smtp_inbox.env(), "BTVSTAT_SMTP_PORT": str(free_port())}.items():
        monkeypatch.setenv(name, value)
    assert main(sync) == 0  # the SMTP server is down: the sync still succeeds
    assert "notifications were not delivered" in capsys.readouterr().err
    with Store(work / "store") as store:
        waiting = outbox_counts(store)["pending"]
    monkeypatch.setenv("BTVSTAT_SMTP_PORT", str(smtp_inbox.port))
    assert main(["notify", "--catalog", str(work / "catalog"), "--store", str(work / "store")]) == 0
    assert f"{waiting} waiting in the outbox" in capsys.readouterr().out
    assert smtp_inbox.received == []  # not yet: the retry waits its backoff
    with Store(work / "store") as store:
        assert deliver(load_catalog(work / "catalog"), store, now=datetime.now(UTC) + timedelta(minutes=5))
    assert len(smtp_inbox.received) == waiting > 0


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_tls_and_sign_in_with_credentials_from_the_environment_never_printed(
    work: Path, secure_smtp: SecureInbox, security: str
) -> None:
    secure_smtp.inbox.clear()
    wrong = _notify_command(work, secure_smtp.env(security, password="wrong-s3cret-guess"))
    out, err = wrong.communicate(timeout=300)
    assert wrong.returncode == 1 and "SMTPAuthenticationError" in err
    assert "wrong-s3cret-guess" not in out + err and secure_smtp.inbox.received == []
    with Store(work / "store") as store:  # the messages wait; deliver them now with the right password
        done = deliver(
            load_catalog(work / "catalog"),
            store,
            env=secure_smtp.env(security),
            now=datetime.now(UTC) + timedelta(hours=1),
        )
    assert done.failed == [] and len(secure_smtp.inbox.received) == len(done.delivered) > 0
    assert secure_smtp.password not in repr(done)


def test_a_kill_after_the_server_accepted_resends_with_the_same_message_id_and_says_so(
    work: Path, smtp_inbox: Inbox
) -> None:
    """The one window no sender can close: the server has the message, the sender died before
    hearing so. The message goes again, recognisably the same, and the run reports it."""
    process = _notify_command(work, smtp_inbox.env())
    smtp_inbox.kill_at(process.pid, 1, in_data=True)
    process.communicate(timeout=300)
    assert process.returncode == -9 and len(smtp_inbox.received) == 2
    again = _notify_command(work, smtp_inbox.env())
    _out, err = again.communicate(timeout=300)
    assert again.returncode == 0, err
    assert err.count("was sent again after a run stopped while handing it over") == 1
    ids = Counter(str(m["Message-ID"]) for _, m in smtp_inbox.received)
    assert sorted(ids.values())[-1] == 2 and sum(n == 2 for n in ids.values()) == 1
    assert str(smtp_inbox.received[1][1]["Message-ID"]) in [i for i, n in ids.items() if n == 2]


def test_without_any_channel_a_sync_evaluates_nothing(
    work: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from btvstat_open.cli import main

    monkeypatch.delenv("BTVSTAT_SMTP_HOST", raising=False)
    assert main(["sync", "--catalog", str(work / "catalog"), "--store", str(work / "store")]) == 0
    assert "notification" not in capsys.readouterr().err
    with Store(work / "store") as store:  # no states recorded: the first run with a channel sends
        assert outbox_counts(store) == {} and plan(load_catalog(work / "catalog"), store, TODAY).items


class _Submissions:
    """A stand-in for the department cycle's event source: submissions waiting for approval."""

    def __init__(self) -> None:
        self.pending = {"s1": "pothole-days-to-close"}

    def observe(self, catalog: object, store: object, today: date) -> Iterator[Observation]:
        for sub_id, kpi_id in self.pending.items():
            event = Event(
                "pending",
                sub_id,
                "Median days to close pothole requests",
                ("Public Works",),
                "a value for February waits for approval",
                f"/kpi/{kpi_id}",
                today,
                public=False,
                kpi_id=kpi_id,
            )
            yield Observation(f"pending:{sub_id}", "pending", event)


def test_another_source_feeds_the_same_rules_outbox_and_digests(work: Path, smtp_inbox: Inbox) -> None:
    """What the department cycle plugs in: its events reach the approvers (private: nobody else)."""
    settings = work / "catalog" / "catalog.yaml"
    settings.write_text(
        settings.read_text()
        + "notify:\n  - {on: [pending], to: [approvers, everyone@example.gov], by: email}\n"
    )
    catalog = load_catalog(work / "catalog")
    source = _Submissions()
    with Store(work / "store") as store:
        found = plan(catalog, store, TODAY, sources=[source])
        # the approvers: recipients.approvers and the access: rule naming the program office
        approvers = ["performance-office@example.gov", "program-office@demo.example"]
        assert sorted(i.target for i in found.items if i.channel == "email") == approvers
        assert len(found.items) == 2  # everyone@example.gov is told nothing private
        record_run(store, found.states, found.items)
        done = deliver(catalog, store, env=smtp_inbox.env())
        assert len(done.delivered) == 2 and plan(catalog, store, TODAY, sources=[source]).items == []
    assert sorted(r for rcpts, _ in smtp_inbox.received for r in rcpts) == approvers
    for _, message in smtp_inbox.received:
        text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        assert "Submissions waiting for your approval" in text and "waits for approval" in text


def test_a_mistake_in_the_mail_settings_is_one_line_and_records_nothing(
    work: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from btvstat_open.cli import main

    monkeypatch.setenv("BTVSTAT_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("BTVSTAT_SMTP_SECURITY", "ssl3")
    assert main(["notify", "--catalog", str(work / "catalog"), "--store", str(work / "store")]) == 2
    assert capsys.readouterr().err == "error: BTVSTAT_SMTP_SECURITY='ssl3': use starttls, tls or none.\n"
    with Store(work / "store") as store:
        assert outbox_counts(store) == {}
