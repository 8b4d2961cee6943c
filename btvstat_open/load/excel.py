"""Reading one sheet of an Excel ``.xlsx`` workbook as columns of text cells.

The loader types the text exactly as it types a CSV file's (:mod:`btvstat_open.load.inference`),
so a workbook and the same data saved as CSV load alike: a number cell becomes its digits, a
date cell its ISO 8601 text, ``TRUE``/``FALSE`` cells ``true``/``false``, a text cell stays as
typed (``05401`` keeps its zero). The header is the first row with a value; rows are numbered
as Excel shows them, so errors name the row a user sees. Formulas count by the value Excel last
saved with them (a workbook written by a program that never computed them reads as empty).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

import pyarrow as pa

from btvstat_open.errors import LoadError
from btvstat_open.limits import limit, too_large

__all__ = ["SheetCells", "cell_text", "read_sheet_cells"]


@dataclass(frozen=True)
class SheetCells:
    """A sheet's header, its data cells as text (empty cells null) and each row's Excel row number.

    Example:
        >>> SheetCells("S", ["a"], pa.table({"c0": ["1"]}), pa.array([2])).headers
        ['a']
    """

    sheet: str
    headers: list[str]
    raw: pa.Table
    rows: pa.Array


def cell_text(value: Any) -> str | None:
    """A cell value as the text a CSV export of it would hold (None for an empty cell).

    Example:
        >>> [cell_text(v) for v in (None, True, 12, 2.5, datetime(2020, 1, 7, 0, 0), " ", "05401")]
        [None, 'true', '12', '2.5', '2020-01-07T00:00:00', None, '05401']
    """
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    text = str(value)
    return text if text.strip() else None


# What a workbook that is damaged or hostile makes openpyxl and its XML parser raise.
_UNREADABLE: tuple[type[BaseException], ...] = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    KeyError,
    ValueError,
    TypeError,
    AttributeError,
    IndexError,
    OSError,
    SyntaxError,  # xml.etree's ParseError: entity expansion (billion laughs), malformed XML
    EOFError,
)


def _unreadable(name: str, exc: BaseException) -> LoadError:
    return LoadError(
        f"{name} is not a readable .xlsx workbook ({type(exc).__name__}: {str(exc)[:200]}). Open it in "
        "Excel and save it again as 'Excel Workbook (.xlsx)', or export the sheet as CSV."
    )


def _check_parts(name: str, data: bytes) -> None:
    """Refuse a workbook with a part larger than ``BTVSTAT_MAX_XLSX_PART_MB`` once uncompressed."""
    try:
        parts = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except _UNREADABLE as exc:
        raise _unreadable(name, exc) from exc
    most = limit("BTVSTAT_MAX_XLSX_PART_MB")
    for part in parts:
        if part.file_size > most:
            raise LoadError(
                too_large(
                    "BTVSTAT_MAX_XLSX_PART_MB",
                    f"The part {part.filename} of {name} ({part.file_size:,} bytes)",
                )
            )


def _open_workbook(name: str, data: bytes) -> Any:
    from openpyxl import load_workbook

    _check_parts(name, data)
    try:
        return load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except _UNREADABLE as exc:
        raise _unreadable(name, exc) from exc


def read_sheet_cells(name: str, data: bytes, sheet: str | None = None) -> SheetCells:
    """The cells of sheet ``sheet`` (default: the first) of the workbook ``data``, as text.

    All-empty rows, and columns without a header or a value, are dropped.

    Example:
        >>> from openpyxl import Workbook
        >>> book = Workbook(); ws = book.active; ws.title = "Sites"
        >>> ws.append(["Site", "Planted"]); ws.append(["A-1", 2019]); ws.append([None, None])
        >>> buffer = io.BytesIO(); book.save(buffer)
        >>> cells = read_sheet_cells("trees.xlsx", buffer.getvalue())
        >>> cells.sheet, cells.headers, cells.raw.column(1).to_pylist(), cells.rows.to_pylist()
        ('Sites', ['Site', 'Planted'], ['2019'], [2])
    """
    book = _open_workbook(name, data)
    try:
        names = list(book.sheetnames)
        if sheet is None:
            chosen = names[0]
        elif sheet in names:
            chosen = sheet
        else:
            raise LoadError(
                f"{name} has no sheet {sheet!r}. Its sheets: {', '.join(map(repr, names))}. "
                "Pass one of them with --sheet NAME.",
                code="load.unknown-sheet",
            )
        rows = book[chosen].iter_rows(values_only=True)
        return _cells(name, chosen, enumerate(rows, start=1))
    except _UNREADABLE as exc:
        raise _unreadable(name, exc) from exc
    finally:
        book.close()


def _cells(name: str, sheet: str, rows: Iterable[tuple[int, tuple[Any, ...]]]) -> SheetCells:
    headers: list[str] | None = None
    columns: list[list[str | None]] = []
    numbers: list[int] = []
    cells, most_cells, longest = 0, limit("BTVSTAT_MAX_XLSX_CELLS"), limit("BTVSTAT_MAX_CELL_MB")
    for number, values in rows:
        cells += len(values)
        if cells > most_cells:
            raise LoadError(too_large("BTVSTAT_MAX_XLSX_CELLS", f"Sheet {sheet!r} of {name} (cells)"))
        texts = [cell_text(v) for v in values]
        if any(t is not None and len(t) > longest for t in texts):
            raise LoadError(
                too_large("BTVSTAT_MAX_CELL_MB", f"A cell in row {number} of sheet {sheet!r} of {name}")
            )
        if headers is None:
            if any(t is not None for t in texts):
                headers = [t or "" for t in texts]
                columns = [[] for _ in headers]
            continue
        if all(t is None for t in texts):
            continue
        if len(texts) > len(headers) and any(t is not None for t in texts[len(headers) :]):
            extra = next(i for i in range(len(headers), len(texts)) if texts[i] is not None)
            raise LoadError(
                f"{name}: row {number} of sheet {sheet!r} has a value in column {extra + 1} "
                f"({texts[extra]!r}), which has no header. Add a header in row 1 or clear the cell.",
                row=number,
                column=str(extra + 1),
            )
        for i, column in enumerate(columns):
            column.append(texts[i] if i < len(texts) else None)
        numbers.append(number)
    if headers is None:
        raise LoadError(f"{name}: sheet {sheet!r} is empty. Put a header row and data in it.")
    # Columns with neither a header nor a value are the sheet's formatting, not data.
    kept = [i for i, h in enumerate(headers) if h or any(v is not None for v in columns[i])]
    raw = pa.table({f"c{j}": pa.array(columns[i], pa.string()) for j, i in enumerate(kept)})
    return SheetCells(sheet, [headers[i] for i in kept], raw, pa.array(numbers, pa.int64()))
