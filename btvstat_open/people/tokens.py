"""Personal API tokens: for a department's own scripts, scoped to the person's departments.

A token is shown once; the store keeps its SHA-256. It acts as its person, limited to the
departments given when it was made (and to what the person may still do: the catalog's rules
are checked on every use). Every use is audited.

Example:
    >>> import tempfile
    >>> from btvstat_open.store import Store
    >>> tokens = Tokens(Store(tempfile.mkdtemp()))
    >>> from btvstat_open.people.access import Person
    >>> secret = tokens.create(Person("ann@example.gov", "Ann"), "nightly script", ["Public Works"])
    >>> found = tokens.find(secret)
    >>> (found.email, found.departments)
    ('ann@example.gov', ('Public Works',))
    >>> tokens.revoke(found.id, "ann@example.gov"); tokens.find(secret) is None
    True
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from btvstat_open.errors import UsageError
from btvstat_open.people.access import Person
from btvstat_open.people.audit import record_on
from btvstat_open.people.sessions import digest
from btvstat_open.people.tables import ensure_tables, utc_now
from btvstat_open.store import Store

__all__ = ["TOKEN_PREFIX", "ApiToken", "Tokens"]

TOKEN_PREFIX = "btvp_"  # noqa: S105 (a prefix that makes leaked tokens easy to find, not a secret)


@dataclass(frozen=True)
class ApiToken:
    """A token's record (never the secret)."""

    id: str
    email: str
    label: str
    departments: tuple[str, ...]
    groups: tuple[str, ...] = ()


class Tokens:
    """The personal API tokens of one store."""

    def __init__(self, store: Store) -> None:
        self.store = store
        ensure_tables(store)

    def create(self, person: Person, label: str, departments: Sequence[str]) -> str:
        """Make a token acting as ``person`` (with their groups now); returns the secret (shown once)."""
        email = person.email
        if not departments:
            raise UsageError("A token needs at least one department it may act for.")
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token_id = secrets.token_hex(6)
        with self.store.transaction() as con:
            con.execute(
                "INSERT INTO btvstat_tokens VALUES (?, ?, ?, ?, ?, ?, NULL, ?)",
                [
                    token_id,
                    digest(secret),
                    email,
                    label[:100],
                    json.dumps(list(departments)),
                    utc_now(),
                    json.dumps(list(person.groups)),
                ],
            )
            record_on(con, email, "token_created", subject=token_id, detail=", ".join(departments))
        return secret

    def find(self, secret: str) -> ApiToken | None:
        """The live token with this secret, or None."""
        if not secret.startswith(TOKEN_PREFIX) or len(secret) > 100:
            return None
        row = (
            self.store.cursor()
            .execute(
                "SELECT id, email, label, departments, groups FROM btvstat_tokens "
                "WHERE token_hash = ? AND revoked_at IS NULL",
                [digest(secret)],
            )
            .fetchone()
        )
        if row is None:
            return None
        return ApiToken(row[0], row[1], row[2], tuple(json.loads(row[3])), tuple(json.loads(row[4])))

    def mine(self, email: str) -> list[ApiToken]:
        """A person's live tokens."""
        rows = self.store.cursor().execute(
            "SELECT id, email, label, departments FROM btvstat_tokens WHERE email = ? AND revoked_at IS NULL "
            "ORDER BY created_at",
            [email],
        )
        return [ApiToken(r[0], r[1], r[2], tuple(json.loads(r[3]))) for r in rows.fetchall()]

    def revoke(self, token_id: str, email: str) -> None:
        """Revoke one of a person's tokens."""
        with self.store.transaction() as con:
            con.execute(
                "UPDATE btvstat_tokens SET revoked_at = ? WHERE id = ? AND email = ? AND revoked_at IS NULL",
                [utc_now(), token_id, email],
            )
            record_on(con, email, "token_revoked", subject=token_id)
