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

from typing import Any

from connectors.ckan.connector import CkanConnector

__all__ = ["CkanConnector", "recognizes"]


def recognizes(url: str, first_answer: dict[str, Any] | None) -> bool:
    """Whether ``url`` (and the JSON it answered first, if any) is a CKAN site."""
    if "/api/3/action" in url or "/api/action/" in url:
        return True
    if not isinstance(first_answer, dict):
        return False
    if first_answer.get("version") == 3 and len(first_answer) == 1:
        return True
    if "success" not in first_answer:
        return False
    # The envelope: "help" names the action's help page; re-serialized copies keep only "result".
    return "action" in str(first_answer.get("help", "")) or "result" in first_answer
