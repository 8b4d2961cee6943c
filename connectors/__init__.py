"""Connectors to open-data portals: pull datasets as Arrow, Parquet or CSV; publish rows.

Example:
    >>> from connectors import connect
    >>> portal = connect(portal_url)  # or connect("https://data.example.gov", app_token="...")
    >>> portal.pull_to("kc-311-potholes", scratch / "out.parquet").rows
    4493
"""

from __future__ import annotations

from typing import Any

from connectors.base import Connector, DatasetDescription, DatasetSummary, PullResult, PushResult

__all__ = [
    "Connector",
    "DatasetDescription",
    "DatasetSummary",
    "PullResult",
    "PushResult",
    "connect",
]


def connect(url: str, **options: Any) -> Connector:
    """The connector for a portal URL (every ``http(s)://`` portal speaks SODA today).

    Options: ``app_token``, ``username``/``password``, ``api_key_id``/``api_key_secret``,
    ``oauth_token``, ``timeout`` (seconds), ``page_size``, ``concurrency``, ``retries``,
    ``api`` (``auto``, ``soda2``, ``soda3``), ``session`` (a ``requests.Session`` of your own:
    proxies, certificates, a cache; it is used as it is and left open).

    Example:
        >>> connect("http://127.0.0.1:8000")
        SocrataConnector('http://127.0.0.1:8000', Credentials(), api='auto')
        >>> connect("ftp://x")
        Traceback (most recent call last):
        ...
        btvstat_open.errors.UsageError: Cannot connect to 'ftp://x': give an http:// or https:// portal URL.
    """
    text = (url or "").strip()
    if text.startswith(("http://", "https://")):
        from connectors.socrata import SocrataConnector

        return SocrataConnector(text, **options)
    from btvstat_open.errors import UsageError  # here, so the package's namespace is its API alone

    raise UsageError(f"Cannot connect to {url!r}: give an http:// or https:// portal URL.")
