"""While ``serve`` runs, ``user add|reset|remove|list`` and ``entries import`` work too.

A real ``btvstat-open serve`` owns the store; the account and workbook commands run as real
processes and are forwarded to it. The password is read by the command itself (here from
``--password-stdin``) and is printed or logged nowhere: not by the command, not by the server.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from catalog_files import write
from people_site import FILES, PASSWORD, due_sheet
from servers import serve_command

from btvstat_open.people.accounts import Accounts, verify
from btvstat_open.people.audit import entries
from btvstat_open.store import Store

NEW_PASSWORD = "another long passphrase"


def cli(*args: str, cwd: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """One ``btvstat-open`` command as its own process."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    return subprocess.run(
        [sys.executable, "-m", "btvstat_open", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
        env=env,
    )


def _filled_workbook(root: Path, store_dir: Path, path: Path) -> None:
    """The program's due workbook with one value and one rate filled in."""
    book, rows = due_sheet(root, store_dir)
    sheet = book["Entries"]
    sheet[f"H{rows['sidewalk-repairs|2020-02-01']}"] = 55
    sheet[f"I{rows['playground-inspections|2020-02-01']}"] = 3
    sheet[f"J{rows['playground-inspections|2020-02-01']}"] = 4
    book.save(path)


def test_account_and_workbook_commands_work_while_serve_runs(tmp_path: Path) -> None:
    root = write(tmp_path / "catalog", FILES)
    store = tmp_path / "store"
    _filled_workbook(root, store, tmp_path / "filled.xlsx")
    logged: list[str] = []
    results = []
    with serve_command(["--catalog", str(root), "--store", str(store)], stderr=logged):
        assert (store / "serve.json").is_file()  # serve owns the store: the commands go to it
        user = ("user",)
        on = ("--store", "store")
        add = cli(*user, "add", "Ann@Example.gov", *on, "--password-stdin", "--totp", cwd=tmp_path,
                  stdin=PASSWORD + "\n")  # fmt: skip
        results.append(add)
        results.append(cli(*user, "add", "bo@example.gov", *on, "--password-stdin", cwd=tmp_path,
                           stdin=PASSWORD + "\n"))  # fmt: skip
        short = cli(*user, "add", "cy@example.gov", *on, "--password-stdin", cwd=tmp_path, stdin="short\n")
        results.append(cli(*user, "reset", "bo@example.gov", *on, "--password-stdin", cwd=tmp_path,
                           stdin=NEW_PASSWORD + "\n"))  # fmt: skip
        results.append(cli(*user, "remove", "ann@example.gov", *on, cwd=tmp_path))
        listing = cli(*user, "list", *on, cwd=tmp_path)
        results.append(listing)
        imported = cli("entries", "import", "filled.xlsx", "--catalog", "catalog", *on,
                       "--as", "ops@example.gov", "--approve", cwd=tmp_path)  # fmt: skip
        results.append(imported)
    for result in results:
        assert result.returncode == 0, f"{result.args}: {result.stdout} {result.stderr}"
    assert "Added ann@example.gov." in add.stdout and "authenticator app: " in add.stdout
    assert short.returncode == 2 and "too short" in short.stderr
    assert listing.stdout == "bo@example.gov\tbo@example.gov\tgroups: -\n"
    assert "Submitted 2 values from filled.xlsx (approved)." in imported.stdout
    printed = "".join(r.stdout + r.stderr for r in [*results, short]) + "".join(logged)
    assert PASSWORD not in printed and NEW_PASSWORD not in printed
    with Store(store) as opened:  # the server wrote them, in its store
        accounts = Accounts(opened)
        assert verify(accounts, "bo@example.gov", NEW_PASSWORD) is not None
        assert verify(accounts, "bo@example.gov", PASSWORD) is None
        assert [a.email for a in accounts.list()] == ["bo@example.gov"]
        values = opened.arrow("entries-playground-inspections").to_pylist()
        assert [(v["numerator"], v["denominator"]) for v in values] == [(3.0, 4.0)]
        events = [e.event for e in entries(opened)]
    assert events[:2] == ["approved", "approved"]
    assert {"account_added", "account_reset", "account_removed"} <= set(events)
