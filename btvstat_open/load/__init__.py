"""Loading CSV and Parquet files into the store (``btvstat-open load``).

:mod:`.files` reads a file and writes it as one dataset, :mod:`.csv_cells` reads a CSV's cells
as text and says where a row is, :mod:`.inference` picks and converts Socrata types for text
columns, :mod:`.parquet_columns` maps a Parquet file's own types, and :mod:`.options` parses
``--column-type`` and ``--date-format``.

Example:
    >>> from btvstat_open.load import load_file, read_file
    >>> callable(load_file) and callable(read_file)
    True
"""

from __future__ import annotations

from btvstat_open.load.files import LoadedFile, load_file, read_file, run_load, store_loaded

__all__ = ["LoadedFile", "load_file", "read_file", "run_load", "store_loaded"]
