"""``$$as_of=DATE`` reads a dataset as the store knew it at the end of that day, through the SODA
routes (queries, group-bys and the CSV export), for callers holding the write token."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
from servers import in_process

from btvstat_open.portal.app import create_portal_app
from btvstat_open.store import Store
from btvstat_open.types import Column
from btvstat_open.web.settings import Settings

TOKEN = "test-write-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
COLUMNS = [Column("k", "K", "text"), Column("opened", "Opened", "floating_timestamp")]


def _store(tmp_path: Path) -> Store:
    store = Store(tmp_path)
    store.clock = lambda: datetime(2020, 3, 1, 9, tzinfo=UTC)
    first = {"k": ["a", "b"], "opened": [datetime(2020, 1, 5), datetime(2020, 2, 5)]}
    store.load("cases", pa.table(first), COLUMNS, row_identifier="k")
    store.clock = lambda: datetime(2020, 3, 10, 9, tzinfo=UTC)
    store.upsert("cases", pa.table({"k": ["c"], "opened": [datetime(2020, 2, 6)]}))
    store.delete_row("cases", "a")
    return store


def test_as_of_reads_the_past_with_the_write_token_and_says_from_when_history_runs(tmp_path: Path) -> None:
    store = _store(tmp_path)
    with in_process(create_portal_app(store, Settings(write_token=TOKEN))) as (url, http):
        now = http.get(f"{url}/resource/cases.json", params={"$order": "k"}, timeout=10).json()
        assert [r["k"] for r in now] == ["b", "c"]
        past = http.get(
            f"{url}/resource/cases.json",
            params={"$order": "k", "$$as_of": "2020-03-04"},
            headers=AUTH,
            timeout=10,
        )
        assert [r["k"] for r in past.json()] == ["a", "b"]
        assert past.headers["X-Btvstat-History-Since"].startswith("2020-03-01T09:00")
        by_month = http.get(
            f"{url}/resource/cases.json",
            params={
                "$select": "date_trunc_ym(opened) AS m, count(*) AS n",
                "$group": "m",
                "$order": "m",
                "$$as_of": "2020-03-04",
            },
            headers=AUTH,
            timeout=10,
        ).json()
        assert [(r["m"][:7], r["n"]) for r in by_month] == [("2020-01", "1"), ("2020-02", "1")]
        before = http.get(
            f"{url}/api/views/cases/rows.csv", params={"$$as_of": "2019-12-31"}, headers=AUTH, timeout=10
        )
        assert sorted(line.split(",")[0] for line in before.text.splitlines()[1:]) == ['"a"', '"b"']
        anonymous = http.get(f"{url}/resource/cases.json", params={"$$as_of": "2020-03-04"}, timeout=10)
        assert anonymous.status_code == 401 and "write token" in anonymous.json()["message"]
        bad = http.get(f"{url}/resource/cases.json", params={"$$as_of": "March 4"}, headers=AUTH, timeout=10)
        assert bad.status_code == 400 and "YYYY-MM-DD" in bad.json()["message"]
    store.close()
