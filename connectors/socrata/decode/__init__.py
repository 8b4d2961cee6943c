"""Rows from Socrata, typed by the dataset's metadata, as Arrow record batches.

:mod:`.from_json` decodes values and JSON rows; :mod:`.from_csv` parses CSV pages and exports.

Example:
    >>> from connectors.socrata.decode import point_wkt
    >>> point_wkt({"type": "Point", "coordinates": [-94.5, 39.1]})
    'POINT (-94.5 39.1)'
"""

from __future__ import annotations

from connectors.socrata.decode.from_json import guess_json_type, json_rows_to_batch, location_value, point_wkt

__all__ = ["guess_json_type", "json_rows_to_batch", "location_value", "point_wkt"]
