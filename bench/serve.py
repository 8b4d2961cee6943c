"""Run the local portal or the widget server in its own process, for benchmarks.

Servers run as separate processes (uvicorn on 127.0.0.1, a free port) so that the client being measured
and the server never share a GIL or a core's worth of Python. The parent uses :func:`running_server`;
each server is forked from one process that imported the apps' modules once (``multiprocessing``'s
forkserver): a server starts without paying seconds of imports each time, and so do the workers of a
server with several (forked from it, see :func:`_fork_workers`). The same server runs from a shell
as ``python -m bench.serve --port P`` with the ``BENCH_*`` variables set.

Every server is wrapped in a small counting middleware: ``GET /__bench/requests`` answers how many
requests the app has received so far (that request itself not included). This is how the sync benchmark
counts requests at the server, not at the client.

Example:
    >>> with running_server("portal", store=path) as url:  # doctest: +SKIP
    ...     requests.get(url + "/api/views/bench-311.json").json()["name"]
    'Bench 311 requests'
"""

from __future__ import annotations

import argparse
import multiprocessing
import multiprocessing.util
import os
import shutil
import signal
import socket
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

__all__ = ["WORKER_PATH", "WRITE_TOKEN", "free_port", "request_count", "running_server"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

WRITE_TOKEN = "bench-write-token-not-secret"
COUNT_PATH = "/__bench/requests"
# Which worker process answered: lets the harness warm up every worker, not just the first to accept.
WORKER_PATH = "/__bench/worker"
REPO = Path(__file__).resolve().parent.parent


class CountingMiddleware:
    """Counts every HTTP request to the wrapped app; answers the count at ``/__bench/requests``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.count = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == COUNT_PATH:
            body = str(self.count).encode()
            headers = [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        if scope["type"] == "http" and scope["path"] == WORKER_PATH:
            body = str(os.getpid()).encode()
            headers = [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        if scope["type"] == "http":
            self.count += 1
        await self.app(scope, receive, send)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _worker_store(root: str, copy: bool) -> Path:
    """The store folder this process opens: a private copy when several workers share one store.

    DuckDB lets one process at a time open a database file for writing, so each uvicorn worker
    serving the (small) demo store gets its own copy.
    """
    if not copy:
        return Path(root)
    target = Path(tempfile.mkdtemp(prefix=f"bench-worker-{os.getpid()}-"))
    # Removed when the process ends: a worker (forked by the forkserver or by uvicorn) leaves with
    # os._exit, which skips atexit; multiprocessing runs its finalizers on the way out either way.
    multiprocessing.util.Finalize(None, shutil.rmtree, (target,), {"ignore_errors": True}, exitpriority=10)
    shutil.copytree(root, target, dirs_exist_ok=True)
    return target


def build_app() -> ASGIApp:
    """The app named by ``BENCH_KIND`` (portal or widgets) over ``BENCH_STORE``, wrapped for counting.

    A uvicorn factory: each worker process calls it once.
    """
    kind = os.environ["BENCH_KIND"]
    copy = os.environ.get("BENCH_COPY_STORE") == "1"
    root = _worker_store(os.environ["BENCH_STORE"], copy)
    from btvstat_open.store import Store

    store = Store(root)
    if kind == "portal":
        from btvstat_open.portal.app import create_portal_app
        from btvstat_open.web.settings import Settings

        app: ASGIApp = create_portal_app(store, Settings(write_token=WRITE_TOKEN))
    elif kind == "widgets":
        from btvstat_open.server import create_app
        from catalog import load_catalog

        catalog = load_catalog(Path(os.environ["BENCH_CATALOG"]), store)
        app = create_app(store, catalog)
    else:
        raise SystemExit(f"unknown server kind {kind!r}: use portal or widgets")
    return CountingMiddleware(app)


# What every server imports: loaded once in the forkserver, so each forked server starts without it.
_PRELOAD = ["uvicorn", "btvstat_open.server", "btvstat_open.portal.app", "catalog"]


def _forkserver() -> Any:
    """The ``multiprocessing`` context whose processes are forked from a process that imported
    :data:`_PRELOAD` (started on first use, gone when this process exits)."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(_PRELOAD)
    return context


def _serve_child(env: dict[str, str], argv: list[str], log_path: str) -> None:
    """A forked server process: the parent's environment with the ``BENCH_*`` settings, output to the log."""
    os.environ.clear()
    os.environ.update(env)
    os.chdir(REPO)
    log = os.open(log_path, os.O_WRONLY | os.O_APPEND)
    os.dup2(log, 1)
    os.dup2(log, 2)
    # uvicorn hands its workers this process's stdin by number: make it fd 0 again (multiprocessing
    # left it on another descriptor).
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    sys.stdin = os.fdopen(0)
    main(argv)


@contextmanager
def running_server(
    kind: str,
    *,
    store: Path,
    catalog: Path | None = None,
    workers: int = 1,
    copy_store: bool = False,
    timeout: float = 90.0,
) -> Iterator[str]:
    """Start a server process, wait until it answers, yield its base URL, stop it afterwards."""
    port = free_port()
    env = dict(os.environ)
    env.update(BENCH_KIND=kind, BENCH_STORE=str(store), BENCH_COPY_STORE="1" if copy_store else "0")
    env["BTVSTAT_WRITE_TOKEN"] = WRITE_TOKEN
    if catalog is not None:
        env["BENCH_CATALOG"] = str(catalog)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH", "")]))
    argv = ["--port", str(port), "--workers", str(workers)]
    url = f"http://127.0.0.1:{port}"
    with tempfile.NamedTemporaryFile(prefix="bench-server-", suffix=".log") as log:
        proc = _forkserver().Process(target=_serve_child, args=(env, argv, log.name), daemon=False)
        proc.start()
        try:
            _wait_ready(url, proc, timeout, log)
            yield url
        finally:
            if proc.pid is not None and proc.is_alive():
                os.kill(proc.pid, signal.SIGINT)
            proc.join(timeout=20)
            if proc.is_alive():
                proc.kill()
                proc.join()


def _wait_ready(url: str, proc: Any, timeout: float, log: Any) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not proc.is_alive():
            log.seek(0)
            output = log.read().decode(errors="replace")[-3000:]
            raise RuntimeError(f"the benchmark server exited with {proc.exitcode}:\n{output}")
        try:
            if requests.get(url + COUNT_PATH, timeout=2).ok:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the benchmark server at {url} did not answer within {timeout:.0f} s")


def request_count(url: str) -> int:
    """How many requests the server at ``url`` has received (its counting middleware's total)."""
    return int(requests.get(url + COUNT_PATH, timeout=10).text)


def _fork_workers() -> None:
    """Make uvicorn fork its workers from this process instead of spawning fresh interpreters.

    This process was forked from one that imported the apps (:data:`_PRELOAD`) and has opened
    nothing yet (each worker builds its app, :func:`build_app`): a forked worker starts in a
    fraction of a second, where a spawned one imports everything again (seconds of CPU per worker,
    which a benchmark that starts several servers pays each time).
    """
    import uvicorn._subprocess

    if hasattr(uvicorn._subprocess, "spawn"):
        uvicorn._subprocess.spawn = multiprocessing.get_context("fork")  # type: ignore[assignment]


def main(argv: list[str] | None = None) -> None:
    """Serve the app described by the ``BENCH_*`` environment (see :func:`build_app`)."""
    import uvicorn

    parser = argparse.ArgumentParser(description="serve a btvstat-open app for benchmarks")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    if args.workers > 1:
        _fork_workers()
    uvicorn.run(
        "bench.serve:build_app",
        factory=True,
        host="127.0.0.1",
        port=args.port,
        workers=args.workers,
        log_level="warning",
        access_log=False,
        # A worker laying out a long PDF on a busy 2-core machine can miss uvicorn's 5 s ping; it is
        # working, not hung, so give it a minute before the supervisor replaces it.
        timeout_worker_healthcheck=60,
    )


if __name__ == "__main__":
    main()
