"""Reading a CSV file's cells as text, and saying where in the file a row is.

The fast path is Arrow's CSV reader (every cell as text, empty cells null); when it fails,
the file is read again with Python's :mod:`csv` to name the row and column at fault. Rows
are numbered as a spreadsheet shows them: the header is row 1, and a quoted cell with line
breaks does not add rows (messages also give the line in the file when it differs).

A file may be a path or :class:`FileBytes` (a name and its bytes, for files fetched from an
fsspec URL). The delimiter is sniffed from the header line (:func:`sniff_delimiter`): ``,``,
``;`` (Opendatasoft and European spreadsheet exports), tab or ``|``.
"""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from btvstat_open.errors import LoadError
from btvstat_open.limits import limit, too_large

__all__ = [
    "CsvSource",
    "FileBytes",
    "csv_records",
    "describe_row",
    "explain_parse_error",
    "locate_record",
    "not_utf8",
    "read_csv_cells",
    "read_header",
    "sniff_delimiter",
]

_SNIFF_BYTES = 8192
_DELIMITERS = (",", ";", "\t", "|")


@dataclass(frozen=True)
class FileBytes:
    """A file held in memory: its name (for messages and its type) and its bytes.

    Example:
        >>> f = FileBytes("sites.csv", b"a;b")
        >>> f.suffix, f.stem, f.open("r").read()
        ('.csv', 'sites', 'a;b')
    """

    name: str
    data: bytes

    @property
    def suffix(self) -> str:
        """The file name's extension (``.csv``)."""
        return PurePosixPath(self.name).suffix

    @property
    def stem(self) -> str:
        """The file name without its extension."""
        return PurePosixPath(self.name).stem

    def read_bytes(self) -> bytes:
        """The bytes (as :meth:`pathlib.Path.read_bytes`)."""
        return self.data

    def open(self, mode: str = "r", encoding: str | None = None, newline: str | None = None) -> IO[Any]:
        """A binary or text stream over the bytes (as :meth:`pathlib.Path.open`)."""
        raw = io.BytesIO(self.data)
        if "b" in mode:
            return raw
        return io.TextIOWrapper(raw, encoding=encoding or "utf-8", newline=newline)


#: What the CSV functions read: a path on disk or bytes in memory.
CsvSource = Path | FileBytes


def sniff_delimiter(path: CsvSource) -> str:
    """The delimiter of the header line: the most frequent of ``,`` ``;`` tab ``|`` (``,`` by default).

    Example:
        >>> sniff_delimiter(FileBytes("x.csv", b"Geo Point;zone_id;site_id"))
        ';'
        >>> sniff_delimiter(FileBytes("x.csv", b"a,b;c,d"))
        ','
    """
    with path.open("rb") as f:
        head = f.read(_SNIFF_BYTES)
    first = head.split(b"\n", 1)[0].decode("utf-8", "replace")
    counts = {d: first.count(d) for d in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda d: (counts[d], d == ","))
    return best if counts[best] else ","


def _bounded_lines(f: IO[str], name: str) -> Iterator[str]:
    """The file's lines, each at most ``BTVSTAT_MAX_LINE_MB`` long (a longer one is a LoadError)."""
    most = limit("BTVSTAT_MAX_LINE_MB")
    while line := f.readline(most + 1):
        if len(line) > most:
            raise LoadError(too_large("BTVSTAT_MAX_LINE_MB", f"A line of {name}"))
        yield line


def csv_records(path: CsvSource, delimiter: str = ",") -> Iterator[tuple[int, int, list[str]]]:
    """Every CSV record as (row, first line, cells); row 1 is the header; blank lines are rows.

    Lines and cells are capped (``BTVSTAT_MAX_LINE_MB``, ``BTVSTAT_MAX_CELL_MB``): a longer one is
    a :class:`LoadError` naming the setting, read without holding it whole.
    """
    csv.field_size_limit(min(sys.maxsize, limit("BTVSTAT_MAX_CELL_MB")))
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(_bounded_lines(f, path.name), delimiter=delimiter)
        line = 1
        try:
            for row, cells in enumerate(reader, start=1):
                yield row, line, cells
                line = reader.line_num + 1
        except csv.Error as exc:
            if "field limit" not in str(exc):
                raise
            raise LoadError(
                too_large("BTVSTAT_MAX_CELL_MB", f"A cell of {path.name} near line {line}")
            ) from exc


def describe_row(row: int, line: int) -> str:
    """How a message names a row, with its line in the file when a quoted cell spans lines.

    Example:
        >>> describe_row(5, 7)
        'row 5 (line 7 of the file)'
    """
    return f"row {row}" + (f" (line {line} of the file)" if line != row else "")


def locate_record(path: CsvSource, data_index: int, delimiter: str = ",") -> tuple[int, int]:
    """Row and line of the ``data_index``-th (0-based) non-blank data record."""
    seen = -1
    for row, line, cells in csv_records(path, delimiter):
        if row > 1 and cells:
            seen += 1
            if seen == data_index:
                return row, line
    return data_index + 2, data_index + 2


def explain_parse_error(
    path: CsvSource, headers: list[str], exc: Exception, delimiter: str = ","
) -> LoadError:
    """Find the row that made the fast reader fail and say what is wrong with it."""
    try:
        for row, line, cells in csv_records(path, delimiter):
            if row == 1 or not cells or len(cells) == len(headers):
                continue
            where = describe_row(row, line)
            if len(cells) > len(headers):
                return LoadError(
                    f"{path.name}: {where} has {len(cells)} cells but the header has {len(headers)} "
                    f"columns; the extra cell {cells[len(headers)]!r} comes after column "
                    f"{headers[-1]!r}. Remove it or quote cells that contain commas.",
                    row=row,
                    column=headers[-1],
                )
            missing = headers[len(cells)]
            return LoadError(
                f"{path.name}: {where} has {len(cells)} cells but the header has {len(headers)} "
                f"columns; column {missing!r} and after are missing. Add the missing cells "
                "(empty is fine) or fix an unclosed quote above it.",
                row=row,
                column=missing,
            )
    except UnicodeDecodeError:
        return not_utf8(path)
    except csv.Error as csv_error:
        return LoadError(f"{path.name} is not a well-formed CSV file: {csv_error}. Fix the quoting.")
    return LoadError(f"{path.name} could not be read as CSV: {exc}. Check its quoting and line endings.")


def not_utf8(path: CsvSource) -> LoadError:
    """The error for a file that is not UTF-8, naming the first line that is not."""
    data = path.read_bytes()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return LoadError(
            f"{path.name} is not UTF-8 text (line {line}). Save it as 'CSV UTF-8' "
            "(in Excel: Save As > CSV UTF-8) and load it again.",
            row=None,
        )
    return LoadError(f"{path.name} could not be decoded. Save it as 'CSV UTF-8' and load it again.")


def read_header(path: CsvSource, delimiter: str = ",") -> list[str]:
    """The first non-blank record's cells; an empty, binary or non-UTF-8 file is a :class:`LoadError`."""
    with path.open("rb") as f:
        head = f.read(_SNIFF_BYTES)
    if not head.lstrip(b"\xef\xbb\xbf \t\r\n"):
        raise LoadError(f"{path.name} is empty. Export the data again with a header row.")
    if b"\x00" in head:
        raise LoadError(
            f"{path.name} is not a CSV text file (it holds binary data). Export it as CSV (UTF-8) or Parquet."
        )
    try:
        for _row, _line, cells in csv_records(path, delimiter):
            if cells:
                return cells
    except UnicodeDecodeError as exc:
        raise not_utf8(path) from exc
    except csv.Error as exc:
        raise LoadError(f"{path.name}: the header row is not valid CSV ({exc}). Fix its quoting.") from exc
    raise LoadError(f"{path.name} is empty. Export the data again with a header row.")


def read_csv_cells(path: CsvSource, delimiter: str = ",") -> tuple[list[str], pa.Table, pa.Array, int]:
    """The header, every data cell as text (empty cells null), each kept row's record index, and
    how many all-empty rows were dropped."""
    headers = read_header(path, delimiter)
    names = [f"c{i}" for i in range(len(headers))]
    try:
        raw = pcsv.read_csv(
            pa.BufferReader(path.data) if isinstance(path, FileBytes) else path,
            # A record longer than a block fails ("straddling"): a block is the longest record allowed.
            read_options=pcsv.ReadOptions(
                column_names=names, skip_rows=1, block_size=max(1 << 20, limit("BTVSTAT_MAX_LINE_MB"))
            ),
            parse_options=pcsv.ParseOptions(newlines_in_values=True, delimiter=delimiter),
            convert_options=pcsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=True,
                null_values=[""],
                quoted_strings_can_be_null=True,
            ),
        )
    except pa.ArrowInvalid as exc:
        if "utf8" in str(exc).lower():
            raise not_utf8(path) from exc
        if "straddl" in str(exc):
            raise LoadError(too_large("BTVSTAT_MAX_LINE_MB", f"A record of {path.name}")) from exc
        raise explain_parse_error(path, headers, exc, delimiter) from exc
    # Rows whose cells are all empty (``,,,,`` padding from spreadsheets) carry no data.
    filled = pa.array([False] * raw.num_rows, pa.bool_())
    for i in range(raw.num_columns):
        filled = pc.or_(filled, pc.is_valid(raw.column(i)))
    kept = pc.indices_nonzero(filled)
    dropped = raw.num_rows - len(kept)
    if dropped:
        raw = raw.take(kept)
    return headers, raw, kept, dropped
