"""Loading CSV, Excel and Parquet files into the store (``btvstat-open load``).

:func:`read_file` reads a file into an Arrow table whose columns are named by API
field names and typed by Socrata type; :func:`load_file` writes it to a store as one
dataset, atomically (a file that cannot be read or converted leaves the store as it was).

CSV: UTF-8 (a byte-order mark is dropped), quoted cells may hold line breaks, trailing
all-empty rows (``,,,,``) are dropped, and types are inferred as
:mod:`btvstat_open.load.inference` describes. Rows are numbered as a spreadsheet shows them:
the header is row 1, and a quoted cell with line breaks does not add rows (errors also
give the line in the file when it differs).

CSV delimiters are sniffed from the header line (``,``, ``;`` as Opendatasoft and European
spreadsheets export, tab, ``|``). Excel ``.xlsx``: one sheet (the first, or ``sheet=``), its
cells read as the text a CSV export would hold and typed the same way (:mod:`btvstat_open.load.excel`);
rows are numbered as Excel shows them.

A file is a path or :class:`~btvstat_open.load.csv_cells.FileBytes` (a name and bytes, e.g. read from
an fsspec URL by the file connector).

Parquet: the file's own types are kept (:mod:`btvstat_open.load.parquet_columns`); strings
stay ``text`` (a Parquet writer chose text, so it is not second-guessed; type such
columns with ``--column-type``). Raw CSV reading lives in :mod:`btvstat_open.load.csv_cells`.
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from btvstat_open.errors import LoadError, UsageError
from btvstat_open.fieldnames import field_names
from btvstat_open.load.csv_cells import (
    CsvSource,
    FileBytes,
    describe_row,
    locate_record,
    read_csv_cells,
    sniff_delimiter,
)
from btvstat_open.load.excel import read_sheet_cells
from btvstat_open.load.inference import convert_columns, infer_types
from btvstat_open.load.options import bad_value_hint, parse_pairs, resolve_date_formats, resolve_overrides
from btvstat_open.load.parquet_bounded import checked_batches, open_parquet
from btvstat_open.load.parquet_columns import convert_parquet_column, parquet_type
from btvstat_open.progress import row_progress
from btvstat_open.store import DatasetInfo, MetadataChange, Store, check_dataset_id, open_store
from btvstat_open.store.fourbyfour import check_four_by_four
from btvstat_open.types import Column

__all__ = ["FORMATS", "FileBytes", "LoadedFile", "load_file", "read_file", "run_load", "store_loaded"]

#: File extensions the loader reads, and the format of each.
FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet", ".xlsx": "xlsx"}


@dataclass(frozen=True)
class LoadedFile:
    """A file read into memory: ``table`` columns are field names, ``columns`` keep the headers."""

    path: CsvSource
    table: pa.Table
    columns: list[Column]
    # For CSV: the 0-based index among the file's non-blank data records of each table row
    # (all-empty rows are dropped), used to name rows in errors. None for Parquet.
    record_index: pa.Array | None = None
    delimiter: str = ","
    # For Excel: the sheet read and each table row's row number in it.
    sheet: str | None = None
    sheet_rows: pa.Array | None = None
    # How many all-empty rows (``,,,,``) were left out.
    skipped_empty: int = 0

    @property
    def num_rows(self) -> int:
        """How many rows the file holds."""
        return int(self.table.num_rows)

    def where(self, index: int) -> tuple[int, str]:
        """The row number and a phrase naming table row ``index`` as a user sees it in the file.

        Example:
            >>> loaded = read_file("tests/data/real/la-city-kpis/Library_Monthly_Stats.csv")
            >>> loaded.where(0)  # line 1 is the header
            (2, 'row 2')
        """
        if self.sheet_rows is not None:
            row = int(self.sheet_rows[index].as_py())
            return row, f"row {row} of sheet {self.sheet!r}"
        if self.record_index is None:
            return index + 1, f"data row {index + 1}"
        row, line = locate_record(self.path, self.record_index[index].as_py(), self.delimiter)
        return row, describe_row(row, line)


def _check_path(path: str | Path | FileBytes) -> tuple[CsvSource, str]:
    if isinstance(path, FileBytes):
        return path, _format(path.name, path.suffix)
    p = Path(path)
    if not p.exists():
        raise LoadError(f"No file {str(p)!r}. Check the path (it is relative to {Path.cwd()}).")
    if p.is_dir():
        raise LoadError(f"{str(p)!r} is a folder. Give the path of one .csv, .xlsx or .parquet file.")
    return p, _format(p.name, p.suffix)


def _format(name: str, suffix: str) -> str:
    kind = FORMATS.get(suffix.lower())
    if kind is None:
        raise LoadError(
            f"Cannot load {name!r}: unsupported file type {suffix or '(none)'!r}. "
            "Save it as .csv (UTF-8), .xlsx or .parquet."
        )
    return kind


def _read_text_cells(
    path: CsvSource,
    column_types: Mapping[str, str] | None,
    date_formats: Mapping[str, str] | None,
    sheet: str | None,
) -> LoadedFile:
    """A CSV file or an Excel sheet: text cells, typed by inference (or the overrides)."""
    if path.suffix.lower() == ".xlsx":
        cells = read_sheet_cells(path.name, path.read_bytes(), sheet)
        headers, raw = cells.headers, cells.raw
        shell = LoadedFile(path, pa.table({}), [], sheet=cells.sheet, sheet_rows=cells.rows)
    else:
        if sheet is not None:
            raise UsageError(f"--sheet is for Excel workbooks; {path.name} is a CSV file. Leave it out.")
        delimiter = sniff_delimiter(path)
        headers, raw, kept, dropped = read_csv_cells(path, delimiter)
        shell = LoadedFile(path, pa.table({}), [], kept, delimiter, skipped_empty=dropped)
    fields = field_names(headers)
    overrides = resolve_overrides(column_types, headers, fields)
    patterns = resolve_date_formats(date_formats, overrides, headers, fields)
    kinds = infer_types(raw, headers)
    for index, kind in overrides.items():
        kinds[index] = kind
    table, bad = convert_columns(raw, kinds, patterns)
    columns = [Column(f, h or f, k) for f, h, k in zip(fields, headers, kinds, strict=True)]
    loaded = dataclasses.replace(shell, table=table.rename_columns(fields), columns=columns)
    if bad is not None:
        row, where = loaded.where(bad.row)
        hint = bad_value_hint(fields[bad.column], bad.data_type, patterns.get(bad.column))
        raise LoadError(
            f"{path.name}: {where}, column {headers[bad.column]!r}: {bad.value!r} {hint}",
            row=row,
            column=headers[bad.column],
            code="load.bad-value",
        )
    return loaded


def _read_parquet(
    path: CsvSource, column_types: Mapping[str, str] | None, date_formats: Mapping[str, str] | None
) -> LoadedFile:
    parquet = open_parquet(pa.BufferReader(path.data) if isinstance(path, FileBytes) else path, path.name)
    # Read in small batches, each checked before it expands (see parquet_bounded: dictionary bombs).
    batches = list(checked_batches(parquet, path.name, total_cap="BTVSTAT_MAX_FILE_MB"))
    source = pa.Table.from_batches(batches, schema=batches[0].schema if batches else parquet.schema_arrow)
    headers = [str(n) for n in source.column_names]
    fields = field_names(headers)
    overrides = resolve_overrides(column_types, headers, fields)
    patterns = resolve_date_formats(date_formats, overrides, headers, fields)
    kinds = [overrides.get(i, parquet_type(source.schema.field(i).type)) for i in range(len(headers))]
    arrays = [
        convert_parquet_column(source.column(i), k, headers[i], path, patterns.get(i))
        for i, k in enumerate(kinds)
    ]
    table = pa.Table.from_arrays(arrays, names=fields) if arrays else pa.table({})
    columns = [Column(f, h or f, k) for f, h, k in zip(fields, headers, kinds, strict=True)]
    return LoadedFile(path, table, columns)


# -- public ------------------------------------------------------------------------------
def read_file(
    path: str | Path | FileBytes,
    *,
    column_types: Mapping[str, str] | None = None,
    date_formats: Mapping[str, str] | None = None,
    sheet: str | None = None,
) -> LoadedFile:
    """Read a CSV, Excel ``.xlsx`` or Parquet file with inferred (or overridden) Socrata types.

    ``column_types`` maps a field name or header to a type name and wins over inference;
    ``date_formats`` maps one to the strptime pattern its dates are written in (``%d.%m.%Y``);
    ``sheet`` names the sheet of a workbook to read (default: the first).
    Raises :class:`LoadError` (naming the row and column) or :class:`UsageError`.

    Example:
        >>> loaded = read_file("tests/data/real/la-city-kpis/Library_Monthly_Stats.csv")
        >>> loaded.num_rows, loaded.columns[0]
        (16, Column(field_name='month', name='Month', data_type='floating_timestamp', description=''))
    """
    p, kind = _check_path(path)
    if kind == "parquet":
        if sheet is not None:
            raise UsageError(f"--sheet is for Excel workbooks; {p.name} is a Parquet file. Leave it out.")
        return _read_parquet(p, column_types, date_formats)
    return _read_text_cells(p, column_types, date_formats, sheet)


def _row_identifier(loaded: LoadedFile, key: str) -> str:
    """The field name of the row identifier column, checked to be non-null and unique."""
    fields = [c.field_name for c in loaded.columns]
    headers = [c.name for c in loaded.columns]
    if key in fields:
        index = fields.index(key)
    elif key in headers:
        index = headers.index(key)
    else:
        raise UsageError(
            f"Row identifier {key!r} is not a column of {loaded.path.name}. "
            f"Use one of these field names: {', '.join(fields)}.",
            code="load.unknown-column",
        )
    column, header = loaded.table.column(index), headers[index]
    empty = pc.index(pc.is_null(column), True).as_py()
    if empty >= 0:
        row, where = loaded.where(empty)
        raise LoadError(
            f"{loaded.path.name}: row identifier {header!r} is empty in {where}; every row needs a "
            "value. Choose a column with a value in every row.",
            row=row,
            column=header,
        )
    counts = pc.value_counts(column)
    repeated = pc.filter(counts, pc.greater(counts.field("counts"), 1))
    if len(repeated):
        value = repeated[0]["values"]
        first, second = pc.indices_nonzero(pc.equal(column, value)).to_pylist()[:2]
        row, where = loaded.where(second)
        raise LoadError(
            f"{loaded.path.name}: row identifier {header!r} must be unique, but {value.as_py()!r} is in "
            f"{loaded.where(first)[1]} and {where}. Choose a column whose values are all different.",
            row=row,
            column=header,
        )
    return fields[index]


def store_loaded(
    store: Store,
    loaded: LoadedFile,
    dataset_id: str,
    *,
    name: str | None = None,
    description: str | None = None,
    row_identifier: str | None = None,
    four_by_four: str | None = None,
    change: MetadataChange | None = None,
) -> DatasetInfo:
    """Write a file already read by :func:`read_file` to the store as one dataset (replacing it).

    A reloaded dataset keeps its name, description, license, tags and the rest unless they are
    given anew (``name``, ``description``, ``change``); a new one is named after the file.
    ``four_by_four`` sets its Socrata-style id (else it keeps the one it has, or gets one).
    """
    check_dataset_id(dataset_id)
    key = _row_identifier(loaded, row_identifier) if row_identifier else None
    if name is None and not store.exists(dataset_id):
        name = loaded.path.stem.replace("_", " ").strip() or dataset_id
    return store.load(
        dataset_id,
        loaded.table,
        loaded.columns,
        name=name,
        description=description,
        row_identifier=key,
        four_by_four=four_by_four,
        change=change,
    )


def load_file(
    store: Store,
    path: str | Path,
    dataset_id: str,
    *,
    name: str | None = None,
    description: str | None = None,
    row_identifier: str | None = None,
    column_types: Mapping[str, str] | None = None,
    date_formats: Mapping[str, str] | None = None,
    sheet: str | None = None,
) -> DatasetInfo:
    """Load a CSV, Excel or Parquet file into the store as dataset ``dataset_id``, all or nothing.

    An existing dataset with this id is replaced. ``row_identifier`` is a field name or
    header whose values are present and unique; ``column_types``, ``date_formats`` and
    ``sheet`` are as in :func:`read_file`.

    Example:
        >>> import tempfile
        >>> from btvstat_open import Store, load_file
        >>> with Store(tempfile.mkdtemp()) as store:  # any empty folder
        ...     info = load_file(store, "catalog/demo/data/kc-311-potholes.parquet", "kc-311-potholes")
        >>> info.row_count
        4493
    """
    check_dataset_id(dataset_id)
    loaded = read_file(path, column_types=column_types, date_formats=date_formats, sheet=sheet)
    return store_loaded(
        store, loaded, dataset_id, name=name, description=description, row_identifier=row_identifier
    )


def run_load(args: argparse.Namespace) -> int:
    """``btvstat-open load FILE --dataset ID``: read the file first, then write it to the store.

    On a terminal a spinner with the rows read and the time taken runs on stderr while the
    file is read and written; piped, only the one-line summary is printed (on stdout).
    """
    check_dataset_id(args.dataset)
    four_by_four = getattr(args, "four_by_four", None)
    if four_by_four is not None:
        check_four_by_four(four_by_four)  # before the file is read
    with row_progress(None, f"load {Path(args.file).name}") as bar:
        loaded = read_file(
            args.file,
            column_types=parse_pairs("column-type", args.column_type or [], "FIELD=TYPE", "zip_code=text"),
            date_formats=parse_pairs("date-format", args.date_format or [], "FIELD=PATTERN", "date=%d.%m.%Y"),
            sheet=getattr(args, "sheet", None),
        )
        bar.advance(loaded.num_rows)
        with open_store(args.store) as store:
            info = store_loaded(
                store,
                loaded,
                args.dataset,
                name=args.name,
                description=args.description,
                row_identifier=args.row_id,
                four_by_four=four_by_four,
                change=metadata_options(args),
            )
    described = ", ".join(f"{c.field_name} {c.data_type}" for c in info.columns)
    print(
        f"Loaded {info.row_count} rows into {info.id} ({len(info.columns)} columns: {described}); "
        f"its 4x4 id is {info.four_by_four}"
    )
    if loaded.skipped_empty:
        rows = "row" if loaded.skipped_empty == 1 else "rows"
        print(f"Skipped {loaded.skipped_empty} empty {rows} of {loaded.path.name} (every cell blank).")
    return 0


def metadata_options(args: argparse.Namespace) -> MetadataChange:
    """``load``'s ``--license``, ``--attribution``, ``--source-url``, ``--tag`` and ``--source-updated``.

    Example:
        >>> from btvstat_open.cli import build_parser
        >>> args = build_parser().parse_args(["load", "f.csv", "--dataset", "x", "--license", "ODC-By-1.0"])
        >>> metadata_options(args).license
        'ODC-By-1.0'
    """
    updated = getattr(args, "source_updated", None)
    if updated is not None:
        try:
            updated = date.fromisoformat(updated).isoformat()
        except ValueError:
            raise UsageError(f"--source-updated {updated!r} is not a date; write it as YYYY-MM-DD.") from None
    source_url = getattr(args, "source_url", None)
    if source_url is not None and not source_url.startswith(("https://", "http://")):
        raise UsageError(
            f"--source-url {source_url!r} is not a web address; give one starting with https://."
        )
    tags = getattr(args, "tag", None)
    return MetadataChange(
        license=getattr(args, "license", None),
        attribution=getattr(args, "attribution", None),
        source_url=source_url,
        tags=tuple(tags) if tags else None,
        source_updated=updated,
    )
