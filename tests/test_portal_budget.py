"""The query budget, over real HTTP: time limits that interrupt DuckDB, column and byte caps, bounded
pools with 503 + Retry-After, /healthz while the pools are full, and $limit without a cap.

The slow query is the one that took a demo server down: a LIKE of a long concatenation against a
pattern of many ``_`` (each row costs the text's length times the pattern's).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import psutil
import pyarrow as pa
import pyarrow.compute as pc
import pytest
import requests
from portal_fixtures import KC_CSV
from servers import serve
from sodapy import Socrata

from btvstat_open.load import load_file
from btvstat_open.portal.app import create_portal_app
from btvstat_open.store import Store
from btvstat_open.types import Column
from btvstat_open.web.budget import Pools
from btvstat_open.web.settings import Settings

BIG_ROWS = 2_000_000
WIDE_ROWS = 4000
# Each row costs about (5 x 60 characters) x 100; over 2,000,000 rows that is minutes on two cores.
SLOW_WHERE = "(" + " || ".join(["s"] * 5) + ") like '%" + "_" * 99 + "x'"


@dataclass
class Server:
    """A portal served over HTTP, with its pools."""

    url: str
    pools: Pools

    def get(self, path: str, **params: Any) -> requests.Response:
        return requests.get(self.url + path, params=params, timeout=120)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory, real_data: Path) -> Iterator[Store]:
    """KC 311 (real), ``big`` (2,000,000 rows of ~60 characters) and ``wide`` (4,000 rows of 300)."""
    store = Store(tmp_path_factory.mktemp("budget-store"))
    load_file(store, real_data / KC_CSV, "kc-311-potholes", name="KC 311", row_identifier="case_id")
    columns = [Column("n", "N", "number"), Column("s", "S", "text")]
    store.create("big", "Big", columns)
    numbers = pa.array(range(BIG_ROWS), pa.float64())
    tail = " of the big table, padded out to sixty characters"
    texts = pc.binary_join_element_wise("row ", pc.cast(numbers, pa.string()), tail, "")
    store.replace("big", pa.table({"n": numbers, "s": texts}))
    store.create("wide", "Wide", columns)
    text = [f"{i:06d} " + "w" * 293 for i in range(WIDE_ROWS)]
    store.replace("wide", pa.table({"n": pa.array(range(WIDE_ROWS), pa.float64()), "s": text}))
    yield store
    store.close()


def _served(store: Store, settings: Settings) -> Iterator[Server]:
    app = create_portal_app(store, settings)
    with serve(app) as url:
        yield Server(url, app.state.pools)


@pytest.fixture(scope="module")
def tight(store: Store) -> Iterator[Server]:
    """Small pools (2 workers, 1 waiting place), a long time limit, a 2 MB byte cap."""
    settings = Settings(
        query_workers=2,
        query_queue=1,
        pool_wait_seconds=5,
        query_timeout_seconds=120,
        max_response_bytes=2_000_000,
        batch_size=2048,
    )
    yield from _served(store, settings)


@pytest.fixture(scope="module")
def roomy(store: Store) -> Iterator[Server]:
    """Every default setting."""
    yield from _served(store, Settings())


def wait_until(check: Callable[[], bool], seconds: float) -> bool:
    """Poll ``check`` until it holds or ``seconds`` pass."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return check()


def send_slow_query(server: Server) -> socket.socket:
    """Send the slow query on a raw connection and leave it waiting for its answer."""
    parts = urlsplit(server.url)
    sock = socket.create_connection((parts.hostname, parts.port))
    query = urlencode({"$where": SLOW_WHERE})
    sock.sendall(f"GET /resource/big.json?{query} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
    return sock


def busiest_thread_cpu_over(seconds: float) -> float:
    """CPU time the busiest thread of this process (a server thread or one of DuckDB's) uses in the
    next ``seconds``: a query still running keeps a thread at a whole core, whatever the rest do."""
    process = psutil.Process()
    before = {t.id: t.user_time + t.system_time for t in process.threads()}
    time.sleep(seconds)
    after = {t.id: t.user_time + t.system_time for t in process.threads()}
    return max((spent - before.get(tid, 0.0) for tid, spent in after.items()), default=0.0)


def test_a_slow_query_ends_as_a_400_at_the_time_limit_and_stops(store: Store) -> None:
    for server in _served(store, Settings(query_timeout_seconds=2)):
        pools = server.pools
        began = time.monotonic()
        response = server.get("/resource/big.json", **{"$where": SLOW_WHERE})
        took = time.monotonic() - began
        body = response.json()
        assert response.status_code == 400, body
        assert body["error"] is True and body["code"] == "query.budget-exceeded"
        assert body["data"] == {
            "limit": "query_timeout_seconds",
            "setting": "BTVSTAT_QUERY_TIMEOUT_SECONDS",
            "value": 2,
        }
        assert "query_timeout_seconds" in body["message"] and "2 seconds" in body["message"]
        assert took < 20  # run to the end, this query takes minutes on two cores
        # DuckDB was interrupted: the worker is released and the process goes quiet.
        assert wait_until(lambda pools=pools: pools.queries.admitted == 0, 10)
        assert busiest_thread_cpu_over(1.5) < 0.3  # a running query: a thread near a core


def test_a_query_whose_client_hangs_up_is_interrupted(tight: Server) -> None:
    sock = send_slow_query(tight)
    assert wait_until(lambda: tight.pools.queries.admitted == 1, 5)
    time.sleep(0.5)
    assert tight.pools.queries.admitted == 1  # still running (its time limit is 120 s)
    sock.close()
    assert wait_until(lambda: tight.pools.queries.admitted == 0, 10)
    assert busiest_thread_cpu_over(1.5) < 0.3  # a running query: a thread near a core


def test_a_full_pool_is_a_503_with_retry_after_and_healthz_still_answers(tight: Server) -> None:
    socks = [send_slow_query(tight) for _ in range(3)]  # 2 workers + 1 waiting place
    try:
        assert wait_until(lambda: tight.pools.queries.admitted == 3, 10)
        busy = tight.get("/resource/kc-311-potholes.json", **{"$limit": 1})
        assert busy.status_code == 503
        assert busy.headers["Retry-After"] == "5"
        body = busy.json()
        assert body["error"] is True and body["code"] == "server.busy"
        assert "query_workers" in body["message"] and "BTVSTAT_QUERY_WORKERS" in body["message"]
        for _ in range(5):
            began = time.monotonic()
            health = requests.get(tight.url + "/healthz", timeout=5)
            assert health.status_code == 200
            assert time.monotonic() - began < 1.0
        # Metadata and discovery do not wait for the heavy pool either.
        assert tight.get("/api/views/kc-311-potholes.json").status_code == 200
    finally:
        for sock in socks:
            sock.close()
    assert wait_until(lambda: tight.pools.queries.admitted == 0, 15)
    assert tight.get("/resource/kc-311-potholes.json", **{"$limit": 1}).status_code == 200


def test_too_many_output_columns_is_a_400_naming_the_setting(tight: Server) -> None:
    response = tight.get("/resource/kc-311-potholes.json", **{"$select": ",".join(["*"] * 40)})
    body = response.json()
    assert response.status_code == 400, body
    assert body["code"] == "query.budget-exceeded" and body["data"]["limit"] == "max_columns"
    assert "BTVSTAT_MAX_COLUMNS" in body["message"]
    # Every column the dataset has always fits, system fields included.
    assert tight.get("/resource/kc-311-potholes.json", **{"$select": ":*, *"}).status_code == 200
    soda3 = requests.post(
        tight.url + "/api/v3/views/kc-311-potholes/query.json",
        json={"query": "SELECT " + ", ".join(["*"] * 40)},
        timeout=60,
    )
    assert soda3.status_code == 400 and soda3.json()["data"]["limit"] == "max_columns"


def test_a_first_batch_over_the_byte_cap_is_a_400(tight: Server) -> None:
    wide = ",".join(["s"] * 20)  # 20 x 300 characters x 2,048 rows: far over 2 MB
    response = tight.get("/resource/wide.json", **{"$select": wide})
    body = response.json()
    assert response.status_code == 400, body
    assert body["code"] == "query.budget-exceeded"
    assert body["data"] == {
        "limit": "max_response_bytes",
        "setting": "BTVSTAT_MAX_RESPONSE_BYTES",
        "value": 2_000_000,
    }


def test_a_stream_that_grows_past_the_byte_cap_is_cut_off(tight: Server) -> None:
    received = 0
    everything = {"$limit": 999_999_999}
    with (
        pytest.raises(requests.exceptions.ChunkedEncodingError),
        requests.get(
            tight.url + "/resource/big.json", params=everything, stream=True, timeout=60
        ) as response,
    ):
        assert response.status_code == 200
        for chunk in response.iter_content(65536):
            received += len(chunk)
    assert 1_000_000 < received < 2_000_000 + 500_000  # the cap and at most one batch more
    assert wait_until(lambda: tight.pools.queries.admitted == 0, 10)


def test_wide_results_stream_with_flat_memory(roomy: Server) -> None:
    """150 copies of a number column over 65,536 rows: 150 MB of JSON, streamed in small batches."""
    process = psutil.Process()
    peak = baseline = process.memory_info().rss
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, process.memory_info().rss)
            time.sleep(0.01)

    sampler = threading.Thread(target=sample)
    sampler.start()
    received = 0
    try:
        params = {"$select": ",".join(["n"] * 150), "$limit": 65536}
        with requests.get(roomy.url + "/resource/big.json", params=params, stream=True, timeout=120) as r:
            assert r.status_code == 200
            for chunk in r.iter_content(1 << 20):
                received += len(chunk)
    finally:
        done.set()
        sampler.join()
    assert received > 150 * 10 * 65536
    # Computed whole and encoded as one batch (the old way) this took over 1.5 GB: DuckDB carried
    # 150 columns of all 2,000,000 rows through the sort. Now the window is cut first and batches
    # are small: about the encoder's working set (~200 MB here), whatever the number of rows.
    grew = (peak - baseline) / 2**20
    assert grew < 400, f"RSS grew by {grew:.0f} MB"


def test_limit_has_no_cap_and_streams_every_row(roomy: Server) -> None:
    rows = roomy.get("/resource/big.json", **{"$limit": 100_000, "$select": "n", "$order": "n"}).json()
    assert len(rows) == 100_000 and rows[-1] == {"n": "99999"}
    params = {"$limit": 999_999_999, "$select": "n", "$where": "n < 600000"}
    everything = roomy.get("/resource/big.json", **params)
    assert everything.status_code == 200 and len(everything.json()) == 600_000
    adapter = {"prefix": "http://", "adapter": requests.adapters.HTTPAdapter()}
    with Socrata(roomy.url.removeprefix("http://"), None, session_adapter=adapter, timeout=120) as client:
        got = client.get("big", limit=100_000, select="n", where="n >= 1900000", order="n")
        assert [int(r["n"]) for r in got] == list(range(1_900_000, BIG_ROWS))


def test_a_query_that_costs_too_much_per_row_is_a_400(tight: Server) -> None:
    costly = "(" + " || ".join(["s"] * 17) + ") like '%" + "_" * 198 + "x'"
    response = tight.get("/resource/big.json", **{"$where": costly})
    body = response.json()
    assert response.status_code == 400 and body["code"] == "query.soql.too-costly", body
    assert "LIKE" in body["message"]
