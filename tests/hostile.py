"""Test equipment: small hostile HTTP servers that answer as a portal the city does not control would.

:func:`hostile` serves ``answer(request) -> Reply`` on 127.0.0.1 (a port of its own, so each
server is its own origin) and records every request it gets (path, query, headers), so a test
can say what a connector sent where. A :class:`Reply` body may be bytes or an iterator of bytes
sent with a pause between chunks (a trickle).
"""

from __future__ import annotations

import base64
import gzip
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson


@dataclass(frozen=True)
class Request:
    """What a hostile server saw: method, path, query (first values) and headers (lowercase names)."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes = b""

    def carries(self, secret: str) -> bool:
        """Whether ``secret`` is anywhere in the request: a header, the query or the body."""
        text = " ".join([*self.headers.values(), *self.query.values(), self.body.decode("latin-1")])
        return secret in text or any(
            base64.b64encode(f"{u}:{secret}".encode()).decode() in text for u in ("btvstat", "key", "")
        )


@dataclass
class Reply:
    """An answer: status, headers and a body (bytes, or chunks sent ``pause`` seconds apart).

    With ``head_pause``, the status line and headers are sent one byte every ``head_pause`` seconds.
    """

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | Iterable[bytes] = b""
    pause: float = 0.0
    head_pause: float = 0.0


def json_reply(value: Any, status: int = 200, *, gzipped: bool = False) -> Reply:
    """A JSON answer (gzip-encoded when ``gzipped``)."""
    body = orjson.dumps(value)
    headers = {"Content-Type": "application/json"}
    if gzipped:
        body = gzip.compress(body)
        headers["Content-Encoding"] = "gzip"
    return Reply(status, headers, body)


def redirect(location: str, status: int = 302) -> Reply:
    """A redirect to ``location``."""
    return Reply(status, {"Location": location})


class HostileServer:
    """A running hostile server: its ``url`` and every request it has ``seen``."""

    def __init__(self, answer: Callable[[Request], Reply]) -> None:
        self.answer = answer
        self.seen: list[Request] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                request = Request(
                    self.command,
                    parts.path,
                    {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()},
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                )
                with server._lock:
                    server.seen.append(request)
                reply = server.answer(request)
                self._send(reply)

            def _send(self, reply: Reply) -> None:
                if reply.head_pause:
                    self._trickle_head(reply)
                    return
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                if isinstance(reply.body, bytes):
                    self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)
                    return
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                try:
                    for chunk in reply.body:
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                        self.wfile.flush()
                        time.sleep(reply.pause)
                    self.wfile.write(b"0\r\n\r\n")
                except OSError:
                    pass  # the client gave up: what a trickle is for

            def _trickle_head(self, reply: Reply) -> None:
                assert isinstance(reply.body, bytes)
                lines = [f"HTTP/1.1 {reply.status} OK", f"Content-Length: {len(reply.body)}"]
                lines += [f"{name}: {value}" for name, value in reply.headers.items()]
                head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
                try:
                    for byte in trickle(head):
                        self.wfile.write(byte)
                        self.wfile.flush()
                        time.sleep(reply.head_pause)
                    self.wfile.write(reply.body)
                except OSError:
                    self.close_connection = True  # the client gave up: what a trickle is for

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def requests_to(self, prefix: str) -> list[Request]:
        """The requests whose path starts with ``prefix``."""
        with self._lock:
            return [r for r in self.seen if r.path.startswith(prefix)]

    def carried(self, secret: str) -> bool:
        """Whether any request so far carried ``secret``."""
        with self._lock:
            return any(r.carries(secret) for r in self.seen)


@contextmanager
def hostile(answer: Callable[[Request], Reply]) -> Iterator[HostileServer]:
    """Serve ``answer`` on 127.0.0.1 until the block ends."""
    server = HostileServer(answer)
    server._thread.start()
    try:
        yield server
    finally:
        server._server.shutdown()
        server._server.server_close()


def trickle(data: bytes, size: int = 1) -> Iterator[bytes]:
    """``data`` in pieces of ``size`` bytes (sent with a :class:`Reply`'s pause between them)."""
    for start in range(0, len(data), size):
        yield data[start : start + size]


#: A Socrata dataset's metadata with two text columns, as ``/api/views/{id}.json`` answers.
def socrata_view(dataset_id: str = "abcd-1234") -> dict[str, Any]:
    """The metadata of a two-column text dataset."""
    return {
        "id": dataset_id,
        "name": "Hostile",
        "columns": [
            {"fieldName": "case_id", "name": "Case ID", "dataTypeName": "text"},
            {"fieldName": "status", "name": "Status", "dataTypeName": "text"},
        ],
    }
