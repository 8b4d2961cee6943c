"""The Socrata connector against the local portal: every type on every path, SODA 3 fallback,
auth headers, redacted secrets, retry policy and the pull/push commands."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from faults import CountingApp, fault_proxy, serve_portal
from portal_fixtures import TYPED_COLUMNS, typed_table
from replay import ReplayApp
from servers import serve

from btvstat_open.cli import main
from btvstat_open.errors import PortalUnavailable
from btvstat_open.store import Store
from connectors import connect
from connectors.retry import RetryPolicy, parse_retry_after
from connectors.socrata import Credentials, SocrataConnector

TOKEN = "portal-test-write-token"


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Store, CountingApp]]:
    store = Store(tmp_path_factory.mktemp("portal"))
    store.load("typed", typed_table(), TYPED_COLUMNS, row_identifier="name")
    with serve_portal(store, TOKEN) as (url, app):
        yield url, store, app
    store.close()


def by_name(table: pa.Table) -> list[dict[str, Any]]:
    return sorted(table.to_pylist(), key=lambda r: r["name"] or "")


@pytest.mark.parametrize(
    ("api", "where"),
    [
        ("soda2", None),
        ("soda2", "amount > 0 OR amount IS NULL"),
        ("soda3", None),
        ("soda3", "name IS NOT NULL"),
    ],
)
def test_every_type_on_every_path(
    portal: tuple[str, Store, CountingApp], api: str, where: str | None
) -> None:
    url, store, _ = portal
    expected = store.arrow("typed")
    if where == "name IS NOT NULL":
        expected = expected.filter(pa.compute.is_valid(expected["name"]))
    got = connect(url, api=api).pull("typed", where=where)
    assert got.schema == expected.schema  # types from metadata: location struct, UTC timestamps, ...
    assert by_name(got) == by_name(expected)


def test_soda3_404_falls_back_to_soda2_once(tmp_path: Path) -> None:
    app = ReplayApp()  # a SODA-2-only server: SODA 3 routes answer 404
    with serve(app) as url:
        conn = connect(url, api="soda3", page_format="json", concurrency=1)
        assert isinstance(conn, SocrataConnector)
        first = conn.pull("gza6-uqxz", where="1 = 1")
        second = conn.pull("gza6-uqxz", where="1 = 1")
    assert first.num_rows == second.num_rows == 80
    assert app.requests_to("/api/v3/views/gza6-uqxz/query.json") == 1


def test_auth_headers_and_redaction(
    portal: tuple[str, Store, CountingApp], caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[dict[str, str]] = []

    class Headers:
        def __init__(self, inner: Any) -> None:
            self.inner = inner

        async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
            if scope["type"] == "http":
                seen.append({k.decode(): v.decode() for k, v in scope["headers"]})
            await self.inner(scope, receive, send)

    url, _, _ = portal
    secret = "app-token-very-secret-1234"
    with serve(Headers(ReplayApp())) as replay_url:
        connect(replay_url, app_token=secret, retries=0, page_format="json").pull("earthquakes")
        connect(replay_url, oauth_token="oauth-secret-5678", retries=0).describe("songs", count=False)
        connect(replay_url, api_key_id="kid", api_key_secret="ksecret-000", retries=0).describe(
            "songs", count=False
        )
    assert seen[0]["x-app-token"] == secret
    assert any(h.get("authorization") == "OAuth oauth-secret-5678" for h in seen)
    assert any(h.get("authorization", "").startswith("Basic ") for h in seen)
    conn = connect(url, app_token=secret, username="u", password=TOKEN, retries=3, backoff=0.001)
    for text in (repr(conn), repr(Credentials(api_key_id="k", api_key_secret="ksecret-000"))):
        assert secret not in text and TOKEN not in text and "ksecret" not in text
    caplog.set_level(logging.DEBUG)
    with fault_proxy(url, rate=1.0, faults=("500",)) as (proxy_url, _):
        bad = connect(proxy_url, app_token=secret, username="u", password=TOKEN, retries=3, backoff=0.001)
        with pytest.raises(PortalUnavailable) as info:  # every answer a 500: the retries run out
            bad.pull("typed")
    assert "gave up after 4 attempts" in str(info.value)
    assert secret not in str(info.value) and TOKEN not in str(info.value)
    assert "retrying" in caplog.text
    assert secret not in caplog.text and TOKEN not in caplog.text


def test_retry_policy_honours_retry_after_and_bounds() -> None:
    policy = RetryPolicy(retries=3, base=0.1, max_wait=5)
    assert all(0 <= policy.delay(n) <= min(5, 0.1 * 2**n) for n in range(8) for _ in range(20))
    assert policy.delay(0, retry_after=2.5) >= 2.5
    assert policy.delay(0, retry_after=60) == 5
    assert parse_retry_after("nonsense") is None and parse_retry_after("0") == 0.0


def test_push_csv_body(portal: tuple[str, Store, CountingApp]) -> None:
    url, store, _ = portal
    store.create("csvpush", "CSV push", TYPED_COLUMNS[:2], row_identifier="name", replace=True)
    rows = pa.table({"name": ["00501", "b", "c"], "amount": [1.5, None, 3.0]})
    result = connect(url, username="u", password=TOKEN).push(rows, "csvpush", mode="replace", body="csv")
    assert result.created == 3
    assert by_name(store.arrow("csvpush")) == by_name(rows)


def test_pull_and_push_commands(
    portal: tuple[str, Store, CountingApp],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: Any,
) -> None:
    url, store, _ = portal
    out = tmp_path / "typed.parquet"
    assert main(["pull", url, "typed", "-o", str(out), "--page-size", "2"]) == 0
    assert by_name(pq.read_table(out)) == by_name(store.arrow("typed"))
    assert main(["pull", url, "typed", "-o", str(tmp_path / "x.xlsx")]) == 2
    assert main(["pull", url, "nope", "-o", str(tmp_path / "n.csv")]) == 2
    assert main(["pull", url, "typed", "-o", str(tmp_path / "w.csv"), "--where", "nonsense ((("]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3 and all(line.startswith("error: ") for line in err)
    assert not (tmp_path / "n.csv").exists()
    store.create("cli-push", "CLI push", TYPED_COLUMNS[:2], row_identifier="name", replace=True)
    source = tmp_path / "push.csv"
    source.write_text("Name,Amount\n00501,2.5\nx,\n")
    assert main(["push", str(source), url, "cli-push"]) == 2  # no credentials: the portal refuses
    monkeypatch.setenv("BTVSTAT_WRITE_TOKEN", TOKEN)
    assert main(["push", str(source), url, "cli-push", "--mode", "replace", "--row-id", "name"]) == 0
    assert by_name(store.arrow("cli-push")) == [
        {"name": "00501", "amount": 2.5},
        {"name": "x", "amount": None},
    ]
