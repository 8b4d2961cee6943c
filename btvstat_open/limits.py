"""How much a pull or a load may hold in memory: caps against bombs, each set by an environment variable.

A portal or a file the city does not control can answer a small body that expands to gigabytes
(a gzip bomb, a dictionary-encoded Parquet column, a workbook part, one CSV line). Every reader
checks its cap before or while it expands and stops with a clear error that names the variable
to raise when the data is genuine. Defaults fit real city datasets with room to spare.

============================ ======= ================================================================
variable                     default what it caps
============================ ======= ================================================================
``BTVSTAT_MAX_BODY_MB``      256     a portal's answer held in memory, after decompression
``BTVSTAT_MAX_CELL_MB``      16      one value: a CSV cell, a workbook cell, a Parquet value
``BTVSTAT_MAX_LINE_MB``      64      one CSV record (a line, or lines inside quotes)
``BTVSTAT_MAX_FILE_MB``      2048    a whole file read into memory (a Parquet file's decoded values)
``BTVSTAT_MAX_XLSX_PART_MB`` 256     one part of an ``.xlsx`` workbook, uncompressed
``BTVSTAT_MAX_XLSX_CELLS``   50000000 cells of one sheet
``BTVSTAT_MAX_JSON_ITEMS``   16000000 values, arrays and objects in one JSON answer (each a Python object)
============================ ======= ================================================================

Example:
    >>> limit("BTVSTAT_MAX_CELL_MB")
    16777216
    >>> too_large("BTVSTAT_MAX_CELL_MB", "A cell of sites.csv")  # doctest: +ELLIPSIS
    'A cell of sites.csv is larger than BTVSTAT_MAX_CELL_MB (16 MB); ...'
"""

from __future__ import annotations

import os
from typing import Final

from btvstat_open.errors import UsageError

__all__ = ["DEFAULTS", "limit", "too_large"]

_MB: Final = 1024 * 1024

#: Each cap's environment variable and default (megabytes, or a count for ``_CELLS``).
DEFAULTS: Final[dict[str, int]] = {
    "BTVSTAT_MAX_BODY_MB": 256,
    "BTVSTAT_MAX_CELL_MB": 16,
    "BTVSTAT_MAX_LINE_MB": 64,
    "BTVSTAT_MAX_FILE_MB": 2048,
    "BTVSTAT_MAX_XLSX_PART_MB": 256,
    "BTVSTAT_MAX_XLSX_CELLS": 50_000_000,
    "BTVSTAT_MAX_JSON_ITEMS": 16_000_000,
}


def limit(name: str) -> int:
    """The cap ``name`` sets, in bytes (``_MB`` variables) or as a count; read at each call.

    A value that is not a positive number is a :class:`UsageError` naming the variable.
    """
    raw = os.environ.get(name, "").strip()
    if not raw:
        value = float(DEFAULTS[name])
    else:
        try:
            value = float(raw)
        except ValueError:
            value = -1.0
        if not value > 0:
            raise UsageError(
                f"{name}={raw!r} is not a positive number; unset it or give e.g. {DEFAULTS[name]}."
            )
    return int(value * _MB) if name.endswith("_MB") else int(value)


def too_large(name: str, what: str) -> str:
    """The message for ``what`` going over the cap ``name``: the cap, and how to raise it."""
    size = limit(name)
    shown = f"{size / _MB:g} MB" if name.endswith("_MB") else f"{size:,}"
    return (
        f"{what} is larger than {name} ({shown}); a portal or file may be trying to exhaust memory. "
        f"If the data is genuine, raise {name} and try again."
    )
