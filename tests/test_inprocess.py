"""The in-process requests adapter (btvstat_open.web.inprocess): an ASGI app answers a requests.Session
without a socket, with what a client sees over HTTP: status, headers, cookies, streamed bodies, gzip."""

from __future__ import annotations

import gzip
import threading
from collections.abc import Iterator
from typing import Any

import anyio.to_thread
import pyarrow as pa
import pytest
import requests
from servers import Receive, Send, read_request

from btvstat_open.errors import PortalNotFound
from btvstat_open.portal.app import create_portal_app
from btvstat_open.store import Store
from btvstat_open.types import Column
from btvstat_open.web.inprocess import ASGIAdapter, inprocess_session
from connectors import connect

BASE = "http://testserver"


class Probe:
    """A plain ASGI app that echoes what it was sent and answers on a few paths; records its lifespan."""

    def __init__(self) -> None:
        self.lifespan: list[str] = []
        self.release = threading.Event()  # lets /stream send its second chunk
        self.disconnected = threading.Event()

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                self.lifespan.append(message["type"])
                await send({"type": message["type"] + ".complete"})
                if message["type"] == "lifespan.shutdown":
                    return
        path = scope["path"]
        if path == "/stream":
            await self._stream(receive, send)
            return
        body = await read_body(receive)
        if path == "/fail":
            raise RuntimeError("the app broke")
        if path == "/slow":
            await anyio.to_thread.run_sync(self.release.wait, 10)
        answer, headers, status = self._answer(scope, body)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": answer})

    def _answer(self, scope: dict[str, Any], body: bytes) -> tuple[bytes, list[tuple[bytes, bytes]], int]:
        if scope["path"] == "/gzip":
            return gzip.compress(b"x" * 1000), [(b"content-encoding", b"gzip")], 200
        if scope["path"] == "/cookie":
            return b"", [(b"set-cookie", b"a=1; Path=/"), (b"set-cookie", b"b=2; Path=/")], 204
        if scope["path"] == "/move":
            return b"", [(b"location", b"/echo?moved=1")], 302
        headers = dict(scope["headers"])
        echo = b"|".join(
            [
                scope["method"].encode(),
                scope["path"].encode(),
                scope["query_string"],
                headers.get(b"cookie", b""),
            ]
        )
        return echo + b"|" + body, [(b"x-seen-host", headers[b"host"]), (b"content-type", b"text/plain")], 201

    async def _stream(self, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"first", "more_body": True})
        released = await anyio.to_thread.run_sync(self.release.wait, 10)
        await send({"type": "http.response.body", "body": b"second" if released else b"", "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        if (await receive())["type"] == "http.disconnect":
            self.disconnected.set()


async def read_body(receive: Receive) -> bytes:
    """The whole request body, as the app received it in chunks."""
    message = await receive()
    body: bytes = message.get("body", b"")
    while message.get("more_body", False):
        message = await receive()
        body += message.get("body", b"")
    return body


@pytest.fixture(scope="module")
def probe() -> Iterator[tuple[Probe, requests.Session]]:
    app = Probe()
    with inprocess_session(app, BASE) as session:
        yield app, session
    assert app.lifespan == ["lifespan.startup", "lifespan.shutdown"]


def test_status_headers_and_request_body_reach_the_app(probe: tuple[Probe, requests.Session]) -> None:
    _, http = probe
    answer = http.post(f"{BASE}/echo%20path?q=1&r=%C3%A9", data=b"payload", timeout=5)
    assert answer.status_code == 201
    assert answer.reason == "Created"
    assert answer.headers["x-seen-host"] == "testserver"
    assert answer.text == "POST|/echo path|q=1&r=%C3%A9||payload"


def test_a_streamed_upload_arrives_whole(probe: tuple[Probe, requests.Session]) -> None:
    _, http = probe
    answer = http.put(f"{BASE}/up", data=iter([b"ab", b"cd", b"ef"]), timeout=5)
    assert answer.text == "PUT|/up|||abcdef"


def test_a_port_in_the_url_is_the_host_header() -> None:
    with inprocess_session(Probe(), "http://portal.test:8080") as http:
        assert http.get("http://portal.test:8080/x", timeout=5).headers["x-seen-host"] == "portal.test:8080"


def test_cookies_set_by_the_app_are_sent_back(probe: tuple[Probe, requests.Session]) -> None:
    _, http = probe
    assert http.get(f"{BASE}/cookie", timeout=5).status_code == 204
    assert http.cookies.get_dict() == {"a": "1", "b": "2"}
    assert http.get(f"{BASE}/echo", timeout=5).text.split("|")[3] in ("a=1; b=2", "b=2; a=1")
    http.cookies.clear()


def test_gzip_bodies_are_decoded_as_over_http(probe: tuple[Probe, requests.Session]) -> None:
    _, http = probe
    assert http.get(f"{BASE}/gzip", timeout=5).content == b"x" * 1000


def test_redirects_on_the_same_host_are_followed(probe: tuple[Probe, requests.Session]) -> None:
    _, http = probe
    answer = http.get(f"{BASE}/move", timeout=5)
    assert [r.status_code for r in answer.history] == [302]
    assert answer.text == "GET|/echo|moved=1||"


def test_a_body_streams_chunk_by_chunk_and_closing_disconnects(probe: tuple[Probe, requests.Session]) -> None:
    app, http = probe
    app.release.clear()
    with http.get(f"{BASE}/stream", stream=True, timeout=5) as answer:
        assert answer.raw.read1(1024) == b"first"  # read before the app was allowed to send the rest
        app.release.set()
        assert answer.raw.read1(1024) == b"second"
    assert app.disconnected.wait(5)


def test_an_app_failure_is_a_500_as_a_server_answers(probe: tuple[Probe, requests.Session]) -> None:
    _, http = probe
    assert http.get(f"{BASE}/fail", timeout=5).status_code == 500


def test_an_app_too_slow_to_answer_is_a_read_timeout() -> None:
    app = Probe()
    with inprocess_session(app) as http:
        with pytest.raises(requests.ReadTimeout):
            http.get(f"{BASE}/slow", timeout=0.2)
        app.release.set()


def test_an_app_without_lifespan_is_served() -> None:
    async def bare(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if await read_request(scope, receive, send):
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"ok"})

    session = requests.Session()
    session.mount(BASE, ASGIAdapter(bare, lifespan=False))
    with session:
        assert session.get(f"{BASE}/", timeout=5).text == "ok"


def test_a_connector_reads_the_local_portal_in_process(tmp_path: Any) -> None:
    store = Store(tmp_path)
    store.load("abcd-1234", pa.table({"n": [1.0, 2.0, 3.0]}), [Column("n", "N", "number")])
    with inprocess_session(create_portal_app(store)) as http:
        connector = connect(BASE, session=http, page_size=2)
        assert sorted(connector.pull("abcd-1234").column("n").to_pylist()) == [1.0, 2.0, 3.0]
        with pytest.raises(PortalNotFound):
            connector.pull("none-0000")
    store.close()
