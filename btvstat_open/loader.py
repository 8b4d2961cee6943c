"""Loading CSV and Parquet files into the store (``btvstat-open load``).

:func:`read_file` reads a file into an Arrow table whose columns are named by API
field names and typed by Socrata type; :func:`load_file` writes it to a store as one
dataset, atomically (a file that cannot be read or converted leaves the store as it was).

CSV: UTF-8 (a byte-order mark is dropped), quoted cells may hold line breaks, trailing
all-empty rows (``,,,,``) are dropped, and types are inferred as
:mod:`btvstat_open.inference` describes. Rows are numbered as a spreadsheet shows them:
the header is row 1, and a quoted cell with line breaks does not add rows (errors also
give the line in the file when it differs).

Parquet: the file's own types are kept: integers, floats and decimals are ``number``
(float64, exact up to 2**53), booleans ``checkbox``, timestamps without a zone and dates
``floating_timestamp``, timestamps with a zone ``fixed_timestamp`` (UTC), structs with
latitude/longitude ``location``, strings ``text`` (a Parquet writer chose text, so it
is not second-guessed; type such columns with ``--column-type``), anything else text.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from btvstat_open.errors import LoadError, UsageError
from btvstat_open.fieldnames import field_name, field_names
from btvstat_open.inference import convert_column, convert_columns, infer_types
from btvstat_open.store import DatasetInfo, Store, check_dataset_id
from btvstat_open.types import LOCATION_ARROW, Column, arrow_type, canonical_type

__all__ = ["LoadedFile", "load_file", "read_file", "run_load", "store_loaded"]

_FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
_SNIFF_BYTES = 8192


@dataclass(frozen=True)
class LoadedFile:
    """A file read into memory: ``table`` columns are field names, ``columns`` keep the headers."""

    path: Path
    table: pa.Table
    columns: list[Column]
    # For CSV: the 0-based index among the file's non-blank data records of each table row
    # (all-empty rows are dropped), used to name rows in errors. None for Parquet.
    record_index: pa.Array | None = None

    @property
    def num_rows(self) -> int:
        """How many rows the file holds."""
        return int(self.table.num_rows)

    def where(self, index: int) -> tuple[int, str]:
        """The row number and a phrase naming table row ``index`` as a user sees it in the file.

        Example:
            >>> loaded.where(0)  # doctest: +SKIP
            (2, 'row 2')
        """
        if self.record_index is None:
            return index + 1, f"data row {index + 1}"
        row, line = _locate(self.path, self.record_index[index].as_py())
        return row, _where(row, line)


def _check_path(path: str | Path) -> tuple[Path, str]:
    p = Path(path)
    if not p.exists():
        raise LoadError(f"No file {str(p)!r}. Check the path (it is relative to {Path.cwd()}).")
    if p.is_dir():
        raise LoadError(f"{str(p)!r} is a folder. Give the path of one .csv or .parquet file.")
    kind = _FORMATS.get(p.suffix.lower())
    if kind is None:
        raise LoadError(
            f"Cannot load {p.name!r}: unsupported file type {p.suffix or '(none)'!r}. "
            "Save it as .csv (UTF-8) or .parquet."
        )
    return p, kind


# -- CSV -------------------------------------------------------------------------------
def _records(path: Path) -> Iterator[tuple[int, int, list[str]]]:
    """Every CSV record as (row, first line, cells); row 1 is the header; blank lines are rows."""
    csv.field_size_limit(sys.maxsize)
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f)
        line = 1
        for row, cells in enumerate(reader, start=1):
            yield row, line, cells
            line = reader.line_num + 1


def _where(row: int, line: int) -> str:
    return f"row {row}" + (f" (line {line} of the file)" if line != row else "")


def _locate(path: Path, data_index: int) -> tuple[int, int]:
    """Row and line of the ``data_index``-th (0-based) non-blank data record."""
    seen = -1
    for row, line, cells in _records(path):
        if row > 1 and cells:
            seen += 1
            if seen == data_index:
                return row, line
    return data_index + 2, data_index + 2


def _explain_parse_error(path: Path, headers: list[str], exc: Exception) -> LoadError:
    """Find the row that made the fast reader fail and say what is wrong with it."""
    try:
        for row, line, cells in _records(path):
            if row == 1 or not cells or len(cells) == len(headers):
                continue
            where = _where(row, line)
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
        return _not_utf8(path)
    except csv.Error as csv_error:
        return LoadError(f"{path.name} is not a well-formed CSV file: {csv_error}. Fix the quoting.")
    return LoadError(f"{path.name} could not be read as CSV: {exc}. Check its quoting and line endings.")


def _not_utf8(path: Path) -> LoadError:
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


def _read_header(path: Path) -> list[str]:
    with path.open("rb") as f:
        head = f.read(_SNIFF_BYTES)
    if not head.lstrip(b"\xef\xbb\xbf \t\r\n"):
        raise LoadError(f"{path.name} is empty. Export the data again with a header row.")
    if b"\x00" in head:
        raise LoadError(
            f"{path.name} is not a CSV text file (it holds binary data). Export it as CSV (UTF-8) or Parquet."
        )
    try:
        for _row, _line, cells in _records(path):
            if cells:
                return cells
    except UnicodeDecodeError as exc:
        raise _not_utf8(path) from exc
    except csv.Error as exc:
        raise LoadError(f"{path.name}: the header row is not valid CSV ({exc}). Fix its quoting.") from exc
    raise LoadError(f"{path.name} is empty. Export the data again with a header row.")


def _read_csv_cells(path: Path) -> tuple[list[str], pa.Table, pa.Array]:
    """The header, every data cell as text (empty cells null) and each kept row's record index.

    All-empty rows are dropped.
    """
    headers = _read_header(path)
    names = [f"c{i}" for i in range(len(headers))]
    try:
        raw = pcsv.read_csv(
            path,
            read_options=pcsv.ReadOptions(column_names=names, skip_rows=1),
            parse_options=pcsv.ParseOptions(newlines_in_values=True),
            convert_options=pcsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=True,
                null_values=[""],
                quoted_strings_can_be_null=True,
            ),
        )
    except pa.ArrowInvalid as exc:
        if "utf8" in str(exc).lower():
            raise _not_utf8(path) from exc
        raise _explain_parse_error(path, headers, exc) from exc
    # Rows whose cells are all empty (``,,,,`` padding from spreadsheets) carry no data.
    filled = pa.array([False] * raw.num_rows, pa.bool_())
    for i in range(raw.num_columns):
        filled = pc.or_(filled, pc.is_valid(raw.column(i)))
    kept = pc.indices_nonzero(filled)
    if len(kept) != raw.num_rows:
        raw = raw.take(kept)
    return headers, raw, kept


# -- column types ------------------------------------------------------------------------
def _resolve_overrides(
    column_types: Mapping[str, str] | None, headers: list[str], fields: list[str]
) -> dict[int, str]:
    """Column index -> canonical type for each override; FIELD may be a field name or a header."""
    out: dict[int, str] = {}
    for key, type_name in (column_types or {}).items():
        if key in fields:
            index = fields.index(key)
        elif key in headers:
            index = headers.index(key)
        elif field_name(key) in fields:
            index = fields.index(field_name(key))
        else:
            raise UsageError(
                f"--column-type {key}={type_name}: the file has no column {key!r}. "
                f"Use one of these field names: {', '.join(fields)}.",
                code="load.unknown-column",
            )
        try:
            out[index] = canonical_type(type_name)
        except UsageError as exc:
            raise UsageError(f"--column-type {key}={type_name}: {exc.message}", code="type.unknown") from exc
    return out


def _read_csv(path: Path, column_types: Mapping[str, str] | None) -> LoadedFile:
    headers, raw, kept = _read_csv_cells(path)
    fields = field_names(headers)
    overrides = _resolve_overrides(column_types, headers, fields)
    kinds = infer_types(raw, headers)
    for index, kind in overrides.items():
        kinds[index] = kind
    table, bad = convert_columns(raw, kinds)
    columns = [Column(f, h or f, k) for f, h, k in zip(fields, headers, kinds, strict=True)]
    loaded = LoadedFile(path, table.rename_columns(fields), columns, kept)
    if bad is not None:
        row, where = loaded.where(bad.row)
        raise LoadError(
            f"{path.name}: {where}, column {headers[bad.column]!r}: {bad.value!r} is not a "
            f"{bad.data_type} value. Fix the cell, or choose another type with --column-type.",
            row=row,
            column=headers[bad.column],
            code="load.bad-value",
        )
    return loaded


# -- Parquet -----------------------------------------------------------------------------
def _parquet_type(arrow: pa.DataType) -> str:
    if pa.types.is_integer(arrow) or pa.types.is_floating(arrow) or pa.types.is_decimal(arrow):
        return "number"
    if pa.types.is_boolean(arrow):
        return "checkbox"
    if pa.types.is_timestamp(arrow):
        return "fixed_timestamp" if arrow.tz else "floating_timestamp"
    if pa.types.is_date(arrow):
        return "floating_timestamp"
    if pa.types.is_struct(arrow) and {"latitude", "longitude"} <= {f.name for f in arrow}:
        return "location"
    return "text"


def _to_type(arr: pa.ChunkedArray, kind: str, header: str, path: Path) -> pa.ChunkedArray:
    """Convert one Parquet column to ``kind``, raising LoadError on the first value that does not fit."""
    want = arrow_type(kind)
    if pa.types.is_dictionary(arr.type):
        arr = arr.cast(arr.type.value_type)
    if kind == "location" and pa.types.is_struct(arr.type):
        names = {f.name for f in arr.type}
        parts = [
            arr.combine_chunks().field(f.name).cast(f.type) if f.name in names else pa.nulls(len(arr), f.type)
            for f in LOCATION_ARROW
        ]
        return pa.chunked_array([pa.StructArray.from_arrays(parts, fields=list(LOCATION_ARROW))])
    if arr.type == want:
        return arr
    if kind != "text" and not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        try:
            return arr.cast(want, safe=False)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass  # fall back to converting the values' text
    try:
        text = arr.cast(pa.string())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise LoadError(
            f"{path.name}: column {header!r} has Parquet type {arr.type}, which the store cannot hold. "
            "Convert it to text, a number or a timestamp before loading.",
            column=header,
        ) from exc
    out = convert_column(text, kind)
    if kind not in ("text", "url"):
        bad = pc.and_(pc.is_valid(text), pc.is_null(out))
        index = pc.index(bad, True).as_py()
        if index >= 0:
            raise LoadError(
                f"{path.name}: data row {index + 1}, column {header!r}: {text[index].as_py()!r} is not a "
                f"{kind} value. Fix the value, or choose another type with --column-type.",
                row=index + 1,
                column=header,
                code="load.bad-value",
            )
    return out


def _read_parquet(path: Path, column_types: Mapping[str, str] | None) -> LoadedFile:
    try:
        source = pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        raise LoadError(
            f"{path.name} is not a readable Parquet file ({exc}). Write it again or export it as CSV."
        ) from exc
    headers = [str(n) for n in source.column_names]
    fields = field_names(headers)
    overrides = _resolve_overrides(column_types, headers, fields)
    kinds = [overrides.get(i, _parquet_type(source.schema.field(i).type)) for i in range(len(headers))]
    arrays = [_to_type(source.column(i), k, headers[i], path) for i, k in enumerate(kinds)]
    table = pa.Table.from_arrays(arrays, names=fields) if arrays else pa.table({})
    columns = [Column(f, h or f, k) for f, h, k in zip(fields, headers, kinds, strict=True)]
    return LoadedFile(path, table, columns)


# -- public ------------------------------------------------------------------------------
def read_file(path: str | Path, *, column_types: Mapping[str, str] | None = None) -> LoadedFile:
    """Read a CSV or Parquet file with inferred (or overridden) Socrata types.

    ``column_types`` maps a field name or header to a type name and wins over inference.
    Raises :class:`LoadError` (naming the row and column) or :class:`UsageError`.

    Example:
        >>> loaded = read_file("tests/data/real/la-city-kpis/Library_Monthly_Stats.csv")  # doctest: +SKIP
        >>> loaded.num_rows, loaded.columns[0]  # doctest: +SKIP
        (16, Column(field_name='month', name='Month', data_type='floating_timestamp', description=''))
    """
    p, kind = _check_path(path)
    return _read_csv(p, column_types) if kind == "csv" else _read_parquet(p, column_types)


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
    description: str = "",
    row_identifier: str | None = None,
) -> DatasetInfo:
    """Write a file already read by :func:`read_file` to the store as one dataset (replacing it)."""
    check_dataset_id(dataset_id)
    key = _row_identifier(loaded, row_identifier) if row_identifier else None
    default_name = loaded.path.stem.replace("_", " ").strip() or dataset_id
    return store.load(
        dataset_id,
        loaded.table,
        loaded.columns,
        name=name or default_name,
        description=description,
        row_identifier=key,
    )


def load_file(
    store: Store,
    path: str | Path,
    dataset_id: str,
    *,
    name: str | None = None,
    description: str = "",
    row_identifier: str | None = None,
    column_types: Mapping[str, str] | None = None,
) -> DatasetInfo:
    """Load a CSV or Parquet file into the store as dataset ``dataset_id``, all or nothing.

    An existing dataset with this id is replaced. ``row_identifier`` is a field name or
    header whose values are present and unique.

    Example:
        >>> info = load_file(Store("store"), "potholes.csv", "kc-311-potholes")  # doctest: +SKIP
        >>> info.row_count  # doctest: +SKIP
        4493
    """
    check_dataset_id(dataset_id)
    loaded = read_file(path, column_types=column_types)
    return store_loaded(
        store, loaded, dataset_id, name=name, description=description, row_identifier=row_identifier
    )


def _parse_column_types(items: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        key, sep, type_name = item.rpartition("=")
        if not sep or not key.strip() or not type_name.strip():
            raise UsageError(f"--column-type {item!r}: write it as FIELD=TYPE, e.g. zip_code=text.")
        out[key.strip()] = type_name.strip()
    return out


def run_load(args: argparse.Namespace) -> int:
    """``btvstat-open load FILE --dataset ID``: read the file first, then write it to the store."""
    check_dataset_id(args.dataset)
    loaded = read_file(args.file, column_types=_parse_column_types(args.column_type or []))
    with Store(args.store) as store:
        info = store_loaded(
            store,
            loaded,
            args.dataset,
            name=args.name,
            description=args.description or "",
            row_identifier=args.row_id,
        )
    described = ", ".join(f"{c.field_name} {c.data_type}" for c in info.columns)
    print(f"Loaded {info.row_count} rows into {info.id} ({len(info.columns)} columns: {described})")
    return 0
