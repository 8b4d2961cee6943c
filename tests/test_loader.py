"""Loading the real CSV files and a Parquet file into the store, and refusing bad files cleanly."""

from __future__ import annotations

import csv
import os
import pty
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from btvstat_open.cli import main
from btvstat_open.errors import LoadError, UsageError
from btvstat_open.load import load_file, read_file
from btvstat_open.store import Store
from btvstat_open.types import Column

KC = "kc-311-potholes/311_Call_Center_Service_Requests.csv"
LIBRARY_MONTHLY = "la-city-kpis/Library_Monthly_Stats.csv"
LIBRARY_METRICS = "la-city-kpis/Library_Performance_metrics.csv"
OPERATING = "la-city-kpis/Operating_Indicators_for_City_Departments.csv"
WATER = "la-city-kpis/Water_and_Electric_Usage_from_2005_-_2013.csv"
SANTA_MONICA = "santa-monica-wellbeing/data.csv"


def _csv_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    """An independent read: Python's csv module, all-empty rows left out."""
    with path.open(encoding="utf-8-sig", newline="") as f:
        header, *rows = list(csv.reader(f))
    return header, [r for r in rows if any(cell != "" for cell in r)]


def _types(loaded_columns: list[Column]) -> dict[str, str]:
    return {c.field_name: c.data_type for c in loaded_columns}


@pytest.mark.parametrize(
    ("name", "rows", "columns"),
    [
        (KC, 4493, 30),
        (LIBRARY_MONTHLY, 16, 9),
        (LIBRARY_METRICS, 40, 12),
        (OPERATING, 1890, 8),
        (WATER, 13920, 5),
        (SANTA_MONICA, 523, 30),
    ],
)
def test_real_files_row_and_column_counts(real_data: Path, name: str, rows: int, columns: int) -> None:
    header, expected_rows = _csv_rows(real_data / name)
    loaded = read_file(real_data / name)
    assert (loaded.num_rows, len(loaded.columns)) == (rows, columns) == (len(expected_rows), len(header))
    assert [c.name for c in loaded.columns] == header
    # Every text column holds exactly the file's cells (empty cells are null).
    for i, col in enumerate(loaded.columns):
        if col.data_type in ("text", "url"):
            expected = [r[i] if r[i] != "" else None for r in expected_rows]
            assert loaded.table.column(col.field_name).to_pylist() == expected, col.name


def test_kc_311_types_and_values(real_data: Path) -> None:
    loaded = read_file(real_data / KC)
    types = _types(loaded.columns)
    assert types["case_id"] == "number"
    assert types["creation_date"] == "floating_timestamp"
    assert types["closed_date"] == "floating_timestamp"
    assert types["creation_time"] == "text"  # a time of day alone is not a timestamp
    assert types["exceeded_est_timeframe"] == "text"  # Y/N codes stay as the city wrote them
    assert types["zip_code"] == "text"
    assert types["address_with_geocode"] == "location"
    assert types["days_to_close"] == "number"
    assert types["case_url"] == "url"
    assert types["30_60_90_days_open_window"] == "number"
    first = loaded.table.slice(0, 1).to_pylist()[0]
    assert first["case_id"] == 2020002530
    assert first["creation_date"] == datetime(2020, 1, 7)  # "1/7/20"
    assert first["creation_time"] == "12:59 PM"
    assert first["address_with_geocode"] == {
        "latitude": 39.014495,
        "longitude": -94.527365,
        "human_address": "4900 E 63rd St64130",
    }
    header, rows = _csv_rows(real_data / KC)
    days = header.index("DAYS TO CLOSE")
    expected_days = [float(r[days]) if r[days] else None for r in rows]
    assert loaded.table.column("days_to_close").to_pylist() == expected_days
    assert expected_days.count(None) == 4493 - 2812
    closed = header.index("CLOSED DATE")
    assert (
        loaded.table.column("closed_date").null_count == sum(1 for r in rows if not r[closed]) == 4493 - 2355
    )


def test_la_files_types_and_values(real_data: Path) -> None:
    monthly = read_file(real_data / LIBRARY_MONTHLY)
    assert _types(monthly.columns)["month"] == "floating_timestamp"
    months = monthly.table.column("month").to_pylist()
    assert months[0] == datetime(2013, 7, 1) and months[-1] == datetime(2014, 10, 1)
    assert monthly.table.column("total_library_visitors").to_pylist()[0] == 1279061

    metrics = read_file(real_data / LIBRARY_METRICS)
    assert _types(metrics.columns)["date_value"] == "floating_timestamp"
    dates = metrics.table.column("date_value").to_pylist()
    assert (dates[0], dates[-1]) == (datetime(2009, 6, 30), datetime(2015, 6, 30))

    water = read_file(real_data / WATER)
    assert _types(water.columns) == {
        "text_date": "floating_timestamp",
        "value_date": "floating_timestamp",
        "zip_code": "location",
        "water_use": "number",
        "power_use": "number",
    }
    first = water.table.slice(0, 1).to_pylist()[0]
    assert first["text_date"] == first["value_date"] == datetime(2005, 7, 1)  # "Jul_2005", "Jul-05"
    assert first["zip_code"]["human_address"] == "90001"
    assert first["zip_code"]["latitude"] == pytest.approx(33.973271508000494)

    operating = read_file(real_data / OPERATING)
    assert _types(operating.columns)["fiscal_year"] == "number"
    assert _types(operating.columns)["amount"] == "number"

    santa_monica = read_file(real_data / SANTA_MONICA)
    assert _types(santa_monica.columns)["zip90401"] == "checkbox"
    years = santa_monica.table.column("year").to_pylist()
    assert (years.count(2014), years.count(2017), years.count(2015)) == (324, 198, 1)


def test_parquet_keeps_its_types(tmp_path: Path) -> None:
    path = tmp_path / "mixed.parquet"
    source = pa.table(
        {
            "Count": pa.array([1, 2, None], pa.int64()),
            "Share": pa.array([0.5, None, 1.25], pa.float32()),
            "Open?": [True, False, None],
            "ZIP": ["02134", "00501", None],
            "Seen At": pa.array([datetime(2020, 1, 7, 12), None, datetime(2021, 3, 1)], pa.timestamp("ns")),
            "Stamped": pa.array(
                [datetime(2020, 1, 7, 12, tzinfo=UTC)] * 3, pa.timestamp("ms", tz="America/Chicago")
            ),
            "Day": pa.array([date(2020, 1, 7), date(2020, 2, 29), None], pa.date32()),
            "Dept": pa.array(["PW", "PW", "Parks"]).dictionary_encode(),
        }
    )
    pq.write_table(source, path)
    loaded = read_file(path)
    assert _types(loaded.columns) == {
        "count": "number",
        "share": "number",
        "open": "checkbox",
        "zip": "text",
        "seen_at": "floating_timestamp",
        "stamped": "fixed_timestamp",
        "day": "floating_timestamp",
        "dept": "text",
    }
    rows = loaded.table.to_pylist()
    assert [r["count"] for r in rows] == [1.0, 2.0, None]
    assert [r["zip"] for r in rows] == ["02134", "00501", None]
    assert rows[0]["stamped"] == datetime(2020, 1, 7, 12, tzinfo=UTC)
    assert loaded.table.schema.field("stamped").type == pa.timestamp("us", tz="UTC")
    assert [r["day"] for r in rows] == [datetime(2020, 1, 7), datetime(2020, 2, 29), None]
    assert rows[2]["dept"] == "Parks"
    overridden = read_file(path, column_types={"ZIP": "number"})
    assert overridden.table.column("zip").to_pylist() == [2134.0, 501.0, None]
    with pytest.raises(LoadError) as err:
        read_file(path, column_types={"dept": "number"})
    assert (err.value.row, err.value.column) == (1, "Dept")


def test_column_type_overrides(real_data: Path) -> None:
    loaded = read_file(
        real_data / KC, column_types={"EXCEEDED EST TIMEFRAME": "checkbox", "zip_code": "number"}
    )
    types = _types(loaded.columns)
    assert (types["exceeded_est_timeframe"], types["zip_code"]) == ("checkbox", "number")
    assert loaded.table.column("exceeded_est_timeframe").to_pylist()[:2] == [True, False]
    with pytest.raises(UsageError, match="case_id, source"):
        read_file(real_data / KC, column_types={"no such column": "text"})
    with pytest.raises(UsageError, match="floating_timestamp"):
        read_file(real_data / KC, column_types={"zip_code": "numbr"})


def _state(store_dir: Path) -> list[tuple[str, int, int, list[dict[str, object]]]]:
    with Store(store_dir) as store:
        return [
            (i.id, i.version, i.row_count, store.arrow(i.id, system=True).to_pylist())
            for i in store.datasets()
        ]


def _write(path: Path, text: str | bytes) -> Path:
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_bad_files_name_row_and_column_and_change_nothing(tmp_path: Path) -> None:
    store_dir = tmp_path / "store"
    good = _write(tmp_path / "good.csv", 'id,when,amount\n1,1/7/20,3\n2,"1/8/20",4\n')
    with Store(store_dir) as store:
        load_file(store, good, "ds", row_identifier="id")
    before = _state(store_dir)
    # A quoted cell with a line break: the bad row is row 4 but starts on line 5.
    ragged = _write(tmp_path / "ragged.csv", 'id,note,amount\n1,"two\nlines",3\n2,x,4\n3,y,5,6\n')
    bad_value = _write(tmp_path / "bad.csv", 'id,note,amount\n1,"two\nlines",3\n2,x,4\n3,y,lots\n')
    cases: list[tuple[Path, dict[str, str] | None, type[Exception], int | None, str | None, str]] = [
        (ragged, None, LoadError, 4, "amount", "line 5"),
        (_write(tmp_path / "short.csv", "a,b,c\n1,2,3\n4,5\n"), None, LoadError, 3, "c", "row 3"),
        (bad_value, {"amount": "number"}, LoadError, 4, "amount", "'lots'"),
        (tmp_path / "missing.csv", None, LoadError, None, None, "No file"),
        (_write(tmp_path / "empty.csv", ""), None, LoadError, None, None, "empty"),
        (_write(tmp_path / "bom.csv", b"\xef\xbb\xbf\r\n"), None, LoadError, None, None, "empty"),
        (_write(tmp_path / "binary.csv", bytes(range(256)) * 8), None, LoadError, None, None, "binary"),
        (
            _write(tmp_path / "latin1.csv", "name\nCaf\xe9\n".encode("latin-1")),
            None,
            LoadError,
            None,
            None,
            "UTF-8",
        ),
        (_write(tmp_path / "fake.parquet", "not parquet"), None, LoadError, None, None, "Parquet"),
        (_write(tmp_path / "data.xls", "x"), None, LoadError, None, None, ".csv"),
        (_write(tmp_path / "data.xlsx", "x"), None, LoadError, None, None, "not a readable .xlsx"),
        (tmp_path, None, LoadError, None, None, "folder"),
        (good, {"nope": "text"}, UsageError, None, None, "id, when, amount"),
        (good, {"amount": "money-ish"}, UsageError, None, None, "Use one of"),
    ]
    for path, overrides, kind, row, column, text in cases:
        with Store(store_dir) as store, pytest.raises(kind) as err:
            load_file(store, path, "ds", column_types=overrides)
        assert type(err.value) is kind, path
        assert text in str(err.value), (path, str(err.value))
        if isinstance(err.value, LoadError):
            assert (err.value.row, err.value.column) == (row, column), (path, str(err.value))
    with Store(store_dir) as store:
        with pytest.raises(LoadError, match="must be unique") as dup:
            load_file(store, _write(tmp_path / "dup.csv", "id,v\n1,a\n2,b\n1,c\n"), "ds", row_identifier="id")
        assert (dup.value.row, dup.value.column) == (4, "id")
        with pytest.raises(UsageError, match="not a column"):
            load_file(store, good, "ds", row_identifier="nope")
    assert _state(store_dir) == before


def test_cli_load_then_errors(tmp_path: Path, real_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store_dir = tmp_path / "store"
    args = [
        "load",
        str(real_data / LIBRARY_MONTHLY),
        "--dataset",
        "library-monthly",
        "--store",
        str(store_dir),
    ]
    assert main([*args, "--row-id", "Month", "--column-type", "Total Library Visitors=number"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 2
    assert "library-monthly" in out[0] and "16 rows" in out[0] and "month floating_timestamp" in out[0]
    # The export pads the sheet with 38 rows of bare commas: load says it left them out.
    assert out[1] == "Skipped 38 empty rows of Library_Monthly_Stats.csv (every cell blank)."
    before = _state(store_dir)
    assert before[0][2] == 16
    assert main([*args, "--column-type", "Month=number"]) == 2
    err = capsys.readouterr().err
    assert "row 2" in err and "'Month'" in err and "'Jul-13'" in err
    assert main([*args, "--column-type", "Month"]) == 2
    assert "FIELD=TYPE" in capsys.readouterr().err
    assert _state(store_dir) == before


def _python_m_load(source: Path, store_dir: str) -> subprocess.CompletedProcess[str]:
    """``python -m btvstat_open load SOURCE --dataset water --store STORE_DIR``, output captured."""
    argv = [
        sys.executable,
        "-m",
        "btvstat_open",
        "load",
        str(source),
        "--dataset",
        "water",
        "--store",
        store_dir,
    ]
    return subprocess.run(argv, capture_output=True, text=True, check=False)


def test_python_m_load_exit_codes(tmp_path: Path, real_data: Path) -> None:
    store_dir = str(tmp_path / "store")
    ok = _python_m_load(real_data / WATER, store_dir)
    assert ok.returncode == 0, ok.stderr
    assert "13920 rows" in ok.stdout and "zip_code location" in ok.stdout
    bad = _python_m_load(tmp_path / "nope.csv", store_dir)
    assert bad.returncode == 2
    assert "Traceback" not in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1 and "nope.csv" in bad.stderr
    with Store(store_dir) as store:
        assert store.info("water").row_count == 13920


def _run_with_terminal_stderr(argv: list[str]) -> tuple[int, str, str]:
    """Run the CLI with stderr on a pseudo-terminal (as in a shell) and stdout piped."""
    leader, follower = pty.openpty()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "btvstat_open", *argv],
            stdout=subprocess.PIPE,
            stderr=follower,
            text=True,
            check=False,
            timeout=120,
        )
    finally:
        os.close(follower)
    drawn = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal is closed once everything is read
            break
        if not chunk:
            break
        drawn += chunk
    os.close(leader)
    return proc.returncode, proc.stdout, drawn.decode("utf-8", "replace")


def test_cli_load_shows_progress_on_a_terminal_only(tmp_path: Path, real_data: Path) -> None:
    argv = ["load", str(real_data / LIBRARY_MONTHLY), "--dataset", "lib", "--store", str(tmp_path / "s")]
    code, out, terminal = _run_with_terminal_stderr(argv)
    assert code == 0
    assert "load Library_Monthly_Stats.csv" in terminal
    assert out.startswith("Loaded 16 rows into lib") and "load Library" not in out
    piped = subprocess.run(
        [sys.executable, "-m", "btvstat_open", *argv],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert piped.returncode == 0 and piped.stderr == ""
    assert piped.stdout.startswith("Loaded 16 rows into lib")


def test_real_parquet_file_loads_with_its_types_and_rows(tmp_path: Path) -> None:
    """A Parquet file built from real KC 311 data (bundled with the demo) agrees with DuckDB on the file."""
    path = Path(__file__).parents[1] / "catalog" / "demo" / "data" / "kc-311-potholes.parquet"
    schema = pq.read_schema(path)
    with Store(tmp_path / "store") as store:
        info = load_file(store, path, "kc-parquet", row_identifier="case_id")
        assert info.row_count == pq.ParquetFile(path).metadata.num_rows > 4000
        expected_types = {
            f.name: "number" if pa.types.is_floating(f.type) else
            "floating_timestamp" if pa.types.is_timestamp(f.type) else "text"
            for f in schema
        }  # fmt: skip
        assert _types(list(info.columns)) == expected_types
        assert {"number", "floating_timestamp", "text"} <= set(expected_types.values())
        stored = (
            store.cursor()
            .execute(
                f"SELECT sum(days_to_close), count(closed_date), min(creation_date), count(DISTINCT status) "
                f"FROM {info.table}"
            )
            .fetchall()
        )
    direct = (
        duckdb.connect()
        .execute(
            "SELECT sum(days_to_close), count(closed_date), min(creation_date), count(DISTINCT status) "
            f"FROM read_parquet('{path}')"
        )
        .fetchall()
    )
    assert stored == direct
