"""Drive an ASGI app in process through ``requests``: no port, no socket, no server thread to wait for.

:class:`ASGIAdapter` is a ``requests`` transport adapter, as Starlette's ``TestClient`` is an httpx
transport: each request becomes an ASGI ``http`` scope handed to the app on one event loop of the
adapter's own, and the answer comes back as a normal :class:`requests.Response` (status, headers,
cookies, gzip decoding, a body streamed chunk by chunk as the app sends it). The app's lifespan starts
with the adapter and stops when it is closed. Use it wherever a ``requests.Session`` is taken (every
connector's ``session=``) to talk to the local portal or the widget server without starting uvicorn.

Example:
    >>> from starlette.applications import Starlette
    >>> from starlette.responses import PlainTextResponse
    >>> from starlette.routing import Route
    >>> hello = Starlette(routes=[Route("/hello", lambda request: PlainTextResponse("hi"))])
    >>> with inprocess_session(hello) as http:
    ...     answer = http.get("http://testserver/hello")
    >>> answer.status_code, answer.headers["content-type"], answer.text
    (200, 'text/plain; charset=utf-8', 'hi')

Redirects are followed as ``requests`` does; a redirect to another host is not served in process
(mount an adapter for that host too). Sockets matter for faults (a dropped connection, a slow
client, a read budget): test those with a real server.
"""

from __future__ import annotations

import http
import http.client
import io
import logging
import queue
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, MutableMapping
from contextlib import ExitStack, suppress
from typing import Any
from urllib.parse import unquote, urlsplit

import anyio
import anyio.from_thread
import requests
from requests.adapters import HTTPAdapter
from urllib3 import HTTPHeaderDict, HTTPResponse

__all__ = ["ASGIAdapter", "inprocess_session"]

Message = MutableMapping[str, Any]
ASGIApp = Callable[
    [MutableMapping[str, Any], Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]],
    Awaitable[None],
]

log = logging.getLogger(__name__)
_END = object()  # the body is complete


class _Body(io.RawIOBase):
    """The response body as the app sends it: chunks from a queue, read like a socket."""

    def __init__(self, chunks: queue.Queue[Any], on_close: Callable[[], None]) -> None:
        self._chunks = chunks
        self._pending = b""
        self._ended = False
        self._on_close = on_close

    def readable(self) -> bool:
        return True

    def read1(self, size: int = -1) -> bytes:
        """What one socket read would give: the bytes at hand, waiting only if there are none."""
        return self.read(size if size > 0 else 1 << 20) or b""

    def readinto(self, buffer: Any) -> int:
        while not self._pending and not self._ended:
            chunk = self._chunks.get()
            if chunk is _END:
                self._ended = True
            else:
                self._pending = chunk
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size

    def close(self) -> None:
        if not self.closed:
            self._on_close()
        super().close()


def _request_chunks(body: Any) -> Iterator[bytes]:
    """The chunks of a prepared request's body, whatever form ``requests`` left it in."""
    if body is None:
        return
    if isinstance(body, str):
        yield body.encode()
    elif isinstance(body, bytes | bytearray):
        yield bytes(body)
    elif hasattr(body, "read"):
        while chunk := body.read(65536):
            yield chunk.encode() if isinstance(chunk, str) else chunk
    else:
        for chunk in body:
            yield chunk.encode() if isinstance(chunk, str) else chunk


def _scope(request: requests.PreparedRequest) -> dict[str, Any]:
    """The ASGI ``http`` scope of a prepared request."""
    parts = urlsplit(request.url or "")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in request.headers.items()]
    if "host" not in request.headers:
        host = parts.hostname or "testserver"
        default = (parts.scheme == "https" and port == 443) or (parts.scheme == "http" and port == 80)
        headers.insert(0, (b"host", (host if default else f"{host}:{port}").encode()))
    raw_path = parts.path or "/"
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": (request.method or "GET").upper(),
        "scheme": parts.scheme or "http",
        "path": unquote(raw_path),
        "raw_path": raw_path.encode(),
        "root_path": "",
        "query_string": parts.query.encode(),
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": (parts.hostname or "testserver", port),
        "extensions": {},
        "state": {},
    }


class _Exchange:
    """One request's trip through the app: its body in, the response start and chunks out."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self.request_chunks = iter(chunks)
        self.out: queue.Queue[Any] = queue.Queue()
        self.started = False
        self.body_sent = False
        self.disconnected = anyio.Event()

    async def receive(self) -> Message:
        chunk = next(self.request_chunks, None)
        if chunk is not None:
            return {"type": "http.request", "body": chunk, "more_body": True}
        if not self.body_sent:
            self.body_sent = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await self.disconnected.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.started = True
            self.out.put((message["status"], message.get("headers", [])))
        elif message["type"] == "http.response.body" and not self.disconnected.is_set():
            if message.get("body"):
                self.out.put(bytes(message["body"]))
            if not message.get("more_body", False):
                self.out.put(_END)

    async def run(self, app: ASGIApp, scope: dict[str, Any]) -> None:
        try:
            await app(scope, self.receive, self.send)
        except Exception:  # what a server does: log it, answer 500 if nothing was sent yet
            log.exception("the app failed on %s %s", scope["method"], scope["path"])
        finally:
            if not self.started:
                await self.send({"type": "http.response.start", "status": 500, "headers": []})
            self.out.put(_END)


class _OriginalResponse:
    """What ``requests`` reads cookies from (``http.client.HTTPResponse.msg``)."""

    def __init__(self, headers: list[tuple[str, str]]) -> None:
        self.msg = http.client.HTTPMessage()
        for key, value in headers:
            self.msg[key] = value

    def isclosed(self) -> bool:
        return True


class ASGIAdapter(HTTPAdapter):
    """A ``requests`` adapter that hands every request to ``app`` in this process.

    Mount it on a session (``session.mount("http://testserver", ASGIAdapter(app))``) or use
    :func:`inprocess_session`. The app's lifespan runs when the adapter is made (``lifespan=False``
    skips it); :meth:`close` (or the session's ``close``) ends it and the adapter's event loop.
    ``timeout`` applies to the wait for the response to start, like a socket's read timeout.
    """

    def __init__(self, app: Any, *, lifespan: bool = True) -> None:
        super().__init__()
        self.app: ASGIApp = app
        self._stack = ExitStack()
        self._stop: anyio.Event | None = None
        self._portal = self._stack.enter_context(anyio.from_thread.start_blocking_portal())
        if lifespan:
            self._lifespan_start()

    def _lifespan_start(self) -> None:
        inbox: queue.Queue[Message] = queue.Queue()
        start = anyio.Event()
        stop = anyio.Event()
        self._stop = stop

        async def receive() -> Message:
            if not start.is_set():
                start.set()
                return {"type": "lifespan.startup"}
            await stop.wait()
            return {"type": "lifespan.shutdown"}

        async def send(message: Message) -> None:
            inbox.put(message)

        async def run() -> None:
            try:
                await self.app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, receive, send)
            except Exception as exc:  # an app without lifespan support: fine, as with uvicorn's "auto"
                inbox.put({"type": "lifespan.unsupported", "message": repr(exc)})
            inbox.put({"type": "lifespan.ended"})

        self._lifespan = self._portal.start_task_soon(run)
        message = inbox.get(timeout=60)
        if message["type"] == "lifespan.startup.failed":
            self.close()
            raise RuntimeError(f"the app did not start: {message.get('message', '')}")

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float | None, float | None] | None = None,
        verify: bool | str = True,
        cert: bytes | str | tuple[bytes | str, bytes | str] | None = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        """Run the request through the app; the body streams if ``stream`` is true."""
        exchange = _Exchange(_request_chunks(request.body))
        self._portal.start_task_soon(exchange.run, self.app, _scope(request))
        wait = timeout[1] if isinstance(timeout, tuple) else timeout
        try:
            first = exchange.out.get(timeout=wait)
        except queue.Empty:
            self._portal.call(exchange.disconnected.set)
            raise requests.ReadTimeout(f"the app did not answer within {wait} s", request=request) from None
        status, raw_headers = first
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in raw_headers]
        header_dict = HTTPHeaderDict()
        for key, value in headers:
            header_dict.add(key, value)
        raw = HTTPResponse(
            body=_Body(exchange.out, lambda: self._disconnect(exchange)),
            headers=header_dict,
            status=status,
            reason=_reason(status),
            preload_content=False,
            decode_content=False,  # as requests' own adapter: iter_content decodes, raw.read() does not
            original_response=_OriginalResponse(headers),  # type: ignore[arg-type]
            request_method=request.method,
            request_url=request.url,
        )
        response = self.build_response(request, raw)
        if not stream:
            _ = response.content
        return response

    def _disconnect(self, exchange: _Exchange) -> None:
        """The client stopped reading: tell the app (``http.disconnect``), as a closed socket would."""
        with suppress(RuntimeError):  # the adapter is already closed
            self._portal.call(exchange.disconnected.set)

    def close(self) -> None:
        """End the app's lifespan and the adapter's event loop."""
        stop = self._stop
        if stop is not None and not self._lifespan.done():
            self._portal.call(stop.set)
            try:
                self._lifespan.result(timeout=60)
            finally:
                self._stop = None
        self._stack.close()
        super().close()


def _reason(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return ""


def inprocess_session(app: Any, base: str = "http://testserver") -> requests.Session:
    """A ``requests.Session`` whose requests to ``base`` go to ``app`` in process.

    Use it as a context manager (it closes the app's lifespan), and pass it as a connector's
    ``session=`` with ``base`` as the portal URL.
    """
    session = requests.Session()
    session.mount(base, ASGIAdapter(app))
    return session
