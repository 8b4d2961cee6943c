"""Features of a ``/query`` answer to typed Arrow record batches.

Attributes are typed from the layer's field list, never from the JSON: dates are epoch
milliseconds (old servers send text such as ``"12/23/2005 12:00:00 AM"``), CHAR columns come
space-padded (trailing spaces are dropped, a blank value is null), object ids may be written
in exponent notation (``6.4579816E7``). Geometry (requested in WGS 84, ``outSR=4326``) becomes
WKT text: a point is ``POINT (lon lat)`` (the project's point type), multipoints, polylines and
polygons are ``MULTIPOINT``, ``LINESTRING``/``MULTILINESTRING`` and ``POLYGON``/``MULTIPOLYGON``
text; a geometry with ``NaN`` coordinates is null. Only x and y are kept.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, Final

import pyarrow as pa

from btvstat_open.instants import parse_instant
from connectors.arcgis.columns import ColumnRead, column_reader, points_wkt
from connectors.arcgis.metadata import GEOMETRY_COLUMN, LayerInfo

__all__ = ["Wanted", "decode_features", "epoch_ms", "geometry_wkt", "oid_of", "parse_date", "readers"]

_EPOCH: Final = datetime(1970, 1, 1)
_TEXT_DATES: Final = (
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d",
)

#: One output column: its name, Arrow type, how to read it from a feature, and how to read a
#: whole page's column at once where its values are plain (None: cell by cell only).
Wanted = tuple[str, pa.DataType, Callable[[dict[str, Any]], Any], ColumnRead | None]


def epoch_ms(value: float) -> datetime:
    """A naive datetime for epoch milliseconds (the wall clock in UTC).

    Example:
        >>> epoch_ms(1443712219214)
        datetime.datetime(2015, 10, 1, 15, 10, 19, 214000)
    """
    return _EPOCH + timedelta(milliseconds=float(value))


def parse_date(value: Any) -> datetime | None:
    """A date value as a naive datetime: epoch ms, or the text dates of old servers.

    Example:
        >>> parse_date("12/23/2005 12:00:00 AM"), parse_date(" ")
        (datetime.datetime(2005, 12, 23, 0, 0), None)
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return None if math.isnan(value) else epoch_ms(value)
    text = str(value).strip()
    if not text:
        return None
    try:
        return epoch_ms(float(text))
    except ValueError:
        pass
    for fmt in _TEXT_DATES:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    moment = parse_instant(text)
    return moment.replace(tzinfo=None) if moment is not None else None


def oid_of(value: Any) -> int | None:
    """An object id as an integer, also when written as ``6.4579816E7``.

    Example:
        >>> oid_of(6.4579816e7), oid_of("12"), oid_of(None)
        (64579816, 12, None)
    """
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return None


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).rstrip()  # CHAR columns are space-padded
    return text or None


def _checkbox(value: Any) -> bool | None:
    number = _number(value)
    return None if number is None else number != 0


def _fmt(x: float, y: float) -> str:
    return f"{x!r} {y!r}"


def _coords(points: Sequence[Sequence[float]]) -> str | None:
    if any(len(p) < 2 or math.isnan(p[0]) or math.isnan(p[1]) for p in points):
        return None
    return ", ".join(_fmt(float(p[0]), float(p[1])) for p in points)


def _ring_area(ring: Sequence[Sequence[float]]) -> float:
    return sum(a[0] * b[1] - b[0] * a[1] for a, b in itertools.pairwise(ring)) / 2


def _polygons(rings: Sequence[Sequence[Sequence[float]]]) -> list[list[str]] | None:
    """Rings grouped into polygons: Esri outer rings run clockwise (negative area), holes not."""
    polygons: list[list[str]] = []
    for ring in rings:
        text = _coords(ring)
        if text is None:
            return None
        if _ring_area(ring) <= 0 or not polygons:
            polygons.append([f"({text})"])
        else:
            polygons[-1].append(f"({text})")
    return polygons


def geometry_wkt(geometry: Any) -> str | None:
    """WKT text for an Esri JSON geometry (x/y only), or None for none or ``NaN`` coordinates.

    Example:
        >>> geometry_wkt({"x": -73.5, "y": 41.25}), geometry_wkt({"x": float("nan"), "y": 1.0})
        ('POINT (-73.5 41.25)', None)
        >>> geometry_wkt({"paths": [[[0, 0], [1, 1]]]})
        'LINESTRING (0.0 0.0, 1.0 1.0)'
    """
    if not isinstance(geometry, dict):
        return None
    try:
        if "x" in geometry:
            x, y = geometry.get("x"), geometry.get("y")
            if x is None or y is None or math.isnan(x) or math.isnan(y):
                return None
            return f"POINT ({_fmt(float(x), float(y))})"
        if "points" in geometry:
            text = _coords(geometry["points"])
            return None if not text else f"MULTIPOINT ({text})"
        if "paths" in geometry:
            paths = [text for p in geometry["paths"] if (text := _coords(p)) is not None]
            if not paths or len(paths) != len(geometry["paths"]):
                return None
            if len(paths) == 1:
                return f"LINESTRING ({paths[0]})"
            return "MULTILINESTRING (" + ", ".join(f"({p})" for p in paths) + ")"
        if "rings" in geometry:
            polygons = _polygons(geometry["rings"])
            if not polygons:
                return None
            if len(polygons) == 1:
                return f"POLYGON ({', '.join(polygons[0])})"
            return "MULTIPOLYGON (" + ", ".join(f"({', '.join(p)})" for p in polygons) + ")"
    except (TypeError, IndexError, ValueError):
        return None
    return None


def _reader(info: LayerInfo, name: str, source: str | None) -> Wanted:
    """How to read output column ``name`` (a column, ``:id``, ``:updated_at`` ...) from a feature."""
    if name == GEOMETRY_COLUMN and source is None:
        return name, pa.string(), lambda f: geometry_wkt(f.get("geometry")), points_wkt
    if name == ":id":
        return (
            name,
            pa.string(),
            lambda f: _oid_text(f, source),
            column_reader(":id", source or "", pa.string()),
        )
    if name in (":updated_at", ":created_at"):
        stamp = pa.timestamp("us", "UTC")
        return name, stamp, lambda f: _attr_date(f, source), column_reader("date", source or "", stamp)
    layer_field = next(f for f in info.fields if f.source == source)
    arrow = layer_field.column.arrow_field.type
    convert: Callable[[Any], Any] = {
        "number": _number,
        "checkbox": _checkbox,
        "date": parse_date,
    }.get(layer_field.kind, _text)
    src = layer_field.source
    whole = column_reader(layer_field.kind, src, arrow)
    return name, arrow, lambda f: convert((f.get("attributes") or {}).get(src)), whole


def _oid_text(feature: dict[str, Any], source: str | None) -> str | None:
    oid = oid_of((feature.get("attributes") or {}).get(source or ""))
    return None if oid is None else str(oid)


def _attr_date(feature: dict[str, Any], source: str | None) -> datetime | None:
    return parse_date((feature.get("attributes") or {}).get(source or ""))


def readers(info: LayerInfo, names: Sequence[str]) -> list[Wanted]:
    """The readers for output columns ``names`` (each a column or system field name)."""
    out = []
    for name in names:
        source = None if name == GEOMETRY_COLUMN else info.source_name(name)
        out.append(_reader(info, name, source))
    return out


def decode_features(features: Sequence[dict[str, Any]], wanted: Sequence[Wanted]) -> pa.RecordBatch:
    """One record batch from a page of features, one column per reader in ``wanted``.

    Example:
        >>> from connectors.arcgis.metadata import parse_layer
        >>> info = parse_layer({"fields": [{"name": "OBJECTID", "type": "esriFieldTypeOID"},
        ...     {"name": "N", "type": "esriFieldTypeInteger"}]}, "0")
        >>> page = [{"attributes": {"OBJECTID": 1.0e7, "N": 3}}]
        >>> decode_features(page, readers(info, [":id", "n"])).to_pylist()
        [{':id': '10000000', 'n': 3.0}]
    """
    attrs = [f.get("attributes") or {} for f in features]
    arrays = []
    for _, arrow, read, whole in wanted:
        array = whole(features, attrs) if whole is not None else None
        arrays.append(array if array is not None else pa.array([read(f) for f in features], type=arrow))
    return pa.RecordBatch.from_arrays(arrays, names=[w[0] for w in wanted])
