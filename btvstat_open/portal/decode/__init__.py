"""Write bodies (JSON rows or CSV, in Socrata's encoding) to Arrow tables of the dataset's types.

:mod:`.columns` is the fast path (whole columns typed by Arrow kernels); :mod:`.rows` checks
values one by one when a column is irregular and lists every bad row.

Example:
    >>> from btvstat_open.portal.decode import decode_rows
    >>> callable(decode_rows)
    True
"""

from __future__ import annotations

from btvstat_open.portal.decode.rows import DecodedRows, decode_row_by_row, decode_rows

__all__ = ["DecodedRows", "decode_row_by_row", "decode_rows"]
