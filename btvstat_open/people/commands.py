"""``btvstat-open user add|remove|reset|list``: local accounts, for a city without an identity provider.

The password is read from the terminal (asked twice) or, with ``--password-stdin``, from the
first line of standard input (for scripts); it never appears on the command line. With
``--totp`` the account gets a second factor: the command prints the secret and its
``otpauth://`` link once, to enrol an authenticator app.
"""

from __future__ import annotations

import argparse
import getpass
import sys

from btvstat_open.errors import UsageError
from btvstat_open.people.accounts import Accounts
from btvstat_open.store import Store

__all__ = ["read_password", "run_user"]


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != first:
        raise UsageError("The two passwords differ; run the command again.")
    return first


def read_password(args: argparse.Namespace) -> argparse.Namespace:
    """``args`` with the password of ``user add|reset`` read here, from the terminal or stdin.

    A command forwarded to the running ``serve`` (:mod:`btvstat_open.remote`) takes it along to
    the local, token-guarded control endpoint, never on a command line or in a log.
    """
    needs = args.command == "user" and args.user_command in ("add", "reset")
    if needs and getattr(args, "password", None) is None:
        args.password = _password(args)
    return args


def _enrolment(email: str, secret: str | None) -> None:
    if secret is None:
        return
    import pyotp

    uri = pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name="btvstat-open")
    print(f"One-time codes: add this secret to an authenticator app: {secret}\n  {uri}")


def run_user(args: argparse.Namespace) -> int:
    """Run one ``user`` action; returns the exit code."""
    with Store(args.store) as store:
        accounts = Accounts(store)
        action = args.user_command
        if action == "list":
            for account in accounts.list():
                groups = ", ".join(account.groups) or "-"
                totp = "TOTP" if account.totp else ""
                print(f"{account.email}\t{account.name}\tgroups: {groups}\t{totp}".rstrip())
            return 0
        if action == "remove":
            accounts.remove(args.email)
            print(f"Removed {args.email.lower()} (its sessions ended, its tokens revoked).")
            return 0
        password = read_password(args).password
        if action == "add":
            secret = accounts.add(args.email, password, name=args.name, groups=args.group, totp=args.totp)
            print(f"Added {args.email.lower()}.")
        else:
            secret = accounts.reset(args.email, password, totp=True if args.totp else None)
            print(f"New password set for {args.email.lower()} (its sessions ended).")
        _enrolment(args.email.lower(), secret)
        return 0


def run_entries_import(args: argparse.Namespace) -> int:
    """``entries import FILE``: submit a filled-in workbook as a program-office approver.

    Every cell is checked first; on any error each is printed (row, column and the fix) and
    nothing is submitted. With ``--approve`` the values are approved at once (audited).
    """
    from pathlib import Path

    from btvstat_open.people.access import Person
    from btvstat_open.people.context import Asker, PeopleContext
    from btvstat_open.people.forms import check_form_value
    from btvstat_open.people.workbook import check_rows, read_rows
    from btvstat_open.web.settings import Settings
    from catalog import load_catalog

    path = Path(args.file)
    if not path.is_file():
        raise UsageError(f"No file {args.file!r}: pass the filled-in workbook (.xlsx).")
    with Store(args.store) as store:
        catalog = load_catalog(args.catalog, store)
        ctx = PeopleContext.create(store, catalog, Settings.from_env())
        email = args.as_person.strip().lower()
        known = {a.email: a for a in ctx.accounts.list()}
        person = known[email].person if email in known else Person(email, email)
        grants = ctx.grants(person)
        if not grants.can("approver"):
            raise UsageError(
                f"{email} is not an approver in the catalog's access: rules; import as the program office."
            )
        asker = Asker(grants)
        rows = read_rows(path.read_bytes())
        entries, errors = check_rows(rows, lambda item, fields: check_form_value(ctx, asker, item, fields))
        for error in errors:
            print(f"row {error.row}, column {error.column}: {error.message}", file=sys.stderr)
        if errors:
            raise UsageError(f"{len(errors)} cells need fixing in {path.name}; nothing was submitted.")
        ids = ctx.submissions.submit_values(grants, entries, via="command line")
        if args.approve:
            for submission in ids:
                ctx.submissions.approve(grants, submission)
        state = "approved" if args.approve else "pending approval"
        print(f"Submitted {len(ids)} values from {path.name} ({state}).")
        if ctx.after_change is not None:
            ctx.after_change.wait()  # the notifications of the import, before the store closes
    return 0
