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

from typing import Any

from connectors.opendatasoft.connector import OpendatasoftConnector

__all__ = ["OpendatasoftConnector", "recognizes"]


def recognizes(url: str, first_answer: dict[str, Any] | None) -> bool:
    """Whether ``url`` (and the JSON it answered first, if any) is an Opendatasoft portal."""
    if "/api/explore/v2" in url or "/explore/dataset/" in url:
        return True
    if not isinstance(first_answer, dict):
        return False
    results = first_answer.get("results")
    if "total_count" in first_answer and isinstance(results, list):
        return not results or (isinstance(results[0], dict) and "dataset_id" in results[0])
    links = first_answer.get("links")
    return isinstance(links, list) and any("/api/explore" in str(link) for link in links)
