"""Opendatasoft Parquet exports read into the same typed Arrow batches as its CSV exports.

A Parquet export keeps the portal's own types (doubles, booleans, timestamps), but the columns
a pull returns are the dataset schema's, whatever the file says: each column is cast to its
:class:`~btvstat_open.types.Column`'s Arrow type, so a pull through ``/exports/parquet`` and
one through ``/exports/csv`` give equal tables. Text cells go through the CSV path's own
conversion (:func:`connectors.opendatasoft.exports.typed_cells`); a ``geo_point_2d`` held as a
``{lon, lat}`` struct is written as the same ``lat,lon`` text first, so both become the same
WKT point. A zoned timestamp becomes the wall time of the connector's ``timezone``, which is
what the CSV export (written in that zone) holds.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from btvstat_open.load.inference import convert_column
from btvstat_open.load.parquet_bounded import checked_batches, open_parquet
from btvstat_open.types import Column
from connectors.opendatasoft.exports import match_column, typed_cells

__all__ = ["read_parquet_export", "typed_values"]


def _point_text(values: pa.ChunkedArray) -> pa.ChunkedArray:
    """A ``{lon, lat}`` struct column as the CSV export's ``lat,lon`` text (null stays null)."""
    flat = values.combine_chunks()
    names = [f.name for f in flat.type]
    lat = flat.field(names.index("lat")).cast(pa.string())
    lon = flat.field(names.index("lon")).cast(pa.string())
    text = pc.binary_join_element_wise(lat, lon, ",")
    return pa.chunked_array([pc.if_else(flat.is_valid(), text, pa.scalar(None, pa.string()))])


def _is_lat_lon(kind: pa.DataType) -> bool:
    return pa.types.is_struct(kind) and {f.name for f in kind} >= {"lat", "lon"}


def typed_values(values: pa.ChunkedArray, column: Column, timezone: str = "UTC") -> pa.ChunkedArray:
    """One Parquet export column as values of ``column``'s type (as the CSV path would read it).

    Example:
        >>> point = Column("g", "G", "point")
        >>> typed_values(pa.chunked_array([[{"lon": -73.2, "lat": 44.4}, None]]), point).to_pylist()
        ['POINT (-73.2 44.4)', None]
        >>> from datetime import datetime, timezone as tz
        >>> utc_3pm = datetime(2024, 1, 2, 15, tzinfo=tz.utc)
        >>> stamps = pa.chunked_array([pa.array([utc_3pm], pa.timestamp("us", "UTC"))])
        >>> typed_values(stamps, Column("t", "T", "floating_timestamp"), "America/New_York").to_pylist()
        [datetime.datetime(2024, 1, 2, 10, 0)]
    """
    kind = values.type
    want = column.arrow_field.type
    if _is_lat_lon(kind):
        return typed_cells(_point_text(values), column)
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_dictionary(kind):
        return typed_cells(values.cast(pa.string()), column)
    if pa.types.is_timestamp(kind) and kind.tz is not None:
        # The CSV export writes the requested zone's wall time: keep that, not the UTC instant.
        zoned = values.cast(pa.timestamp(kind.unit, timezone))
        values = pc.local_timestamp(zoned)
    if column.data_type == "text":
        return typed_cells(values.cast(pa.string()), column)
    try:
        return values.cast(want)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        # A value the schema's type cannot hold as is: read its text as the CSV path does.
        return convert_column(values.cast(pa.string()), column.data_type)


def read_parquet_export(
    path: Path, columns: Sequence[Column], timezone: str = "UTC", batch_rows: int = 16_384
) -> Iterator[pa.RecordBatch]:
    """Typed batches from an Opendatasoft Parquet export, one row group's worth at a time.

    Example:
        >>> import tempfile, pyarrow.parquet as pq
        >>> p = Path(tempfile.mkdtemp()) / "x.parquet"
        >>> pq.write_table(pa.table({"zip": ["05401"], "n": pa.array([240], pa.int64())}), p)
        >>> cols = (Column("zip", "Zip", "text"), Column("n", "N", "number"))
        >>> [b.to_pylist() for b in read_parquet_export(p, cols)]
        [[{'zip': '05401', 'n': 240.0}]]
    """
    source = open_parquet(path, "the Parquet export")
    picked = [match_column(name, columns) for name in source.schema_arrow.names]
    schema = pa.schema([c.arrow_field for c in picked])
    seen = False
    # Small batches, each checked before its dictionaries expand (a few bytes can describe gigabytes).
    for raw in checked_batches(source, "the Parquet export", batch_rows=batch_rows):
        seen = True
        arrays = [
            typed_values(pa.chunked_array([raw.column(i)]), c, timezone).combine_chunks()
            for i, c in enumerate(picked)
        ]
        yield pa.RecordBatch.from_arrays(arrays, schema=schema)
    if not seen:
        yield pa.RecordBatch.from_pylist([], schema=schema)
