"""In-memory caches of rendered responses, keyed by what they were built from.

A cached response remembers the dataset versions it was built from. :class:`DataVersions` reads
the store's version numbers (at most every ``ttl`` seconds, because a DuckDB query costs about half
a millisecond); when a dataset changes, responses built from it stop being served and the next
request rebuilds them, so data changes show up without a restart.

:class:`CachedResponseMiddleware` answers repeat requests straight from memory, before FastAPI
routing runs, with the ETag, Cache-Control and security headers stored with the response, and with
``304 Not Modified`` when ``If-None-Match`` matches.

Example:
    >>> cache: LruCache[str, int] = LruCache(2)
    >>> cache.put("a", 1); cache.put("b", 2); cache.put("c", 3)
    >>> (cache.get("a"), cache.get("c"))
    (None, 3)
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Generic, TypeVar

from btvstat_open.store import Store

__all__ = [
    "DAY",
    "CacheKey",
    "CachedResponse",
    "CachedResponseMiddleware",
    "DataVersions",
    "KeyedLocks",
    "LruCache",
    "make_response",
    "recording_reads",
]

K = TypeVar("K")
# (path, canonical query string): never the Host header, and only the query options a route
# accepts in a canonical order and value (see widgets.routes.response_key), so clients cannot
# make new entries by changing either. Responses that name the server's address are not cached.
CacheKey = tuple[str, bytes]
V = TypeVar("V")


class LruCache(Generic[K, V]):
    """A thread-safe least-recently-used cache of at most ``max_entries`` values and ``max_bytes``.

    ``size`` tells a value's bytes (needed with ``max_bytes``); a value larger than
    ``max_bytes`` alone is not kept.

    Example:
        >>> cache: LruCache[str, bytes] = LruCache(10, max_bytes=5, size=len)
        >>> cache.put("a", b"abc"); cache.put("b", b"de"); cache.put("c", b"f")
        >>> (cache.get("a"), cache.get("c"), cache.nbytes)
        (None, b'f', 3)
    """

    def __init__(
        self, max_entries: int, *, max_bytes: int | None = None, size: Callable[[V], int] | None = None
    ) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._size = size or (lambda _: 0)
        self.nbytes = 0
        self._data: OrderedDict[K, tuple[V, int]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        """The value for ``key`` (and mark it recently used), or None."""
        with self._lock:
            item = self._data.get(key)
            if item is None:
                return None
            self._data.move_to_end(key)
            return item[0]

    def put(self, key: K, value: V) -> None:
        """Store a value, evicting the least recently used ones past either bound."""
        nbytes = self._size(value)
        with self._lock:
            old = self._data.pop(key, None)
            if old is not None:
                self.nbytes -= old[1]
            if self.max_bytes is not None and nbytes > self.max_bytes:
                return
            self._data[key] = (value, nbytes)
            self.nbytes += nbytes
            while len(self._data) > self.max_entries or (
                self.max_bytes is not None and self.nbytes > self.max_bytes
            ):
                self.nbytes -= self._data.popitem(last=False)[1][1]

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._data.clear()
            self.nbytes = 0

    def __len__(self) -> int:
        return len(self._data)


class KeyedLocks:
    """One lock per key, held while a response for that key is built.

    Concurrent requests missing the same cache entry then build it once: the first builds, the
    others wait and reuse it. Without this, N requests arriving on a cold worker each built the
    dashboard at once, sharing one GIL, so every one of them took N times as long.

    Example:
        >>> locks = KeyedLocks()
        >>> with locks.hold("a"):
        ...     len(locks)
        1
        >>> len(locks)
        0
    """

    def __init__(self) -> None:
        self._locks: dict[Hashable, tuple[threading.Lock, int]] = {}
        self._guard = threading.Lock()

    @contextmanager
    def hold(self, key: Hashable) -> Iterator[None]:
        """Hold ``key``'s lock (waiting for whoever holds it) for the ``with`` block."""
        with self._guard:
            lock, users = self._locks.get(key, (threading.Lock(), 0))
            self._locks[key] = (lock, users + 1)
        try:
            with lock:
                yield
        finally:
            with self._guard:
                lock, users = self._locks[key]
                if users == 1:
                    del self._locks[key]
                else:
                    self._locks[key] = (lock, users - 1)

    def __len__(self) -> int:
        return len(self._locks)


DAY = "@day"  # the pseudo-dataset whose "version" is the as-of day: a new day makes responses stale


class DataVersions:
    """The store's dataset versions (:meth:`Store.versions`), re-read at most every ``ttl`` seconds.

    With ``day`` (the widget service's as-of day), the snapshot also holds :data:`DAY`, and every
    response depends on it: without a fixed ``as_of``, yesterday's pages are rebuilt today.

    Example:
        >>> versions = DataVersions(store, ttl=0)
        >>> versions.get("kc-311-potholes") == store.versions()["kc-311-potholes"], versions.get("nope")
        (True, -1)
    """

    #: while not None, every dataset id a response is built from is added here (a site build
    #: records what each page depends on: :mod:`widgets.sitebuild`)
    reads: set[str] | None = None

    def __init__(self, store: Store, *, ttl: float = 0.25, day: Callable[[], date] | None = None) -> None:
        self.store = store
        self.ttl = ttl
        self.day = day
        self._snapshot: dict[str, Hashable] = {}
        self._read_at = float("-inf")
        self._lock = threading.Lock()

    def _read(self, dataset_ids: set[str]) -> None:
        """Note what the response in hand reads: in its own set (:func:`recording_reads`), else in
        :attr:`reads`."""
        reads = _REQUEST_READS.get()
        if reads is None:
            reads = self.reads
        if reads is not None:
            reads.update(dataset_ids)

    def current(self) -> dict[str, Hashable]:
        """Dataset id -> version (a missing dataset is absent)."""
        now = time.monotonic()
        if now - self._read_at < self.ttl:
            return self._snapshot
        with self._lock:
            if now - self._read_at >= self.ttl:
                snapshot: dict[str, Hashable] = dict(self.store.versions())
                if self.day is not None:
                    snapshot[DAY] = self.day().toordinal()
                self._snapshot = snapshot
                self._read_at = time.monotonic()
            return self._snapshot

    def get(self, dataset_id: str) -> Hashable:
        """One dataset's version (-1 when the store has no such dataset)."""
        self._read({dataset_id})
        return self.current().get(dataset_id, -1)

    def deps(self, dataset_ids: Iterable[str]) -> tuple[tuple[str, Hashable], ...]:
        """``(id, version)`` pairs to store with a response built from these datasets."""
        current = self.current()
        wanted = {*dataset_ids, DAY} if self.day is not None else set(dataset_ids)
        self._read(wanted - {DAY})
        return tuple(sorted((d, current.get(d, -1)) for d in wanted))


#: the datasets the requests made in this context read (recording_reads)
_REQUEST_READS: ContextVar[set[str] | None] = ContextVar("request_reads", default=None)


@contextmanager
def recording_reads() -> Iterator[set[str]]:
    """A set that collects the datasets read by the responses built for requests made within it
    (from this thread: the context travels with the request to the threads that build it), so
    requests of several threads each learn their own (:attr:`DataVersions.reads` is one for all).

    Example:
        >>> versions = DataVersions(store, ttl=0)
        >>> with recording_reads() as reads:
        ...     _ = versions.get("kc-311-potholes")
        >>> reads
        {'kc-311-potholes'}
    """
    reads: set[str] = set()
    token = _REQUEST_READS.set(reads)
    try:
        yield reads
    finally:
        _REQUEST_READS.reset(token)


@dataclass(frozen=True)
class CachedResponse:
    """A complete response (status, headers, body) and the dataset versions it depends on."""

    status: int
    body: bytes
    headers: tuple[tuple[bytes, bytes], ...]
    etag: bytes
    deps: tuple[tuple[str, Hashable], ...] = ()
    not_modified_headers: tuple[tuple[bytes, bytes], ...] = field(default=())

    @property
    def nbytes(self) -> int:
        """About how much memory it holds: its body and headers."""
        return len(self.body) + sum(len(n) + len(v) for n, v in self.headers) + 200

    def fresh(self, versions: dict[str, Hashable]) -> bool:
        """Whether every dataset it was built from still has the same version."""
        return all(versions.get(dataset, -1) == version for dataset, version in self.deps)

    def matches(self, if_none_match: bytes | None) -> bool:
        """Whether an ``If-None-Match`` header names this response's ETag (weak compare)."""
        if not if_none_match:
            return False
        if if_none_match.strip() == b"*":
            return True
        tags = {tag.strip().removeprefix(b"W/") for tag in if_none_match.split(b",")}
        return self.etag in tags


def make_response(
    body: bytes,
    media_type: str,
    *,
    cache_control: str,
    extra_headers: Iterable[tuple[str, str]] = (),
    deps: tuple[tuple[str, Hashable], ...] = (),
    salt: str = "",
) -> CachedResponse:
    """Build a :class:`CachedResponse` whose ETag is a hash of ``salt`` and the body.

    Example:
        >>> make_response(b"hi", "text/plain", cache_control="no-cache").etag[:1]
        b'"'
    """
    digest = hashlib.blake2b(body, digest_size=12, key=salt.encode()[:64]).hexdigest()
    etag = f'"{digest}"'.encode()
    common = [
        (b"etag", etag),
        (b"cache-control", cache_control.encode()),
        (b"vary", b"Accept-Encoding"),
    ] + [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in extra_headers]
    headers = [
        (b"content-type", media_type.encode()),
        (b"content-length", str(len(body)).encode()),
        *common,
    ]
    not_modified = [h for h in common if h[0] not in (b"content-disposition",)]
    return CachedResponse(200, body, tuple(headers), etag, deps, tuple(not_modified))


def header(scope: dict[str, Any], name: bytes) -> bytes:
    """The first request header called ``name`` (lower case), or b""."""
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return b""


async def send_cached(entry: CachedResponse, scope: dict[str, Any], send: Any) -> None:
    """Send a cached response over ASGI (a 304 when the client already has it)."""
    if entry.matches(header(scope, b"if-none-match")):
        await send({"type": "http.response.start", "status": 304, "headers": entry.not_modified_headers})
        await send({"type": "http.response.body", "body": b""})
        return
    await send({"type": "http.response.start", "status": entry.status, "headers": entry.headers})
    body = b"" if scope["method"] == "HEAD" else entry.body
    await send({"type": "http.response.body", "body": body})


class CachedResponseMiddleware:
    """Serve GET/HEAD requests whose response is cached and fresh without entering FastAPI.

    ``key`` makes the cache key of a path and raw query string, as the routes do.
    """

    def __init__(
        self,
        app: Any,
        cache: LruCache[CacheKey, CachedResponse],
        versions: DataVersions,
        key: Callable[[str, bytes], CacheKey],
    ) -> None:
        self.app = app
        self.cache = cache
        self.versions = versions
        self.key = key

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD"):
            entry = self.cache.get(self.key(scope["path"], scope["query_string"]))
            if entry is not None and entry.fresh(self.versions.current()):
                await send_cached(entry, scope, send)
                return
        await self.app(scope, receive, send)
