"""Revisions of published values (:mod:`catalog.ledger`) as events and as feed entries.

* For notifications, :class:`RevisionSource` observes ``revised:KPI:PERIOD`` with the period's
  latest revision number as its state: each new revision fires ``revised`` once (a revision
  recorded more than a week before the run is recorded without a message, so a first run does
  not send the ledger's whole history).
* For the Atom feeds, :func:`revision_entries` lists each revision of the feed's public KPIs
  (registered in :data:`catalog.feeds.FEED_SOURCES`), dated the day it was recorded.

Example:
    >>> import tempfile
    >>> from datetime import date
    >>> from btvstat_open.store import Store
    >>> from catalog.models import Catalog, CatalogSettings
    >>> from pathlib import Path
    >>> empty = Catalog(Path("."), CatalogSettings(), {})
    >>> list(RevisionSource().observe(empty, Store(tempfile.mkdtemp()), date(2020, 3, 2)))
    []
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from btvstat_open.store import Store
from catalog.feeds import FEED_SOURCES, FeedEntry
from catalog.ledger import LEDGER_DATASET
from catalog.models import Catalog, Kpi
from catalog.notify.events import Event, Observation, register_source

__all__ = ["Revision", "RevisionSource", "revision_entries", "revisions"]

RECENT = timedelta(days=7)


@dataclass(frozen=True)
class Revision:
    """One revision of a published period: its number, the value before and after, when, why."""

    kpi_id: str
    period_start: date
    revision: int
    previous: float | None
    value: float | None
    recorded_at: datetime
    reason: str


def revisions(store: Store, kpi_ids: Sequence[str], *, latest: bool = False) -> list[Revision]:
    """The revisions (revision 1 and later) of these KPIs, newest first; with ``latest``, only the
    newest of each period."""
    if not kpi_ids or not store.exists(LEDGER_DATASET):
        return []
    marks = ", ".join("?" for _ in kpi_ids)
    newest = "QUALIFY row_number() OVER (PARTITION BY kpi, period_start ORDER BY revision DESC) = 1"
    sql = (
        "SELECT kpi, CAST(period_start AS DATE), revision, previous_value, value, recorded_at, reason "
        f"FROM {store.info(LEDGER_DATASET).table} WHERE kpi IN ({marks}) AND revision >= 1 "
        f"{newest if latest else ''} ORDER BY recorded_at DESC, kpi, period_start"
    )
    rows = store.cursor().execute(sql, list(kpi_ids)).fetchall()
    return [
        Revision(kpi, start, int(rev), previous, value, _utc(at), reason or "revised")
        for kpi, start, rev, previous, value, at, reason in rows
    ]


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _number(kpi: Kpi, value: float | None) -> str:
    return "no value" if value is None else f"{value:,.{kpi.decimals}f}"


def _sentence(kpi: Kpi, item: Revision) -> str:
    return (
        f"the value for the period from {item.period_start.isoformat()} was revised from "
        f"{_number(kpi, item.previous)} to {_number(kpi, item.value)} ({item.reason})"
    )


class RevisionSource:
    """The ``revised`` events of the ledger (see the module docstring)."""

    def observe(self, catalog: Catalog, store: Store, today: date) -> Iterator[Observation]:
        """The latest revision of every revised period of the catalog's KPIs."""
        now = datetime.now(UTC)
        for item in revisions(store, list(catalog.kpis), latest=True):
            kpi = catalog.kpis[item.kpi_id]
            event = None
            if now - item.recorded_at <= RECENT:
                event = Event(
                    "revised",
                    f"{kpi.id}:{item.period_start.isoformat()}",
                    kpi.title,
                    (kpi.department,),
                    _sentence(kpi, item),
                    f"/kpi/{kpi.id}",
                    today,
                    public=kpi.public,
                    kpi_id=kpi.id,
                )
            yield Observation(f"revised:{kpi.id}:{item.period_start.isoformat()}", str(item.revision), event)


def revision_entries(
    catalog: Catalog, kpis: Sequence[Kpi], today: date, store: Store | None
) -> list[FeedEntry]:
    """One feed entry per revision of ``kpis`` (the feed's public KPIs), dated when recorded."""
    if store is None:
        return []
    by_id = {k.id: k for k in kpis}
    entries = []
    for item in revisions(store, list(by_id)):
        kpi = by_id[item.kpi_id]
        sentence = _sentence(kpi, item)
        entries.append(
            FeedEntry(
                f"urn:btvstat-open:kpi:{kpi.id}:revision:{item.period_start.isoformat()}:{item.revision}",
                f"{kpi.title}: value revised",
                item.recorded_at.date(),
                f"/kpi/{kpi.id}",
                sentence[0].upper() + sentence[1:] + ".",
            )
        )
    return entries


register_source(RevisionSource())
FEED_SOURCES.append(revision_entries)
