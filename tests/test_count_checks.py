"""No pull finishes short: a fault per kind where the rows delivered and the source's count disagree.

Each stand-in (or, for Socrata, a proxy in front of the real local portal) loses rows while
paging, the way a buggy server or proxy would, without any error. The pull must fail with a
:class:`CountMismatch` naming both numbers, exit 1 on the command line, write no file, and a
sync must keep its last good copy.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
from arcgis_standin import ArcgisStandin, Service, layer_from_table
from ckan_standin import StandinCkan
from opendatasoft_standin import StandinOds
from servers import serve

from btvstat_open.cli import main
from btvstat_open.errors import CountMismatch
from btvstat_open.portal.app import create_portal_app
from btvstat_open.store import Store
from btvstat_open.sync import sync_dataset
from btvstat_open.web.settings import Settings
from connectors import connect
from connectors.testing import CONTRACT_COLUMNS, source_table

ROWS = 3_000
RID = "5b1c7a8e-0000-4000-8000-00000000c0de"


class OffsetSkipper:
    """A proxy that, once ``lose`` is set, moves every ``$offset`` past 0 on by that many rows."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.lose = inner, 0

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and self.lose:
            query = dict(parse_qsl(scope.get("query_string", b"").decode(), keep_blank_values=True))
            if int(query.get("$offset") or 0) > 0:
                query["$offset"] = str(int(query["$offset"]) + self.lose)
                scope = {**scope, "query_string": urlencode(query).encode()}
        await self.inner(scope, receive, send)


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """One source of each kind, ``ROWS`` rows each, and the knob that makes it lose rows."""
    table = source_table(ROWS)
    arcgis = ArcgisStandin({"Cases": Service({0: layer_from_table(0, "Cases", table, max_record_count=500)})})
    ckan, ods = StandinCkan(), StandinOds(offer_parquet=False)
    ckan.add_table("cases", RID, table, "2024-01-02T03:04:05")
    ods.put("cases", table, "2024-01-02T03:04:05+00:00")
    store = Store(tmp_path_factory.mktemp("socrata-source"))
    store.load("cases", table, CONTRACT_COLUMNS)
    socrata = OffsetSkipper(create_portal_app(store, Settings(write_token="t")))
    with serve(arcgis) as a, serve(ckan.app()) as c, serve(ods.app()) as o, serve(socrata) as s:
        ckan.url = c
        yield {
            "arcgis": (f"{a}/arcgis/rest/services/Cases/FeatureServer", "0", arcgis),
            "ckan": (c, "cases", ckan),
            "opendatasoft": (o, "cases", ods),
            "socrata": (s, "cases", socrata),
        }


def _lose(kind: str, source: Any, n: int) -> None:
    if kind == "arcgis":
        source.services["Cases"].lies.loses_rows = n
    elif kind == "socrata":
        source.lose = n
    else:
        source.loses_rows = n


KINDS = ["arcgis", "ckan", "opendatasoft", "socrata"]


@pytest.mark.parametrize("kind", KINDS)
def test_a_short_pull_is_a_typed_error_and_writes_nothing(
    sources: dict[str, Any], kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url, dataset, source = sources[kind]
    options = {"page_size": 500} if kind in ("ckan", "socrata") else {}
    with connect(url, kind=kind, **options) as conn:
        assert conn.pull(dataset, where="case_id >= '0'" if kind == "socrata" else None).num_rows == ROWS
    _lose(kind, source, 1)
    try:
        with connect(url, kind=kind, **options) as conn, pytest.raises(CountMismatch) as short:
            conn.pull_to(
                dataset, tmp_path / "x.parquet", where="case_id >= '0'" if kind == "socrata" else None
            )
        assert short.value.expected == ROWS and short.value.delivered < ROWS
        assert f"{ROWS:,} rows" in str(short.value) and f"{short.value.delivered:,}" in str(short.value)
        assert not list(tmp_path.iterdir())  # not even a temporary file
        out = tmp_path / "y.csv"
        argv = ["pull", url, dataset, "-o", str(out), "--kind", kind, "--retries", "0"]
        if kind in ("ckan", "socrata"):
            argv += ["--page-size", "500"]
        if kind == "socrata":
            argv += ["--where", "case_id >= '0'"]
        code = main(argv)
        err = capsys.readouterr().err
        assert code == 1 and not out.exists()
        assert "pull.count-mismatch" in err and f"{ROWS:,}" in err and err.count("\n") == 1
    finally:
        _lose(kind, source, 0)


@pytest.mark.parametrize("kind", ["ckan", "opendatasoft"])
def test_a_short_sync_keeps_the_last_good_copy(sources: dict[str, Any], kind: str, tmp_path: Path) -> None:
    url, dataset, source = sources[kind]
    options = {"page_size": 500} if kind == "ckan" else {}
    with Store(tmp_path / "store") as store, connect(url, kind=kind, **options) as conn:
        assert sync_dataset(conn, dataset, store, progress=False).row_count == ROWS
        _lose(kind, source, 1)
        try:
            if kind == "ckan":
                source.touch("cases", "2024-05-01T00:00:00")
            else:
                source.processed["cases"] = "2024-05-01T00:00:00+00:00"
            with pytest.raises(CountMismatch) as short:
                sync_dataset(conn, dataset, store, progress=False)
            assert "the local copy is unchanged" in " ".join(getattr(short.value, "__notes__", []))
            assert store.info(dataset).row_count == ROWS
        finally:
            _lose(kind, source, 0)
        assert sync_dataset(conn, dataset, store, progress=False).row_count == ROWS


def test_ckan_pages_by_the_size_the_site_allows(sources: dict[str, Any]) -> None:
    """A site whose ``rows_max`` is below the page size cuts each page and says so in ``limit``:
    the pull pages by that size and brings every row (before: one page, then a short pull)."""
    url, dataset, source = sources["ckan"]
    source.rows_max = 170
    try:
        with connect(url, kind="ckan", page_size=500, concurrency=3) as conn:
            table = conn.pull(dataset)
        assert table.num_rows == ROWS
        assert table.column("case_id").to_pylist() == sorted(table.column("case_id").to_pylist())
    finally:
        source.rows_max = None
