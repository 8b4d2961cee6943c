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

from typing import TYPE_CHECKING, Any

from connectors.arcgis.kind import KIND

if TYPE_CHECKING:
    from connectors.arcgis.connector import ArcgisConnector

__all__ = ["KIND", "ArcgisConnector", "recognizes"]


def recognizes(url: str, first_answer: dict[str, Any] | None) -> bool:
    """Whether ``url`` (or its first answer) is ArcGIS REST or a Hub site (:mod:`connectors.arcgis.kind`)."""
    return KIND.recognizes(url, first_answer)


def __getattr__(name: str) -> Any:
    # The connector is imported on first use: the registry of kinds reads only KIND.
    if name == "ArcgisConnector":
        from connectors.arcgis.connector import ArcgisConnector

        return ArcgisConnector
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
