"""ArcGIS Hub discovery: a site's datasets from its DCAT-US 1.1 feed, each resolved to its layer.

A Hub site publishes ``/api/feed/dcat-us/1.1.json``. Each dataset has distributions; the one in
``ArcGIS GeoServices REST API`` format (or any access URL or landing page naming
``…/FeatureServer/N`` or ``…/MapServer/N``) is the layer the rows come from, and its URL is
the dataset id to describe and pull. Datasets with no such layer (image services, folders,
services without a layer number) are left out: there is no table to pull.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from typing import Any, Final
from urllib.parse import urlsplit

from btvstat_open.errors import UsageError
from connectors.base import DatasetSummary

__all__ = ["FEED_PATH", "LAYER_URL", "check_layer_host", "hub_datasets", "layer_allowed", "layer_url_of"]

FEED_PATH: Final = "/api/feed/dcat-us/1.1.json"
#: A FeatureServer or MapServer layer URL: the service URL and the layer number.
LAYER_URL: Final = re.compile(
    r"^(?P<service>https?://.+/(?:FeatureServer|MapServer))/(?P<layer>\d+)/?$", re.I
)
_TAGS: Final = re.compile(r"<[^>]+>")


def layer_url_of(dataset: dict[str, Any]) -> str | None:
    """The layer URL of one DCAT dataset, or None when it names no FeatureServer/MapServer layer.

    Example:
        >>> layer_url_of({"distribution": [{"format": "ArcGIS GeoServices REST API",
        ...     "accessURL": "https://x.gov/arcgis/rest/services/Roads/MapServer/2"}]})
        'https://x.gov/arcgis/rest/services/Roads/MapServer/2'
    """
    candidates: list[str] = []
    for dist in dataset.get("distribution") or []:
        if isinstance(dist, dict):
            url = str(dist.get("accessURL") or dist.get("downloadURL") or "")
            rest = dist.get("format") == "ArcGIS GeoServices REST API"
            candidates.insert(0, url) if rest else candidates.append(url)
    candidates.append(str(dataset.get("landingPage") or ""))
    for url in candidates:
        match = LAYER_URL.match(url.split("?")[0])
        if match:
            return f"{match['service']}/{match['layer']}"
    return None


def _matches(dataset: dict[str, Any], q: str | None) -> bool:
    if not q:
        return True
    words = [str(dataset.get("title") or ""), str(dataset.get("description") or "")]
    words += [str(k) for k in dataset.get("keyword") or []]
    return q.lower() in " ".join(words).lower()


def layer_allowed(layer_url: str, site_url: str, allow_hosts: Collection[str] = ()) -> bool:
    """Whether a layer URL may be read through the site ``site_url``: on the site's own host, or on
    a host ``allow_hosts`` names (a Hub's ``accessURL`` may name any host, internal ones included).

    Example:
        >>> layer_allowed("https://hub.city.gov/rest/services/R/FeatureServer/0", "https://hub.city.gov")
        True
        >>> layer_allowed("http://169.254.169.254/x/FeatureServer/0", "https://hub.city.gov")
        False
        >>> layer_allowed("https://services.arcgis.com/x/FeatureServer/0", "https://hub.city.gov",
        ...               ["services.arcgis.com"])
        True
    """
    host = (urlsplit(layer_url).hostname or "").lower()
    return host == (urlsplit(site_url).hostname or "").lower() or host in allow_hosts


def check_layer_host(layer_url: str, site_url: str, allow_hosts: Collection[str] = ()) -> str:
    """``layer_url`` when :func:`layer_allowed`; else a :class:`UsageError` saying how to allow it."""
    if layer_allowed(layer_url, site_url, allow_hosts):
        return layer_url
    host = urlsplit(layer_url).hostname or "?"
    raise UsageError(
        f"The layer {layer_url.split('?')[0]} is on {host}, not on {urlsplit(site_url).hostname}; "
        f"refused (it may be an internal address). If {host} is trusted, list it in the portal's "
        f"allow_hosts (catalog.yaml) or pass allow_hosts=[{host!r}].",
        code="arcgis.host",
    )


def hub_datasets(feed: dict[str, Any], q: str | None = None, limit: int | None = 100) -> list[DatasetSummary]:
    """The datasets of a DCAT-US feed that resolve to a layer, matching ``q``, at most ``limit``.

    Example:
        >>> feed = {"dataset": [{"title": "Roads", "description": "<p>All roads</p>",
        ...     "distribution": [{"accessURL": "https://x.gov/rest/services/R/FeatureServer/0"}]}]}
        >>> hub_datasets(feed)[0].id, hub_datasets(feed)[0].description
        ('https://x.gov/rest/services/R/FeatureServer/0', 'All roads')
    """
    out: list[DatasetSummary] = []
    entries: Iterable[Any] = feed.get("dataset") or []
    for entry in entries:
        if limit is not None and len(out) >= limit:
            break
        if not isinstance(entry, dict) or not _matches(entry, q):
            continue
        url = layer_url_of(entry)
        if url is None:
            continue
        out.append(
            DatasetSummary(
                id=url,
                name=str(entry.get("title") or url),
                description=_TAGS.sub("", str(entry.get("description") or "")).strip(),
                updated_at=entry.get("modified"),
                link=entry.get("landingPage"),
            )
        )
    return out
