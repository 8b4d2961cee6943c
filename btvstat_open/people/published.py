"""What entered values publish: the ledger entries (:mod:`catalog.ledger`) of a manual KPI.

An approval changes a KPI's entries dataset; :func:`record_published` then records in the ledger
what the KPI publishes now. A change to a locked period is a revision with the approver's reason
(:func:`locked_reason`): the ledger first takes what the period published before the change
(in case it never recorded it, e.g. values imported before the ledger existed), then the new
value as the next revision, so the KPI page, its series downloads and the next packet show both.

Example:
    >>> import tempfile
    >>> from pathlib import Path
    >>> from btvstat_open.store import Store
    >>> from catalog.models import Catalog, CatalogSettings
    >>> empty = Catalog(Path("."), CatalogSettings(), {})
    >>> record_published(empty, Store(tempfile.mkdtemp()), "no-such-kpi")
    []
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from btvstat_open.store import Store
from catalog.models import Catalog

__all__ = ["locked_reason", "record_published"]


def record_published(
    catalog: Catalog,
    store: Store,
    kpi_id: str,
    *,
    reasons: Mapping[date, str] | None = None,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """Record in the ledger what a public KPI publishes now (as ``publish_all`` does after a sync);
    the new entries. A private KPI publishes nothing."""
    from catalog.asof import today_for
    from catalog.ledger import record
    from catalog.measure import measure

    kpi = catalog.kpis.get(kpi_id)
    if kpi is None or not kpi.public or not store.exists(kpi.source.dataset):
        return []
    series = measure(kpi, store, catalog.settings, today=today_for(catalog.settings, None))
    return record(store, kpi, series, now=now, reasons=reasons)


def locked_reason(meeting: str, reason: str) -> str:
    """The ledger's reason for a change to a period locked after ``meeting``.

    Example:
        >>> locked_reason("2020-03-25-public-works", "  Crew log\\ncorrected ")
        'changed after the meeting 2020-03-25-public-works: Crew log corrected'
    """
    said = " ".join(reason.split())[:500]
    return f"changed after the meeting {meeting}: {said}" if said else f"changed after the meeting {meeting}"
