"""Test plumbing between a client and a server: a request counter and a fault-injecting proxy.

``CountingApp`` wraps an ASGI app and counts the requests that reach it (by method and path).

``FaultProxy`` is a real TCP proxy on 127.0.0.1. It forwards each HTTP request to the
upstream server and, for a chosen share of requests, answers with a fault instead:

* ``429``: ``Too Many Requests`` with ``Retry-After: 0``, before forwarding (nothing applied);
* ``202``: Socrata's "still processing", before forwarding;
* ``500``: after forwarding: the server did the work but the client cannot know;
* ``drop``: after forwarding, the status and headers with the true ``Content-Length``, half
  the body, then the connection is closed;
* ``drop_chunked``: the same with a chunked body that never sends its last chunk.

Every response is sent with ``Connection: close``. A seeded random generator picks the
requests to fail and the kinds take turns, so every kind occurs.
"""

from __future__ import annotations

import http.client
import json
import random
import socket
import socketserver
import threading
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any
from urllib.parse import urlsplit

Headers = list[tuple[str, str]]
FAULTS = ("429", "202", "500", "drop", "drop_chunked")
_HOP = {"transfer-encoding", "connection", "content-length", "keep-alive"}


class CountingApp:
    """An ASGI wrapper that counts requests: ``counts[(method, path)]`` and ``total``."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.counts: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()

    @property
    def total(self) -> int:
        with self._lock:
            return sum(self.counts.values())

    def reset(self) -> None:
        with self._lock:
            self.counts.clear()

    async def __call__(
        self,
        scope: dict[str, Any],
        receive: Callable[[], Awaitable[dict[str, Any]]],
        send: Callable[[dict[str, Any]], Awaitable[None]],
    ) -> None:
        if scope["type"] == "http":
            with self._lock:
                self.counts[(scope["method"], scope["path"])] += 1
        await self.app(scope, receive, send)


def _read_request(rfile: Any) -> tuple[str, list[tuple[str, str]], bytes] | None:
    line = rfile.readline(65537)
    if not line:
        return None
    request_line = line.decode("latin-1").rstrip("\r\n")
    headers: list[tuple[str, str]] = []
    while True:
        raw = rfile.readline(65537)
        if raw in (b"\r\n", b"\n", b""):
            break
        name, _, value = raw.decode("latin-1").partition(":")
        headers.append((name.strip(), value.strip()))
    length = next((int(v) for k, v in headers if k.lower() == "content-length"), 0)
    body = rfile.read(length) if length else b""
    return request_line, headers, body


class FaultProxy:
    """Forward to ``upstream`` and fail about ``rate`` of the requests (see the module doc)."""

    def __init__(self, upstream: str, *, rate: float = 0.25, seed: int = 7, faults: tuple[str, ...] = FAULTS):
        parts = urlsplit(upstream)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.rate = rate
        self.faults = faults
        self.random = random.Random(seed)
        self.lock = threading.Lock()
        self.requests = 0
        self.injected: Counter[str] = Counter()
        self.failed_requests: list[tuple[str, str]] = []  # (fault, request line), in order
        self.enabled = True

    def pick(self) -> str | None:
        with self.lock:
            self.requests += 1
            if self.enabled and self.random.random() < self.rate:
                # Kinds take turns, so even a short run meets every one of them.
                fault = self.faults[sum(self.injected.values()) % len(self.faults)]
                self.injected[fault] += 1
                return fault
            return None

    @property
    def fault_share(self) -> float:
        with self.lock:
            return sum(self.injected.values()) / max(1, self.requests)

    def forward(
        self, request_line: str, headers: list[tuple[str, str]], body: bytes
    ) -> tuple[int, str, list[tuple[str, str]], bytes]:
        method, target, _ = request_line.split(" ", 2)
        conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
        try:
            conn.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
            for name, value in headers:
                if name.lower() not in ("connection", "keep-alive"):
                    conn.putheader(name, value)
            conn.endheaders(body or None)
            resp = conn.getresponse()
            data = resp.read()
            return resp.status, resp.reason, list(resp.getheaders()), data
        finally:
            conn.close()

    def handle(self, sock: socket.socket, rfile: Any) -> None:
        parsed = _read_request(rfile)
        if parsed is None:
            return
        request_line, headers, body = parsed
        fault = self.pick()
        if fault is not None:
            with self.lock:
                self.failed_requests.append((fault, request_line))
        if fault in ("429", "202"):
            status, reason = (429, "Too Many Requests") if fault == "429" else (202, "Accepted")
            payload = json.dumps(
                {"code": "rate.limited" if fault == "429" else "processing", "error": True, "message": reason}
            ).encode()
            extra = [("Retry-After", "0")] if fault == "429" else []
            sock.sendall(
                _head(status, reason, [("Content-Type", "application/json"), *extra], len(payload)) + payload
            )
            return
        status, reason, resp_headers, data = self.forward(request_line, headers, body)
        if fault == "500":
            payload = b'{"error" : true, "message" : "Internal error", "status" : 500}'
            sock.sendall(
                _head(500, "Server Error", [("Content-Type", "application/json")], len(payload)) + payload
            )
            return
        kept = [(k, v) for k, v in resp_headers if k.lower() not in _HOP]
        if fault == "drop":
            sock.sendall(_head(status, reason, kept, len(data)) + data[: len(data) // 2])
            return
        if fault == "drop_chunked":
            half = data[: len(data) // 2]
            head = f"HTTP/1.1 {status} {reason}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in kept)
            head += "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            sock.sendall(head.encode("latin-1") + f"{len(half):x}\r\n".encode() + half + b"\r\n")
            return
        sock.sendall(_head(status, reason, kept, len(data)) + data)


def _head(status: int, reason: str, headers: list[tuple[str, str]], length: int) -> bytes:
    lines = [f"HTTP/1.1 {status} {reason}"] + [f"{k}: {v}" for k, v in headers]
    lines += [f"Content-Length: {length}", "Connection: close", "", ""]
    return "\r\n".join(lines).encode("latin-1")


@contextmanager
def fault_proxy(upstream: str, **options: Any) -> Iterator[tuple[str, FaultProxy]]:
    """Run a :class:`FaultProxy` in front of ``upstream``; yields ``(proxy URL, proxy)``."""
    proxy = FaultProxy(upstream, **options)

    class Handler(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            with suppress(ConnectionError, OSError):
                proxy.handle(self.connection, self.rfile)

    class Server(socketserver.ThreadingTCPServer):
        daemon_threads = True
        allow_reuse_address = True

    server = Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", proxy
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def serve_portal(store: Any, token: str = "test-write-token") -> Iterator[tuple[str, CountingApp]]:
    """Serve the local portal over ``store`` on real HTTP; yields ``(url, request counter)``."""
    from servers import serve

    from btvstat_open.portal.app import create_portal_app
    from btvstat_open.web.settings import Settings

    app = CountingApp(create_portal_app(store, Settings(write_token=token)))
    with serve(app) as url:
        yield url, app
