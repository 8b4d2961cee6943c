"""Opendatasoft field types as Socrata types, and CSV exports read into typed Arrow batches.

An export is ``;``-delimited, with CRLF line ends, quoted only where a value needs it (older
exports: never), empty for null, a header of field names or of labels (``Geo Point``), and
``geo_point_2d`` written as ``lat,lon``. Every cell is read as text and converted by the
dataset's schema, never guessed: a ZIP code field keeps ``05401``.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from btvstat_open import field_name
from btvstat_open.load.inference import convert_column
from btvstat_open.types import Column

__all__ = [
    "SOCRATA_TYPE",
    "columns_from_fields",
    "match_column",
    "read_export",
    "socrata_type",
    "typed_cells",
]

#: Opendatasoft field type -> Socrata type; anything else (geo_shape, file, ...) is text.
SOCRATA_TYPE = {
    "int": "number",
    "double": "number",
    "date": "floating_timestamp",
    "datetime": "floating_timestamp",
    "boolean": "checkbox",
    "geo_point_2d": "point",
}


def socrata_type(ods_type: str) -> str:
    """The Socrata type for an Opendatasoft field type.

    ``datetime`` is a floating timestamp: the portal writes it in the zone the request names
    (the connector's ``timezone``), and the wall time is kept.

    Example:
        >>> [socrata_type(t) for t in ("text", "int", "double", "date", "geo_point_2d", "geo_shape")]
        ['text', 'number', 'number', 'floating_timestamp', 'point', 'text']
    """
    return SOCRATA_TYPE.get(ods_type.strip().lower(), "text")


def columns_from_fields(fields: Sequence[dict[str, Any]]) -> tuple[Column, ...]:
    """Columns from a dataset's ``fields`` (name, label, type, description).

    Example:
        >>> columns_from_fields([{"name": "geo_point", "label": "Geo Point", "type": "geo_point_2d"}])
        (Column(field_name='geo_point', name='Geo Point', data_type='point', description=''),)
    """
    return tuple(
        Column(
            str(f["name"]),
            str(f.get("label") or f["name"]),
            socrata_type(str(f.get("type") or "text")),
            str(f.get("description") or ""),
        )
        for f in fields
    )


def typed_cells(cells: pa.ChunkedArray, column: Column) -> pa.ChunkedArray:
    """Text cells of one export column as values of the column's type (empty is null).

    Example:
        >>> typed_cells(pa.chunked_array([["44.4,-73.2", ""]]), Column("g", "G", "point")).to_pylist()
        ['POINT (-73.2 44.4)', None]
    """
    cells = pc.if_else(pc.equal(cells, ""), pa.scalar(None, pa.string()), cells)
    if column.data_type == "point":  # "lat,lon" -> WKT "POINT (lon lat)"
        pattern = r"^\s*(-?[0-9.]+)\s*,\s*(-?[0-9.]+)\s*$"
        ok = pc.match_substring_regex(cells, pattern)
        wkt = pc.replace_substring_regex(cells, pattern, r"POINT (\2 \1)")
        return pc.if_else(ok, wkt, pa.scalar(None, pa.string()))
    if column.data_type == "floating_timestamp":
        # A datetime carries the offset of the zone asked for: the wall time is what is kept.
        cells = pc.replace_substring_regex(cells, r"(T[0-9:.]+)(Z|[+-][0-9]{2}:?[0-9]{2})$", r"\1")
    return convert_column(cells, column.data_type)


def _header(path: Path) -> tuple[list[str], str]:
    with path.open("rb") as fh:
        first = fh.readline()
    encoding = "utf-8-sig" if first.startswith(codecs.BOM_UTF8) else "utf-8"
    return first.decode(encoding).rstrip("\r\n").split(";"), encoding


def match_column(header: str, columns: Sequence[Column]) -> Column:
    """The column a header names (by field name or label); an unknown header is a text column.

    Example:
        >>> match_column("Geo Point", [Column("geo_point", "Geo Point", "point")]).field_name
        'geo_point'
    """
    for col in columns:
        if header in (col.field_name, col.name):
            return col
    name = field_name(header)
    return next((c for c in columns if c.field_name == name), Column(name, header, "text"))


def read_export(path: Path, columns: Sequence[Column], batch_rows: int = 65_536) -> Iterator[pa.RecordBatch]:
    """Typed batches from an Opendatasoft CSV export (see the module docstring); memory stays flat.

    Header cells are matched to ``columns`` by field name or label; an unknown one is text.

    Example:
        >>> import tempfile
        >>> p = Path(tempfile.mkdtemp()) / "x.csv"
        >>> _ = p.write_bytes(b"Geo Point;zip;n\\r\\n44.4,-73.2;05401;240.0\\r\\n;;\\r\\n")
        >>> cols = columns_from_fields([{"name": "geo_point", "label": "Geo Point", "type": "geo_point_2d"},
        ...     {"name": "zip", "type": "text"}, {"name": "n", "type": "double"}])
        >>> [b.to_pylist() for b in read_export(p, cols)]
        [[{'geo_point': 'POINT (-73.2 44.4)', 'zip': '05401', 'n': 240.0},
          {'geo_point': None, 'zip': None, 'n': None}]]
    """
    headers, encoding = _header(path)
    picked = [match_column(h, columns) for h in headers]
    names = [c.field_name for c in picked]
    schema = pa.schema([c.arrow_field for c in picked])
    reader = pacsv.open_csv(
        path,
        read_options=pacsv.ReadOptions(
            skip_rows=1, column_names=names, encoding=encoding, block_size=max(1 << 20, batch_rows * 64)
        ),
        parse_options=pacsv.ParseOptions(delimiter=";"),
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=False
        ),
    )
    seen = False
    for raw in reader:
        seen = True
        arrays = [
            typed_cells(pa.chunked_array([raw.column(i)]), c).combine_chunks() for i, c in enumerate(picked)
        ]
        yield pa.RecordBatch.from_arrays(arrays, schema=schema)
    if not seen:
        yield pa.RecordBatch.from_pylist([], schema=schema)
