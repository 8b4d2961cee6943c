"""How a site build asks the app for an address: in process, as an anonymous visitor, learning
which datasets the answer was built from.

Most addresses are asked one after another (their links lead the walk on). A PNG image has no
links, so it may be asked on a thread of its own while the walk goes on, and its rasterising
runs in a worker process (:func:`widgets.render.rasterising_on`: vl-convert holds Python's lock
while it rasterises, so only another process can draw while the pages are rendered): the build
then uses both cores. The bytes are the same either way (the same code draws them).

Example:
    >>> with Fetcher(app, "http://testserver", parallel=True) as fetch:            # doctest: +SKIP
    ...     later = fetch.later("/kpi/pothole-days-to-close.png")
    ...     answer, reads = later.result()
    >>> answer.status_code, sorted(reads)                                         # doctest: +SKIP
    (200, ['kc-311-potholes'])
"""

from __future__ import annotations

import contextlib
import multiprocessing
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from types import TracebackType
from typing import Any, ParamSpec, TypeVar

import requests

from btvstat_open.web.inprocess import ASGIAdapter
from widgets.cache import recording_reads
from widgets.render import rasterising_on

__all__ = ["Fetcher"]

P = ParamSpec("P")
T = TypeVar("T")
#: threads asking for images while the walk goes on (one waits for the rasterising process while
#: the other prepares its SVG)
IMAGE_THREADS = 2
#: images rasterised in this process before the worker process is started (about a second's work)
INLINE_IMAGES = 12
Fetched = tuple[requests.Response, set[str]]


class _LazyProcesses(Executor):
    """One worker process, started after the first ``inline`` tasks (run by the caller): a rebuild
    that draws a few images does not wait for a process to start."""

    def __init__(self, inline: int = INLINE_IMAGES) -> None:
        self._pool: ProcessPoolExecutor | None = None
        self._inline = inline
        self._lock = threading.Lock()

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        with self._lock:
            here = self._inline > 0
            self._inline -= 1
            if not here and self._pool is None:
                self._pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
        if self._pool is None or here:
            done: Future[T] = Future()
            try:
                done.set_result(fn(*args, **kwargs))
            except Exception as exc:
                done.set_exception(exc)
            return done
        return self._pool.submit(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait, cancel_futures=cancel_futures)


class Fetcher:
    """The build's HTTP client to ``app`` at ``base``; ``parallel`` lets :meth:`later` ask on
    threads of its own (and PNGs be rasterised in a worker process)."""

    def __init__(self, app: Any, base: str, *, parallel: bool) -> None:
        self.app, self.base = app, base
        self.versions = app.state.widget_routes.service.versions
        self._stack = contextlib.ExitStack()
        self._sessions: list[requests.Session] = []
        self._lock = threading.Lock()
        self.http = self._session()
        self._local = threading.local()
        self._threads: ThreadPoolExecutor | None = None
        if parallel:
            self._threads = self._stack.enter_context(ThreadPoolExecutor(IMAGE_THREADS, "site-images"))
            processes = _LazyProcesses()
            self._stack.callback(processes.shutdown)
            self._stack.enter_context(rasterising_on(processes))

    def _session(self) -> requests.Session:
        session = requests.Session()
        session.mount(self.base, ASGIAdapter(self.app, lifespan=False))
        with self._lock:
            self._sessions.append(session)
        return session

    def get(self, path: str) -> Fetched:
        """The app's answer to ``path`` now, and the datasets it read (from every thread that
        built it: :attr:`widgets.cache.DataVersions.reads`)."""
        self.versions.reads = set()
        try:
            answer = self.http.get(self.base + path, allow_redirects=False, timeout=600)
        finally:
            reads, self.versions.reads = self.versions.reads, None
        return answer, reads or set()

    def later(self, path: str) -> Future[Fetched] | None:
        """The answer to ``path`` asked on another thread (None when not ``parallel``)."""
        if self._threads is None:
            return None
        return self._threads.submit(self._get_on_thread, path)

    def _get_on_thread(self, path: str) -> Fetched:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = self._session()
        with recording_reads() as reads:  # this request's own: the walk's go on meanwhile
            answer = session.get(self.base + path, allow_redirects=False, timeout=600)
        return answer, reads

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stack.close()  # the threads joined, the process stopped, PNGs rasterised here again
        for session in self._sessions:
            session.close()
