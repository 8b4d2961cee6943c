"""ArcGIS REST (FeatureServer and MapServer layers) and ArcGIS Hub sites.

Example:
    >>> from connectors.arcgis import ArcgisConnector, recognizes
    >>> recognizes("https://gis.example.gov/arcgis/rest/services/Roads/FeatureServer/0", None)
    True
    >>> recognizes("https://data.example.gov", {"currentVersion": 11.1, "layers": [], "tables": []})
    True
    >>> recognizes("https://data.example.gov", {"id": "abcd-1234"})
    False
"""

from __future__ import annotations

import re
from typing import Any, Final

from connectors.arcgis.connector import ArcgisConnector

__all__ = ["ArcgisConnector", "recognizes"]

_REST_PATH: Final = re.compile(r"/rest/services(/|$)|/(FeatureServer|MapServer)(/\d+)?/?$", re.I)
_HUB_HOST: Final = re.compile(r"^https?://[^/]+\.hub\.arcgis\.com(/|$)", re.I)
_REST_KEYS: Final = ("layers", "tables", "fields", "services", "folders")


def recognizes(url: str, first_answer: dict[str, Any] | None) -> bool:
    """Whether ``url`` (and its ``?f=json`` answer, when fetched) is ArcGIS REST or an ArcGIS Hub site.

    An ArcGIS REST answer carries ``currentVersion`` with layers, tables, fields, services or
    folders, or is an ArcGIS error body (``{"error": {"code": 499, ...}}``) from a secured layer.
    """
    text = (url or "").strip()
    if _REST_PATH.search(text.split("?")[0]) or _HUB_HOST.match(text):
        return True
    if not isinstance(first_answer, dict):
        return False
    if "currentVersion" in first_answer and any(k in first_answer for k in _REST_KEYS):
        return True
    error = first_answer.get("error")
    return isinstance(error, dict) and isinstance(error.get("code"), int) and "details" in error
