"""The ``arcgis`` kind: ArcGIS REST FeatureServer and MapServer layers, and ArcGIS Hub sites.

Example:
    >>> KIND.url("https://gis.example.gov/arcgis/rest/services/Roads/FeatureServer/0")
    True
    >>> KIND.answer({"currentVersion": 11.1, "layers": [], "tables": []}), KIND.answer({"id": "abcd-1234"})
    (True, False)
    >>> KIND.answer({"error": {"code": 400, "message": "Invalid query", "details": []}})
    True
"""

from __future__ import annotations

import re
from typing import Any, Final

from connectors.kind_spec import KindSpec, web_parts

__all__ = ["KIND"]

_REST_PATH: Final = re.compile(r"/rest/services(/|$)|/(FeatureServer|MapServer)(/\d+)?/?$", re.I)
_HUB_HOST: Final = re.compile(r"^[^/]+\.hub\.arcgis\.com$", re.I)
_REST_KEYS: Final = ("layers", "tables", "fields", "services", "folders")
# Keys only ArcGIS answers carry: a layer's or a query's.
_SIGNS: Final = frozenset({"spatialReference", "geometryType", "features"})


def _url(url: str) -> bool:
    parts = web_parts(url)
    return parts is not None and bool(_REST_PATH.search(parts.path) or _HUB_HOST.match(parts.netloc))


def _answer(body: Any) -> bool:
    """An ArcGIS REST answer: ``currentVersion`` (a service, a folder, a layer), a layer's or a
    query's keys, or ArcGIS's error body (sent with HTTP 200: ``{"error": {"code": 400, ...}}``)."""
    if not isinstance(body, dict):
        return False
    if "currentVersion" in body or any(k in body for k in _SIGNS):
        return True
    error = body.get("error")
    return isinstance(error, dict) and isinstance(error.get("code"), int)


KIND = KindSpec(
    name="arcgis",
    label="ArcGIS REST service",
    target="connectors.arcgis:ArcgisConnector",
    summary="an ArcGIS REST FeatureServer or MapServer",
    url=_url,
    answer=_answer,
    probe="?f=json",
    probe_rank=3,
    options=frozenset(
        {"token", "session", "timeout", "retries", "backoff", "max_wait", "page_size", "allow_hosts"}
    ),
    credential="token",
    page="{url}/{dataset}",
)
