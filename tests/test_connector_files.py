"""The file connector: the contract suite over CSV, Excel and Parquet files on disk and in memory://,
the Burlington Opendatasoft exports as published, and what a file cannot do."""

from __future__ import annotations

import shutil
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import fsspec
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from openpyxl import Workbook

from btvstat_open.errors import (
    DatasetNotFound,
    LoadError,
    NotSupported,
    PortalUnavailable,
    SoqlError,
    UsageError,
)
from connectors import connect
from connectors.files import FileConnector
from connectors.testing import ConnectorContract, ContractSetup, source_table

REAL = Path(__file__).parent / "data" / "real" / "opendatasoft-burlington-btvstat"
ROWS = source_table().num_rows


def write_xlsx(table: pa.Table, path: Path, sheet: str = "Rows") -> None:
    """The table as one sheet of a workbook, cells typed as Excel types them."""
    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.title = sheet
    ws.append(table.column_names)
    for row in table.to_pylist():
        ws.append(list(row.values()))
    book.save(path)


def write_source(folder: Path, suffix: str) -> str:
    table = source_table()
    name = f"contract{suffix}"
    if suffix == ".csv":
        pacsv.write_csv(table, folder / name)
    elif suffix == ".xlsx":
        write_xlsx(table, folder / name)
    else:
        pq.write_table(table, folder / name)
    return name


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """One folder on disk with the contract rows as CSV, .xlsx and Parquet; a memory:// copy of it."""
    folder = tmp_path_factory.mktemp("files")
    for suffix in (".csv", ".xlsx", ".parquet"):
        write_source(folder, suffix)
    (folder / "notes.txt").write_text("not a data file")
    memory = f"memory://contract-{uuid.uuid4().hex}"
    fs = fsspec.filesystem("memory")
    for path in folder.iterdir():
        fs.pipe_file(f"{memory}/{path.name}", path.read_bytes())
    yield {"disk": str(folder), "memory": memory}
    fs.rm(memory, recursive=True)


@pytest.fixture(
    params=[
        ("disk", ".csv"),
        ("disk", ".xlsx"),
        ("disk", ".parquet"),
        ("memory", ".csv"),
        ("memory", ".xlsx"),
    ],
    ids=lambda p: f"{p[0]}{p[1]}",
)
def contract(request: pytest.FixtureRequest, folders: dict[str, str]) -> ContractSetup:
    where, suffix = request.param
    conn = connect(folders[where], page_size=500)
    assert isinstance(conn, FileConnector)
    return ContractSetup(conn, f"contract{suffix}", None, ROWS)


class TestFileContract(ConnectorContract):
    """Every contract test, for files: read-only, no changes (push, create, changes refuse)."""


def test_a_stem_names_the_file_when_only_one_has_it(tmp_path: Path) -> None:
    write_source(tmp_path, ".csv")
    shutil.copy(tmp_path / "contract.csv", tmp_path / "only.csv")
    conn = connect(str(tmp_path))
    assert conn.describe("only").name == "only.csv"
    write_source(tmp_path, ".parquet")
    with pytest.raises(UsageError, match=r"'contract' names 2 files .*contract\.csv, contract\.parquet"):
        conn.describe("contract")
    with pytest.raises(DatasetNotFound, match=r"No file 'gone' in .*: contract\.csv, contract\.parquet"):
        conn.describe("gone")


def test_what_a_file_cannot_do_is_refused_with_a_reason(tmp_path: Path) -> None:
    conn = connect(str(tmp_path / ""), kind="file")
    write_source(tmp_path, ".csv")
    for verb, call in (
        ("push", lambda: conn.push(source_table(1), "contract.csv")),
        ("changes", lambda: conn.row_stats("contract.csv")),
        ("changes", lambda: conn.pull("contract.csv", since="2024-01-01")),
    ):
        with pytest.raises(NotSupported) as refused:
            call()
        assert refused.value.capability == verb and refused.value.kind == "file"
    with pytest.raises(SoqlError, match="SQL over the file's field names"):
        conn.pull("contract.csv", where="no_such_column > 1")


def test_a_relative_folder_is_relative_to_base_dir(tmp_path: Path) -> None:
    (tmp_path / "exports").mkdir()
    write_source(tmp_path / "exports", ".parquet")
    conn = connect("exports", kind="file", base_dir=tmp_path)
    assert conn.url == str(tmp_path / "exports")
    assert [d.id for d in conn.datasets()] == ["contract.parquet"]


def test_a_missing_folder_and_a_missing_filesystem_package_are_clear(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="No folder"):
        connect(str(tmp_path / "nowhere")).datasets()
    # gcsfs is in no extra of this project (s3fs is, in the test extra): its absence is the user's to fix
    with pytest.raises(UsageError, match=r"gs://bucket/exports needs an fsspec filesystem package .* gcsfs"):
        connect("gs://bucket/exports")
    with socket.socket() as closed:  # a port nothing listens on: an FTP server that is not there
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    with pytest.raises(PortalUnavailable, match=f"Cannot open ftp://127.0.0.1:{port}/x: "):
        connect(f"ftp://127.0.0.1:{port}/x")


def test_the_burlington_exports_read_as_published(tmp_path: Path) -> None:
    """';'-delimited, unquoted, CRLF Opendatasoft exports: every row, pandas' own reading of the cells."""
    for name in ("planting-sites.csv", "child-care-locations.csv"):
        shutil.copy(REAL / name, tmp_path / name)
    assert b"\r\n" in (tmp_path / "planting-sites.csv").read_bytes()[:400]
    conn = connect(str(tmp_path))
    trees = conn.pull("planting-sites")
    want = pd.read_csv(REAL / "planting-sites.csv", sep=";")
    assert trees.num_rows == len(want) == 12_836
    types = {c.field_name: c.data_type for c in conn.describe("planting-sites").columns}
    assert types["geo_point"] == "point" and types["planted"] == "number" and types["appraise"] == "number"
    assert types["modified"] == "floating_timestamp"
    assert trees.column("species").to_pylist() == [None if pd.isna(v) else v for v in want["species"]]
    assert trees.column("appraise").to_pylist()[:2] == [2470.0, 240.0]
    assert trees.column("park").null_count == int(want["park"].isna().sum()) == 9_349
    assert str(trees.column("modified")[0].as_py()) == "2013-10-01 00:00:00"
    care = conn.pull("child-care-locations.csv", select="zip_code, usual_program_start", order="zip_code")
    assert set(care.column("zip_code").to_pylist()) >= {"05401"}
    assert care.column("usual_program_start").type == pa.string()


def test_xlsx_sheets_and_their_errors_name_the_row_a_user_sees(tmp_path: Path) -> None:
    book = Workbook()
    first = book.active
    assert first is not None
    first.title = "Summary"
    first.append(["Nothing here but a title"])
    sites = book.create_sheet("Sites")
    sites.append(["Site", "Zip", "Planted", "Count"])
    sites.append(["A-1", "05401", 2019, 3])
    sites.append([None, None, None, None])  # an empty row, dropped
    sites.append(["A-2", "05408", 2020, "lots"])
    book.save(tmp_path / "trees.xlsx")
    conn = connect(str(tmp_path), sheet="Sites")
    types = {c.field_name: c.data_type for c in conn.describe("trees").columns}
    assert types == {"site": "text", "zip": "text", "planted": "number", "count": "text"}
    typed = connect(str(tmp_path), sheet="Sites", column_types={"count": "number"})
    with pytest.raises(LoadError) as err:
        typed.describe("trees")
    assert (err.value.row, err.value.column) == (4, "Count")
    assert "row 4 of sheet 'Sites'" in err.value.message and "'lots'" in err.value.message
    with pytest.raises(LoadError, match=r"no sheet 'Nope'\. Its sheets: 'Summary', 'Sites'"):
        connect(str(tmp_path), sheet="Nope").describe("trees.xlsx")
