"""Socrata types, their Arrow and DuckDB types, and type inference of text cells."""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb
import pyarrow as pa
import pytest

from btvstat_open.errors import UsageError
from btvstat_open.load.inference import convert_column, convert_columns, infer_types
from btvstat_open.types import LOCATION_ARROW, SOCRATA_TYPES, Column, arrow_type, canonical_type, duckdb_type


@pytest.mark.parametrize(
    ("legacy", "canonical"),
    [
        ("calendar_date", "floating_timestamp"),
        ("date", "fixed_timestamp"),
        ("money", "number"),
        ("double", "number"),
        ("percent", "number"),
        ("html", "text"),
        ("boolean", "checkbox"),
        ("Number", "number"),
        (" TEXT ", "text"),
    ],
)
def test_canonical_type_maps_legacy_names(legacy: str, canonical: str) -> None:
    assert canonical_type(legacy) == canonical


def test_unknown_type_names_the_choices() -> None:
    with pytest.raises(UsageError) as err:
        canonical_type("numbr")
    assert "numbr" in str(err.value)
    assert all(t in str(err.value) for t in SOCRATA_TYPES)


def test_arrow_and_duckdb_types_agree() -> None:
    """Every Socrata type's DuckDB column reads back as exactly its Arrow type."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    for kind in SOCRATA_TYPES:
        table = con.sql(f"SELECT CAST(NULL AS {duckdb_type(kind)}) AS v").to_arrow_table()
        assert table.schema.field("v").type == arrow_type(kind), kind
    assert arrow_type("number") == pa.float64()
    assert arrow_type("fixed_timestamp") == pa.timestamp("us", tz="UTC")
    assert arrow_type("floating_timestamp") == pa.timestamp("us")
    assert arrow_type("location") == LOCATION_ARROW


def test_column_round_trips_through_json() -> None:
    col = Column("days_to_close", "DAYS TO CLOSE", "money", "days")
    assert col.data_type == "number"
    assert Column.from_json(col.to_json()) == col
    assert col.arrow_field == pa.field("days_to_close", pa.float64())


def _infer(**columns: list[str | None]) -> dict[str, str]:
    table = pa.table({k: pa.array(v, pa.string()) for k, v in columns.items()})
    return dict(zip(columns, infer_types(table), strict=True))


def test_leading_zeros_stay_text() -> None:
    kinds = _infer(
        zip=["02134", "10001", None],
        ids=["007", "12", "3"],
        plain=["0", "0.5", "-3e2"],
        neg=["-01", "2", None],
    )
    assert kinds == {"zip": "text", "ids": "text", "plain": "number", "neg": "text"}


def test_zip_headers_stay_text_even_without_leading_zeros() -> None:
    table = pa.table({"ZIP CODE": ["64130", "64132"], "Amount": ["64130", "64132"]})
    assert infer_types(table, ["ZIP CODE", "Amount"]) == ["text", "number"]


def test_checkbox_is_true_false_only() -> None:
    kinds = _infer(
        flag=["true", "FALSE", None], yn=["Y", "N", "Y"], yes=["yes", "no", None], bits=["1", "0", "1"]
    )
    assert kinds == {"flag": "checkbox", "yn": "text", "yes": "text", "bits": "number"}


def test_empty_cells_do_not_vote() -> None:
    kinds = _infer(n=["", None, "  ", "4"], empty=[None, None, "", ""])
    assert kinds == {"n": "number", "empty": "text"}


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("1/7/20", datetime(2020, 1, 7)),
        ("12/31/1999", datetime(1999, 12, 31)),
        ("06/30/2009 12:00:00 AM", datetime(2009, 6, 30)),
        ("1/7/20 1:05 PM", datetime(2020, 1, 7, 13, 5)),
        ("2020-01-07", datetime(2020, 1, 7)),
        ("2020-01-07T12:59:30.250", datetime(2020, 1, 7, 12, 59, 30, 250000)),
        ("Jul-13", datetime(2013, 7, 1)),
        ("Jul_2005", datetime(2005, 7, 1)),
        ("July 2005", datetime(2005, 7, 1)),
        ("Jun-9", datetime(2009, 6, 1)),
        ("2012/01/01", datetime(2012, 1, 1)),
        ("2012/1/2 1:05 PM", datetime(2012, 1, 2, 13, 5)),
        ("2013-10", datetime(2013, 10, 1)),
    ],
)
def test_floating_timestamps(cell: str, expected: datetime) -> None:
    table = pa.table({"d": [cell, None]})
    assert infer_types(table) == ["floating_timestamp"]
    assert convert_column(table.column("d"), "floating_timestamp").to_pylist() == [expected, None]


def test_impossible_dates_and_times_of_day_stay_text() -> None:
    kinds = _infer(bad=["1/7/20", "2/30/20"], time=["12:59 PM", "2:24 PM"], day=["Mar 5", "Apr 12"])
    assert kinds == {"bad": "text", "time": "text", "day": "text"}


def test_fixed_timestamps_are_utc() -> None:
    table = pa.table({"t": ["2020-01-07T12:00:00Z", "2020-01-07T12:00:00+02:00"]})
    assert infer_types(table) == ["fixed_timestamp"]
    values = convert_column(table.column("t"), "fixed_timestamp").to_pylist()
    assert values == [datetime(2020, 1, 7, 12, tzinfo=UTC), datetime(2020, 1, 7, 10, tzinfo=UTC)]
    mixed = pa.table({"t": ["2020-01-07T12:00:00Z", "2020-01-07"]})
    assert infer_types(mixed) == ["text"]


def test_location_point_and_url() -> None:
    table = pa.table(
        {
            "loc": ["4900 E 63rd St64130\n(39.014495, -94.527365)", "(33.9, -118.2)"],
            "pt": ["POINT (-94.5 39.0)", "point(-1 2.5)"],
            "url": ["http://city.kcmo.org/x?CaseID=1", "https://example.org/"],
            "not_url": ["http://a b", "https://example.org/"],
        }
    )
    assert infer_types(table) == ["location", "point", "url", "text"]
    converted, bad = convert_columns(table, ["location", "point", "url", "text"])
    assert bad is None
    assert converted.column("loc").to_pylist() == [
        {"latitude": 39.014495, "longitude": -94.527365, "human_address": "4900 E 63rd St64130"},
        {"latitude": 33.9, "longitude": -118.2, "human_address": None},
    ]
    assert converted.column("pt").to_pylist() == ["POINT (-94.5 39.0)", "POINT (-1 2.5)"]


def test_overridden_conversions_are_looser_and_report_the_first_bad_cell() -> None:
    table = pa.table({"n": ["1,234", "$5", " 007 ", None], "c": ["Y", "n", "yes", "maybe"]})
    converted, bad = convert_columns(table, ["number", "checkbox"])
    assert converted.column("n").to_pylist() == [1234.0, 5.0, 7.0, None]
    assert converted.column("c").to_pylist() == [True, False, True, None]
    assert bad is not None
    assert (bad.row, bad.column, bad.value, bad.data_type) == (3, 1, "maybe", "checkbox")
