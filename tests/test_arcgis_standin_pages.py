"""The benchmarks' paged ArcGIS stand-in (bench/arcgis_pages.py) answers exactly what the stand-in's
full filter answers, and a layer of any Arrow table pulls back through the connector with every column
and its points."""

from __future__ import annotations

import doctest
import sys
from datetime import datetime
from pathlib import Path

import arcgis_standin
import arcgis_tables
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from arcgis_standin import ArcgisStandin, Service, layer_from_table, where_rows
from arcgis_tables import layer_from_arrow
from servers import serve

from connectors.arcgis import ArcgisConnector
from connectors.testing import source_table

REPO = Path(__file__).resolve().parent.parent
# bench/ is not an installed package: import it from the repository (as `python -m bench` does).
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench import arcgis_pages  # noqa: E402
from bench.arcgis_pages import PagedArcgisStandin  # noqa: E402

WHERES = [
    "1=1",
    "(1=1) AND OBJECTID > 10 AND OBJECTID <= 20",
    "OBJECTID >= 5",
    "1=1 AND OBJECTID < 3",
    "(1=1) AND OBJECTID = 7",
    "OBJECTID > 500",
    "((1=1) AND OBJECTID > 5) AND OBJECTID <= 9",  # not a plain range: the full filter
    "amount > 100",
]


@pytest.mark.parametrize("module", [arcgis_pages, arcgis_tables, arcgis_standin])
def test_the_stand_in_helpers_examples_run(module: object) -> None:
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)  # type: ignore[arg-type]
    assert result.attempted > 0 and result.failed == 0


def test_quick_pages_match_the_full_filter_before_and_after_edits() -> None:
    layer = layer_from_table(0, "Cases", source_table(60), geometry=True)
    app = PagedArcgisStandin({"Cases": Service({0: layer})})
    plain = ArcgisStandin(app.services)  # the same layer, every query filtered and encoded afresh

    def both(where: str) -> tuple[list[int], list[int]]:
        return [r["OBJECTID"] for r in app.matching(layer, where)], [
            r["OBJECTID"] for r in where_rows(layer.rows, where)
        ]

    def same_pages() -> None:
        for where in WHERES:
            for extra in (
                {"resultOffset": "2"},
                {"outFields": "case_id,amount"},
                {"returnGeometry": "false"},
            ):
                q = {"where": where, "resultRecordCount": "7", **extra}
                assert app.query(app.services["Cases"], layer, q) == plain.query(
                    plain.services["Cases"], layer, q
                )

    for where in WHERES:
        quick, full = both(where)
        assert quick == full, where
    same_pages()
    before = app.query(app.services["Cases"], layer, {"where": "1=1", "resultRecordCount": "5"})
    app.edit("Cases", 0, at=datetime(2024, 6, 1), update={2: {"amount": 1.5}}, delete=[1, 3], add=[{}])
    for where in WHERES:
        quick, full = both(where)
        assert quick == full, where
    same_pages()
    after = app.query(app.services["Cases"], layer, {"where": "1=1", "resultRecordCount": "5"})
    assert isinstance(before, bytes) and isinstance(after, bytes)
    assert b'"amount":1.5' in after and b'"amount":1.5' not in before  # no stale feature served


def test_a_layer_of_any_table_pulls_back_with_its_points(tmp_path: Path) -> None:
    n = 4_500  # three pages of 2,000
    table = pa.table(
        {
            "key": [f"K-{i:05d}" for i in range(n)],
            "opened": pa.array([datetime(2024, 1, 1, 0, 0, i % 60) for i in range(n)], pa.timestamp("us")),
            "count": pa.array([float(i) if i % 7 else None for i in range(n)]),
            "flag": [i % 3 == 0 for i in range(n)],
            "spot": [f"POINT (-73.{i:04d} 44.5)" for i in range(n)],
        }
    )
    layer = layer_from_arrow(0, "Things", table, geometry="spot")
    with serve(ArcgisStandin({"Things": Service({0: layer})})) as url:
        conn = ArcgisConnector(f"{url}/arcgis/rest/services/Things/FeatureServer")
        result = conn.pull_to("0", tmp_path / "things.parquet")
    got = pq.read_table(result.path)
    assert result.rows == n and got.column_names == ["key", "opened", "count", "flag", "geometry"]
    assert got.column("key").to_pylist() == table.column("key").to_pylist()
    assert got.column("opened").to_pylist() == table.column("opened").to_pylist()
    assert got.column("count").to_pylist() == table.column("count").to_pylist()
    assert got.column("flag").to_pylist() == table.column("flag").to_pylist()
    assert got.column("geometry").to_pylist()[4001] == "POINT (-73.4001 44.5)"
