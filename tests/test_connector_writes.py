"""Writes of the Socrata connector against the local portal: create, publish to a new dataset,
Errors > 0 naming its batch, unkeyed upserts after a 5xx, and a re-run after a failed push."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from demo_store import demo_store
from faults import CountingApp, serve_portal
from servers import serve
from test_connector_options import COLUMNS, TOKEN, cases

from btvstat_open.errors import PortalAuthError, PortalUnavailable, PushError, UsageError
from btvstat_open.portal.app import create_portal_app
from btvstat_open.store import Store
from btvstat_open.web.settings import Settings
from connectors import connect


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Store, CountingApp]]:
    """The local portal over an empty store; each test creates the datasets it writes."""
    store = Store(tmp_path_factory.mktemp("writes"))
    with serve_portal(store, TOKEN) as (url, app):
        yield url, store, app
    store.close()


def test_create_needs_credentials_and_a_known_row_identifier(portal: tuple[str, Store, CountingApp]) -> None:
    url, store, _ = portal
    with pytest.raises(UsageError, match="not one of the columns"):
        connect(url, username="u", password=TOKEN).create("X", COLUMNS, row_identifier="nope")
    with pytest.raises(PortalAuthError) as info:
        connect(url).create("X", COLUMNS, dataset_id="no-token")
    assert info.value.status in (401, 403)
    assert not store.exists("no-token")


def test_publish_series_creates_the_metric_dataset(tmp_path: Path) -> None:
    from catalog import load_catalog
    from catalog.demo import DEMO_DIR
    from catalog.publish import METRIC_COLUMNS, metric_table, publish_series

    today = datetime(2026, 11, 23).date()
    with demo_store(tmp_path / "data") as data, Store(tmp_path / "portal") as portal_store:
        catalog = load_catalog(DEMO_DIR, store=data)
        app = create_portal_app(portal_store, Settings(write_token=TOKEN))
        with serve(app) as url:
            conn = connect(url, username="publisher", password=TOKEN)
            result = publish_series(catalog, data, conn, "kpi-series", today=today)
            info = portal_store.info("kpi-series")
            again = publish_series(catalog, data, conn, "kpi-series", mode="upsert", today=today)
        expected = metric_table(catalog, data, today=today)
    assert result.dataset_id == "kpi-series" and result.created == expected.num_rows > 0
    assert [(c.field_name, c.data_type) for c in info.columns] == [
        (c.field_name, c.data_type) for c in METRIC_COLUMNS
    ]
    assert info.row_identifier == "row_key" and info.row_count == expected.num_rows
    assert again.created == 0 and again.updated == expected.num_rows


def test_unkeyed_upsert_is_not_sent_twice_after_a_5xx(portal: tuple[str, Store, CountingApp]) -> None:
    _, store, _ = portal
    posts: list[str] = []
    inner = create_portal_app(store, Settings(write_token=TOKEN))

    async def applied_then_500(scope: dict[str, Any], receive: Any, send: Any) -> None:
        """Writes are applied, then answered with a 500: the client cannot know they were."""
        if scope["type"] != "http" or scope["method"] != "POST":
            await inner(scope, receive, send)
            return
        posts.append(scope["path"])

        async def discard(message: dict[str, Any]) -> None:
            pass

        await inner(scope, receive, discard)
        await send(
            {
                "type": "http.response.start",
                "status": 500,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": b'{"error": true, "message": "Internal error"}'})

    store.create("unkeyed", "No row identifier", COLUMNS, replace=True)
    store.create("keyed", "Keyed", COLUMNS, row_identifier="case_id", replace=True)
    with serve(applied_then_500) as url:
        conn = connect(url, username="u", password=TOKEN, retries=3, backoff=0.001)
        with pytest.raises(PortalUnavailable, match="Internal error"):
            conn.push(cases(0, 10), "unkeyed")
        with pytest.raises(PortalUnavailable, match="gave up after 4 attempts"):
            conn.push(cases(0, 10), "keyed")
    # Unkeyed rows were sent once (a second send would have doubled them); keyed ones were retried
    # and, overwriting themselves, stayed single.
    assert posts.count("/resource/unkeyed.json") == 1 and store.info("unkeyed").row_count == 10
    assert posts.count("/resource/keyed.json") == 4 and store.info("keyed").row_count == 10


def test_errors_in_a_batch_name_the_batch() -> None:
    """Socrata answers 200 with ``Errors > 0`` for rows it could not take; the push stops there."""
    writes: list[int] = []

    async def reports_errors(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        if scope["method"] == "GET":  # no metadata: the connector carries on without a row identifier
            body, status = b'{"code": "not_found", "error": true, "message": "no view"}', 404
        else:
            writes.append(1)
            errors = 1 if len(writes) == 2 else 0
            body, status = (
                orjson.dumps({"Rows Created": 2 - errors, "Rows Updated": 0, "Errors": errors}),
                200,
            )
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": body})

    with serve(reports_errors) as url, pytest.raises(PushError) as info:
        connect(url, username="u", password="p").push(cases(0, 6), "abcd-1234", batch_size=2)
    assert info.value.batch == 1 and "Batch 1 (rows 3-4)" in str(info.value)
    assert info.value.result == {"Rows Created": 1, "Rows Updated": 0, "Errors": 1}
    assert len(writes) == 2  # the third batch was not sent


def test_rerun_after_a_failed_push_leaves_exactly_the_source(portal: tuple[str, Store, CountingApp]) -> None:
    _, store, _ = portal
    inner = create_portal_app(store, Settings(write_token=TOKEN))
    failing = {"left": 1, "seen": 0}

    async def third_write_fails(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] in ("POST", "PUT"):
            failing["seen"] += 1
            if failing["seen"] == 3 and failing["left"]:
                failing["left"] -= 1
                await send({"type": "http.response.start", "status": 503, "headers": []})
                await send({"type": "http.response.body", "body": b""})
                return
        await inner(scope, receive, send)

    store.create("rerun", "Rerun", COLUMNS, row_identifier="case_id", replace=True)
    store.upsert("rerun", cases(5_000, 5_050))  # stale rows the replace must remove
    wanted = cases(0, 500)
    with serve(third_write_fails) as url:
        conn = connect(url, username="u", password=TOKEN, retries=0)
        with pytest.raises(PortalUnavailable):
            conn.push(wanted, "rerun", mode="replace", batch_size=100)
        assert 0 < store.info("rerun").row_count < 500  # a partial push
        conn.push(wanted, "rerun", mode="replace", batch_size=100)
    assert store.arrow("rerun").sort_by("case_id").equals(wanted)
