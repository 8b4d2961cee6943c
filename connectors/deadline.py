"""A total deadline over the status line and headers of an answer, not only over each socket read.

``requests``' ``timeout=`` is handed to the socket: it bounds each ``recv``, so a server sending
its status line and headers one byte every few seconds is never late for any one read, and
``http.client`` goes on reading (up to its header size limits) for as long as the server likes.
urllib3 has nothing that bounds the header read as a whole either: its ``Timeout(total=...)`` only
shortens the per-read timeout once, before the response is read.

So a watchdog does it. :class:`DeadlineAdapter` (mounted by the sessions the connectors make) uses
connection pools that, while a response's head is read, register the connection with the one
:class:`_Watchdog` under the deadline :func:`bounded` set for this thread. At the deadline the
watchdog shuts the connection's socket down (``shutdown``, which wakes a blocked ``recv`` at once,
in any thread, TLS included); the read fails, urllib3 drops the connection, and
:func:`expired` tells the caller that the failure was the deadline. The watchdog is one thread,
started when a head is being read and ending when no head is, so nothing lingers between
requests. The body is bounded apart (``transport.body_chunks`` checks the deadline after each read).
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

__all__ = ["DeadlineAdapter", "bounded", "expired"]

#: How often the watchdog looks again at a connection that is still connecting at its deadline.
_RECHECK = 0.1
_local = threading.local()


class _Watchdog:
    """Shuts down the sockets of connections whose deadline has passed; a thread only while needed."""

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._due: list[tuple[float, int, Any, list[bool]]] = []
        self._live: set[int] = set()
        self._ids = itertools.count()
        self._thread: threading.Thread | None = None

    def watch(self, at: float, conn: Any, fired: list[bool]) -> int:
        """Watch ``conn`` until :meth:`release`; ``fired[0]`` becomes True if its socket is shut."""
        with self._lock:
            key = next(self._ids)
            self._live.add(key)
            heapq.heappush(self._due, (at, key, conn, fired))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="btvstat-deadline", daemon=True)
                self._thread.start()
            self._lock.notify()
            return key

    def release(self, key: int) -> None:
        """Stop watching (the head was read, or the read failed)."""
        with self._lock:
            self._live.discard(key)
            self._lock.notify()

    def _run(self) -> None:
        with self._lock:
            while self._live:
                at, key, conn, fired = self._due[0]
                if key not in self._live:
                    heapq.heappop(self._due)
                    continue
                wait = at - time.monotonic()
                if wait > 0:
                    self._lock.wait(wait)
                    continue
                heapq.heappop(self._due)
                if _shut(conn):
                    fired[0] = True
                    self._live.discard(key)
                else:  # still connecting (bounded by the connect timeout): look again soon
                    heapq.heappush(self._due, (at + _RECHECK, key, conn, fired))
            self._due.clear()
            self._thread = None


def _shut(conn: Any) -> bool:
    """Shut the connection's socket down both ways; False when it has no socket yet."""
    sock = getattr(conn, "sock", None)
    if not isinstance(sock, socket.socket):
        return False
    # The plain socket's shutdown, below TLS: it wakes the reading thread with an EOF (an
    # OSError means it is closed already, and the read has ended anyway).
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    return True


_WATCHDOG = _Watchdog()


@contextmanager
def bounded(at: float) -> Iterator[list[bool]]:
    """Within the block, the heads of answers read on this thread (through a :class:`DeadlineAdapter`)
    must arrive by ``at`` (a ``time.monotonic()`` instant). Yields a flag that is ``[True]`` once the
    deadline has cut a read short.

    Example:
        >>> with bounded(time.monotonic() + 5) as fired:
        ...     fired
        [False]
    """
    previous = getattr(_local, "state", None)
    state = (at, [False])
    _local.state = state
    try:
        yield state[1]
    finally:
        _local.state = previous


def expired(fired: list[bool]) -> bool:
    """Whether the deadline of a :func:`bounded` block cut a read short."""
    return fired[0]


class _DeadlinePool:
    """A connection pool mixin: each response head is read under the thread's deadline, if any."""

    def _make_request(self, conn: Any, *args: Any, **kwargs: Any) -> Any:
        state = getattr(_local, "state", None)
        if state is None:
            return super()._make_request(conn, *args, **kwargs)  # type: ignore[misc]
        key = _WATCHDOG.watch(state[0], conn, state[1])
        try:
            return super()._make_request(conn, *args, **kwargs)  # type: ignore[misc]
        finally:
            _WATCHDOG.release(key)


class _DeadlineHTTPPool(_DeadlinePool, HTTPConnectionPool):
    pass


class _DeadlineHTTPSPool(_DeadlinePool, HTTPSConnectionPool):
    pass


_POOLS = {"http": _DeadlineHTTPPool, "https": _DeadlineHTTPSPool}


class DeadlineAdapter(HTTPAdapter):
    """``requests``' ``HTTPAdapter`` whose pools read each response head under :func:`bounded`'s
    deadline (directly or through an HTTP proxy).

    Example:
        >>> import requests
        >>> session = requests.Session()
        >>> session.mount("http://", DeadlineAdapter())
        >>> session.get_adapter("http://x").poolmanager.pool_classes_by_scheme["http"].__name__
        '_DeadlineHTTPPool'
    """

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _POOLS

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if type(manager) is urllib3.ProxyManager:  # a SOCKS manager keeps its own pools
            manager.pool_classes_by_scheme = _POOLS
        return manager
