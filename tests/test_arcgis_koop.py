"""The ArcGIS connector against Koop, a real GeoServices server (tests/koop_site.py), with GDAL's
ESRIJSON driver (``ogrinfo``) as the count oracle.

Koop ignores ``orderByFields`` and, without an ``idField``, makes object ids of feature hashes
(in no order; identical features share one). A pull must still bring every row, exactly once
per feature, the rows sharing an id included.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import requests
from koop_site import LAYERS, ROWS, demo_features, ogr_count

from btvstat_open.cli import main
from connectors.arcgis import ArcgisConnector


def _layer(koop_url: str, name: str) -> str:
    return f"{koop_url}/{name}/FeatureServer/0"


def _server_ids(layer_url: str) -> Counter[str]:
    body = requests.get(
        f"{layer_url}/query", params={"where": "1=1", "returnIdsOnly": "true", "f": "json"}, timeout=60
    ).json()
    return Counter(str(i) for i in body["objectIds"])


def _values(rows: list[dict[str, object]]) -> Counter[tuple[object, ...]]:
    """Each row as (ZIP-free) values compared across encodings: month, water, power."""
    return Counter(
        (str(r["value_date"])[:7], float(str(r["water_use"])), float(str(r["power_use"]))) for r in rows
    )


# Koop answers a query without paging parameters with every row (GDAL reads it so): a pull takes
# that one answer. With a page size the pull pages, and must still bring every row once.
PAGES = [None, 1000]


@pytest.mark.parametrize("page_size", PAGES, ids=["one-answer", "paged"])
@pytest.mark.parametrize("name", LAYERS)
def test_pull_brings_every_row_gdal_reads(
    koop_url: str, name: str, page_size: int | None, tmp_path: Path
) -> None:
    layer = _layer(koop_url, name)
    with ArcgisConnector(layer, retries=1, page_size=page_size) as conn:
        result = conn.pull_to("0", tmp_path / "x.parquet", select=":id, value_date, water_use, power_use")
    table = pq.read_table(result.path)
    assert result.rows == table.num_rows == ogr_count(layer) == ROWS
    assert Counter(table.column(":id").to_pylist()) == _server_ids(layer)  # shared ids: every row
    expected = _values([{**f["properties"]} for f in demo_features()])
    months = [{**r, "value_date": r["value_date"].isoformat()} for r in table.to_pylist()]
    assert _values(months) == expected


@pytest.mark.parametrize("page_size", PAGES, ids=["one-answer", "paged"])
def test_shared_ids_keep_every_row(koop_url: str, page_size: int | None) -> None:
    layer = _layer(koop_url, "water")
    ids = _server_ids(layer)
    assert len(ids) == 13_896  # 24 features share an id with an identical one
    with ArcgisConnector(layer, retries=1, page_size=page_size) as conn:
        pulled = Counter(conn.pull("0", select=":id").column(":id").to_pylist())
    assert {i: n for i, n in pulled.items() if n > 1} == {i: n for i, n in ids.items() if n > 1}


@pytest.mark.parametrize("page_size", PAGES, ids=["one-answer", "paged"])
@pytest.mark.parametrize("name", ["water-ids", "water-shared"])
def test_where_is_exact(koop_url: str, name: str, page_size: int | None) -> None:
    layer = _layer(koop_url, name)
    where = "row_id <= 5003" if name == "water-ids" else "zip_id <= 90012"
    with ArcgisConnector(layer, retries=1, page_size=page_size) as conn:
        table = conn.pull("0", where=where)
    assert table.num_rows == ogr_count(layer, where) > 0


@pytest.mark.parametrize("paging", [[], ["--page-size", "2000"]], ids=["one-answer", "paged"])
def test_cli_pull_of_the_hash_id_layer(
    koop_url: str, paging: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "water.parquet"
    code = main(["pull", f"{koop_url}/water/FeatureServer", "0", "-o", str(out), "--kind", "arcgis", *paging])
    assert code == 0
    assert "13,920 rows written" in capsys.readouterr().out
    assert pq.read_metadata(out).num_rows == ROWS
