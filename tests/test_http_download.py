"""``HttpClient.download`` leaves its destination absent until the whole body arrived.

The server is a raw socket that promises more bytes than it sends and hangs up: a real cut-off body,
which no well-behaved server produces on purpose (hence a stand-in here).
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from btvstat_open.errors import PortalUnavailable
from connectors.http import HttpClient
from connectors.retry import RetryPolicy

BODY = b"case_id,days\n" + b"".join(b"%d,%d\n" % (i, i % 30) for i in range(2_000))


def _serve(listener: socket.socket, cut: bool) -> None:
    while True:
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        with conn:
            conn.recv(65536)
            body = BODY[: len(BODY) // 2] if cut else BODY
            head = b"HTTP/1.1 200 OK\r\nContent-Type: text/csv\r\nContent-Length: %d\r\n\r\n" % len(BODY)
            conn.sendall(head + body)


@pytest.fixture(params=[False, True], ids=["whole", "cut-off"])
def server(request: pytest.FixtureRequest) -> Iterator[tuple[str, bool]]:
    listener = socket.create_server(("127.0.0.1", 0))
    thread = threading.Thread(target=_serve, args=(listener, request.param), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}", request.param
    listener.close()


def test_download_writes_the_whole_body_or_no_file(server: tuple[str, bool], tmp_path: Path) -> None:
    url, cut = server
    dest = tmp_path / "rows.csv"
    client = HttpClient(url, retry=RetryPolicy(retries=1, base=0.01, max_wait=0.05), timeout=10)
    if cut:
        with pytest.raises(PortalUnavailable, match="gave up after 2 attempts"):
            client.download("/rows.csv", dest)
        assert list(tmp_path.iterdir()) == []  # neither the half body nor a temporary file
    else:
        assert client.download("/rows.csv", dest) == len(BODY)
        assert dest.read_bytes() == BODY
