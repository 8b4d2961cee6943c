"""The ``file`` portal kind: CSV, Excel ``.xlsx`` and Parquet files at a path or fsspec URL.

Example:
    >>> from connectors import connect
    >>> connect("catalog/demo/data/burlington").datasets(q="planting")[0].id
    'planting-sites.csv'
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from connectors.files.kind import KIND

if TYPE_CHECKING:
    from connectors.files.connector import FileConnector

__all__ = ["KIND", "FileConnector"]


def __getattr__(name: str) -> Any:
    # The connector is imported on first use: the registry of kinds reads only KIND.
    if name == "FileConnector":
        from connectors.files.connector import FileConnector

        return FileConnector
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
