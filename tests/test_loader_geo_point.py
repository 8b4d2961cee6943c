"""``btvstat-open load`` of Burlington's real Opendatasoft export: ``Geo Point`` (``lat,lon``) is a point.

The Opendatasoft connector turns the same column into ``POINT (lon lat)`` (see
tests/test_opendatasoft_replay.py); the loaded file must hold exactly that, and geospatial SoQL
must then work on it.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pyarrow as pa
import pytest

from btvstat_open.cli import main
from btvstat_open.load.inference import convert_column, infer_types
from btvstat_open.store import Store

ODS = "opendatasoft-burlington-btvstat/planting-sites.csv"


def test_cli_load_types_the_opendatasoft_geo_point_as_a_point(
    tmp_path: Path, real_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store_dir = tmp_path / "store"
    assert main(["load", str(real_data / ODS), "--dataset", "trees", "--store", str(store_dir)]) == 0
    assert "geo_point point" in capsys.readouterr().out
    with (real_data / ODS).open(encoding="utf-8-sig", newline="") as handle:
        cells = [row["Geo Point"] for row in csv.DictReader(handle, delimiter=";")]
    expected = [f"POINT ({c.split(',')[1]} {c.split(',')[0]})" for c in cells]
    with Store(store_dir) as store:
        info = store.info("trees")
        assert {c.field_name: c.data_type for c in info.columns}["geo_point"] == "point"
        loaded = store.arrow("trees").column("geo_point").to_pylist()
        # What the Opendatasoft connector makes of the same export's first row.
        assert expected[0] == "POINT (-73.229049818 44.4479677374)"
        assert sorted(loaded) == sorted(expected) and len(loaded) == 12_836
        # Geospatial SoQL reads it: a box around the first tree holds it.
        from btvstat_open.soql import QueryParams, compile_soql

        query = compile_soql(
            QueryParams(
                select="count(*)", where="within_box(geo_point, 44.4480, -73.2291, 44.4479, -73.2290)"
            ),
            info,
        )
        assert store.cursor().execute(query.sql, query.params).fetchone() == (1.0,)


def test_lat_lon_pairs_are_points_only_under_a_geo_header_and_in_range() -> None:
    pairs = pa.array(["44.4479677374,-73.229049818", " 44.44, -73.22 ", None])
    assert infer_types(pa.table({"a": pairs}), ["Geo Point"]) == ["point"]
    assert infer_types(pa.table({"a": pairs}), ["geo_point_2d"]) == ["point"]
    # The same cells under a header that names no point stay text (a pair of numbers is not a place).
    assert infer_types(pa.table({"a": pairs}), ["Ratio"]) == ["text"]
    out_of_range = pa.array(["95.5,-73.2", "44.4,-73.2"])
    assert infer_types(pa.table({"a": out_of_range}), ["Geo Point"]) == ["text"]
    whole = pa.array(["44,-73", "45,-72"])  # no decimals: codes, not coordinates
    assert infer_types(pa.table({"a": whole}), ["Geo Point"]) == ["text"]
    assert convert_column(pairs, "point").to_pylist() == [
        "POINT (-73.229049818 44.4479677374)",
        "POINT (-73.22 44.44)",
        None,
    ]


def test_load_sets_and_keeps_the_four_by_four(
    tmp_path: Path, real_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store_dir = str(tmp_path / "store")
    args = ["load", str(real_data / ODS), "--dataset", "trees", "--store", store_dir]
    assert main([*args, "--four-by-four", "tr33-2020"]) == 0
    assert capsys.readouterr().out.rstrip().endswith("its 4x4 id is tr33-2020")
    assert main(args) == 0  # a reload keeps it
    assert "its 4x4 id is tr33-2020" in capsys.readouterr().out
    assert main([*args, "--four-by-four", "Trees-2020"]) == 2  # not the form: refused, nothing read
    assert "four lowercase letters or digits" in capsys.readouterr().err
    # A --dataset already of the form is its own 4x4.
    assert main(["load", str(real_data / ODS), "--dataset", "abcd-1234", "--store", store_dir]) == 0
    with Store(store_dir) as store:
        assert store.info("trees").four_by_four == "tr33-2020"
        assert store.info("abcd-1234").four_by_four == "abcd-1234"
        assert store.resolve("tr33-2020") == "trees"
