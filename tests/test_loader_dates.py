"""Date layouts cities export, read by the loader from real files and checked against pandas.

``YYYY/MM/DD`` (vega-datasets' seattle-weather.csv), ``YYYY-MM`` (Burlington's planting sites),
``MM/DD/YYYY hh:mm:ss AM`` (Los Angeles library metrics), ISO 8601 with a zone (the Socrata
Discovery API's ``updatedAt``), and ``--date-format`` for the rest (vega-datasets' stocks.csv,
``Jan 1 2000``). The expected values are parsed by pandas with explicit formats.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
from vega_datasets import local_data

from btvstat_open.cli import main
from btvstat_open.errors import LoadError, UsageError
from btvstat_open.load import load_file, read_file
from btvstat_open.load.inference import convert_column, infer_types
from btvstat_open.store import Store

REAL = Path(__file__).parent / "data" / "real"
SEATTLE = Path(local_data.seattle_weather.filepath)
EMPLOYMENT = Path(local_data.us_employment.filepath)
STOCKS = Path(local_data.stocks.filepath)
BURLINGTON = REAL / "opendatasoft-burlington-btvstat"


def ods_column(name: str, column: str) -> list[str]:
    """One column of a Burlington Opendatasoft export (``;``-separated, unquoted), as written."""
    with open(BURLINGTON / name, encoding="utf-8", newline="") as fh:
        return [row[column] for row in csv.DictReader(fh, delimiter=";")]


def types_of(path: Path) -> dict[str, str]:
    return {c.field_name: c.data_type for c in read_file(path).columns}


def test_seattle_weather_dates_are_read_as_dates() -> None:
    loaded = read_file(SEATTLE)
    assert types_of(SEATTLE)["date"] == "floating_timestamp"
    wanted = pd.to_datetime(pd.read_csv(SEATTLE, dtype=str)["date"], format="%Y/%m/%d")
    assert loaded.table.column("date").to_pylist() == list(wanted.dt.to_pydatetime())
    assert loaded.num_rows == 1461  # 2012-01-01 .. 2015-12-31, every day
    # The explicit type the issue names works too.
    typed = read_file(SEATTLE, column_types={"date": "floating_timestamp"})
    assert typed.table.column("date").equals(loaded.table.column("date"))


def test_us_employment_months_are_dates() -> None:
    loaded = read_file(EMPLOYMENT)
    assert types_of(EMPLOYMENT)["month"] == "floating_timestamp"
    wanted = pd.to_datetime(pd.read_csv(EMPLOYMENT, dtype=str)["month"], format="%Y-%m-%d")
    assert loaded.table.column("month").to_pylist() == list(wanted.dt.to_pydatetime())


def test_year_month_cells_are_the_first_of_the_month() -> None:
    cells = ods_column("planting-sites.csv", "modified")
    assert len(cells) == 12836
    table = pa.table({"modified": cells})
    assert infer_types(table) == ["floating_timestamp"]
    wanted = pd.to_datetime(pd.Series(cells).replace("", None), format="%Y-%m")
    got = convert_column(table.column(0), "floating_timestamp").to_pylist()
    assert got == [None if pd.isna(w) else w.to_pydatetime() for w in wanted]
    # Year spans such as fiscal years 2008-09 .. 2011-12 are not months.
    assert infer_types(pa.table({"fy": ["2008-09", "2009-10", "2010-11", "2011-12"]})) == ["text"]


def test_us_long_dates_with_a_time_of_day() -> None:
    path = REAL / "la-city-kpis" / "Library_Performance_metrics.csv"
    loaded = read_file(path)
    assert types_of(path)["date_value"] == "floating_timestamp"
    raw = pd.read_csv(path, dtype=str)["Date Value"]
    wanted = pd.to_datetime(raw, format="%m/%d/%Y %I:%M:%S %p")
    assert loaded.table.column("date_value").to_pylist() == list(wanted.dt.to_pydatetime())


def test_iso_times_with_a_zone_are_fixed_timestamps() -> None:
    document = json.loads((REAL / "socratadata-catalog-v1" / "v1-a9e053.json").read_text())
    cells = [r["resource"]["updatedAt"] for r in document["results"]]
    cells += [r["resource"]["createdAt"] for r in document["results"]]
    table = pa.table({"at": cells})
    assert infer_types(table) == ["fixed_timestamp"]
    wanted = pd.to_datetime(pd.Series(cells), format="%Y-%m-%dT%H:%M:%S.%f%z", utc=True)
    got = convert_column(table.column(0), "fixed_timestamp").to_pylist()
    assert got == list(wanted.dt.to_pydatetime())
    # An offset other than Z is kept as the instant it names.
    shifted = convert_column(pa.array([cells[0].replace(".000Z", "-05:00")]), "fixed_timestamp")
    assert shifted.to_pylist() == [(wanted[0] + pd.Timedelta(hours=5)).to_pydatetime()]


def test_leading_zeros_stay_text() -> None:
    zips = ods_column("child-care-locations.csv", "zip_code")
    assert "05401" in zips
    assert infer_types(pa.table({"zip": zips}), ["zip"]) == ["text"]
    assert infer_types(pa.table({"code": zips}), ["code"]) == ["text"]  # the zeros alone decide it


def test_date_format_reads_other_layouts(tmp_path: Path) -> None:
    assert types_of(STOCKS)["date"] == "text"  # "Jan 1 2000" is no layout the loader guesses
    loaded = read_file(STOCKS, date_formats={"date": "%b %d %Y"})
    assert {c.field_name: c.data_type for c in loaded.columns}["date"] == "floating_timestamp"
    wanted = pd.to_datetime(pd.read_csv(STOCKS, dtype=str)["date"], format="%b %d %Y")
    assert loaded.table.column("date").to_pylist() == list(wanted.dt.to_pydatetime())
    with Store(tmp_path / "store") as store:
        info = load_file(store, STOCKS, "stocks", date_formats={"date": "%b %d %Y"})
        assert info.column("date").data_type == "floating_timestamp"
    # A zone in the pattern makes a fixed timestamp.
    day = tmp_path / "zoned.csv"
    day.write_text("day,n\n31.12.2020 23:30 +0100,1\n")
    zoned = read_file(day, date_formats={"day": "%d.%m.%Y %H:%M %z"})
    assert zoned.columns[0].data_type == "fixed_timestamp"
    assert zoned.table.column("day").to_pylist() == [pd.Timestamp("2020-12-31T22:30Z").to_pydatetime()]


def test_a_cell_that_does_not_match_names_row_column_and_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(LoadError) as caught:
        read_file(STOCKS, date_formats={"date": "%d.%m.%Y"})
    assert caught.value.row == 2 and caught.value.column == "date"
    assert "'Jan 1 2000' does not match date_formats={'date': '%d.%m.%Y'}" in str(caught.value)
    with pytest.raises(LoadError) as caught:
        read_file(STOCKS, column_types={"date": "floating_timestamp"})
    assert "row 2, column 'date': 'Jan 1 2000' is not a floating_timestamp value" in str(caught.value)
    assert "date_formats={'date': 'PATTERN'}" in str(caught.value) and "--" not in str(caught.value)
    with pytest.raises(UsageError, match="not a pattern DuckDB can read"):
        read_file(STOCKS, date_formats={"date": "%Q"})
    with pytest.raises(UsageError, match="the file has no column 'day'"):
        read_file(STOCKS, date_formats={"day": "%b %d %Y"})
    with pytest.raises(UsageError, match="column_types= makes 'date' number"):
        read_file(STOCKS, column_types={"date": "number"}, date_formats={"date": "%b %d %Y"})
    store = ["--store", str(tmp_path / "store")]
    assert main(["load", str(STOCKS), "--dataset", "stocks", *store, "--date-format", "date"]) == 2
    assert "write it as FIELD=PATTERN, e.g. date=%d.%m.%Y" in capsys.readouterr().err
    assert main(["load", str(STOCKS), "--dataset", "stocks", *store, "--date-format", "date=%Y"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: stocks.csv: row 2, column 'date': 'Jan 1 2000' does not match")
    assert "does not match --date-format date=%Y. Fix the cell" in err  # the CLI names its flags
    assert not (tmp_path / "store").exists()  # nothing is written for a file that does not load


def test_load_command_with_date_format(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = str(tmp_path / "store")
    args = ["load", str(STOCKS), "--dataset", "stocks", "--store", store, "--date-format", "date=%b %d %Y"]
    assert main(args) == 0
    assert "date floating_timestamp" in capsys.readouterr().out
