"""Catalog exports: DCAT-US 1.1 ``data.json`` and a Frictionless ``datapackage.json``.

DCAT-US: one entry per dataset in the store (from :mod:`btvstat_open.dcat`, plus a Parquet
download) and one per public KPI series, whose distributions are the series as CSV and JSON
(``/kpi/{id}.csv``, ``/kpi/{id}.json``) and the source dataset's downloads. The federal-only
``bureauCode`` and ``programCode`` are left out.

Data package: one resource per public KPI series with its Table Schema (period_start, period_end,
value, target, status, and numerator and denominator for rates), and one resource per dataset the
catalog uses, typed from the dataset's columns.

Example:
    >>> from catalog.demo import DEMO_DIR, demo_store
    >>> from catalog.loader import load_catalog
    >>> catalog = load_catalog(DEMO_DIR)
    >>> with demo_store() as store:
    ...     doc = dcat_us(catalog, store, "http://127.0.0.1:8000")
    >>> doc["dataset"][-1]["distribution"][0]["downloadURL"]
    'http://127.0.0.1:8000/kpi/water-use-monthly.csv'
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote, unquote

import pyarrow as pa

from btvstat_open.dcat import catalog_document, dataset_entries, dataset_entry, tag_keywords
from btvstat_open.store import DatasetInfo, Store, as_utc, license_url
from catalog.asof import dataset_as_known, history_note, known_dataset, today_for
from catalog.freshness import data_updated_at
from catalog.measure import measure
from catalog.models import Catalog, Kpi
from catalog.status import STATUSES

__all__ = ["datapackage", "dcat_us", "kpi_table_schema"]

_PERIODICITY = {
    "week": "R/P1W",
    "month": "R/P1M",
    "quarter": "R/P3M",
    "year": "R/P1Y",
    "fiscal_year": "R/P1Y",
}
_TABLE_TYPES = {
    "text": ("string", None),
    "number": ("number", None),
    "checkbox": ("boolean", None),
    "floating_timestamp": ("datetime", None),
    "fixed_timestamp": ("datetime", None),
    "point": ("string", None),
    # Socrata's CSV form of a location, "address\n(lat, lon)": text, not a JSON object.
    "location": ("string", None),
    "url": ("string", "uri"),
}


def dcat_us(
    catalog: Catalog,
    store: Store,
    base_url: str,
    *,
    today: date | None = None,
    series: Callable[[Kpi], pa.Table] | None = None,
) -> dict[str, Any]:
    """The catalog and the store's datasets as a DCAT-US 1.1 ``data.json`` document.

    For a past ``today`` (``--as-of``) the store is described as known then: the datasets it held
    at the end of that day, each ``modified`` as of then, and the KPI series computed from them
    (``series`` gives a KPI's as of ``today`` when they are at hand: the server's cached ones).

    Example:
        >>> dcat_us(catalog, store, "https://performance.example.gov")["conformsTo"]
        'https://project-open-data.cio.gov/v1.1/schema'
    """
    base = base_url.rstrip("/")
    settings = catalog.settings
    contact = (
        {"contact_name": settings.contact.name, "contact_email": settings.contact.email}
        if settings.contact
        else {}
    )
    day = today or today_for(settings)
    past = day < datetime.now(UTC).date()
    if past:
        known = [dataset_as_known(store, info.id, day) for info in store.datasets() if info.public]
        entries = [dataset_entry(info, base, publisher=settings.publisher, **contact) for info in known]
    else:
        entries = dataset_entries(store, base, publisher=settings.publisher, **contact)
    for entry in entries:
        dataset_id = entry["identifier"].rsplit("/", 1)[-1]
        entry["distribution"].append(_download(f"{base}/datasets/{dataset_id}.parquet", "Parquet"))
        _modified_as_shown(entry, store, unquote(dataset_id), day)
    template = entries[0] if entries else None
    measured = series or (lambda kpi: measure(kpi, store, catalog.settings, today=day))
    described: dict[str, DatasetInfo] = {}  # many KPIs read one dataset: each described once
    for kpi in catalog.kpis.values():
        if kpi.public and store.exists(kpi.source.dataset):
            dataset = kpi.source.dataset
            if dataset not in described:
                described[dataset] = dataset_as_known(store, dataset, day)
            entries.append(_kpi_entry(kpi, catalog, described[dataset], measured(kpi), base, template))
    return catalog_document(
        entries, title=settings.title, publisher=settings.publisher, catalog_url=f"{base}/data.json"
    )


def _modified_as_shown(entry: dict[str, Any], store: Store, dataset_id: str, day: date) -> None:
    """A dataset's ``modified`` as its KPIs' cards say "Data updated": a sync's ``Last-Modified`` or
    the store's last write (:func:`catalog.freshness.data_updated_at`), and the as-of day when that
    is after it. When the data changed after the day, its last write known then. A source's own
    last-updated day stays as it is."""
    if store.info(dataset_id).source_updated:
        return
    updated = data_updated_at(store, dataset_id)
    known = as_utc(known_dataset(store, dataset_id, day).rows_updated_at)
    if updated > known:  # written since the day: as known then
        updated = known
    shown = day.isoformat() if updated.date() > day else updated.strftime("%Y-%m-%dT%H:%M:%SZ")
    entry["modified"] = shown


def _download(url: str, fmt: str) -> dict[str, Any]:
    media = {"CSV": "text/csv", "JSON": "application/json", "Parquet": "application/vnd.apache.parquet"}[fmt]
    return {
        "@type": "dcat:Distribution",
        "title": f"{fmt} download",
        "downloadURL": url,
        "mediaType": media,
        "format": fmt,
    }


def _kpi_entry(
    kpi: Kpi,
    catalog: Catalog,
    info: DatasetInfo,
    series: pa.Table,
    base: str,
    template: dict[str, Any] | None,
) -> dict[str, Any]:
    ident = quote(kpi.id, safe="")
    dataset = quote(info.id, safe="")
    who = catalog.settings.contact
    contact = (template or {}).get("contactPoint") or {
        "@type": "vcard:Contact",
        "fn": who.name if who else "Open data team",
        "hasEmail": f"mailto:{who.email if who else 'opendata@example.gov'}",
    }
    entry: dict[str, Any] = {
        "@type": "dcat:Dataset",
        "identifier": f"{base}/kpi/{ident}",
        "title": kpi.title,
        "description": kpi.description or kpi.title,
        "keyword": [],
        "modified": _modified(info),
        "publisher": {"@type": "org:Organization", "name": catalog.settings.publisher},
        "contactPoint": contact,
        "accessLevel": "public",
        "landingPage": f"{base}/kpi/{ident}",
        "describedBy": f"{base}/datapackage.json",
        "describedByType": "application/json",
        "accrualPeriodicity": _PERIODICITY[kpi.period.size],
        "theme": [kpi.outcome_area or kpi.department],
        "references": [f"{base}/api/views/{dataset}"],
        "distribution": [
            _download(f"{base}/kpi/{ident}.csv", "CSV"),
            _download(f"{base}/kpi/{ident}.json", "JSON"),
            _download(f"{base}/datasets/{dataset}.csv", "CSV") | {"title": f"Source dataset {info.id} (CSV)"},
            _download(f"{base}/datasets/{dataset}.parquet", "Parquet")
            | {"title": f"Source dataset {info.id} (Parquet)"},
            _download(f"{base}/resource/{dataset}.json", "JSON")
            | {"title": f"Source dataset {info.id} (JSON)"},
        ],
    }
    # Keywords CKAN accepts as tags; their display forms stay in the themes.
    entry["keyword"], entry["theme"] = tag_keywords(_keywords(kpi), entry["theme"])
    if series.num_rows:
        first = series.column("period_start")[0].as_py()
        last = series.column("period_end")[-1].as_py()
        entry["temporal"] = f"{first.isoformat()}/{last.isoformat()}"
    return entry


def _keywords(kpi: Kpi) -> list[str]:
    words = [*kpi.tags, kpi.department]
    if kpi.outcome_area:
        words.append(kpi.outcome_area)
    unique = list(dict.fromkeys(w for w in words if w))
    return unique or [kpi.id]


def _modified(info: DatasetInfo) -> str:
    moment = max(info.rows_updated_at, info.view_last_modified)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def kpi_table_schema(kpi: Kpi) -> dict[str, Any]:
    """The Frictionless Table Schema of a KPI's series.

    Example:
        >>> from catalog.models import Kpi
        >>> kpi = Kpi.model_validate({"id": "k", "title": "K", "department": "D",
        ...     "source": {"dataset": "d", "date_column": "day"}, "measure": {"calculation": "count"}})
        >>> [f["name"] for f in kpi_table_schema(kpi)["fields"]][:5]
        ['period_start', 'period_end', 'value', 'target', 'status']
    """
    unit = f" ({kpi.unit})" if kpi.unit else ""
    fields: list[dict[str, Any]] = [
        {
            "name": "period_start",
            "type": "date",
            "description": "First day of the period",
            "constraints": {"required": True},
        },
        {
            "name": "period_end",
            "type": "date",
            "description": "Last day of the period",
            "constraints": {"required": True},
        },
        {"name": "value", "type": "number", "description": f"{kpi.title}{unit}; empty when there is no data"},
        {"name": "target", "type": "number", "description": f"Target{unit}; empty when the KPI has none"},
        {
            "name": "status",
            "type": "string",
            "description": "Status of the value against the target",
            "constraints": {"required": True, "enum": list(STATUSES)},
        },
    ]
    if kpi.measure.calculation == "rate":
        fields.append({"name": "numerator", "type": "number", "description": "Numerator of the rate"})
        fields.append({"name": "denominator", "type": "number", "description": "Denominator of the rate"})
    fields += [  # the ledger of published values (catalog.ledger.with_published)
        {"name": "first_published_value", "type": "number", "description": "The value as first published"},
        {
            "name": "first_published_at",
            "type": "datetime",
            "description": "When the value was first published",
        },
        {
            "name": "revised_at",
            "type": "datetime",
            "description": "When the value was last revised; empty if never",
        },
    ]
    return {"fields": fields, "primaryKey": ["period_start"], "missingValues": [""]}


def _dataset_schema(info: DatasetInfo) -> dict[str, Any]:
    fields = []
    for column in info.columns:
        kind, fmt = _TABLE_TYPES.get(column.data_type, ("string", None))
        field: dict[str, Any] = {"name": column.field_name, "title": column.name, "type": kind}
        if fmt:
            field["format"] = fmt
        if column.description:
            field["description"] = column.description
        fields.append(field)
    return {"fields": fields, "missingValues": [""]}


def datapackage(
    catalog: Catalog, store: Store, base_url: str, *, today: date | None = None
) -> dict[str, Any]:
    """The catalog as a Frictionless Data Package with a Table Schema per KPI series.

    For a past ``today`` (``--as-of``) only the datasets the store held at the end of that day are
    resources, and the description says from which data the package was computed.

    Example:
        >>> datapackage(catalog, store, "http://127.0.0.1:8000")["resources"][0]["name"]
        'airport-passengers'
    """
    base = base_url.rstrip("/")
    resources: list[dict[str, Any]] = []
    used: list[str] = []
    for kpi in catalog.kpis.values():
        if not kpi.public:
            continue
        resources.append(
            {
                "name": kpi.id,
                "title": kpi.title,
                "description": kpi.description or kpi.title,
                "path": f"{base}/kpi/{quote(kpi.id, safe='')}.csv",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "schema": kpi_table_schema(kpi),
            }
        )
        if kpi.source.dataset not in used:
            used.append(kpi.source.dataset)
    day = today or today_for(catalog.settings)
    for dataset_id in used:
        if not store.exists(dataset_id):
            continue
        info = dataset_as_known(store, dataset_id, day)
        resources.append(
            {
                "name": f"dataset-{dataset_id}",
                "title": info.name,
                "description": info.description or info.name,
                "path": f"{base}/datasets/{quote(dataset_id, safe='')}.csv",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "schema": _dataset_schema(info),
                **_dataset_source(info),
            }
        )
    return {
        "profile": "data-package",
        "name": _slug(catalog.settings.title),
        "title": catalog.settings.title,
        "description": " ".join(
            filter(
                None, [catalog.settings.description or catalog.settings.title, history_note(store, used, day)]
            )
        ),
        "homepage": f"{base}/",
        "version": catalog.version,
        "contributors": [{"title": catalog.settings.publisher, "role": "publisher"}],
        "resources": resources,
    }


def _dataset_source(info: DatasetInfo) -> dict[str, Any]:
    """A dataset resource's ``licenses``, ``sources`` and ``keywords`` (Frictionless), where recorded."""
    extra: dict[str, Any] = {}
    if info.license:
        url = license_url(info.license)
        extra["licenses"] = [{"name": info.license, **({"path": url} if url else {})}]
    if info.source_url or info.attribution:
        source = {"title": info.attribution or info.source_url}
        extra["sources"] = [{**source, "path": info.source_url} if info.source_url else source]
    if info.tags:
        extra["keywords"] = list(info.tags)
    return extra


def _slug(text: str) -> str:
    """A data package name: lowercase letters, digits, ``-``, ``_`` and ``.``."""
    return re.sub(r"[^a-z0-9._-]+", "-", text.lower()).strip("-") or "catalog"
