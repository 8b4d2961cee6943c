"""An ArcGIS stand-in layer holding any Arrow table, every column, for benchmarks (test equipment).

``arcgis_standin.layer_from_table`` holds the contract columns the connector tests use;
:func:`layer_from_arrow` maps each column by its Arrow type (text -> ``esriFieldTypeString``,
timestamps -> ``esriFieldTypeDate`` as epoch milliseconds, numbers -> ``esriFieldTypeDouble``,
booleans -> a 0/1 ``esriFieldTypeSmallInteger`` with a Yes/No coded-value domain, as city layers
store checkboxes) and turns a column of WKT points into the layer's point geometry.

Example:
    >>> import pyarrow as pa
    >>> from datetime import datetime
    >>> table = pa.table({"name": ["a", None], "when": [datetime(2024, 1, 2), None],
    ...     "flag": [True, False], "where": ["POINT (-73.2 44.5)", None]})
    >>> layer = layer_from_arrow(0, "Things", table, geometry="where")
    >>> [f["type"] for f in layer.fields][:4]
    ['esriFieldTypeOID', 'esriFieldTypeString', 'esriFieldTypeDate', 'esriFieldTypeSmallInteger']
    >>> layer.rows[0]["when"], layer.rows[1]["flag"], layer.geometry
    (1704153600000, 0, [{'x': -73.2, 'y': 44.5}, None])
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from arcgis_standin import CREATED, EDIT, EDIT_FIELDS, OID, YES_NO, Layer, ms


def _field(name: str, kind: pa.DataType) -> dict[str, Any]:
    if pa.types.is_timestamp(kind) or pa.types.is_date(kind):
        return {"name": name, "type": "esriFieldTypeDate", "alias": name, "length": 8}
    if pa.types.is_boolean(kind):
        return {"name": name, "type": "esriFieldTypeSmallInteger", "alias": name, "domain": YES_NO}
    if pa.types.is_integer(kind) or pa.types.is_floating(kind):
        return {"name": name, "type": "esriFieldTypeDouble", "alias": name}
    return {"name": name, "type": "esriFieldTypeString", "alias": name, "length": 255}


def _values(column: pa.ChunkedArray) -> list[Any]:
    """A column as the JSON values a layer answers with (dates as epoch ms, booleans as 0/1)."""
    kind = column.type
    values: list[Any]
    if pa.types.is_timestamp(kind):
        # Milliseconds, as ArcGIS stores dates: finer parts are cut off, as a real upload would.
        values = pc.cast(column, pa.timestamp("ms"), safe=False).cast(pa.int64()).to_pylist()
    elif pa.types.is_date(kind):
        values = pc.multiply(column.cast(pa.date32()).cast(pa.int64()), 86_400_000).to_pylist()
    elif pa.types.is_boolean(kind):
        values = column.cast(pa.int8()).to_pylist()
    elif pa.types.is_integer(kind) or pa.types.is_floating(kind):
        values = column.cast(pa.float64()).to_pylist()
    else:
        values = column.cast(pa.string()).to_pylist()
    return values


def _point(wkt: str | None) -> dict[str, float] | None:
    if not wkt or not wkt.upper().startswith("POINT"):
        return None
    x, y = wkt[wkt.index("(") + 1 : wkt.rindex(")")].split()
    return {"x": float(x), "y": float(y)}


def layer_from_arrow(
    layer_id: int,
    name: str,
    table: pa.Table,
    *,
    geometry: str | None = None,
    edited_at: datetime = datetime(2024, 3, 1),
    per_moment: int = 100,
    max_record_count: int = 2000,
) -> Layer:
    """A layer (a map layer when ``geometry`` names a WKT point column, else a table) of ``table``.

    Editor tracking is on (rows edited in groups of ``per_moment`` sharing a moment, as
    ``layer_from_table``); ``max_record_count`` defaults to ArcGIS Online's 2,000 per page.
    """
    names = [n for n in table.column_names if n != geometry]
    columns = [_values(table.column(n)) for n in names]
    stamp = ms(edited_at)
    rows = []
    for i, values in enumerate(zip(*columns, strict=True)):
        attrs = {OID: i + 1, **dict(zip(names, values, strict=True))}
        attrs[CREATED], attrs[EDIT] = stamp, stamp + (i // per_moment) * 1000
        rows.append(attrs)
    fields: list[dict[str, Any]] = [{"name": OID, "type": "esriFieldTypeOID", "alias": OID}]
    fields += [_field(n, table.schema.field(n).type) for n in names]
    fields += EDIT_FIELDS
    shapes = [_point(w) for w in table.column(geometry).to_pylist()] if geometry else None
    last = rows[-1][EDIT] if rows else stamp
    return Layer(layer_id, name, fields, rows, shapes, True, True, max_record_count, last)
