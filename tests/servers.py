"""Run an ASGI app with uvicorn on 127.0.0.1 in a background thread, or ``btvstat-open serve`` as a
real process, for tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests
import uvicorn


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
def serve_command(
    args: list[str], *, env: dict[str, str] | None = None, timeout: float = 60
) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """Run ``btvstat-open serve ARGS --port P`` as a real process until ``/healthz`` answers.

    Yields the base URL and the process (its stderr holds what the command printed); the process
    is stopped on exit.
    """
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "btvstat_open", "serve", *args, "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if requests.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert server.poll() is None, server.communicate()[1]
            assert time.monotonic() < deadline, f"the server did not start within {timeout} s"
            time.sleep(0.2)
        yield url, server
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
