"""Arrow record batches to Socrata's JSON, CSV and GeoJSON encodings, vectorised.

:mod:`.values` encodes one column's values; :mod:`.batches` joins the columns into rows.

Example:
    >>> import pyarrow as pa
    >>> from btvstat_open.encode import socrata_text
    >>> socrata_text(pa.array([True, None]), "checkbox").to_pylist()
    ['true', None]
"""

from __future__ import annotations

from btvstat_open.encode.batches import (
    csv_batch,
    geojson_batch,
    json_batch,
    socrata_json_values,
    socrata_text,
)

__all__ = ["csv_batch", "geojson_batch", "json_batch", "socrata_json_values", "socrata_text"]
