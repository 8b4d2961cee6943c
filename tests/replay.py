"""A replay server: real recorded Socrata responses from tests/data/real, served over HTTP.

Bodies are served byte for byte as recorded; raw ``.response`` files (soda-ruby) keep
their status line and headers (``X-SODA2-Fields``, ``X-SODA2-Types``, ``ETag``, ...), minus the
framing headers (``Transfer-Encoding``, ``Connection``), which the server sets itself.

Routes (dataset ids chosen here; the recorded bodies are untouched):

==========================================  ==============================================
GET /resource/earthquakes.json               soda-ruby ``earthquakes_50.response`` (legacy types in headers)
GET /resource/earthquakes.json?$where=...    ``earthquakes_where_gt_5.response`` / ``..._source_pr_...``
POST /resource/earthquakes.json              ``earthquakes_create_one_row.response``
GET /api/views/earthquakes.json              ``404.response`` (no view was recorded)
GET /api/views/3k2p-39jp.json, /resource/..  koop Seattle 911 view, a 1000-row page, count, first row
GET /api/views/gza6-uqxz.json, /resource/..  koop Seattle private schools view and its 80 rows
GET /resource/bikes.json?$offset=0|1000      sodapy bike counts: 1000 rows, then the last row
GET /api/views/songs.json, /resource/songs.json, POST/PUT   sodapy songs metadata, rows, upsert, replace
GET /api/views/{7ray-xvet|rkpp-igza|9ubz-5r4b|2frc-hyvj}.json   real view metadata files
GET /api/catalog/v1 (q=bus | ids=... | none)  socratadata / sodapy discovery responses
GET /api/views/missing.json                  koop ``missing-views.json`` (404)
GET /resource/private.json                   sodapy ``403_response_json.txt`` (403)
GET /resource/broken.json                    soda-ruby ``500_error.response`` (always 500)
GET /resource/flaky.json                     the 500 twice, then the earthquakes rows
GET /resource/badargs.json                   koop ``filtered-first.json`` as a 400
==========================================  ==============================================

Two bodies are not recordings, because no recording exists: ``/api/views/bikes.json``
(the columns sodapy's test reads the bike pages with) and ``/resource/soda3error.json``
(a SODA 3 error in the ``errorCode`` shape). Both are marked ``X-Replay-Constructed: 1``.
Every request is appended to ``ReplayApp.log`` as ``(method, path, query)``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from servers import read_request

REAL = Path(__file__).parent / "data" / "real"
_DROP = {"transfer-encoding", "connection", "content-length"}

Response = tuple[int, list[tuple[str, str]], bytes]


def raw_response(path: Path) -> Response:
    """A recorded raw HTTP response: status line, headers, blank line, body (CRLF or LF)."""
    data = path.read_bytes()
    for sep in (b"\r\n\r\n", b"\n\n"):
        head, found, body = data.partition(sep)
        if found and b"\r\n\r\n" not in head:
            break
    lines = head.replace(b"\r\n", b"\n").split(b"\n")
    status = int(lines[0].split()[1])
    headers = []
    for line in lines[1:]:
        name, _, value = line.decode("latin-1").partition(":")
        if name.strip().lower() not in _DROP:
            headers.append((name.strip(), value.strip()))
    return status, headers, body


def body_file(
    path: Path, status: int = 200, content_type: str = "application/json; charset=utf-8"
) -> Response:
    """A recorded body served as is."""
    return status, [("Content-Type", content_type)], path.read_bytes()


def constructed(status: int, body: Any, *extra: tuple[str, str]) -> Response:
    """A body made here (no recording exists), marked as such."""
    headers = [("Content-Type", "application/json"), ("X-Replay-Constructed", "1"), *extra]
    return status, headers, json.dumps(body).encode()


BIKES_VIEW = {
    "id": "bikes",
    "name": "Bike counts",
    "columns": [
        {"fieldName": "id", "name": "id", "dataTypeName": "text"},
        {"fieldName": "date", "name": "date", "dataTypeName": "calendar_date"},
        {"fieldName": "counts", "name": "counts", "dataTypeName": "number"},
        {"fieldName": "status", "name": "status", "dataTypeName": "text"},
    ],
}


class ReplayApp:
    """The ASGI app; see the module docstring for its routes."""

    def __init__(self, real: Path = REAL) -> None:
        self.real = real
        self.log: list[tuple[str, str, dict[str, str]]] = []
        self._lock = threading.Lock()
        self._flaky = 0

    def route(self, method: str, path: str, query: dict[str, str]) -> Response:
        r = self.real
        ruby = r / "soda-ruby-http-responses"
        koop = r / "koop-socrata-seattle"
        sodapy = r / "sodapy-fixtures"
        offset = int(query.get("$offset", "0") or 0)
        views = {
            "/api/views/3k2p-39jp.json": koop / "crimes-views.json",
            "/api/views/gza6-uqxz.json": koop / "schools-view.json",
            "/api/views/songs.json": sodapy / "get_song_metadata.txt",
            "/api/views/7ray-xvet.json": r / "chicago-perf-metrics-view" / "7ray-xvet",
            "/api/views/rkpp-igza.json": r / "cdc-filter-view-2025" / "metadata.json",
            "/api/views/9ubz-5r4b.json": r / "socrata-official-fixtures" / "ViewWithPermissions.json",
            "/api/views/2frc-hyvj.json": sodapy / "create_foobar.txt",
        }
        if method == "GET" and path in views:
            return body_file(views[path])
        if path == "/api/views/bikes.json":
            return constructed(200, BIKES_VIEW)
        if path in ("/api/views/earthquakes.json", "/api/views/idontexist.json"):
            return raw_response(ruby / "404.response")
        if path.startswith("/api/views/"):
            return body_file(koop / "missing-views.json", 404)
        if path == "/resource/earthquakes.json":
            if method == "POST":
                return raw_response(ruby / "earthquakes_create_one_row.response")
            where = query.get("$where", "")
            if offset:
                return 200, [("Content-Type", "application/json")], b"[]"
            if "source" in where:
                return raw_response(ruby / "earthquakes_source_pr_where_gt_4.response")
            if "magnitude" in where:
                return raw_response(ruby / "earthquakes_where_gt_5.response")
            return raw_response(ruby / "earthquakes_50.response")
        if path == "/resource/3k2p-39jp.json":
            if "count" in query.get("$select", ""):
                return body_file(koop / "crimes-count.json")
            if offset:
                return 200, [], b"[]"
            if query.get("$limit") == "1":
                return body_file(koop / "crimes-first.json")
            return body_file(koop / "crimes-page.json")
        if path == "/resource/gza6-uqxz.json":
            return body_file(koop / "schools-page.json") if offset == 0 else (200, [], b"[]")
        if path == "/resource/bikes.json":
            pages = {0: "bike_counts_page_1.json", 1000: "bike_counts_page_2.json"}
            return body_file(sodapy / pages[offset]) if offset in pages else (200, [], b"[]")
        if path == "/resource/songs.json":
            if method == "POST":
                return body_file(sodapy / "upsert_songs.txt")
            if method == "PUT":
                return body_file(sodapy / "replace_songs.txt")
            return body_file(sodapy / "get_songs.txt") if offset == 0 else (200, [], b"[]")
        if path == "/api/catalog/v1":
            if query.get("q") == "bus":
                return body_file(r / "socratadata-catalog-v1" / "v1-086e69.json")
            if "ids" in query:
                return body_file(r / "socratadata-catalog-v1" / "v1-90329b.json")
            return body_file(sodapy / "get_datasets.txt")
        if path == "/resource/private.json":
            return body_file(sodapy / "403_response_json.txt", 403)
        if path == "/resource/broken.json":
            return raw_response(ruby / "500_error.response")
        if path == "/resource/badargs.json":
            return body_file(koop / "filtered-first.json", 400)
        if path == "/resource/soda3error.json":
            return constructed(
                400,
                {"errorCode": "query.compiler.malformed", "message": "Could not parse SoQL query"},
                ("X-Socrata-RequestId", "replay-req-1"),
            )
        if path == "/resource/flaky.json":
            with self._lock:
                self._flaky += 1
                attempt = self._flaky
            if attempt <= 2:
                return raw_response(ruby / "500_error.response")
            return raw_response(ruby / "earthquakes_50.response")
        return body_file(koop / "missing-first.json", 404)

    async def __call__(
        self,
        scope: dict[str, Any],
        receive: Callable[[], Awaitable[dict[str, Any]]],
        send: Callable[[dict[str, Any]], Awaitable[None]],
    ) -> None:
        if not await read_request(scope, receive, send):
            return
        raw_query = parse_qs(scope.get("query_string", b"").decode(), keep_blank_values=True)
        query = {k: v[-1] for k, v in raw_query.items()}
        with self._lock:
            self.log.append((scope["method"], scope["path"], query))
        status, headers, body = self.route(scope["method"], scope["path"], query)
        out = [(k.lower().encode(), v.encode("latin-1")) for k, v in headers]
        if not any(k == b"content-type" for k, _ in out):
            out.append((b"content-type", b"application/json"))
        out.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": out})
        await send({"type": "http.response.body", "body": body})

    def requests_to(self, path: str) -> int:
        """How many requests reached ``path``."""
        with self._lock:
            return sum(1 for _, p, _ in self.log if p == path)
