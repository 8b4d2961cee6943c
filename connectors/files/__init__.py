"""The ``file`` portal kind: CSV, Excel ``.xlsx`` and Parquet files at a path or fsspec URL.

Example:
    >>> from connectors import connect
    >>> connect("catalog/demo/data/burlington").datasets(q="planting")[0].id
    'planting-sites.csv'
"""

from __future__ import annotations

from connectors.files.connector import FileConnector

__all__ = ["FileConnector"]
