"""DCAT-US 1.1 (Project Open Data) ``data.json`` for the datasets in a store.

Entries leave out the federal-only ``bureauCode`` and ``programCode``. The catalog package
reuses :func:`catalog_document` to publish KPI series next to these entries.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

from btvstat_open.store import DatasetInfo, Store, as_utc, license_url

__all__ = ["catalog_document", "dataset_entries", "dataset_entry", "tag_keywords"]

CONFORMS_TO = "https://project-open-data.cio.gov/v1.1/schema"
DESCRIBED_BY = "https://project-open-data.cio.gov/v1.1/schema/catalog.json"
CONTEXT = "https://project-open-data.cio.gov/v1.1/schema/catalog.jsonld"
# CKAN's tag rule (ckan.logic.validators: tag_name_validator, tag_length_validator): letters,
# digits, "_", "-", "." and spaces, 2 to 100 characters. Harvesters (ckanext-dcat) turn each
# DCAT keyword into a tag as it is, and CKAN refuses the whole dataset for one bad tag.
_NOT_IN_TAG = re.compile(r"[^\w\-. ]+", re.UNICODE)
_TAG_LENGTH = (2, 100)


def tag_keywords(words: Iterable[str], themes: Iterable[str] = ()) -> tuple[list[str], list[str]]:
    """Keywords a CKAN tag accepts, and the themes with the display form of every keyword changed.

    ``&`` becomes ``and``; any other run of characters a tag refuses (``,``, ``/``, ``'``...)
    becomes one space; a keyword shorter than two characters is left out, a longer one than 100
    cut. The original spelling is kept in ``theme`` (free text in DCAT-US), so nothing is lost.

    Example:
        >>> tag_keywords(["Parks, Recreation and Waterfront", "Police & Fire", "311"])
        (['Parks Recreation and Waterfront', 'Police and Fire', '311'],
         ['Parks, Recreation and Waterfront', 'Police & Fire'])
    """
    keywords: list[str] = []
    kept = list(dict.fromkeys(t for t in themes if t))
    for word in words:
        tag = " ".join(_NOT_IN_TAG.sub(" ", word.replace("&", " and ")).split())[: _TAG_LENGTH[1]].strip()
        if len(tag) < _TAG_LENGTH[0]:
            continue
        if tag not in keywords:
            keywords.append(tag)
        if tag != word and word not in kept:
            kept.append(word)
    return keywords, kept


def dataset_entry(
    info: DatasetInfo,
    base_url: str,
    *,
    publisher: str = "btvstat-open local portal",
    contact_name: str = "Open data team",
    contact_email: str = "opendata@example.gov",
) -> dict[str, Any]:
    """One dataset as a DCAT-US 1.1 entry with CSV and JSON distributions.

    Example:
        >>> dataset_entry(info, "http://127.0.0.1:8000")["distribution"][0]["mediaType"]
        'text/csv'
    """
    base = base_url.rstrip("/")
    ident = quote(info.id, safe="")
    modified = as_utc(max(info.rows_updated_at, info.view_last_modified))
    entry = {
        "@type": "dcat:Dataset",
        "identifier": f"{base}/api/views/{ident}",
        "title": info.name or info.id,
        "description": info.description or info.name or info.id,
        "keyword": [],
        "modified": modified.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "issued": as_utc(info.created_at).strftime("%Y-%m-%d"),
        "publisher": {"@type": "org:Organization", "name": publisher},
        "contactPoint": {"@type": "vcard:Contact", "fn": contact_name, "hasEmail": f"mailto:{contact_email}"},
        "accessLevel": "public",
        "landingPage": f"{base}/d/{ident}",  # the dataset's page, as Socrata's (harvesters match on it)
        "describedBy": f"{base}/api/views/{ident}.json",
        "describedByType": "application/json",
        "distribution": [
            {
                "@type": "dcat:Distribution",
                "title": "CSV export",
                "downloadURL": f"{base}/api/views/{ident}/rows.csv?accessType=DOWNLOAD",
                "mediaType": "text/csv",
                "format": "CSV",
            },
            {
                "@type": "dcat:Distribution",
                "title": "SODA API (JSON)",
                "accessURL": f"{base}/resource/{ident}.json",
                "downloadURL": f"{base}/resource/{ident}.json",
                "mediaType": "application/json",
                "format": "JSON",
            },
        ],
    }
    # DCAT-US's theme is the portal's category (and the display form of any keyword CKAN would refuse).
    entry["keyword"], themes = tag_keywords(
        list(info.tags) or [info.id], [info.category] if info.category else []
    )
    if themes:
        entry["theme"] = themes
    _source_fields(entry, info)
    return entry


def _source_fields(entry: dict[str, Any], info: DatasetInfo) -> None:
    """License, attribution, the source's page and its own last-updated day, where recorded."""
    if info.license:
        entry["license"] = license_url(info.license) or info.license
    if info.attribution:  # whose data it is: the publisher; the site's own publisher stays above it
        entry["publisher"] = {
            "@type": "org:Organization",
            "name": info.attribution,
            "subOrganizationOf": entry["publisher"],
        }
    if info.source_url:
        entry["references"] = [info.source_url]
    if info.source_updated:
        entry["modified"] = info.source_updated  # the source's own date, not when it was loaded here


def dataset_entries(
    store: Store,
    base_url: str,
    *,
    publisher: str = "btvstat-open local portal",
    contact_name: str = "Open data team",
    contact_email: str = "opendata@example.gov",
) -> list[dict[str, Any]]:
    """DCAT-US 1.1 entries for every public dataset in the store, by id (private ones are left out).

    The store lists its datasets from one version lookup (metadata is re-read only for datasets
    that changed), so this costs no read per dataset.

    Example:
        >>> [e["identifier"] for e in dataset_entries(store, "http://127.0.0.1:8000")][:2]
        ['http://127.0.0.1:8000/api/views/child-care-locations',
         'http://127.0.0.1:8000/api/views/entries-sidewalk-repairs-entered']
    """
    return [
        dataset_entry(
            info, base_url, publisher=publisher, contact_name=contact_name, contact_email=contact_email
        )
        for info in store.datasets()
        if info.public
    ]


def catalog_document(
    entries: list[dict[str, Any]], *, title: str, publisher: str, catalog_url: str | None = None
) -> dict[str, Any]:
    """The ``data.json`` wrapper around dataset entries.

    Example:
        >>> catalog_document([], title="Open data", publisher="City")["conformsTo"]
        'https://project-open-data.cio.gov/v1.1/schema'
    """
    document: dict[str, Any] = {
        "@context": CONTEXT,
        "@type": "dcat:Catalog",
        "conformsTo": CONFORMS_TO,
        "describedBy": DESCRIBED_BY,
        "title": title,
        "publisher": {"@type": "org:Organization", "name": publisher},
        "dataset": entries,
    }
    if catalog_url:
        document["@id"] = catalog_url
    return document
