"""The ``opendatasoft`` kind: Opendatasoft sites (the Explore API v2.1).

The v2.1 catalog answers ``{"total_count": ..., "results": [{"dataset_id": ...}]}``, the API
root ``{"links": [...]}`` pointing at ``/api/explore``, an error ``{"error_code": ...}``.

Example:
    >>> KIND.url("https://data.burlingtonvt.gov/explore/dataset/planting-sites/")
    True
    >>> KIND.answer({"total_count": 1, "results": [{"dataset_id": "trees"}]})
    True
    >>> KIND.answer({"help": "x", "success": True, "result": {}})
    False
"""

from __future__ import annotations

from typing import Any

from connectors.kind_spec import KindSpec, web_parts

__all__ = ["KIND"]

# Keys only Opendatasoft answers carry.
_SIGNS = ("total_count", "error_code", "dataset_id")


def _url(url: str) -> bool:
    parts = web_parts(url)
    if parts is None:
        return False
    path = parts.path.rstrip("/") + "/"
    return "/api/explore/" in path or "/explore/dataset/" in path


def _answer(body: Any) -> bool:
    if not isinstance(body, dict):
        return False
    if any(k in body for k in _SIGNS):
        return True
    links = body.get("links")
    return isinstance(links, list) and any("/api/explore" in str(link) for link in links)


KIND = KindSpec(
    name="opendatasoft",
    label="Opendatasoft site",
    target="connectors.opendatasoft:OpendatasoftConnector",
    summary="an Opendatasoft site (Explore API v2.1)",
    url=_url,
    answer=_answer,
    probe="/api/explore/v2.1/catalog/datasets?limit=0",
    probe_rank=1,
    options=frozenset({"api_key", "session", "timeout", "retries", "backoff", "max_wait", "timezone"}),
    credential="api_key",
    page="{url}/explore/dataset/{dataset}/",
)
