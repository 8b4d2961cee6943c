"""Group commit: many people submitting at once share one transaction.

Each caller hands its job to :meth:`GroupCommit.run` and waits. The first caller to find no
batch in progress leads: it takes every job waiting, commits them in one transaction with set-
based statements, wakes their callers, and repeats until none wait. A caller's answer comes only
after its job is committed (nothing is acknowledged that a crash could lose), and a job's own
mistake fails that job alone; a failed transaction fails its whole batch, writing nothing.

Example:
    >>> import tempfile
    >>> from btvstat_open.store import Store
    >>> store = Store(tempfile.mkdtemp())
    >>> double = GroupCommit(store, lambda con, jobs: [job * 2 for job in jobs])
    >>> double.run(21)
    42
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from btvstat_open.store import Store

__all__ = ["GroupCommit"]

J = TypeVar("J")
R = TypeVar("R")


@dataclass
class _Slot(Generic[J]):
    job: J
    done: threading.Event = field(default_factory=threading.Event)
    result: Any = None


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

    def _drain(self) -> None:
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
