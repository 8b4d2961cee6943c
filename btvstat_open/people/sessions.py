"""Server-side sessions: a random id in an HttpOnly, Secure, SameSite cookie, and a CSRF token.

The cookie holds 32 random bytes; the store keeps only their SHA-256, so a copy of the database
signs nobody in. A new id is made at every sign-in (no fixation). A session ends after
``idle`` without a request or ``absolute`` after sign-in, whichever comes first, and at sign-out.
Each session has its own CSRF token, which every form carries and every POST must return.

Example:
    >>> import tempfile
    >>> from datetime import timedelta
    >>> from btvstat_open.store import Store
    >>> store = Store(tempfile.mkdtemp())
    >>> sessions = Sessions(store, idle=timedelta(minutes=30), absolute=timedelta(hours=8))
    >>> cookie = sessions.start(Person("ann@example.gov", "Ann", ("pw",)), via="password")
    >>> session = sessions.get(cookie)
    >>> (session.person.email, session.person.groups, len(session.csrf) > 20)
    ('ann@example.gov', ('pw',), True)
    >>> sessions.end(cookie); sessions.get(cookie) is None
    True
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from btvstat_open.people.access import Person
from btvstat_open.people.tables import ensure_tables, utc_now
from btvstat_open.store import Store

__all__ = ["Session", "Sessions", "csrf_matches", "digest"]

# last-seen times are written at most this often (the idle timeout's resolution)
_TOUCH_EVERY = timedelta(seconds=60)
# a session read from the store is trusted this long in this process (ended here: at once;
# ended by another process, such as `user reset`: within this many seconds)
_CACHE_SECONDS = 5.0
_CACHE_MAX = 10_000


def digest(secret: str) -> str:
    """The SHA-256 of a session id or token, as stored.

    Example:
        >>> len(digest("abc"))
        64
    """
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def csrf_matches(expected: str, given: str | None) -> bool:
    """Constant-time comparison of a form's CSRF token with the session's.

    Example:
        >>> csrf_matches("abc", "abc"), csrf_matches("abc", None), csrf_matches("abc", "abd")
        (True, False, False)
    """
    return bool(given) and hmac.compare_digest(expected.encode(), (given or "").encode())


@dataclass(frozen=True)
class Session:
    """A live session: who, how they signed in, the CSRF token, when it started."""

    person: Person
    via: str
    csrf: str
    created_at: datetime
    seen_at: datetime


class Sessions:
    """The sessions of one store, with their timeouts."""

    def __init__(self, store: Store, *, idle: timedelta, absolute: timedelta) -> None:
        self.store = store
        self.idle = idle
        self.absolute = absolute
        ensure_tables(store)
        self._cache: dict[str, tuple[float, Session]] = {}
        self._lock = threading.Lock()

    def start(self, person: Person, *, via: str, replaces: str | None = None) -> str:
        """A new session for ``person``; returns the cookie value. ``replaces`` (the old cookie) ends."""
        cookie = secrets.token_urlsafe(32)
        now = utc_now()
        if replaces:
            with self._lock:
                self._cache.pop(digest(replaces), None)
        with self.store.transaction() as con:
            if replaces:
                con.execute("DELETE FROM btvstat_sessions WHERE id_hash = ?", [digest(replaces)])
            con.execute(
                "INSERT INTO btvstat_sessions VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    digest(cookie),
                    person.email,
                    person.name,
                    json.dumps(list(person.groups)),
                    via,
                    secrets.token_urlsafe(32),
                    now,
                    now,
                ],
            )
        return cookie

    def get(self, cookie: str | None) -> Session | None:
        """The live session of a cookie; an expired one is ended and gives None."""
        if not cookie or len(cookie) > 100:
            return None
        key = digest(cookie)
        with self._lock:
            cached = self._cache.get(key)
        if cached is not None and time.monotonic() - cached[0] < _CACHE_SECONDS:
            now = utc_now()
            session = cached[1]
            if now - session.seen_at <= self.idle and now - session.created_at <= self.absolute:
                return session
        return self._read(cookie, key)

    def _read(self, cookie: str, key: str) -> Session | None:
        row = (
            self.store.cursor()
            .execute(
                "SELECT email, name, groups, via, csrf, created_at, seen_at FROM btvstat_sessions "
                "WHERE id_hash = ?",
                [key],
            )
            .fetchone()
        )
        if row is None:
            return None
        now = utc_now()
        created, seen = row[5], row[6]
        if now - seen > self.idle or now - created > self.absolute:
            self.end(cookie)
            return None
        if now - seen > _TOUCH_EVERY:
            with self.store.transaction() as con:
                con.execute("UPDATE btvstat_sessions SET seen_at = ? WHERE id_hash = ?", [now, key])
            seen = now
        person = Person(row[0], row[1], tuple(json.loads(row[2])))
        session = Session(person, row[3], row[4], created, seen)
        with self._lock:
            if len(self._cache) >= _CACHE_MAX:
                self._cache.clear()
            self._cache[key] = (time.monotonic(), session)
        return session

    def end(self, cookie: str) -> None:
        """End a session (sign-out)."""
        with self._lock:
            self._cache.pop(digest(cookie), None)
        with self.store.transaction() as con:
            con.execute("DELETE FROM btvstat_sessions WHERE id_hash = ?", [digest(cookie)])
