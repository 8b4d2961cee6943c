"""Loading CSV, Excel and Parquet files into the store (``btvstat-open load``).

:mod:`.files` reads a file and writes it as one dataset, :mod:`.csv_cells` reads a CSV's cells
as text and says where a row is, :mod:`.inference` picks and converts Socrata types for text
columns, :mod:`.excel` reads an ``.xlsx`` sheet's cells as text, :mod:`.parquet_columns` maps a
Parquet file's own types, and :mod:`.options` parses
``--column-type`` and ``--date-format``.

Example:
    >>> import tempfile
    >>> from pathlib import Path
    >>> from btvstat_open.load import read_file
    >>> csv = Path(tempfile.mkdtemp()) / "requests.csv"
    >>> _ = csv.write_text("Zip Code,Days Open\\n05401,3\\n05403,12\\n")
    >>> [(c.field_name, c.data_type) for c in read_file(csv).columns]
    [('zip_code', 'text'), ('days_open', 'number')]
"""

from __future__ import annotations

from btvstat_open.load.csv_cells import FileBytes
from btvstat_open.load.files import FORMATS, LoadedFile, load_file, read_file, run_load, store_loaded

__all__ = ["FORMATS", "FileBytes", "LoadedFile", "load_file", "read_file", "run_load", "store_loaded"]
