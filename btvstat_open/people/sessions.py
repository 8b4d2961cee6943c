"""Server-side sessions: a random id in an HttpOnly, Secure, SameSite cookie, and a CSRF token.

The cookie holds 32 random bytes; the store keeps only their SHA-256, so a copy of the database
signs nobody in. A new id is made at every sign-in (no fixation). A session ends after
``idle`` without a request or ``absolute`` after sign-in, whichever comes first, and at sign-out.
Each session has its own CSRF token, which every form carries and every POST must return.

A session is kept in this process for a minute from its sign-in or from its last read from the
store, so a request costs no query; when a kept session's minute is up, one query reads it again
with every other kept session whose minute is up (a burst of requests after a quiet minute waits
for one read, not one each). The account commands end their person's sessions here at once
(:func:`forget_person`: while ``serve`` runs, they run in its process). Last-seen times are
written in the background, many at once, at most once a minute per session: a request never
waits for that write.

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
import weakref
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from btvstat_open.people.access import Person
from btvstat_open.people.tables import ensure_tables, utc_now
from btvstat_open.store import Store

__all__ = ["Session", "Sessions", "csrf_matches", "digest", "forget_person"]

# last-seen times are written at most this often (the idle timeout's resolution)
_TOUCH_EVERY = timedelta(seconds=60)
# a session read from the store is trusted this long in this process (ended here, or by an
# account command forwarded to this process: at once; by another process: within this time)
_CACHE_SECONDS = 60.0
_CACHE_MAX = 10_000
# at most this many sessions read from the store in one query
_READ_MAX = 1_000
# how long last-seen times gather before they are written together
_TOUCH_DELAY = 1.0
_ALL: weakref.WeakSet[Sessions] = weakref.WeakSet()


def forget_person(email: str) -> None:
    """Drop every session of ``email`` kept in this process (its rows were deleted)."""
    for sessions in list(_ALL):
        sessions.forget(email)


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
        self._reading = threading.Lock()  # one store read of sessions at a time (see _read)
        self._touches: dict[str, datetime] = {}
        self._touching: threading.Timer | None = None
        _ALL.add(self)

    def forget(self, email: str) -> None:
        """Drop the kept sessions of ``email`` (read again from the store on their next request)."""
        with self._lock:
            for key in [k for k, (_, s) in self._cache.items() if s.person.email == email]:
                del self._cache[key]

    def start(self, person: Person, *, via: str, replaces: str | None = None) -> str:
        """A new session for ``person``; returns the cookie value. ``replaces`` (the old cookie) ends."""
        cookie, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
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
                    csrf,
                    now,
                    now,
                ],
            )
        self._keep(digest(cookie), Session(person, via, csrf, now, now))  # as a read would keep it
        return cookie

    def kept(self, cookie: str | None) -> bool:
        """Whether :meth:`get` of this cookie answers from memory (no query to wait for)."""
        if not cookie or len(cookie) > 100:
            return True
        with self._lock:
            cached = self._cache.get(digest(cookie))
        return cached is not None and time.monotonic() - cached[0] < _CACHE_SECONDS

    def get(self, cookie: str | None) -> Session | None:
        """The live session of a cookie; an expired one is ended and gives None."""
        if not cookie or len(cookie) > 100:
            return None
        key = digest(cookie)
        with self._lock:
            cached = self._cache.get(key)
        if cached is not None and time.monotonic() - cached[0] < _CACHE_SECONDS:
            session = self._live(cookie, key, cached[1])
            if session is not None:
                with self._lock:
                    if key in self._cache:
                        self._cache[key] = (cached[0], session)
            return session
        return self._read(cookie, key)

    def _live(self, cookie: str, key: str, session: Session) -> Session | None:
        """The session if it has not timed out (its last-seen time moved on), else None (ended)."""
        now = utc_now()
        if self._expired(session):
            self.end(cookie)
            return None
        if now - session.seen_at > _TOUCH_EVERY:
            self._touch(key, now)
            session = Session(session.person, session.via, session.csrf, session.created_at, now)
        return session

    def _read(self, cookie: str, key: str) -> Session | None:
        """Read the session from the store, with every other kept session whose minute is up.

        One read at a time: requests whose sessions expired together (a burst after a quiet
        minute) wait for the first one's read, which brought theirs too, and answer from memory.
        A kept session that the store no longer holds (ended elsewhere) is dropped.
        """
        found: Session | None = None
        read_at = time.monotonic()  # kept sessions count their minute from before the read
        with self._reading:
            with self._lock:
                cached = self._cache.get(key)
            if cached is not None and time.monotonic() - cached[0] < _CACHE_SECONDS:
                found, read_at = cached[1], cached[0]  # read meanwhile, with an earlier request's
            stale = [] if found is not None else self._stale(key)
            rows = self._rows(stale) if stale else []
            for row in rows:
                person = Person(row[1], row[2], tuple(json.loads(row[3])))
                with self._lock:
                    seen = max(row[7], self._touches.get(row[0], row[7]))
                session = Session(person, row[4], row[5], row[6], seen)
                if row[0] == key:
                    found = session
                elif not self._expired(session):  # an expired one ends at its own next request
                    self._keep(row[0], session, read_at)
            with self._lock:
                for gone in set(stale) - {r[0] for r in rows}:
                    self._cache.pop(gone, None)
        if found is None:
            return None
        live = self._live(cookie, key, found)
        if live is not None:
            self._keep(key, live, read_at)
        return live

    def _stale(self, key: str) -> list[str]:
        """``key`` and the kept sessions whose minute is up (read again together)."""
        limit = time.monotonic() - _CACHE_SECONDS
        with self._lock:
            old = [k for k, (at, _) in self._cache.items() if at <= limit and k != key]
        return [key, *old[: _READ_MAX - 1]]

    def _rows(self, keys: list[str]) -> list[tuple[Any, ...]]:
        """The stored rows of these session keys (those that still exist)."""
        return (
            self.store.cursor()
            .execute(
                "SELECT id_hash, email, name, groups, via, csrf, created_at, seen_at FROM btvstat_sessions "
                "WHERE id_hash IN (SELECT unnest(?::TEXT[]))",
                [keys],
            )
            .fetchall()
        )

    def _expired(self, session: Session) -> bool:
        """Whether the session is past its idle or absolute timeout."""
        now = utc_now()
        return now - session.seen_at > self.idle or now - session.created_at > self.absolute

    def _keep(self, key: str, session: Session, read_at: float | None = None) -> None:
        """Keep a session in memory; its minute runs from ``read_at`` (default: now)."""
        with self._lock:
            if len(self._cache) >= _CACHE_MAX:
                self._cache.clear()
            self._cache[key] = (time.monotonic() if read_at is None else read_at, session)

    def _touch(self, key: str, now: datetime) -> None:
        """Note a session's last-seen time; written with the others noted within ``_TOUCH_DELAY``."""
        with self._lock:
            self._touches[key] = now
            if self._touching is not None:
                return
            self._touching = threading.Timer(_TOUCH_DELAY, self.flush)
            self._touching.daemon = True
            self._touching.start()

    def flush(self) -> None:
        """Write the last-seen times noted since the last write."""
        with self._lock:
            touches, self._touches = self._touches, {}
            self._touching = None
        if not touches:
            return
        try:
            with self.store.transaction() as con:  # one statement, however many sessions
                con.execute(
                    "UPDATE btvstat_sessions AS s SET seen_at = t.seen_at FROM "
                    "(SELECT unnest(?::TEXT[]) AS id_hash, unnest(?::TIMESTAMPTZ[]) AS seen_at) AS t "
                    "WHERE s.id_hash = t.id_hash",
                    [list(touches), list(touches.values())],
                )
        except Exception:  # a closed store: the times are advisory (a session idles out sooner)
            return

    def end(self, cookie: str) -> None:
        """End a session (sign-out)."""
        with self._lock:
            self._cache.pop(digest(cookie), None)
            self._touches.pop(digest(cookie), None)
        with self.store.transaction() as con:
            con.execute("DELETE FROM btvstat_sessions WHERE id_hash = ?", [digest(cookie)])
