"""The ``file`` kind: CSV, Excel ``.xlsx`` and Parquet files in a folder or under an fsspec URL.

A path (``exports/``, ``C:\\data``), ``file://`` or another fsspec protocol (``s3://``,
``memory://``) is a folder of files; there is no server to ask, and no page a reader can open
(a page links to this site's download of the local copy instead).

Example:
    >>> [KIND.url(u) for u in ("data/", "s3://bucket/x", "https://data.example.gov")]
    [True, True, False]
"""

from __future__ import annotations

from urllib.parse import urlsplit

from connectors.kind_spec import KindSpec

__all__ = ["KIND"]


def _is_fsspec_protocol(scheme: str) -> bool:
    from fsspec.registry import known_implementations, registry

    return scheme in known_implementations or scheme in registry


def _url(url: str) -> bool:
    scheme = urlsplit((url or "").strip()).scheme.lower()
    if scheme in ("http", "https"):
        return False
    # "C:\\data" parses with scheme "c": one letter is a Windows drive, not a protocol.
    return not scheme or len(scheme) == 1 or scheme == "file" or _is_fsspec_protocol(scheme)


KIND = KindSpec(
    name="file",
    label="files",
    target="connectors.files:FileConnector",
    summary="CSV, Excel .xlsx and Parquet files in a folder or under an fsspec URL",
    url=_url,
    options=frozenset({"base_dir", "storage_options", "sheet", "column_types", "date_formats", "page_size"}),
)
