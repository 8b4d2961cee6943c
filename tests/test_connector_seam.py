"""The connector seam: a caller's requests.Session, the shared HTTP client and pager, and the
errors a pull of a wrong or broken server ends with (one line, exit 1, no file, no traceback)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import requests
from faults import fault_proxy
from replay import ReplayApp
from servers import serve

from btvstat_open.cli import main
from btvstat_open.errors import BtvstatError, PortalResponseError, PortalUnavailable, UsageError
from connectors import connect
from connectors.http import HttpClient, RetryPolicy
from connectors.paging import OffsetPager, Page

# Real ArcGIS answers (tests/data/arcgis/SOURCES.md): a layer's metadata, and an error sent with HTTP 200.
KENT = Path(__file__).parent / "data" / "arcgis" / "arcgis-pyesridump" / "us-mi-kent"
ARCGIS_LAYER = (KENT / "us-mi-kent-metadata.json").read_bytes()
ARCGIS_ERROR = (KENT / "us-mi-kent-statistics.json").read_bytes()


class Recorder:
    """An ASGI wrapper that keeps every request's headers (lowercase names)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.seen: list[dict[str, str]] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            self.seen.append({k.decode(): v.decode() for k, v in scope["headers"]})
        await self.inner(scope, receive, send)


def answering(status: int, content_type: str, body: bytes, *, length: int | None = None) -> Any:
    """An ASGI app answering every request the same way; ``length`` may promise more than ``body``."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        headers = [(b"content-type", content_type.encode())]
        if length is not None:
            headers.append((b"content-length", str(length).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


def test_a_callers_session_carries_its_headers_and_stays_theirs() -> None:
    recorder = Recorder(ReplayApp())
    session = requests.Session()
    session.headers["X-City-Gateway"] = "hall-7"
    adapter = session.get_adapter("http://")
    with serve(recorder) as url:
        conn = connect(url, session=session, app_token="app-token-1234567", concurrency=1, page_format="json")
        assert conn.pull("gza6-uqxz", where="1 = 1").num_rows == 80
        conn.close()
        # Still the caller's: usable after close, its adapter and headers as they were.
        assert session.get(f"{url}/api/views/gza6-uqxz.json", timeout=10).status_code == 200
    assert len(recorder.seen) >= 3
    assert all(h.get("x-city-gateway") == "hall-7" for h in recorder.seen)
    assert all(h.get("x-app-token") == "app-token-1234567" for h in recorder.seen[:-1])
    assert "x-app-token" not in recorder.seen[-1]  # the credentials went per request, not into the session
    assert session.get_adapter("http://") is adapter and "X-App-Token" not in session.headers


def test_retries_counted_and_backoff_bounded_by_the_policy() -> None:
    answers = iter([503, 429, 200])

    async def busy_twice(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        status = next(answers)
        await send({"type": "http.response.start", "status": status, "headers": [(b"retry-after", b"0")]})
        await send({"type": "http.response.body", "body": b'{"ok": true}' if status == 200 else b"busy"})

    policy = RetryPolicy(retries=3, base=0.01, max_wait=0.05)
    with serve(busy_twice) as url:
        client = HttpClient(url, retry=policy)
        assert client.get_json("/anything") == {"ok": True}
    assert (client.requests_made, client.retries_made) == (3, 2)
    waits = [policy.delay(n) for n in range(10) for _ in range(20)]
    assert all(0 <= w <= 0.05 for w in waits) and max(waits) > 0
    assert policy.delay(0, retry_after=1.0) == 0.05  # the server's wait, capped by max_wait


def test_offset_pager_stops_at_the_short_page_and_keeps_order() -> None:
    asked: list[int] = []

    def fetch(number: int) -> Page:
        asked.append(number)
        rows = 10 if number < 3 else 4
        return Page([pa.record_batch({"page": [number] * rows})], rows)

    batches = list(OffsetPager(page_size=10, concurrency=3).batches(fetch))
    assert [b.column("page")[0].as_py() for b in batches] == [0, 1, 2, 3]
    assert sorted(set(asked))[:4] == [0, 1, 2, 3] and max(asked) <= 3 + 3  # at most `concurrency` ahead


@pytest.mark.parametrize(
    ("app", "expected"),
    [
        (answering(200, "application/json", b"[]"), "answered a list of 0 item(s) where a Socrata portal"),
        (
            answering(200, "text/html; charset=utf-8", b"<!doctype html><title>City</title><p>Welcome"),
            "answered a web page (HTML), not data",
        ),
        (answering(200, "application/json", ARCGIS_LAYER), "ArcGIS REST service, not a Socrata portal"),
        (answering(200, "application/json", ARCGIS_ERROR), "ArcGIS REST service, not a Socrata portal"),
    ],
    ids=["empty-list", "html", "arcgis-layer", "arcgis-error"],
)
def test_pull_of_a_server_that_is_not_soda_is_one_line_and_exit_1(
    app: Any, expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "x.parquet"
    with serve(app) as url:
        code = main(["pull", url, "x", "-o", str(out), "--retries", "0"])
    err = capsys.readouterr().err
    assert code == 1 and not out.exists()
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err
    assert expected in err
    if "ArcGIS" in expected:
        assert "--kind arcgis" in err and "kind=" not in err


def test_the_library_names_parameters_not_flags() -> None:
    with (
        serve(answering(200, "application/json", ARCGIS_LAYER)) as url,
        pytest.raises(PortalResponseError) as info,
    ):
        connect(url, retries=0).describe("x")
    assert "kind='arcgis'" in str(info.value) and "--" not in str(info.value)
    assert info.value.data == {"kind": "arcgis"}


def test_a_truncated_body_is_retried_then_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "x.csv"
    # Every answer is cut off halfway through its promised Content-Length, then the connection closes.
    with serve(ReplayApp()) as upstream, fault_proxy(upstream, rate=1.0, faults=("drop",)) as (url, proxy):
        code = main(["pull", url, "gza6-uqxz", "-o", str(out), "--retries", "1"])
        assert proxy.injected["drop"] == 2  # the first try and one retry
        with pytest.raises(PortalUnavailable) as info:
            connect(url, retries=2, backoff=0.001).describe("gza6-uqxz")
    err = capsys.readouterr().err
    assert code == 1 and not out.exists() and err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("error: GET /api/views/gza6-uqxz.json") and "gave up after 2 attempts" in err
    assert isinstance(info.value, BtvstatError) and "gave up after 3 attempts" in str(info.value)


def test_a_json_body_that_does_not_parse_is_truncated_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with serve(answering(200, "application/json", b'{"id": "x", "na')) as url:
        code = main(["pull", url, "x", "-o", str(tmp_path / "x.parquet"), "--retries", "0"])
    err = capsys.readouterr().err
    assert code == 1 and "incomplete or unreadable" in err and err.count("\n") == 1


@pytest.fixture()
def arcgis_url() -> Iterator[str]:
    with serve(answering(200, "application/json", ARCGIS_LAYER)) as url:
        yield url


def test_a_sync_from_a_wrong_server_adds_a_note(arcgis_url: str, tmp_path: Path) -> None:
    from btvstat_open.cli import error_line
    from btvstat_open.store import Store
    from btvstat_open.sync import sync_dataset

    with Store(tmp_path / "store") as store, pytest.raises(PortalResponseError) as info:
        sync_dataset(connect(arcgis_url, retries=0), "abcd-1234", store)
    assert info.value.message.startswith("GET /api/views/abcd-1234.json: ")  # the message is the portal's
    assert info.value.__notes__ == [
        f"Sync of 'abcd-1234' from {arcgis_url} stopped; the local copy is unchanged."
    ]
    line = error_line(info.value)
    assert line.startswith("error: GET /api/views/abcd-1234.json") and line.endswith(
        "the local copy is unchanged."
    )
    assert "--kind arcgis" in line


def test_an_export_that_is_not_csv_is_a_portal_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    view = b'{"id": "abcd-1234", "name": "Cases", "columns": [{"fieldName": "n", "dataTypeName": "number"}]}'

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        is_view = scope["path"].endswith(".json")
        kind = b"application/json" if is_view else b"text/csv"
        body = view if is_view else b'"n"\n1\n2,3,4\n"unclosed\n'
        headers = [(b"content-type", kind), (b"etag", b'"strong-1"')]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    out = tmp_path / "x.parquet"
    with serve(app) as url:
        code = main(["pull", url, "abcd-1234", "-o", str(out), "--retries", "0"])
    err = capsys.readouterr().err
    assert code == 1 and not out.exists() and err.count("\n") == 1
    assert "The CSV export of 'abcd-1234' could not be read" in err and "--where" in err


def test_push_errors_name_the_flag_on_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = tmp_path / "rows.csv"
    rows.write_text("title,artist\nSong,Band\n")
    with serve(ReplayApp()) as url:
        with pytest.raises(UsageError) as info:
            connect(url, retries=0).push(rows, "songs", row_id="nope")
        code = main(["push", str(rows), url, "songs", "--row-id", "nope"])
    assert str(info.value).startswith("row_id='nope' is not a column of the data")
    err = capsys.readouterr().err
    assert (
        code == 2
        and err.startswith("error: --row-id nope is not a column of the data")
        and "row_id=" not in err
    )
