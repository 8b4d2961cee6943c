"""API field names derived from column headers, the way Socrata derives them."""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["field_name", "field_names"]

_OUTSIDE = re.compile(r"[^a-z0-9]+")


def field_name(header: str) -> str:
    """The API field name for a column header.

    Lowercase; every run of characters outside ``[a-z0-9]`` becomes ``_``;
    trimmed of ``_``. A header with nothing left becomes ``column``.

    Example:
        >>> field_name("DAYS TO CLOSE")
        'days_to_close'
        >>> field_name("# of visitors (Annually FY)")
        'of_visitors_annually_fy'
    """
    name = _OUTSIDE.sub("_", header.strip().lower()).strip("_")
    return name or "column"


def field_names(headers: Iterable[str]) -> list[str]:
    """Field names for a header row, made unique with ``_2``, ``_3`` ... suffixes.

    Example:
        >>> field_names(["Zip Code", "ZIP CODE", ""])
        ['zip_code', 'zip_code_2', 'column']
    """
    seen: set[str] = set()
    out: list[str] = []
    for header in headers:
        base = field_name(header)
        name, n = base, 1
        while name in seen:
            n += 1
            name = f"{base}_{n}"
        seen.add(name)
        out.append(name)
    return out
