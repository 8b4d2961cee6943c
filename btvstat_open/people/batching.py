"""Group commit: many people submitting at once share one transaction.

Each caller hands its job to :meth:`GroupCommit.run` and waits. The first caller to find no
batch in progress leads: it takes every job waiting, commits them in one transaction with set-
based statements, wakes their callers, and repeats until none wait. A caller's answer comes only
after its job is committed (nothing is acknowledged that a crash could lose), and a job's own
mistake fails that job alone; a failed transaction fails its whole batch, writing nothing.
:meth:`GroupCommit.run_async` is the same for a coroutine: it waits on the event loop, not on a
thread, and the batches are committed on a thread of their own, so a hundred waiting requests
take no hundred threads.

Example:
    >>> import tempfile
    >>> from btvstat_open.store import Store
    >>> store = Store(tempfile.mkdtemp())
    >>> double = GroupCommit(store, lambda con, jobs: [job * 2 for job in jobs])
    >>> double.run(21)
    42
    >>> import asyncio
    >>> asyncio.run(double.run_async(4))
    8
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from btvstat_open.store import Store

__all__ = ["GATHER_SECONDS", "GroupCommit"]

#: how long the leader waits before its first batch (a lone job barely notices; a burst of
#: them commits in fewer transactions)
GATHER_SECONDS = 0.003

J = TypeVar("J")
R = TypeVar("R")


@dataclass
class _Slot(Generic[J]):
    job: J
    done: threading.Event = field(default_factory=threading.Event)
    result: Any = None
    wake: Callable[[], None] | None = None  # called once the result is set


class GroupCommit(Generic[J, R]):
    """Runs ``commit(con, jobs)`` (one result or exception per job) for batches of waiting jobs."""

    def __init__(
        self, store: Store, commit: Callable[[Any, Sequence[J]], Sequence[R | BaseException]]
    ) -> None:
        self.store = store
        self.commit = commit
        self._lock = threading.Lock()
        self._queue: list[_Slot[J]] = []
        self._leading = False

    def run(self, job: J) -> R:
        """Commit ``job`` (with whatever else waits); its result, or its exception raised."""
        slot: _Slot[J] = _Slot(job)
        with self._lock:
            self._queue.append(slot)
            lead = not self._leading
            self._leading = True
        if lead:
            self._drain()
        slot.done.wait()
        if isinstance(slot.result, BaseException):
            raise slot.result
        result: R = slot.result
        return result

    async def run_async(self, job: J) -> R:
        """:meth:`run` for a coroutine: its result once committed, or its exception raised."""
        loop = asyncio.get_running_loop()
        finished: asyncio.Future[None] = loop.create_future()

        def settle() -> None:
            if not finished.done():
                finished.set_result(None)

        def wake() -> None:
            loop.call_soon_threadsafe(settle)

        slot: _Slot[J] = _Slot(job, wake=wake)
        with self._lock:
            self._queue.append(slot)
            lead = not self._leading
            self._leading = True
        if lead:
            threading.Thread(target=self._drain, name="group-commit").start()
        await finished
        if isinstance(slot.result, BaseException):
            raise slot.result
        result: R = slot.result
        return result

    def _drain(self) -> None:
        time.sleep(GATHER_SECONDS)  # jobs of a burst that arrive meanwhile join the first batch
        while True:
            with self._lock:
                batch, self._queue = self._queue, []
                if not batch:
                    self._leading = False
                    return
            try:
                with self.store.transaction() as con:
                    results: Sequence[Any] = self.commit(con, [s.job for s in batch])
            except BaseException as exc:  # the transaction rolled back: every job of the batch failed
                results = [exc] * len(batch)
            for slot, result in zip(batch, results, strict=True):
                slot.result = result
                slot.done.set()
                if slot.wake is not None:
                    slot.wake()
