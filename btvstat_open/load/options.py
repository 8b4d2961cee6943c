"""The column options of a load: ``column_types={FIELD: TYPE}`` and ``date_formats={FIELD: PATTERN}``.

(On the command line ``--column-type FIELD=TYPE`` and ``--date-format FIELD=PATTERN``; messages
name the parameters, and the CLI prints them as its flags.) FIELD is a field name or a header of
the file. A column with a date pattern is a timestamp: ``fixed_timestamp`` when the pattern reads
a zone (``%z``), else ``floating_timestamp``, unless ``column_types`` names one of the two (naming
another type is a usage error).

Example:
    >>> overrides = resolve_overrides({"Zip": "text"}, ["Day", "Zip"], ["day", "zip"])
    >>> resolve_date_formats({"day": "%d.%m.%Y"}, overrides, ["Day", "Zip"], ["day", "zip"]), overrides
    ({0: '%d.%m.%Y'}, {1: 'text', 0: 'floating_timestamp'})
"""

from __future__ import annotations

from collections.abc import Mapping

from btvstat_open.errors import UsageError
from btvstat_open.fieldnames import field_name
from btvstat_open.types import canonical_type

__all__ = ["TIMESTAMP_TYPES", "bad_value_hint", "parse_pairs", "resolve_date_formats", "resolve_overrides"]

TIMESTAMP_TYPES = ("floating_timestamp", "fixed_timestamp")


def _option(parameter: str, key: str, value: str) -> str:
    """One entry of a column option as its parameter: ``column_types={'zip': 'text'}``."""
    return f"{parameter}={{{key!r}: {value!r}}}"


def _column_index(parameter: str, key: str, value: str, headers: list[str], fields: list[str]) -> int:
    """The index of the column ``key`` names (a field name or a header) in ``parameter={key: value}``."""
    if key in fields:
        return fields.index(key)
    if key in headers:
        return headers.index(key)
    if field_name(key) in fields:
        return fields.index(field_name(key))
    raise UsageError(
        f"{_option(parameter, key, value)}: the file has no column {key!r}. "
        f"Use one of these field names: {', '.join(fields)}.",
        code="load.unknown-column",
    )


def resolve_overrides(
    column_types: Mapping[str, str] | None, headers: list[str], fields: list[str]
) -> dict[int, str]:
    """Column index -> canonical type for each override; FIELD may be a field name or a header."""
    out: dict[int, str] = {}
    for key, type_name in (column_types or {}).items():
        index = _column_index("column_types", key, type_name, headers, fields)
        try:
            out[index] = canonical_type(type_name)
        except UsageError as exc:
            message = f"{_option('column_types', key, type_name)}: {exc.message}"
            raise UsageError(message, code="type.unknown") from exc
    return out


def resolve_date_formats(
    date_formats: Mapping[str, str] | None, overrides: dict[int, str], headers: list[str], fields: list[str]
) -> dict[int, str]:
    """Column index -> strptime pattern; a column with a pattern is typed a timestamp.

    Its type is ``fixed_timestamp`` when the pattern reads a zone (``%z``), else
    ``floating_timestamp``, unless ``column_types`` names one of the two.
    """
    out: dict[int, str] = {}
    for key, pattern in (date_formats or {}).items():
        index = _column_index("date_formats", key, pattern, headers, fields)
        kind = overrides.get(index)
        if kind is not None and kind not in TIMESTAMP_TYPES:
            raise UsageError(
                f"{_option('date_formats', key, pattern)} reads dates, "
                f"but column_types= makes {key!r} {kind}. "
                "Leave out one of the two.",
                code="load.date-format",
            )
        overrides.setdefault(index, "fixed_timestamp" if "%z" in pattern else "floating_timestamp")
        out[index] = pattern
    return out


def bad_value_hint(field: str, data_type: str, pattern: str | None) -> str:
    """How to fix a cell that did not convert: the cell, the pattern or the type.

    Example:
        >>> bad_value_hint("day", "floating_timestamp", "%d.%m.%Y")  # doctest: +ELLIPSIS
        "does not match date_formats={'day': '%d.%m.%Y'}. Fix the cell, or change the pattern (strftime ..."
    """
    if pattern is not None:
        return (
            f"does not match {_option('date_formats', field, pattern)}. Fix the cell, or change the pattern "
            "(strftime codes, e.g. %d.%m.%Y)."
        )
    if data_type in TIMESTAMP_TYPES:
        return (
            f"is not a {data_type} value in a layout btvstat-open reads (2020-01-31, 2020/01/31, "
            f"1/31/2020, 2020-01, Jan-20, ...). Fix the cell, give its layout with "
            f"{_option('date_formats', field, 'PATTERN')} "
            f"(e.g. {_option('date_formats', field, '%d.%m.%Y')}), or choose another type with column_types=."
        )
    return f"is not a {data_type} value. Fix the cell, or choose another type with column_types=."


def parse_pairs(option: str, items: list[str], form: str, example: str) -> dict[str, str]:
    """``FIELD=VALUE`` options as a dict.

    A type never holds ``=`` but a header might, so a type splits at the last ``=``; a pattern
    might hold one, so it splits at the first.

    Example:
        >>> parse_pairs("date-format", ["day=%d=%m"], "FIELD=PATTERN", "date=%d.%m.%Y")
        {'day': '%d=%m'}
    """
    out: dict[str, str] = {}
    for item in items:
        split = item.rpartition if option == "column-type" else item.partition
        key, sep, value = split("=")
        if not sep or not key.strip() or not value.strip():
            raise UsageError(f"--{option} {item!r}: write it as {form}, e.g. {example}.")
        out[key.strip()] = value.strip()
    return out
