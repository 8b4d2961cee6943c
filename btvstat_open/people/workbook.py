"""The spreadsheet round trip: a workbook of the person's due items, filled in and uploaded back.

:func:`due_workbook` writes one row per open KPI period (its key in a hidden column, the
instructions on their own sheet, number validation on the value cells). :func:`read_rows`
reads an upload back and :func:`check_rows` checks every cell: the answer is either the entries,
or every error as row, column and the fix. Nothing is submitted on any error (the routes and the command line
submit all the entries in one transaction).

Example:
    >>> from datetime import date
    >>> from btvstat_open.people.due import DueItem
    >>> item = DueItem("k", "Public Works", date(2020, 1, 1), date(2020, 1, 31), date(2020, 2, 10), "late")
    >>> data = due_workbook([item], {"k": "Potholes"}, {"k": False})
    >>> read_rows(data)  # nothing filled in yet
    []
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from btvstat_open.errors import BtvstatError, UsageError
from btvstat_open.i18n import _
from btvstat_open.people.due import DueItem
from btvstat_open.people.submissions import ValueEntry

__all__ = ["COLUMNS", "CellError", "SheetRow", "check_rows", "due_workbook", "read_rows"]

SHEET = "Entries"
COLUMNS = (
    "Item", "KPI", "Department", "Period start", "Period end", "Due", "State",
    "Value", "Numerator", "Denominator", "Comment", "Reason (locked periods)",
)  # fmt: skip
_INPUTS = ("Value", "Numerator", "Denominator", "Comment", "Reason (locked periods)")
_FIELD = {"Value": "value", "Numerator": "numerator", "Denominator": "denominator", "Comment": "comment"}
_MAX_BYTES = 5 * 1024 * 1024
_MAX_ROWS = 5000
INSTRUCTIONS = (
    "How to fill in this workbook",
    "",
    "1. On the Entries sheet, each row is one KPI period your department reports.",
    "2. Type the period's value in Value; for a rate (the KPI's title says so) type Numerator and "
    "Denominator instead.",
    "3. Comment: what happened, and what you are doing about it (optional, up to 4000 characters).",
    "4. Leave a row's input cells empty to skip it. Do not change the Item column or add rows.",
    "5. Upload the workbook on the Updates page: every cell is checked, nothing is saved while any "
    "cell is wrong, and you see a preview before you submit.",
    "6. Submitted values wait for the program office's approval before they are published.",
)


@dataclass(frozen=True)
class SheetRow:
    """One filled-in row: its spreadsheet row number, item key and input cells (as text)."""

    number: int
    item: str
    cells: dict[str, str]


@dataclass(frozen=True)
class CellError:
    """One wrong cell: where it is and how to fix it."""

    row: int
    column: str  # "H (Value)"
    message: str


def due_workbook(items: Sequence[DueItem], titles: Mapping[str, str], rates: Mapping[str, bool]) -> bytes:
    """The workbook of ``items`` (``titles`` and ``rates`` by KPI id), as .xlsx bytes."""
    book = Workbook()
    sheet = book.active
    sheet.title = SHEET
    sheet.append(list(COLUMNS))
    for item in items:
        title = titles.get(item.kpi_id, item.kpi_id) + (" (rate)" if rates.get(item.kpi_id) else "")
        state = item.state.replace("_", " ")
        row = [item.key, title, item.department, item.period_start, item.period_end, item.due, state]
        sheet.append([*row, None, None, None, None, None])
    last = max(2, len(items) + 1)
    numbers = DataValidation(type="decimal", operator="between", formula1="-1E+15", formula2="1E+15")
    numbers.error, numbers.errorTitle, numbers.showErrorMessage = "Type a number.", "Not a number", True
    sheet.add_data_validation(numbers)
    numbers.add(f"H2:J{last}")
    text = DataValidation(type="textLength", operator="lessThanOrEqual", formula1="4000")
    text.error, text.showErrorMessage = "At most 4000 characters.", True
    sheet.add_data_validation(text)
    text.add(f"K2:L{last}")
    sheet.column_dimensions["A"].hidden = True
    for index, width in enumerate((24, 40, 18, 12, 12, 12, 12, 12, 12, 12, 50, 30), start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "B2"
    notes = book.create_sheet("Instructions")
    for line in INSTRUCTIONS:
        notes.append([line])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_rows(data: bytes) -> list[SheetRow]:
    """The filled-in rows of an uploaded workbook (rows with no input are left out)."""
    if len(data) > _MAX_BYTES:
        raise UsageError(_("The workbook is over 5 MB; upload the one downloaded from the Updates page."))
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:
        raise UsageError(
            _("This is not an .xlsx workbook; download one from the Updates page and fill it in.")
        ) from None
    if SHEET not in book.sheetnames:
        raise UsageError(
            _("The workbook has no sheet named %(sheet)s; use the one downloaded from the Updates page.")
            % {"sheet": SHEET}
        )
    rows = book[SHEET].iter_rows(values_only=True)
    header = [_text(v) for v in next(rows, ())]
    if tuple(header[: len(COLUMNS)]) != COLUMNS:
        raise UsageError(_("The Entries sheet's first row was changed; download a fresh workbook."))
    found = []
    for number, values in enumerate(rows, start=2):
        if number > _MAX_ROWS + 1:
            raise UsageError(_("The workbook has more than %(rows)s rows; split it.") % {"rows": _MAX_ROWS})
        cells = {name: _text(values[i]) if i < len(values) else "" for i, name in enumerate(COLUMNS)}
        if any(cells[name] for name in _INPUTS):
            found.append(SheetRow(number, cells["Item"], {n: cells[n] for n in _INPUTS}))
    book.close()
    return found


def _column(name: str) -> str:
    return f"{get_column_letter(COLUMNS.index(name) + 1)} ({name})"


def check_rows(
    rows: Sequence[SheetRow], check: Callable[[str, Mapping[str, str]], ValueEntry]
) -> tuple[list[ValueEntry], list[CellError]]:
    """Check every row with ``check`` (item key, fields -> entry); the entries, or every error."""
    entries: list[ValueEntry] = []
    errors: list[CellError] = []
    seen: dict[str, int] = {}
    for row in rows:
        if row.item in seen:
            errors.append(
                CellError(row.number, _column("Item"), f"the same period as row {seen[row.item]}; keep one")
            )
            continue
        seen[row.item] = row.number
        fields = {_FIELD.get(name, "reason"): value for name, value in row.cells.items()}
        try:
            entries.append(check(row.item, fields))
        except BtvstatError as exc:
            errors.append(CellError(row.number, _column(_blamed(exc.message, row)), exc.message))
    return entries, errors


def _blamed(message: str, row: SheetRow) -> str:
    """The column an error message is about."""
    lowered = message.lower()
    for name in ("Numerator", "Denominator", "Value", "Comment"):
        if lowered.startswith(name.lower()) or (name == "Value" and "enter the value" in lowered):
            return name
    if "numerator" in lowered:
        return "Numerator" if not row.cells["Numerator"] else "Denominator"
    if "reason" in lowered:
        return "Reason (locked periods)"
    return "Item"
