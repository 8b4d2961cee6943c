"""Settings and command-line options of the connector: --since/--select/--where/--order, the progress
bar (drawn on a terminal, silent when piped), page size, concurrency, timeout and Retry-After,
which route a full pull takes, and a pull failing midway."""

from __future__ import annotations

import asyncio
import io
import logging
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from faults import CountingApp, serve_portal
from replay import ReplayApp
from rich.console import Console
from servers import serve

from btvstat_open.cli import main
from btvstat_open.errors import PortalUnavailable, UsageError
from btvstat_open.portal.app import create_portal_app
from btvstat_open.progress import RowProgress
from btvstat_open.store import Store
from btvstat_open.types import Column
from btvstat_open.web.settings import Settings
from connectors import connect
from connectors.output import write_batches_atomically

TOKEN = "options-test-token"
COLUMNS = [Column("case_id", "Case ID", "text"), Column("amount", "Amount", "number")]


def cases(start: int, stop: int) -> pa.Table:
    return pa.table(
        {"case_id": [f"{i:06d}" for i in range(start, stop)], "amount": [i * 1.5 for i in range(start, stop)]}
    )


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Store, CountingApp]]:
    store = Store(tmp_path_factory.mktemp("options"))
    store.load("cases", cases(0, 1_000), COLUMNS, row_identifier="case_id")
    store.upsert("cases", cases(1_000, 1_200))  # a later write: its rows have a later :updated_at
    with serve_portal(store, TOKEN) as (url, app):
        yield url, store, app
    store.close()


def test_pull_command_since_select_where_order(
    portal: tuple[str, Store, CountingApp], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url, store, _ = portal
    stamps = store.arrow("cases", system=True)
    later = pc.min(stamps.filter(pc.greater_equal(stamps["case_id"], "001000"))[":updated_at"]).as_py()
    out = tmp_path / "since.parquet"
    assert (
        main(["pull", url, "cases", "-o", str(out), "--since", later.isoformat(), "--page-size", "64"]) == 0
    )
    assert sorted(pq.read_table(out).column("case_id").to_pylist()) == [
        f"{i:06d}" for i in range(1_000, 1_200)
    ]
    out = tmp_path / "picked.csv"
    args = ["--select", "case_id, amount", "--where", "amount > 1650", "--order", "amount DESC"]
    assert main(["pull", url, "cases", "-o", str(out), *args]) == 0
    lines = out.read_text().splitlines()
    assert lines[0] == '"case_id","amount"'
    assert [line.split(",")[0].strip('"') for line in lines[1:]] == [
        f"{i:06d}" for i in range(1_199, 1_100, -1)
    ]
    # Piped (as here): one summary line per pull on stdout, nothing on stderr, no progress bar.
    captured = capsys.readouterr()
    assert captured.err == ""
    assert captured.out.splitlines() == [
        f"200 rows written to {tmp_path / 'since.parquet'}",
        f"99 rows written to {out}",
    ]


def test_bad_since_is_one_line_and_exit_2(
    portal: tuple[str, Store, CountingApp], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url, _, _ = portal
    assert main(["pull", url, "cases", "-o", str(tmp_path / "x.csv"), "--since", "last tuesday"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "ISO 8601" in err[0]
    assert not (tmp_path / "x.csv").exists()


def test_progress_bar_on_a_terminal_shows_rows_and_rate() -> None:
    screen = io.StringIO()
    bar = RowProgress(True, "pull cases", console=Console(file=screen, force_terminal=True, width=100))
    bar.advance(1_000)
    bar.advance(234)
    bar.close()
    drawn = screen.getvalue()
    assert "pull cases" in drawn and "1,234 rows" in drawn and "rows/s" in drawn
    silent = RowProgress(False, "pull cases")
    silent.advance(5)
    assert silent.rows == 5


def test_page_size_reaches_the_server(portal: tuple[str, Store, CountingApp]) -> None:
    url, _, app = portal
    app.reset()
    table = connect(url, page_size=300, concurrency=1).pull("cases", where="amount >= 0")
    assert table.num_rows == 1_200
    assert app.counts[("GET", "/resource/cases.csv")] == 5  # 4 full pages, then an empty one


def test_concurrency_bounds_pages_in_flight(portal: tuple[str, Store, CountingApp]) -> None:
    url, _, _ = portal
    busy, peak, hold = 0, 0, False
    lock = threading.Lock()
    crowd = asyncio.Event()

    async def gate(scope: dict[str, Any], receive: Any, send: Any) -> None:
        nonlocal busy, peak
        if scope["type"] != "http":  # the lifespan scope lasts as long as the server
            await forward(scope, receive, send)
            return
        with lock:
            busy += 1
            peak = max(peak, busy)
            if busy >= 2:
                crowd.set()
        done = False

        async def finish(message: dict[str, Any]) -> None:
            nonlocal busy, done
            # Counted out before the first byte leaves, so the client cannot have its answer yet.
            if message["type"] == "http.response.start" and not done:
                done = True
                with lock:
                    busy -= 1
                    if busy < 2:
                        crowd.clear()
            await send(message)

        offset = int(parse_qs(scope["query_string"].decode()).get("$offset", ["0"])[0])
        if hold and 0 < offset < 1_200:
            # A page after the first waits for a second one to arrive: it proves two are in
            # flight, with no sleep. (Page 0 comes alone, and the pages past the end never wait.)
            await asyncio.wait_for(crowd.wait(), timeout=30)
        await forward(scope, receive, finish)

    forward = create_portal_app(portal[1], Settings(write_token=TOKEN))
    with serve(gate) as gated:
        hold = True
        two = connect(gated, page_size=100, concurrency=2).pull("cases", where="amount >= 0")
        peak_two, peak, hold = peak, 0, False
        one = connect(gated, page_size=100, concurrency=1).pull("cases", where="amount >= 0")
    assert two.num_rows == one.num_rows == 1_200
    assert peak_two == 2 and peak == 1
    with pytest.raises(UsageError):
        connect(url, concurrency=0)
    with pytest.raises(UsageError):
        connect(url, page_size=0)


def test_timeout_is_the_users(tmp_path: Path) -> None:
    async def slow(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        await asyncio.sleep(1.5)
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": b"{}"})

    with serve(slow) as url, pytest.raises(PortalUnavailable) as info:
        connect(url, timeout=0.2, retries=0).describe("abcd-1234")
    assert "timeout" in str(info.value).lower()


@pytest.mark.parametrize(
    ("api", "route"), [("soda2", "/api/views/cases/rows.csv"), ("soda3", "/api/v3/views/cases/export.csv")]
)
def test_full_pull_takes_the_export(portal: tuple[str, Store, CountingApp], api: str, route: str) -> None:
    url, store, app = portal
    app.reset()
    table = connect(url, api=api, page_size=100).pull("cases")
    assert table.equals(store.arrow("cases"))
    assert app.counts[("GET", route)] == 1
    assert not any(path.startswith("/resource/cases") for _, path in app.counts)  # no pages


def test_soda3_export_404_falls_back_to_pages() -> None:
    app = ReplayApp()  # SODA 2 only: no export routes, no SODA 3
    with serve(app) as url:
        table = connect(url, api="soda3", page_format="json", concurrency=1).pull("gza6-uqxz")
    assert table.num_rows == 80
    assert app.requests_to("/api/v3/views/gza6-uqxz/export.csv") == 1
    assert app.requests_to("/api/v3/views/gza6-uqxz/query.json") == 0  # known missing after the 404
    assert app.requests_to("/resource/gza6-uqxz.json") >= 1


def test_a_pull_failing_midway_leaves_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "out.parquet"
    target.write_bytes(b"the previous output")

    def batches() -> Iterator[pa.RecordBatch]:
        yield pa.record_batch({"n": [1.0, 2.0]})
        yield pa.record_batch({"n": [3.0]})
        raise PortalUnavailable("the portal went away", code="connection.failed")

    with pytest.raises(PortalUnavailable):
        write_batches_atomically(batches(), target, empty_schema=lambda: pa.schema([("n", pa.float64())]))
    assert target.read_bytes() == b"the previous output"
    assert [p.name for p in tmp_path.iterdir()] == ["out.parquet"]


def test_since_accepts_dates_and_datetimes(portal: tuple[str, Store, CountingApp]) -> None:
    url, store, _ = portal
    conn = connect(url)
    future = datetime.now() + timedelta(days=2)
    assert conn.pull("cases", since=future).num_rows == 0
    assert (
        conn.pull("cases", since=future.date() - timedelta(days=3)).num_rows == store.info("cases").row_count
    )


def test_connect_picks_the_connector_by_url(portal: tuple[str, Store, CountingApp]) -> None:
    import btvstat_open as bo
    from connectors.socrata import SocrataConnector

    url, _, _ = portal
    with bo.connect(url, timeout=5, page_size=10, concurrency=2) as conn:
        assert isinstance(conn, SocrataConnector)
        assert (conn.http.timeout, conn.page_size, conn.concurrency) == (5, 10, 2)
    with pytest.raises(UsageError, match=r"gopher:// is no portal kind\. Give an http\(s\):// portal URL"):
        bo.connect("gopher://example.gov")


class _Terminal(io.StringIO):
    """A stderr that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def test_pull_command_draws_progress_on_a_terminal_stderr(
    portal: tuple[str, Store, CountingApp],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url, _, _ = portal
    terminal = _Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    out = tmp_path / "drawn.parquet"
    assert main(["pull", url, "cases", "-o", str(out), "--where", "amount >= 0", "--page-size", "100"]) == 0
    assert "pull cases" in terminal.getvalue() and "rows/s" in terminal.getvalue()
    assert capsys.readouterr().out == f"1,200 rows written to {out}\n"  # stdout holds only the result


def test_retry_after_sets_the_wait(caplog: pytest.LogCaptureFixture) -> None:
    answers = iter([429, 503, 200])

    async def busy_then_ok(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        status = next(answers)
        headers = [(b"content-type", b"application/json")]
        if status != 200:
            headers.append((b"retry-after", b"0.3" if status == 429 else b"0.2"))
        body = (
            b'[{"row_count": "7"}]'
            if status == 200
            else b'{"code": "busy", "error": true, "message": "busy"}'
        )
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    caplog.set_level(logging.INFO, logger="btvstat_open.connectors.socrata")
    with serve(busy_then_ok) as url:
        assert connect(url, retries=3, backoff=0.001).count("abcd-1234") == 7
    waits = [r.getMessage() for r in caplog.records if r.getMessage().startswith("retrying")]
    assert len(waits) == 2  # the jittered backoff (at most 1 ms here) gives way to the server's wait
    assert " in 0.30s after" in waits[0] and " in 0.20s after" in waits[1]
