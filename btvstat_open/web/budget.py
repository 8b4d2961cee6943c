"""Budgets for heavy work: bounded worker pools, time limits that interrupt, and byte caps.

Heavy work (SoQL queries, exports, chart renders) never runs on the server's shared thread pool
or event loop. Each kind has a :class:`WorkPool`: a fixed number of worker threads and a bounded
number of requests admitted to wait for them. A request that finds its pool full, or waits longer
than ``wait_seconds`` for a worker, is a :class:`~btvstat_open.errors.ServerBusy` (HTTP 503 with
``Retry-After``), so health checks and cached pages keep answering whatever the load.

An admitted request holds a :class:`Slot` until its response is complete. Each step it runs on a
worker counts against the slot's time budget; when the budget runs out, or the client hangs up,
the step's ``interrupt`` callback is called (``duckdb.DuckDBPyConnection.interrupt``) and the
request ends at once as a :class:`~btvstat_open.errors.BudgetExceeded` 400 (or a
:class:`~btvstat_open.errors.ClientGone`). The slot stays taken until the interrupted step has
really stopped, so a pool never runs more work than it has workers.

Example:
    >>> import asyncio
    >>> pool = WorkPool("demo", workers=1, queue=0, wait_seconds=1)
    >>> asyncio.run(pool.run(sum, [1, 2, 3]))
    6
    >>> pool.admitted
    0
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import duckdb

from btvstat_open.errors import BudgetExceeded, ClientGone, ServerBusy
from btvstat_open.web.settings import Settings

__all__ = [
    "Pools",
    "Slot",
    "StreamAborted",
    "StreamAbortedMiddleware",
    "WorkPool",
    "budgeted_body",
    "check_bytes",
    "check_columns",
    "wait_for_disconnect",
]

T = TypeVar("T")
log = logging.getLogger("btvstat_open.web.budget")

#: seconds between repeated interrupts of a step that has not stopped yet
_INTERRUPT_EVERY = 0.1

Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]


class WorkPool:
    """``workers`` threads for one kind of heavy work; at most ``workers + queue`` requests admitted."""

    def __init__(
        self, name: str, *, workers: int, queue: int, wait_seconds: float, setting: str = ""
    ) -> None:
        self.name = name
        self.workers = workers
        self.capacity = workers + queue
        self.wait_seconds = wait_seconds
        self.setting = setting or f"{name}_workers"
        self._executor = ThreadPoolExecutor(workers, thread_name_prefix=f"btvstat-{name}")
        self._admitted = 0
        self._lock = threading.Lock()

    @property
    def admitted(self) -> int:
        """Requests holding a slot right now (running, waiting for a worker, or streaming)."""
        return self._admitted

    def _busy(self, why: str) -> ServerBusy:
        retry = max(1, round(self.wait_seconds))
        return ServerBusy(
            f"The server is busy: {why}. Try again in {retry} seconds. Operators can add "
            f"workers with the {self.setting} setting (BTVSTAT_{self.setting.upper()}).",
            pool=self.name,
            retry_after=retry,
        )

    def admit(self, *, seconds: float | None = None, limit: str = "") -> Slot:
        """A slot for one request, with ``seconds`` of worker time (None: no limit).

        ``limit`` is the setting that grants ``seconds``, named in the error when it runs out.
        Raises :class:`ServerBusy` when every slot is taken.
        """
        with self._lock:
            if self._admitted >= self.capacity:
                raise self._busy(f"all {self.capacity} places for {self.name} are taken")
            self._admitted += 1
        return Slot(self, seconds, limit)

    def _release(self) -> None:
        with self._lock:
            self._admitted -= 1

    async def run(self, fn: Callable[..., T], *args: Any, seconds: float | None = None) -> T:
        """Run ``fn(*args)`` on a worker under a slot of its own (released when it returns)."""
        slot = self.admit(seconds=seconds)
        try:
            return await slot.run(fn, *args)
        finally:
            slot.close()


class Slot:
    """One admitted request's place in a pool: its worker steps, time budget and clean-ups."""

    def __init__(self, pool: WorkPool, seconds: float | None, limit: str) -> None:
        self.pool = pool
        self.seconds = seconds
        self.limit = limit
        self.spent = 0.0
        self._inflight: Future[Any] | None = None
        self._cleanups: list[Callable[[], object]] = []
        self._closed = False

    def on_close(self, cleanup: Callable[[], object]) -> None:
        """Call ``cleanup`` when the slot is released (after any interrupted step has ended)."""
        self._cleanups.append(cleanup)

    async def run(
        self,
        fn: Callable[..., T],
        *args: Any,
        interrupt: Callable[[], object] | None = None,
        receive: Receive | None = None,
    ) -> T:
        """Run one step on a worker within the time left; ``receive`` watches for a hang-up."""
        loop = asyncio.get_running_loop()
        started = loop.create_future()

        def work() -> T:
            loop.call_soon_threadsafe(_settle, started)
            begin = time.perf_counter()
            try:
                return fn(*args)
            finally:
                self.spent += time.perf_counter() - begin

        # The worker runs in this request's context (its locale, among others).
        future = self.pool._executor.submit(contextvars.copy_context().run, work)
        self._inflight = future
        waiter = asyncio.wrap_future(future)
        gone: asyncio.Future[None] | None = (
            asyncio.ensure_future(wait_for_disconnect(receive)) if receive else None
        )
        try:
            await self._start(future, started, gone)
            left = None if self.seconds is None else max(0.0, self.seconds - self.spent)
            watched: set[asyncio.Future[Any]] = {waiter} if gone is None else {waiter, gone}
            done, _ = await asyncio.wait(watched, timeout=left, return_when=asyncio.FIRST_COMPLETED)
            if waiter in done:
                return waiter.result()
            _stop(future, waiter, interrupt)
            if gone is not None and gone in done:
                raise ClientGone("The client closed the connection; the query was stopped.")
            raise self._out_of_time()
        except asyncio.CancelledError:  # the response was cancelled (e.g. the client hung up mid-stream)
            _stop(future, waiter, interrupt)
            raise
        finally:
            if gone is not None:
                gone.cancel()

    async def _start(
        self, future: Future[Any], started: asyncio.Future[None], gone: asyncio.Future[None] | None
    ) -> None:
        """Wait for a worker to pick the step up; give up (503) after the pool's wait time.

        A client that hangs up while waiting gives its place up at once.
        """
        watched: set[asyncio.Future[Any]] = {started} if gone is None else {started, gone}
        await asyncio.wait(watched, timeout=self.pool.wait_seconds, return_when=asyncio.FIRST_COMPLETED)
        if started.done() or not future.cancel():
            return  # running (or about to): the caller watches it from here
        if gone is not None and gone.done():
            raise ClientGone("The client closed the connection while its request waited for a worker.")
        raise self.pool._busy(
            f"no {self.pool.name} worker became free within {self.pool.wait_seconds:g} seconds"
        )

    def _out_of_time(self) -> BudgetExceeded:
        seconds = self.seconds or 0
        variable = f"BTVSTAT_{self.limit.upper()}"
        return BudgetExceeded(
            f"The query ran for more than {seconds:g} seconds, this server's limit, and was stopped. "
            f"Narrow it with $where, $select or $limit, or ask the operator to raise the {self.limit} "
            f"setting ({variable}).",
            limit=self.limit,
            value=seconds,
        )

    def close(self) -> None:
        """Release the slot now, or as soon as an interrupted step has really stopped."""
        if self._closed:
            return
        self._closed = True
        if self._inflight is not None and not self._inflight.done():
            self._inflight.add_done_callback(lambda _: self._finish())
        else:
            self._finish()

    def _finish(self) -> None:
        try:
            for cleanup in self._cleanups:
                try:
                    cleanup()
                except (duckdb.Error, OSError):  # a failed close must not keep the slot taken
                    log.exception("clean-up after a %s request failed", self.pool.name)
        finally:
            self.pool._release()


def _settle(started: asyncio.Future[None]) -> None:
    if not started.done():
        started.set_result(None)


def _stop(future: Future[Any], waiter: asyncio.Future[Any], interrupt: Callable[[], object] | None) -> None:
    """Stop a step that is no longer wanted: cancel it if queued, interrupt it until it ends if running.

    The interrupt is repeated because one that lands before the step has started its query
    (DuckDB clears the flag when a query begins) would be lost.
    """
    waiter.add_done_callback(lambda f: f.cancelled() or f.exception())  # never "exception not retrieved"
    if future.cancel() or interrupt is None:
        return
    loop = asyncio.get_running_loop()

    def again() -> None:
        if not future.done():
            interrupt()
            loop.call_later(_INTERRUPT_EVERY, again)

    again()


async def wait_for_disconnect(receive: Receive) -> None:
    """Return when the ASGI client has hung up (``http.disconnect``).

    Use it only once the request body has been read: it consumes ``http.request`` messages.
    """
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return


class StreamAborted(Exception):
    """A streamed response cut off after it started (its status line is already sent).

    Not a :class:`~btvstat_open.errors.BtvstatError`: there is no error response left to send.
    :class:`StreamAbortedMiddleware` catches it, so the connection closes before the end of the
    body (every HTTP client then reports an incomplete response) and the log gets one line.
    """


def check_columns(count: int, own: int, max_columns: int) -> None:
    """Raise :class:`BudgetExceeded` when a read asks for more than ``max(max_columns, own)`` columns.

    ``own`` is the dataset's own column count (system fields included): ``$select=*`` always fits.

    Example:
        >>> check_columns(25, 25, 10)
        >>> check_columns(880, 25, 200)
        Traceback (most recent call last):
        btvstat_open.errors.BudgetExceeded: The query asks for 880 output columns; ...
    """
    cap = max(max_columns, own)
    if count > cap:
        raise BudgetExceeded(
            f"The query asks for {count} output columns; this server answers at most {cap} per read. "
            "Select fewer columns (each * adds every column again), or ask the operator to raise the "
            "max_columns setting (BTVSTAT_MAX_COLUMNS).",
            limit="max_columns",
            value=cap,
        )


def check_bytes(sent: int, max_bytes: int | None) -> None:
    """Raise :class:`BudgetExceeded` when ``sent`` bytes pass ``max_bytes`` (None: no cap).

    Example:
        >>> check_bytes(10, 100)
        >>> check_bytes(200, 100)
        Traceback (most recent call last):
        btvstat_open.errors.BudgetExceeded: The response would be larger than 100 bytes, ...
    """
    if max_bytes is not None and sent > max_bytes:
        raise BudgetExceeded(
            f"The response would be larger than {max_bytes} bytes, this server's limit for one read. "
            "Select fewer or narrower columns, page with $limit and $offset, or ask the operator to "
            "raise the max_response_bytes setting (BTVSTAT_MAX_RESPONSE_BYTES).",
            limit="max_response_bytes",
            value=max_bytes,
        )


async def budgeted_body(
    slot: Slot,
    first: bytes,
    next_chunk: Callable[[], bytes | None],
    *,
    interrupt: Callable[[], object] | None = None,
    max_bytes: int | None = None,
) -> AsyncIterator[bytes]:
    """A response body: ``first``, then ``next_chunk()`` on the slot's pool until it returns None.

    Every chunk is made on a worker within the slot's time budget; the body is cut off
    (:class:`StreamAborted`) when it passes ``max_bytes`` or the budget runs out. The slot is
    released when the body ends, however it ends.
    """
    try:
        sent = len(first)
        yield first
        while True:
            try:
                chunk = await slot.run(next_chunk, interrupt=interrupt)
                if chunk is None:
                    return
                sent += len(chunk)
                check_bytes(sent, max_bytes)
            except BudgetExceeded as exc:
                log.warning("response cut off after %d bytes: %s", sent, exc.message)
                raise StreamAborted(exc.message) from None
            yield chunk
    finally:
        slot.close()


class StreamAbortedMiddleware:
    """ASGI middleware: a :class:`StreamAborted` body ends the connection quietly (no traceback)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Any) -> None:
        try:
            await self.app(scope, receive, send)
        except StreamAborted:
            return


@dataclass(frozen=True)
class Pools:
    """The server's heavy-work pools: ``queries`` (SoQL reads and exports), ``renders`` (charts),
    ``pages`` (program pages) and ``packets`` (meeting packets and their PDFs).

    Example:
        >>> pools = Pools.from_settings(Settings(query_workers=2, query_queue=3))
        >>> (pools.queries.workers, pools.queries.capacity)
        (2, 5)
    """

    queries: WorkPool
    renders: WorkPool
    pages: WorkPool
    packets: WorkPool

    @classmethod
    def from_settings(cls, settings: Settings) -> Pools:
        """Pools sized by the ``query_*``, ``render_*``, ``page_*``, ``packet_*`` and
        ``pool_wait_seconds`` settings."""
        return cls(
            queries=_pool(settings, "queries", "query"),
            renders=_pool(settings, "renders", "render"),
            pages=_pool(settings, "pages", "page"),
            packets=_pool(settings, "packets", "packet"),
        )


def _pool(settings: Settings, name: str, setting: str) -> WorkPool:
    """The pool ``name`` sized by the ``{setting}_workers`` and ``{setting}_queue`` settings."""
    return WorkPool(
        name,
        workers=getattr(settings, f"{setting}_workers"),
        queue=getattr(settings, f"{setting}_queue"),
        wait_seconds=settings.pool_wait_seconds,
        setting=f"{setting}_workers",
    )
