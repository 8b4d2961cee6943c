"""Local accounts, for a city without an identity provider: argon2id hashes, optional TOTP.

``btvstat-open user add|remove|reset|list`` manage them (:mod:`btvstat_open.people.commands`).
:func:`verify` takes the same time and gives the same answer (None) for an unknown account and
a wrong password: it checks a dummy hash when the account does not exist.

Example:
    >>> import tempfile
    >>> from btvstat_open.store import Store
    >>> accounts = Accounts(Store(tempfile.mkdtemp()))
    >>> accounts.add("Ann@Example.gov", "correct horse battery", name="Ann")
    >>> verify(accounts, "ann@example.gov", "correct horse battery").email
    'ann@example.gov'
    >>> verify(accounts, "ann@example.gov", "wrong") is None, verify(accounts, "bob@x.gov", "wrong") is None
    (True, True)
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from btvstat_open.errors import UsageError
from btvstat_open.people.access import Person
from btvstat_open.people.audit import record_on
from btvstat_open.people.sessions import forget_person
from btvstat_open.people.tables import ensure_tables, utc_now
from btvstat_open.store import Store

__all__ = ["MIN_PASSWORD", "Account", "Accounts", "verify"]

MIN_PASSWORD = 12
_FIELDS = "email, name, groups, totp_secret, password_hash"
_HASHER = PasswordHasher()  # argon2id with the library's (RFC 9106 low-memory) parameters
_DUMMY = _HASHER.hash("no such account: this hash makes a miss cost what a hit does")


@dataclass(frozen=True)
class Account:
    """A local account (never with its hash or TOTP secret)."""

    email: str
    name: str
    groups: tuple[str, ...]
    totp: bool

    @property
    def person(self) -> Person:
        """The person this account signs in as."""
        return Person(self.email, self.name, self.groups)


def _email(raw: str) -> str:
    email = raw.strip().lower()
    if "@" not in email or " " in email or len(email) > 254:
        raise UsageError(
            f"{raw!r} is not an e-mail address; accounts are named by e-mail, e.g. ann@example.gov."
        )
    return email


def check_password(password: str) -> None:
    """Refuse a password too short to resist guessing."""
    if len(password) < MIN_PASSWORD:
        raise UsageError(f"The password is too short: use at least {MIN_PASSWORD} characters (a passphrase).")


class Accounts:
    """The local accounts of one store."""

    def __init__(self, store: Store) -> None:
        self.store = store
        ensure_tables(store)

    def add(
        self,
        email: str,
        password: str,
        *,
        name: str = "",
        groups: Sequence[str] = (),
        totp: bool = False,
        by: str = "command line",
    ) -> str | None:
        """Create an account; returns the TOTP secret when ``totp`` (shown once, to enrol an app)."""
        email = _email(email)
        check_password(password)
        secret = pyotp.random_base32() if totp else None
        with self.store.transaction() as con:
            if con.execute("SELECT 1 FROM btvstat_accounts WHERE email = ?", [email]).fetchone():
                raise UsageError(
                    f"There is already an account {email}; use `user reset {email}` to change it."
                )
            con.execute(
                "INSERT INTO btvstat_accounts VALUES (?, ?, ?, ?, ?, ?)",
                [email, name or email, _HASHER.hash(password), secret, json.dumps(list(groups)), utc_now()],
            )
            record_on(con, by, "account_added", subject=email, detail=f"groups: {', '.join(groups) or '-'}")
        return secret

    def reset(
        self, email: str, password: str, *, totp: bool | None = None, by: str = "command line"
    ) -> str | None:
        """Set a new password (and a new TOTP secret when ``totp``); ends the account's sessions."""
        email = _email(email)
        check_password(password)
        self.get(email)
        secret = pyotp.random_base32() if totp else None
        with self.store.transaction() as con:
            con.execute(
                "UPDATE btvstat_accounts SET password_hash = ? WHERE email = ?",
                [_HASHER.hash(password), email],
            )
            if totp is not None:
                con.execute("UPDATE btvstat_accounts SET totp_secret = ? WHERE email = ?", [secret, email])
            con.execute("DELETE FROM btvstat_sessions WHERE email = ?", [email])
            record_on(con, by, "account_reset", subject=email)
        forget_person(email)
        return secret

    def remove(self, email: str, *, by: str = "command line") -> None:
        """Delete an account, its sessions and its API tokens' use (tokens are revoked)."""
        email = _email(email)
        self.get(email)
        with self.store.transaction() as con:
            con.execute("DELETE FROM btvstat_accounts WHERE email = ?", [email])
            con.execute("DELETE FROM btvstat_sessions WHERE email = ?", [email])
            con.execute(
                "UPDATE btvstat_tokens SET revoked_at = ? WHERE email = ? AND revoked_at IS NULL",
                [utc_now(), email],
            )
            record_on(con, by, "account_removed", subject=email)
        forget_person(email)

    def get(self, email: str) -> Account:
        """One account, or a :class:`UsageError` naming the fix."""
        row = self._row(_email(email))
        if row is None:
            raise UsageError(
                f"There is no account {email.strip().lower()}; `btvstat-open user list` shows them."
            )
        return _account(row)

    def list(self) -> list[Account]:
        """Every account, by e-mail."""
        rows = self.store.cursor().execute(f"SELECT {_FIELDS} FROM btvstat_accounts ORDER BY email")
        return [_account(row) for row in rows.fetchall()]

    def _row(self, email: str) -> tuple[str, str, str, str | None, str] | None:
        row = (
            self.store.cursor()
            .execute(
                f"SELECT {_FIELDS} FROM btvstat_accounts WHERE email = ?",
                [email],
            )
            .fetchone()
        )
        return None if row is None else (row[0], row[1], row[2], row[3], row[4])


def _account(row: tuple[str, str, str, str | None, str]) -> Account:
    return Account(row[0], row[1], tuple(json.loads(row[2])), row[3] is not None)


def verify(accounts: Accounts, email: str, password: str, code: str = "") -> Account | None:
    """The account when the password (and, for an account with TOTP, the code) is right, else None."""
    try:
        row = accounts._row(_email(email))
    except UsageError:
        row = None
    try:
        _HASHER.verify(row[4] if row else _DUMMY, password)
    except (VerificationError, InvalidHashError):
        return None
    if row is None:
        return None
    secret = row[3]
    if secret is not None and not pyotp.TOTP(secret).verify(code.strip(), valid_window=1):
        return None
    return _account(row)
