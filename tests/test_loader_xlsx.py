"""`btvstat-open load` reads .xlsx workbooks (one sheet, --sheet NAME) exactly as the same data saved as
CSV, and names a bad cell by the row Excel shows."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import Workbook

from btvstat_open.cli import main
from btvstat_open.load import read_file
from btvstat_open.store import Store

HEADER = ["Case ID", "ZIP Code", "Opened", "Days", "Closed", "Note"]
ROWS = [
    ["C-1", "05401", datetime(2020, 1, 7, 9, 30), 3, True, "pothole, deep"],
    ["C-2", "05408", datetime(2020, 1, 8), 2.5, False, None],
]


def _book(path: Path, rows: list[list[object]]) -> Path:
    book = Workbook()
    cover = book.active
    assert cover is not None
    cover.title = "Read me"
    cover.append(["This workbook's data is on the Cases sheet"])
    cases = book.create_sheet("Cases")
    cases.append(HEADER)
    for row in rows:
        cases.append(row)
    book.save(path)
    return path


def test_a_sheet_loads_like_its_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    book = _book(tmp_path / "cases.xlsx", ROWS)
    (tmp_path / "cases.csv").write_text(
        ",".join(HEADER) + '\nC-1,05401,2020-01-07T09:30:00,3,true,"pothole, deep"\n'
        "C-2,05408,2020-01-08T00:00:00,2.5,false,\n"
    )
    store = str(tmp_path / "s")
    assert main(["load", str(book), "--dataset", "cases", "--sheet", "Cases", "--store", store]) == 0
    assert "Loaded 2 rows into cases" in capsys.readouterr().out
    from_csv = read_file(tmp_path / "cases.csv")
    with Store(store) as s:
        info = s.info("cases")
        assert [(c.field_name, c.name, c.data_type) for c in info.columns] == [
            (c.field_name, c.name, c.data_type) for c in from_csv.columns
        ]
        assert s.arrow("cases").sort_by("case_id").equals(from_csv.table)
    assert [c.data_type for c in from_csv.columns] == [
        "text",
        "text",
        "floating_timestamp",
        "number",
        "checkbox",
        "text",
    ]


def test_sheet_errors_name_the_row_and_column(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    book = _book(tmp_path / "cases.xlsx", [*ROWS, [None] * 6, ["C-3", "05401", "soon", 1, True, None]])
    store = str(tmp_path / "s")
    args = ["load", str(book), "--dataset", "cases", "--sheet", "Cases", "--store", store]
    assert main([*args, "--column-type", "opened=floating_timestamp"]) == 2
    err = capsys.readouterr().err
    assert "row 5 of sheet 'Cases', column 'Opened': 'soon'" in err
    assert main([*args[:-2], "--sheet", "Sheet9"]) == 2
    assert "has no sheet 'Sheet9'. Its sheets: 'Read me', 'Cases'" in capsys.readouterr().err
    (tmp_path / "a.csv").write_text("a\n1\n")
    assert main(["load", str(tmp_path / "a.csv"), "--dataset", "a", "--sheet", "X", "--store", store]) == 2
    assert "--sheet is for Excel workbooks" in capsys.readouterr().err
    with Store(store) as s:
        assert not s.exists("cases")  # nothing was loaded by a failed load
