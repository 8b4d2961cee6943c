"""Socrata types for columns of text cells: inference and conversion.

A loaded CSV arrives as columns of text. :func:`infer_types` picks one Socrata type
per column; :func:`convert_columns` turns the text into Arrow values of those types.
Both run as a single DuckDB query over the whole table (no Python loop per cell).

Rules (a column gets a type only when *every* non-empty cell fits it; empty and
whitespace-only cells are nulls and do not vote; the first rule that fits wins):

==================== ==================================================================
checkbox             ``true`` / ``false`` (any case). ``Y``/``N`` and ``yes``/``no`` stay
                     text: they are codes in the city's own vocabulary (KC's ``EXCEEDED
                     EST TIMEFRAME`` is text on its portal), and filters written against
                     the source (``= 'Y'``) keep working. ``--column-type F=checkbox``
                     converts them (``y``, ``yes``, ``t``, ``1`` are true).
number               decimal or scientific notation. A column with any value that has a
                     leading zero (``02134``, ``007``) stays text, and so does a column
                     whose header names a ZIP or postal code: codes are not quantities,
                     and a ZIP column must not change type with the ZIPs a file holds.
floating_timestamp   ISO 8601 without zone (``2020-01-07``, ``2020-01-07T12:59:00``),
                     ``YYYY/MM/DD`` (``2012/01/01``), ``M/D/YYYY``, ``M/D/YY`` (``1/7/20`` is
                     2020-01-07), any of these with a time (``06/30/2009 12:00:00 AM``,
                     ``1/7/20 13:05``), and months ``YYYY-MM`` (``2013-10``), ``Jul-13``,
                     ``Jul_2005``, ``July 2005`` (the first day of the month; ``Mar 5`` is not
                     a month, it is left alone). A column whose every value reads as a span of
                     two years (``2008-09``, ``2009-10``: fiscal years) stays text.
fixed_timestamp      ISO 8601 with ``Z`` or an offset; stored as UTC.
location             Socrata's location cell ``address\\n(lat, lon)`` or ``(lat, lon)``;
                     ``human_address`` keeps the text before the coordinates as written.
point                WKT ``POINT (lon lat)``; also Opendatasoft's ``lat,lon`` (``44.4479,-73.2290``,
                     both with decimals and in range) in a column whose header names a point
                     (``Geo Point``, ``geo_point_2d``, ``coordinates``, ``lat_lon``, ``location``...).
url                  ``http://`` or ``https://`` followed by no spaces.
text                 everything else.
==================== ==================================================================

A time of day alone (``12:59 PM``) stays text: Socrata has no time-only type, and a
time is not a timestamp. KC's ``CREATION TIME`` is therefore text, exactly as written.

Other date layouts are read with a pattern (``--date-format date=%d.%m.%Y`` on the command
line, ``date_formats`` here): strftime codes as DuckDB's ``strptime`` reads them. A column with
a pattern is a ``floating_timestamp`` (a ``fixed_timestamp`` when the pattern has ``%z``), and
every non-empty cell must match it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from btvstat_open.errors import UsageError
from btvstat_open.fieldnames import field_name
from btvstat_open.types import arrow_type, canonical_type

__all__ = ["BadCell", "convert_column", "convert_columns", "infer_types"]

# Regular expressions (RE2, full match on the trimmed cell).
_NUMBER: Final = r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?"
_LOOSE_NUMBER: Final = r"[+-]?\$?(\d{1,3}(,\d{3})+|\d+)?(\.\d*)?([eE][+-]?\d+)?"
_LEADING_ZERO: Final = r"[+-]?0\d.*"
_ISO_LOCAL: Final = r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?)?"
_ISO_ZONED: Final = r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?\s?(Z|z|[+-]\d{2}(:?\d{2})?)"
_TIME: Final = r"( \d{1,2}:\d{2}(:\d{2})?( ?[AaPp][Mm])?)?"
_US_SHORT: Final = r"\d{1,2}/\d{1,2}/\d{2}" + _TIME
_US_LONG: Final = r"\d{1,2}/\d{1,2}/\d{4}" + _TIME
_YMD_SLASH: Final = r"\d{4}/\d{1,2}/\d{1,2}" + _TIME
_YEAR_MONTH: Final = r"\d{4}-\d{2}"
_MONTH: Final = r"[A-Za-z]{3,9}([-_]\d{1,2}|[-_ ]\d{4})"
_COORD: Final = r"[+-]?\d+(?:\.\d+)?"
_LOCATION: Final = rf"(?s)(?P<a>.*?)\s*\(\s*(?P<lat>{_COORD})\s*,\s*(?P<lon>{_COORD})\s*\)"
_POINT: Final = rf"(?i)POINT\s*\(\s*({_COORD})\s+({_COORD})\s*\)"
# Opendatasoft's geo_point: "lat,lon", both with decimals (44.4479677374,-73.229049818).
_LAT_LON: Final = r"([+-]?\d{1,2}\.\d+)\s*,\s*([+-]?\d{1,3}\.\d+)"
# Headers under which a "lat,lon" column is a point (Opendatasoft's "Geo Point", "geo_point_2d", ...).
_GEO_HEADER: Final = (
    r"(^|_)(geo|geo_?point|geo_point_2d|point|coordinates?|coords|lat_?lon|lat_?lng|latlon|latlng"
    r"|location|position)(_|$)"
)
_URL: Final = r"(?i)https?://\S+"
_ZIP_HEADER: Final = r"(^|_)(zip|zipcode|zip_code|postal|postcode|postal_code)(_|$)"

_TIME_FORMATS: Final = ("", " %I:%M %p", " %I:%M:%S %p", " %I:%M%p", " %I:%M:%S%p", " %H:%M", " %H:%M:%S")
_TRUE: Final = ("true", "t", "yes", "y", "1")
_FALSE: Final = ("false", "f", "no", "n", "0")

# Tried in this order; the first type every value fits wins.
_INFERRED_ORDER: Final = (
    "checkbox",
    "number",
    "floating_timestamp",
    "fixed_timestamp",
    "location",
    "point",
    "url",
)


@dataclass(frozen=True)
class BadCell:
    """A cell that does not convert to its column's type (``row`` is the 0-based table row)."""

    row: int
    column: int
    value: str
    data_type: str


def _lit(text: str) -> str:
    """A SQL string literal (only ever used for constants defined in this module)."""
    return "'" + text.replace("'", "''") + "'"


def _list(items: Sequence[str]) -> str:
    return "[" + ", ".join(_lit(i) for i in items) + "]"


def _match(expr: str, regex: str) -> str:
    return f"regexp_full_match({expr}, {_lit(regex)})"


def _floating(t: str) -> str:
    """SQL turning trimmed text ``t`` into a TIMESTAMP, or NULL."""
    short = _list([f"%m/%d/%y{f}" for f in _TIME_FORMATS])
    long = _list([f"%m/%d/%Y{f}" for f in _TIME_FORMATS])
    slash = _list([f"%Y/%m/%d{f}" for f in _TIME_FORMATS])
    months = _list(["%b-%y", "%b-%Y", "%B-%y", "%B-%Y"])
    return (
        f"CASE WHEN {_match(t, _ISO_LOCAL)} THEN TRY_CAST({t} AS TIMESTAMP) "
        f"WHEN {_match(t, _US_SHORT)} THEN try_strptime({t}, {short}) "
        f"WHEN {_match(t, _US_LONG)} THEN try_strptime({t}, {long}) "
        f"WHEN {_match(t, _YMD_SLASH)} THEN try_strptime({t}, {slash}) "
        f"WHEN {_match(t, _YEAR_MONTH)} THEN try_strptime({t}, '%Y-%m') "
        f"WHEN {_match(t, _MONTH)} THEN try_strptime(regexp_replace({t}, '[_ ]', '-'), {months}) END"
    )


def _fixed(t: str) -> str:
    """SQL turning ISO text with a zone into a TIMESTAMPTZ, or NULL."""
    return f"CASE WHEN {_match(t, _ISO_ZONED)} THEN TRY_CAST({t} AS TIMESTAMPTZ) END"


def _fits_sql(column: str, data_type: str) -> str:
    """SQL that is true when a non-empty cell fits ``data_type`` for inference (stricter than conversion)."""
    t = f"nullif(trim({column}), '')"
    if data_type == "checkbox":
        return f"lower({t}) IN ('true', 'false')"
    if data_type == "number":
        return f"{_match(t, _NUMBER)} AND NOT {_match(t, _LEADING_ZERO)}"
    if data_type == "floating_timestamp":
        return f"({_floating(t)}) IS NOT NULL"
    if data_type == "fixed_timestamp":
        return f"({_fixed(t)}) IS NOT NULL"
    if data_type == "location":
        return _match(t, _LOCATION)
    if data_type == "point":
        return _match(t, _POINT)
    return _match(t, _URL)


def _lat_lon_sql(column: str) -> str:
    """SQL that is true for a ``lat,lon`` cell with both coordinates in range."""
    t = f"nullif(trim({column}), '')"
    lat = f"TRY_CAST(trim(split_part({t}, ',', 1)) AS DOUBLE)"
    lon = f"TRY_CAST(trim(split_part({t}, ',', 2)) AS DOUBLE)"
    return f"({_match(t, _LAT_LON)} AND abs({lat}) <= 90 AND abs({lon}) <= 180)"


def _year_span(t: str) -> str:
    """SQL that is true for ``YYYY-YY`` text naming two years (``2008-09``), not a month."""
    return (
        f"{_match(t, _YEAR_MONTH)} AND "
        f"(TRY_CAST(substr({t}, 3, 2) AS INTEGER) + 1) % 100 = TRY_CAST(substr({t}, 6, 2) AS INTEGER)"
    )


def _connect(raw: pa.Table) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.register("raw", raw)
    return con


def infer_types(raw: pa.Table, headers: Sequence[str] | None = None) -> list[str]:
    """The Socrata type of each column of a table of text cells (see the module docstring).

    ``headers`` (the original column names) enable the ZIP-code rule. One query over the
    table unpivoted to (column, value) decides every column at once.

    Example:
        >>> import pyarrow as pa
        >>> infer_types(pa.table({"a": ["1/7/20", None], "b": ["02134", "1"], "c": ["1.5", "2"]}))
        ['floating_timestamp', 'text', 'number']
    """
    if raw.num_columns == 0:
        return []
    names = list(headers) if headers is not None else raw.column_names
    table = raw.rename_columns([str(i) for i in range(raw.num_columns)])
    fits = ", ".join(f"count_if({_fits_sql('v', kind)})" for kind in _INFERRED_ORDER)
    spans = f"count_if({_year_span('nullif(trim(v), chr(0))')})"
    pairs = f"count_if({_lat_lon_sql('v')})"
    con = _connect(table)
    try:
        rows = con.execute(
            f"SELECT CAST(col AS INTEGER), count(nullif(trim(v), '')), {spans}, {pairs}, {fits} "
            "FROM (UNPIVOT raw ON COLUMNS(*) INTO NAME col VALUE v) GROUP BY col"
        ).fetchall()
    finally:
        con.close()
    counts = {row[0]: row[1:] for row in rows}
    kinds: list[str] = []
    for i in range(raw.num_columns):
        filled, spans_seen, pairs_seen, *fit = counts.get(i) or (0,) * (len(_INFERRED_ORDER) + 3)
        kind = next((k for k, n in zip(_INFERRED_ORDER, fit, strict=True) if filled and n == filled), "text")
        if kind == "number" and re.search(_ZIP_HEADER, field_name(names[i])):
            kind = "text"
        if kind == "floating_timestamp" and spans_seen == filled:
            kind = "text"  # 2008-09, 2009-10, ...: fiscal years, not months
        if (
            kind == "text"
            and filled
            and pairs_seen == filled
            and re.search(_GEO_HEADER, field_name(names[i]))
        ):
            kind = "point"  # Opendatasoft's "lat,lon"
        kinds.append(kind)
    return kinds


def _full(regex: str) -> str:
    """``regex`` anchored at both ends (pyarrow's regex functions search)."""
    flags = ""
    while regex.startswith("(?") and regex[3] == ")":
        flags, regex = flags + regex[:4], regex[4:]
    return f"{flags}^(?:{regex})$"


def _number(text: pa.ChunkedArray) -> pa.ChunkedArray:
    ok = pc.match_substring_regex(text, _full(_LOOSE_NUMBER))
    cleaned = pc.replace_substring_regex(text, r"[,$]", "")
    return pc.if_else(pc.and_(ok, pc.not_equal(cleaned, "")), cleaned, None).cast(pa.float64())


def _checkbox(text: pa.ChunkedArray) -> pa.ChunkedArray:
    lower = pc.utf8_lower(text)
    return pc.if_else(
        pc.is_in(lower, pa.array(_TRUE)), True, pc.if_else(pc.is_in(lower, pa.array(_FALSE)), False, None)
    )


def _location(text: pa.ChunkedArray) -> pa.ChunkedArray:
    """Location structs; a cell without coordinates is an address only."""
    parts = pc.extract_regex(text, _full(_LOCATION))
    matched = pc.is_valid(parts)
    address = pc.if_else(matched, pc.struct_field(parts, "a"), text)
    address = pc.if_else(pc.equal(address, ""), None, address)
    lat = pc.if_else(matched, pc.struct_field(parts, "lat"), None).cast(pa.float64())
    lon = pc.if_else(matched, pc.struct_field(parts, "lon"), None).cast(pa.float64())
    return pc.make_struct(lat, lon, address, field_names=["latitude", "longitude", "human_address"])


def _point(text: pa.ChunkedArray) -> pa.ChunkedArray:
    """WKT points; a location cell's coordinates, or an Opendatasoft ``lat,lon``, also make a point."""
    wkt = pc.replace_substring_regex(text, _full(_POINT), r"POINT (\1 \2)")
    from_loc = pc.replace_substring_regex(text, _full(_LOCATION), r"POINT (\3 \2)")
    from_pair = pc.replace_substring_regex(text, _full(_LAT_LON), r"POINT (\2 \1)")
    return pc.if_else(
        pc.match_substring_regex(text, _full(_POINT)),
        wkt,
        pc.if_else(
            pc.match_substring_regex(text, _full(_LOCATION)),
            from_loc,
            pc.if_else(pc.match_substring_regex(text, _full(_LAT_LON)), from_pair, None),
        ),
    )


def _timestamps(text: pa.ChunkedArray, kind: str, date_format: str | None = None) -> pa.ChunkedArray:
    """Floating or fixed timestamps, parsed by DuckDB (which rejects dates such as 2/30/20).

    ``date_format`` (a strptime pattern from the user) is passed as a query parameter.
    """
    params: list[str] = []
    if date_format is not None:
        sql, params = "try_strptime(v, ?)", [date_format]
    elif kind == "floating_timestamp":
        sql = _floating("v")
    else:  # fixed: values without a zone are taken as UTC (the session zone is UTC)
        sql = f"coalesce({_fixed('v')}, CAST({_floating('v')} AS TIMESTAMPTZ))"
    con = _connect(pa.table({"v": text}))
    try:
        result: pa.Table = con.sql(f"SELECT {sql} AS v FROM raw", params=params or None).to_arrow_table()
    except duckdb.Error as exc:  # only a pattern can fail here: the built-in layouts are constants
        raise UsageError(
            f"The date pattern {date_format!r} is not a pattern DuckDB can read ({exc}). Write it with "
            "strftime codes, e.g. %d.%m.%Y or %Y-%m-%d %H:%M.",
            code="load.date-format",
        ) from exc
    finally:
        con.close()
    column = result.column(0)
    if kind == "floating_timestamp" and pa.types.is_timestamp(column.type) and column.type.tz:
        column = column.cast(pa.timestamp("us", tz="UTC")).cast(pa.timestamp("us"))
    return column


def convert_column(
    cells: pa.ChunkedArray | pa.Array, data_type: str, date_format: str | None = None
) -> pa.ChunkedArray:
    """Convert one column of text cells to ``data_type``; a cell that does not fit becomes null.

    Text and url keep cells exactly as written; other types read the trimmed cell. Timestamps
    are read with ``date_format`` (a strptime pattern) when one is given.

    Example:
        >>> import pyarrow as pa
        >>> convert_column(pa.array(["1,234", " 5 ", "x"]), "number").to_pylist()
        [1234.0, 5.0, None]
        >>> convert_column(pa.array(["31.12.2020"]), "floating_timestamp", "%d.%m.%Y").to_pylist()
        [datetime.datetime(2020, 12, 31, 0, 0)]
    """
    kind = canonical_type(data_type)
    cells = pa.chunked_array([cells]) if isinstance(cells, pa.Array) else cells
    want = arrow_type(kind)
    if kind in ("text", "url"):
        return cells.cast(want)
    text = pc.utf8_trim_whitespace(cells)
    text = pc.if_else(pc.equal(text, ""), None, text)
    if kind == "number":
        out = _number(text)
    elif kind == "checkbox":
        out = _checkbox(text)
    elif kind == "location":
        out = _location(text)
    elif kind == "point":
        out = _point(text)
    else:
        out = _timestamps(text, kind, date_format)
    return out.cast(want)


def convert_columns(
    raw: pa.Table, types: Sequence[str], date_formats: Mapping[int, str] | None = None
) -> tuple[pa.Table, BadCell | None]:
    """Convert a table of text cells to the Arrow types of ``types`` (one per column).

    Returns the converted table (column names kept) and the first cell that did not
    convert (``None`` when all did); a cell that does not convert becomes null.
    ``date_formats`` maps a column index to the strptime pattern its timestamps are read with.

    Example:
        >>> import pyarrow as pa
        >>> table, bad = convert_columns(pa.table({"n": ["1", "x"]}), ["number"])
        >>> table.column("n").to_pylist(), bad.row, bad.value
        ([1.0, None], 1, 'x')
    """
    arrays = []
    first_bad: BadCell | None = None
    for i, data_type in enumerate(types):
        kind = canonical_type(data_type)
        cells = raw.column(i)
        arr = convert_column(cells, kind, (date_formats or {}).get(i))
        if kind not in ("text", "url"):
            trimmed = pc.utf8_trim_whitespace(cells)
            bad = pc.and_(pc.and_(pc.is_valid(trimmed), pc.not_equal(trimmed, "")), pc.is_null(arr))
            index = pc.index(bad, True).as_py()
            if index >= 0 and (first_bad is None or index < first_bad.row):
                first_bad = BadCell(index, i, str(cells[index].as_py()), kind)
        arrays.append(arr)
    return pa.Table.from_arrays(arrays, names=raw.column_names), first_bad
