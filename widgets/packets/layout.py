"""Packet PDFs laid out side by side, in processes of their own.

WeasyPrint lays out one document at a time per process (:func:`~widgets.packets.render.packet_pdf`
holds a lock: its layout is not documented as thread-safe) and holds the interpreter while it
works, so threads would not lay out two PDFs at once. :class:`PdfProcesses` keeps up to
``workers`` processes (started when the server starts or on the first PDF, ``spawn``\\ed: nothing
of the server's threads or DuckDB connections is copied into them). A packet is laid out in two
parts at once, each in a process (:func:`widgets.packets.parts.assemble`), and joined here; the
server's packet pool has as many threads as there are processes.

Example:
    >>> layout = PdfProcesses(workers=1)
    >>> layout.warm()(60)  # a server does this at start when its catalog has meetings
    >>> layout("<html><body><p>Hello</p></body></html>")[:5]
    b'%PDF-'
    >>> layout.close()
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from btvstat_open.errors import RenderError
from widgets.packets.parts import LaidOut, Task, assemble, lay_out_group

__all__ = ["PdfProcesses"]


def _start_worker() -> None:
    """In a worker process: leave Ctrl+C to the server (it reaches every process of ``serve``; the
    server stops its workers itself, so no traceback comes from them), and end with the server,
    however it ends (a worker whose server is gone has no one to work for)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    server = os.getppid()

    def watch() -> None:
        while os.getppid() == server:
            time.sleep(1)
        os._exit(0)

    threading.Thread(target=watch, name="btvstat-server-watch", daemon=True).start()


_WARM_UP = "<!doctype html><html lang='en'><title>.</title><p>.</p></html>"


def _layout(group: Sequence[Task]) -> tuple[bool, list[LaidOut] | str]:
    """In a worker process: a group of parts laid out, or the message of the error that stopped it."""
    try:
        return True, lay_out_group(group)
    except RenderError as exc:
        return False, exc.message


class PdfProcesses:
    """A callable ``html -> PDF bytes`` laying out in up to ``workers`` processes at once."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._executor: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def _pool(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._executor is None:
                context = multiprocessing.get_context("spawn")
                self._executor = ProcessPoolExecutor(
                    self.workers, mp_context=context, initializer=_start_worker
                )
            return self._executor

    def warm(self) -> Callable[[float], None]:
        """Start the processes and lay a tiny page out in each, in the background: WeasyPrint's
        first document (loading it and its fonts) takes a second, and a server's first packet
        should not. Returns a function that waits (at most its argument, in seconds) until
        every process is warm."""
        import widgets.packets.join  # noqa: F401 (pikepdf: this process joins the parts)

        pool = self._pool()
        started = [pool.submit(_layout, [(_WARM_UP, "whole")]) for _ in range(self.workers)]

        def ready(timeout: float) -> None:
            wait(started, timeout)

        return ready

    def __call__(self, html: str) -> bytes:
        """The packet page ``html`` as a PDF; :class:`RenderError` when it cannot be made."""
        return assemble(html, self._run)

    def _run(self, groups: Sequence[Sequence[Task]]) -> list[list[LaidOut]]:
        """Each group laid out in a process, the groups at once."""
        executor = self._pool()
        try:
            answers = [future.result() for future in [executor.submit(_layout, g) for g in groups]]
        except BrokenProcessPool:
            with self._lock:
                if self._executor is executor:
                    self._executor = None  # the next PDF starts new processes
            executor.shutdown(wait=False, cancel_futures=True)
            raise RenderError(
                "The process laying out the packet's PDF stopped unexpectedly (out of memory?); "
                "try again, and see the server log."
            ) from None
        done = []
        for ok, value in answers:
            if not ok:
                assert isinstance(value, str)
                raise RenderError(value)
            assert isinstance(value, list)
            done.append(value)
        return done

    def close(self, *, wait: float = 10) -> None:
        """Stop the processes: PDFs not started are dropped, one being laid out has ``wait``
        seconds to finish, then its process is stopped."""
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is None:
            return
        processes = list((getattr(executor, "_processes", None) or {}).values())
        stopping = threading.Thread(target=executor.shutdown, kwargs={"cancel_futures": True}, daemon=True)
        stopping.start()
        stopping.join(wait)
        for process in processes:
            if process.is_alive():
                process.terminate()
