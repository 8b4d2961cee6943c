"""CKAN sites: the Action API for discovery and metadata, the DataStore (or a resource's CSV) for rows.

``recognizes(url, first_answer)`` tells ``connect()`` whether a site is CKAN, from its URL or
from the JSON it answered first (``/api/3`` answers ``{"version": 3}``; every action answers in
the ``{"help": ..., "success": ..., "result": ...}`` envelope).

Example:
    >>> recognizes("https://data.gov.sg/api/action/datastore_search", None)
    True
    >>> first = {"help": "https://example.org/api/3/action/help_show", "success": True}
    >>> recognizes("https://example.org", first)
    True
    >>> recognizes("https://example.org", {"total_count": 3, "results": []})
    False
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from connectors.ckan.kind import KIND

if TYPE_CHECKING:
    from connectors.ckan.connector import CkanConnector

__all__ = ["KIND", "CkanConnector", "recognizes"]


def recognizes(url: str, first_answer: dict[str, Any] | None) -> bool:
    """Whether ``url`` (and its first JSON answer) is a CKAN site: see :mod:`connectors.ckan.kind`."""
    return KIND.recognizes(url, first_answer)


def __getattr__(name: str) -> Any:
    # The connector is imported on first use: the registry of kinds reads only KIND.
    if name == "CkanConnector":
        from connectors.ckan.connector import CkanConnector

        return CkanConnector
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
