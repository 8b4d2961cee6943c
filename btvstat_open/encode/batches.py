"""Arrow record batches to Socrata's JSON, CSV and GeoJSON encodings, vectorised.

Socrata's JSON encoding: numbers as strings (``"36"``, ``"0.1"``), nulls left out of row
objects, floating timestamps ``2020-01-07T00:00:00.000`` and fixed ones with ``Z``,
checkboxes as JSON booleans, points as GeoJSON, locations as
``{"latitude", "longitude", "human_address"}`` and urls as ``{"url": ...}``. CSV uses the same
texts, every value quoted, with a header of field names.

Every column is turned into an array of JSON fragments with pyarrow compute kernels, and
rows are joined column-wise, so a batch never goes through Python objects row by row
(except rare values, such as numbers Arrow would print in exponent form). Column encoders
live in :mod:`btvstat_open.encode.values`.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from btvstat_open.encode.values import (
    json_fragment,
    location_geometry,
    point_geometry,
    socrata_json_values,
    socrata_text,
)

__all__ = ["csv_batch", "geojson_batch", "json_batch", "socrata_json_values", "socrata_text"]


def _join_rows(rows: pa.Array, separator: str) -> bytes:
    """All row texts joined by ``separator`` into one bytes object."""
    if len(rows) == 0:
        return b""
    lists = pa.ListArray.from_arrays(pa.array([0, len(rows)], pa.int32()), rows)
    joined = pc.binary_join(lists, separator)
    buffer = joined[0].as_buffer()
    return b"" if buffer is None else buffer.to_pybytes()


def _row_objects(fragments: Sequence[pa.Array], n: int, *, opened: bool = False) -> pa.Array:
    """Per-row ``{...}`` objects from per-column ``,"key":value`` fragments (nulls dropped).

    ``opened``: the first fragment has no nulls and starts with ``{`` instead of ``,`` (see
    :func:`_fragments`), so no leading comma has to be cut off.
    """
    if not fragments:
        return pa.array(["{}"] * n, pa.string())
    filled = [pc.fill_null(f, "") if f.null_count else f for f in fragments]
    if opened:
        return pc.binary_join_element_wise(*filled, "}", "")
    body = pc.binary_join_element_wise(*filled, "") if len(filled) > 1 else filled[0]
    return pc.binary_join_element_wise("{", pc.utf8_slice_codeunits(body, 1), "}", "")


def _fragments(batch: pa.RecordBatch, data_types: Sequence[str]) -> tuple[list[pa.Array], bool]:
    """``,"key":value`` fragments of every column, and whether the first opens with ``{``.

    The first column opens the object itself when none of its values is null (the common
    case: an id), which saves two passes over every row.
    """
    out: list[pa.Array] = []
    for i, name in enumerate(batch.schema.names):
        column = batch.column(i)
        opener = "{" if i == 0 and column.null_count == 0 else ","
        out.append(json_fragment(column, data_types[i], opener + orjson.dumps(name).decode() + ":"))
    opened = bool(out) and batch.column(0).null_count == 0
    if opened and out[0].null_count:
        # A value that encodes to null would break the shortcut: build it the general way.
        out[0] = json_fragment(batch.column(0), data_types[0], _key(batch.schema.names[0]))
        opened = False
    return out, opened


def _key(name: str) -> str:
    return "," + orjson.dumps(name).decode() + ":"


def json_batch(batch: pa.RecordBatch, data_types: Sequence[str]) -> bytes:
    """A batch as Socrata JSON row objects joined by ``",\\n"`` (no surrounding brackets).

    Example:
        >>> json_batch(pa.record_batch({"n": [36.0, None]}), ["number"])
        b'{"n":"36"},\\n{}'
    """
    fragments, opened = _fragments(batch, data_types)
    return _join_rows(_row_objects(fragments, batch.num_rows, opened=opened), ",\n")


def csv_batch(
    batch: pa.RecordBatch, data_types: Sequence[str], *, header: bool, names: Sequence[str] | None = None
) -> bytes:
    """A batch as CSV, every value quoted, optionally with a header row (field names unless ``names``).

    Example:
        >>> csv_batch(pa.record_batch({"n": [36.0, None]}), ["number"], header=True)
        b'"n"\\n"36"\\n\\n'
        >>> csv_batch(pa.record_batch({"n": [1.0]}), ["number"], header=True, names=["N (days)"])
        b'"N (days)"\\n"1"\\n'
    """
    texts = [socrata_text(batch.column(i), data_types[i]) for i in range(batch.num_columns)]
    table = pa.Table.from_arrays(texts, names=list(names) if names is not None else batch.schema.names)
    out = io.BytesIO()
    options = pacsv.WriteOptions(
        include_header=header, quoting_style="all_valid", batch_size=max(1, len(table))
    )
    pacsv.write_csv(table, out, options)
    return out.getvalue()


def geometry_column(data_types: Sequence[str]) -> int | None:
    """Index of the first point or location column, which GeoJSON uses as the geometry."""
    for i, kind in enumerate(data_types):
        if kind in ("point", "location"):
            return i
    return None


def geojson_batch(batch: pa.RecordBatch, data_types: Sequence[str]) -> bytes:
    """A batch as GeoJSON features joined by ``",\\n"``; the first point/location is the geometry.

    Example:
        >>> geojson_batch(pa.record_batch({"p": ["POINT (1 2)"]}), ["point"])
        b'{"type":"Feature","geometry":{"type":"Point","coordinates":[1,2]},"properties":{}}'
    """
    geo_index = geometry_column(data_types)
    n = batch.num_rows
    if geo_index is None:
        geometry = pa.array(["null"] * n, pa.string())
    else:
        column = batch.column(geo_index)
        if data_types[geo_index] == "location" and pa.types.is_struct(column.type):
            raw = location_geometry(column)
        else:
            raw = point_geometry(column)
            raw = pc.if_else(pc.starts_with(raw, "{"), raw, pa.nulls(n, pa.string()))
        geometry = pc.fill_null(raw, "null")
    fragments = [
        pc.fill_null(
            pc.binary_join_element_wise(_key(name), socrata_json_values(batch.column(i), data_types[i]), ""),
            _key(name) + "null",
        )
        for i, name in enumerate(batch.schema.names)
        if i != geo_index
    ]
    properties = _row_objects(fragments, n)
    features = pc.binary_join_element_wise(
        '{"type":"Feature","geometry":', geometry, ',"properties":', properties, "}", ""
    )
    return _join_rows(features, ",\n")
