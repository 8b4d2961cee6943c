"""Sessions kept in memory and last-seen times written in the background; group commits awaited
on the event loop."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from btvstat_open.people.access import Person
from btvstat_open.people.accounts import Accounts
from btvstat_open.people.batching import GroupCommit
from btvstat_open.people.sessions import Sessions
from btvstat_open.store import Store

ANN = Person("ann@example.gov", "Ann", ("pw",))


def _sessions(store: Store) -> Sessions:
    return Sessions(store, idle=timedelta(minutes=30), absolute=timedelta(hours=8))


def test_a_reset_ends_the_persons_kept_sessions_at_once() -> None:
    store = Store(tempfile.mkdtemp())
    Accounts(store).add(ANN.email, "correct horse battery staple")
    sessions = _sessions(store)
    cookie = sessions.start(ANN, via="password")
    assert sessions.get(cookie) is not None  # now kept in memory
    Accounts(store).reset(ANN.email, "another long passphrase")  # another object, as a command is
    assert sessions.get(cookie) is None


def test_last_seen_is_written_later_and_in_one_transaction() -> None:
    store = Store(tempfile.mkdtemp())
    sessions = _sessions(store)
    cookies = [sessions.start(ANN, via="password") for _ in range(3)]
    with store.transaction() as con:
        con.execute("UPDATE btvstat_sessions SET seen_at = seen_at - INTERVAL 5 MINUTE")
    sessions = _sessions(store)  # a process that did not sign them in reads them from the store
    before = store.cursor().execute("SELECT max(seen_at) FROM btvstat_sessions").fetchone()
    assert all(sessions.get(c) is not None for c in cookies)
    assert store.cursor().execute("SELECT max(seen_at) FROM btvstat_sessions").fetchone() == before
    sessions.flush()
    (fresh,) = (
        store.cursor()
        .execute("SELECT count(*) FROM btvstat_sessions WHERE seen_at > now() - INTERVAL 1 MINUTE")
        .fetchone()
    )
    assert fresh == 3


def test_an_idle_session_kept_in_memory_still_times_out() -> None:
    store = Store(tempfile.mkdtemp())
    sessions = Sessions(store, idle=timedelta(seconds=0), absolute=timedelta(hours=8))
    cookie = sessions.start(ANN, via="password")
    assert sessions.get(cookie) is None
    assert store.cursor().execute("SELECT count(*) FROM btvstat_sessions").fetchone() == (0,)


def test_awaited_jobs_share_transactions_and_each_gets_its_own_answer() -> None:
    store = Store(tempfile.mkdtemp())
    batches: list[int] = []

    def commit(con: Any, jobs: Sequence[int]) -> list[int | BaseException]:
        batches.append(len(jobs))
        return [ValueError(f"job {j}") if j == 7 else j * 2 for j in jobs]

    group: GroupCommit[int, int] = GroupCommit(store, commit)

    async def one(job: int) -> int | str:
        try:
            return await group.run_async(job)
        except ValueError as exc:
            return str(exc)

    async def burst() -> list[int | str]:
        return await asyncio.gather(*(one(j) for j in range(50)))

    answers = asyncio.run(burst())
    assert answers == [("job 7" if j == 7 else j * 2) for j in range(50)]
    assert sum(batches) == 50 and len(batches) < 50


def test_a_session_is_kept_once_read() -> None:
    store = Store(tempfile.mkdtemp())
    sessions = _sessions(store)
    cookie = _sessions(store).start(ANN, via="password")  # signed in by another process
    assert not sessions.kept(cookie)
    assert sessions.get(cookie) is not None and sessions.kept(cookie)
    sessions.end(cookie)
    assert not sessions.kept(cookie) and sessions.get(cookie) is None


def test_a_session_is_kept_from_sign_in_and_its_minute_is_not_stretched() -> None:
    store = Store(tempfile.mkdtemp())
    sessions = _sessions(store)
    cookie = sessions.start(ANN, via="password")
    assert sessions.kept(cookie)  # the first request after sign-in reads nothing
    with store.transaction() as con:  # ended by another process: trusted here for its minute only
        con.execute("DELETE FROM btvstat_sessions")
    key = next(iter(sessions._cache))
    sessions._cache[key] = (sessions._cache[key][0] - 61, sessions._cache[key][1])
    assert not sessions.kept(cookie)
    assert sessions.get(cookie) is None


def test_sessions_whose_minute_is_up_are_read_again_together() -> None:
    store = Store(tempfile.mkdtemp())
    sessions = _sessions(store)
    cookies = [sessions.start(Person(f"p{n}@example.gov", "P", ("pw",)), via="password") for n in range(5)]
    with store.transaction() as con:  # one ended elsewhere, one idle past the timeout
        con.execute("DELETE FROM btvstat_sessions WHERE email = 'p3@example.gov'")
        con.execute(
            "UPDATE btvstat_sessions SET seen_at = seen_at - INTERVAL 2 HOUR WHERE email = 'p4@example.gov'"
        )
    for key, (at, session) in list(sessions._cache.items()):
        sessions._cache[key] = (at - 61, session)
    assert sessions.get(cookies[0]) is not None  # one read brings back the others still live
    assert [sessions.kept(c) for c in cookies] == [True, True, True, False, False]
    assert sessions.get(cookies[1]) is not None and sessions.get(cookies[3]) is None
    assert sessions.get(cookies[4]) is None  # idle: ended at its own request
    assert store.cursor().execute("SELECT count(*) FROM btvstat_sessions").fetchone() == (3,)
