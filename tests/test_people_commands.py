"""``btvstat-open user add|reset|remove|list`` and ``entries import``, through the command line."""

from __future__ import annotations

import io
from pathlib import Path

import pyotp
import pytest
from catalog_files import write
from demo_store import demo_store
from people_site import FILES, PASSWORD, due_sheet

from btvstat_open.cli import main
from btvstat_open.people.accounts import Accounts, verify
from btvstat_open.people.audit import entries
from btvstat_open.store import Store
from catalog import load_catalog


def _run(argv: list[str], stdin: str, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return main(argv)


def test_user_commands_manage_local_accounts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    store = str(tmp_path / "store")
    add = ["user", "add", "Ann@Example.gov", "--store", store, "--password-stdin", "--group", "pw", "--totp"]
    assert _run(add, PASSWORD + "\n", monkeypatch) == 0
    secret = capsys.readouterr().out.split("authenticator app: ")[1].split()[0]
    assert _run(add, PASSWORD + "\n", monkeypatch) == 2
    assert "already an account" in capsys.readouterr().err
    assert (
        _run(["user", "add", "bo@example.gov", "--store", store, "--password-stdin"], "short\n", monkeypatch)
        == 2
    )
    assert "too short" in capsys.readouterr().err
    assert main(["user", "list", "--store", store]) == 0
    assert "ann@example.gov\tann@example.gov\tgroups: pw\tTOTP" in capsys.readouterr().out
    with Store(store) as opened:
        accounts = Accounts(opened)
        assert verify(accounts, "ann@example.gov", PASSWORD) is None  # the code is missing
        assert verify(accounts, "ann@example.gov", PASSWORD, pyotp.TOTP(secret).now()) is not None
    new = "another long passphrase"
    assert (
        _run(
            ["user", "reset", "ann@example.gov", "--store", store, "--password-stdin"],
            new + "\n",
            monkeypatch,
        )
        == 0
    )
    assert main(["user", "remove", "ann@example.gov", "--store", store]) == 0
    assert main(["user", "remove", "ann@example.gov", "--store", store]) == 2
    with Store(store) as opened:
        events = [e.event for e in entries(opened)]
    assert events == ["account_removed", "account_reset", "account_added"]
    assert PASSWORD not in capsys.readouterr().out


def test_entries_import_checks_every_cell_then_submits_as_the_program_office(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = write(tmp_path / "catalog", FILES)
    store_dir = str(tmp_path / "store")
    book, rows = due_sheet(root, store_dir)
    sheet = book["Entries"]
    sheet[f"H{rows['sidewalk-repairs|2020-02-01']}"] = 55
    sheet[f"I{rows['playground-inspections|2020-02-01']}"] = 3  # the denominator is missing
    path = tmp_path / "filled.xlsx"
    book.save(path)
    base = ["entries", "import", str(path), "--catalog", str(root), "--store", store_dir]
    assert main([*base, "--as", "ann@example.gov"]) == 2
    assert "not an approver" in capsys.readouterr().err
    assert main([*base, "--as", "ops@example.gov"]) == 2
    err = capsys.readouterr().err
    assert (
        f"row {rows['playground-inspections|2020-02-01']}, column" in err and "nothing was submitted" in err
    )
    sheet[f"J{rows['playground-inspections|2020-02-01']}"] = 4
    book.save(path)
    assert main([*base, "--as", "ops@example.gov", "--approve"]) == 0
    assert "Submitted 2 values" in capsys.readouterr().out
    with Store(store_dir) as store:
        values = store.arrow("entries-playground-inspections").to_pylist()
        assert [(v["numerator"], v["denominator"]) for v in values] == [(3.0, 4.0)]
        assert [e.event for e in entries(store)][:2] == ["approved", "approved"]


def test_the_demo_has_two_accounts_one_pending_value_and_one_sent_back(tmp_path: Path) -> None:
    from btvstat_open.people.demo import seed_demo_people
    from btvstat_open.people.submissions import Submissions
    from catalog.demo import DEMO_DIR

    with demo_store(tmp_path / "store") as store:
        catalog = load_catalog(DEMO_DIR, store)
        lines = seed_demo_people(store, catalog)
        again = seed_demo_people(store, catalog)  # a restart: new passwords, the same submissions
        states = sorted(s.state for s in Submissions(store, catalog).latest(None))
        published = store.arrow("entries-sidewalk-repairs-entered").to_pylist()
        accounts = Accounts(store)
        email, password = lines[1].split(": ")[1].split(" / ")
        assert verify(accounts, email, password) is None  # the first start's password no longer works
        email, password = again[1].split(": ")[1].split(" / ")
        assert verify(accounts, email, password) is not None
    assert states == ["pending", "sent_back"]
    assert len(published) == 10 and 104.0 not in [r["value"] for r in published]
    assert [line.split(": ")[1].split(" / ")[0] for line in again[1:]] == [
        "updater@demo.example",
        "program-office@demo.example",
    ]
