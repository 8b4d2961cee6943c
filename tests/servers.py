"""Run an ASGI app with uvicorn on 127.0.0.1 in a background thread, or ``btvstat-open serve`` as a
real process, for tests; or drive it in process (:func:`in_process`) where sockets do not matter."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import requests
import uvicorn

from btvstat_open.web.inprocess import ASGIAdapter, inprocess_session

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


async def read_request(scope: dict[str, Any], receive: Receive, send: Send) -> bool:
    """The start every plain ASGI stand-in shares: answer a lifespan exchange (False: nothing to
    serve), or drain the request body (True: answer the request)."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return False
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    return True


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def serve(app: Any, *, port: int | None = None, tls_pem: str | None = None) -> Iterator[str]:
    """Serve ``app`` over real HTTP on 127.0.0.1; yields the base URL (no trailing slash).

    ``tls_pem`` (a PEM file holding the private key and certificate chain) serves HTTPS instead,
    for clients that only speak https:// (soda-js, datasette-socrata).
    """
    port = port or free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="on",
        ssl_certfile=tls_pem,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"{'https' if tls_pem else 'http'}://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def in_process(app: Any) -> Iterator[tuple[str, requests.Session]]:
    """Drive ``app`` in process (no port); yields its base URL and the ``requests.Session`` that reaches it.

    For tests that look only at answers; faults, slow clients, budgets and third-party clients
    need :func:`serve`.
    """
    with inprocess_session(app) as http:
        yield "http://testserver", http


@contextmanager
def mounted(app: Any, http: requests.Session) -> Iterator[str]:
    """Drive ``app`` in process through ``http`` (a session a test module shares); yields the base URL."""
    base = "http://testserver"
    adapter = ASGIAdapter(app)
    http.mount(base, adapter)
    try:
        yield base
    finally:
        adapter.close()


def wait_for_health(
    url: str, server: subprocess.Popen[Any], within: float, printed: Callable[[], str]
) -> None:
    """Wait until the server process at ``url`` answers ``/healthz``; fail with what it printed if it dies."""
    deadline = time.monotonic() + within
    while True:
        try:
            if requests.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        assert server.poll() is None, printed()
        assert time.monotonic() < deadline, f"the server did not start within {within:.0f} s"
        time.sleep(0.2)


@contextmanager
def serve_command(
    args: Sequence[str],
    *,
    start_within: float = 60,
    env: dict[str, str] | None = None,
    stderr: list[str] | None = None,
) -> Iterator[str]:
    """Run ``python -m btvstat_open serve ARGS --port P`` until ``/healthz`` answers; yields the base URL.

    ``env`` adds environment variables; ``stderr``, when given, receives what the command printed
    there once it has stopped. The process is stopped (terminate, then kill) when the block ends.
    """
    port = free_port()
    argv = [sys.executable, "-m", "btvstat_open", "serve", *args, "--port", str(port)]
    server = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, **(env or {})}
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_health(url, server, start_within, lambda: server.communicate()[1])
        yield url
    finally:
        server.terminate()
        try:
            _, printed = server.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            _, printed = server.communicate()
        if stderr is not None:
            stderr.append(printed)
