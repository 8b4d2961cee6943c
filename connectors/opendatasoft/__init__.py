"""Opendatasoft portals: the Explore API v2.1 catalog, dataset schemas and CSV exports.

``recognizes(url, first_answer)`` tells ``connect()`` whether a site is Opendatasoft, from its URL
or from the JSON it answered first (the v2.1 catalog answers ``{"total_count": ..., "results":
[{"dataset_id": ...}]}``; the API root answers ``{"links": [...]}`` pointing at ``/api/explore``).

Example:
    >>> recognizes("https://data.burlingtonvt.gov/explore/dataset/planting-sites/", None)
    True
    >>> recognizes("https://example.org", {"total_count": 1, "results": [{"dataset_id": "trees"}]})
    True
    >>> recognizes("https://example.org", {"help": "x", "success": True, "result": {}})
    False
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from connectors.opendatasoft.kind import KIND

if TYPE_CHECKING:
    from connectors.opendatasoft.connector import OpendatasoftConnector

__all__ = ["KIND", "OpendatasoftConnector", "recognizes"]


def recognizes(url: str, first_answer: dict[str, Any] | None) -> bool:
    """Whether ``url`` (or its first JSON answer) is Opendatasoft's (:mod:`connectors.opendatasoft.kind`)."""
    return KIND.recognizes(url, first_answer)


def __getattr__(name: str) -> Any:
    # The connector is imported on first use: the registry of kinds reads only KIND.
    if name == "OpendatasoftConnector":
        from connectors.opendatasoft.connector import OpendatasoftConnector

        return OpendatasoftConnector
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
