"""``btvstat-open serve`` as a real process: connections that send their headers or body slowly
are closed after the header/body timeouts, the server's memory stays put, /healthz keeps answering."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
import requests
from servers import free_port, wait_for_health

SLOW_CLIENTS = 320


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, psutil.Process]]:
    root = tmp_path_factory.mktemp("serve-slow")
    store = root / "store"
    port = free_port()
    env = {
        **os.environ,
        "BTVSTAT_HTTP_HEADER_TIMEOUT_SECONDS": "2",
        "BTVSTAT_HTTP_BODY_TIMEOUT_SECONDS": "2",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "btvstat_open", "serve", "--store", str(store), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=(root / "server.log").open("wb"),  # a pipe nobody reads would fill and stall the server
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_health(url, server, 60, (root / "server.log").read_text)
        yield url, psutil.Process(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
    log = (root / "server.log").read_text()
    assert "Traceback" not in log, log[-2000:]


def _open(url: str, data: bytes) -> socket.socket:
    port = int(url.rsplit(":", 1)[1])
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(data)
    return sock


def _closed_by_server(sock: socket.socket, seconds: float) -> bool:
    sock.settimeout(seconds)
    try:
        while sock.recv(4096):
            pass  # a 4xx the server may send before closing
        return True
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True


def test_unfinished_headers_and_bodies_are_closed(served: tuple[str, psutil.Process]) -> None:
    url, process = served
    rss_before = process.memory_info().rss
    half_headers = b"GET /healthz HTTP/1.1\r\nHost: slow\r\nX-Slow: "
    half_body = b"POST /api/v3/views/x/query.json HTTP/1.1\r\nHost: slow\r\nContent-Length: 1000\r\n\r\n{"
    socks = [_open(url, half_headers if i % 2 else half_body) for i in range(SLOW_CLIENTS)]
    try:
        began = time.monotonic()
        health = requests.get(f"{url}/healthz", timeout=5)
        assert health.status_code == 200 and time.monotonic() - began < 1.0
        # Every slow connection is closed by the server a little after the 2 s deadlines.
        closed = [_closed_by_server(sock, 10) for sock in socks]
        assert all(closed), f"{closed.count(False)} of {len(socks)} connections still open"
        assert len(process.net_connections(kind="tcp")) < 20
    finally:
        for sock in socks:
            sock.close()
    assert process.memory_info().rss - rss_before < 100 * 1024 * 1024
    assert requests.get(f"{url}/healthz", timeout=5).status_code == 200


def test_serve_passes_the_connection_cap_to_uvicorn(tmp_path: Path) -> None:
    from btvstat_open.web.serving import server_config
    from btvstat_open.web.settings import Settings

    settings = Settings(http_max_connections=77, http_keep_alive_seconds=3)
    config = server_config(object(), settings, "127.0.0.1", 1)
    assert config.limit_concurrency == 77 and config.timeout_keep_alive == 3
