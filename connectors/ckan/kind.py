"""The ``ckan`` kind: CKAN sites (the Action API, the DataStore).

``/api/3`` answers ``{"version": 3}``; every action answers in the ``{"help": ..., "success":
..., "result": ...}`` envelope (``"error"`` instead of ``"result"`` when it fails).

Example:
    >>> KIND.url("https://data.gov.sg/api/action/datastore_search")
    True
    >>> KIND.answer({"version": 3}), KIND.answer({"help": "https://x/api/3/action/help_show", "success": 1})
    (True, True)
    >>> KIND.answer({"total_count": 3, "results": []})
    False
"""

from __future__ import annotations

from typing import Any

from connectors.kind_spec import KindSpec, web_parts

__all__ = ["KIND"]


def _url(url: str) -> bool:
    parts = web_parts(url)
    return parts is not None and ("/api/3/action" in parts.path or "/api/action" in parts.path)


def _answer(body: Any) -> bool:
    if not isinstance(body, dict):
        return False
    if body.get("version") == 3 and len(body) == 1:
        return True
    # The envelope: "help" names the action's help page; re-serialized copies keep only "result".
    return "success" in body and any(k in body for k in ("help", "result", "error"))


KIND = KindSpec(
    name="ckan",
    label="CKAN site",
    target="connectors.ckan:CkanConnector",
    summary="a CKAN site (Action API, DataStore)",
    url=_url,
    answer=_answer,
    probe="/api/3/action/package_search?rows=0",
    probe_rank=2,
    options=frozenset(
        {"api_key", "session", "timeout", "retries", "backoff", "max_wait", "page_size", "concurrency"}
    ),
    credential="api_key",
    page="{url}/dataset/{dataset}",
)
