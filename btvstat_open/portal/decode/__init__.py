"""Write bodies (JSON rows or CSV, in Socrata's encoding) to Arrow tables of the dataset's types.

:mod:`.columns` is the fast path (whole columns typed by Arrow kernels); :mod:`.rows` checks
values one by one when a column is irregular and lists every bad row.

Example:
    >>> from datetime import datetime
    >>> from btvstat_open.portal.decode import decode_rows
    >>> from btvstat_open.store import DatasetInfo
    >>> from btvstat_open.types import Column
    >>> day = datetime(2020, 1, 7)
    >>> info = DatasetInfo("x", "X", "", (Column("n", "N", "number"),), None, day, day, day, 1, 0)
    >>> decode_rows([{"n": "36"}, {"n": 7}], info).table.column("n").to_pylist()
    [36.0, 7.0]
"""

from __future__ import annotations

from btvstat_open.portal.decode.rows import DecodedRows, decode_row_by_row, decode_rows

__all__ = ["DecodedRows", "decode_row_by_row", "decode_rows"]
