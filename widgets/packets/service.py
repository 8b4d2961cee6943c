"""Packets for the server: built once per (meeting, catalog version, data versions), then reused.

A packet depends on the catalog (its version hashes every KPI and meeting file) and on the
datasets of the KPIs on its agenda; :class:`PacketService` keys each packet, page and PDF on all
three, like charts (:mod:`widgets.service`). A data change gives a new key, so the next request
rebuilds; nothing else does, so a past meeting's PDF is the same bytes on every request.

Example:
    >>> from widgets.cache import DataVersions
    >>> from datetime import date
    >>> packets = PacketService(store, catalog, DataVersions(store), today=lambda: date(2020, 3, 2))
    >>> packets.pdf("2020-03-04-public-works")[:5]
    b'%PDF-'
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from btvstat_open.errors import MeetingNotFound
from btvstat_open.i18n import current_locale
from btvstat_open.store import Store
from catalog.meetings import agenda_kpis
from catalog.models import Catalog, Kpi, Meeting
from catalog.packet import Packet, build_packet, find_meeting
from catalog.updates import UPDATES_DATASET
from widgets.cache import DataVersions, KeyedLocks, LruCache
from widgets.packets.kept import KeptPackets, Revision, produce
from widgets.packets.render import packet_pages, packet_pdf
from widgets.packets.view import long_date
from widgets.theme_files import brand_of

__all__ = ["MeetingSummary", "PacketService"]

_MAX_BYTES = 128 * 1024 * 1024  # packets, pages and PDFs kept at most


def _size(value: Any) -> int:
    """About the memory a cached packet, page or PDF holds."""
    if isinstance(value, tuple):  # a packet's two pages
        return sum(map(_size, value))
    return len(value) if isinstance(value, (bytes, str)) else 256 * 1024


@dataclass(frozen=True)
class MeetingSummary:
    """One meeting in the list: when, who, and its packet's highlights."""

    meeting: Meeting
    date: str
    upcoming: bool
    counts: dict[str, int]
    #: the numbers of the packet's earlier kept revisions (``/meetings/{id}/revisions/{n}``)
    earlier: tuple[int, ...] = ()


class PacketService:
    """Packets of a catalog's meetings, cached by meeting, catalog version and data versions."""

    def __init__(
        self,
        store: Store,
        catalog: Catalog | None,
        versions: DataVersions,
        today: Callable[[], date],
        *,
        layout: Callable[[str], bytes] = packet_pdf,
    ) -> None:
        self.store = store
        self.catalog = catalog
        self.versions = versions
        self.today = today
        #: lays a packet page out as PDF (the server's: :class:`~widgets.packets.layout.PdfProcesses`)
        self.layout = layout
        self._built: LruCache[tuple[Any, ...], Any] = LruCache(256, max_bytes=_MAX_BYTES, size=_size)
        self._locks = KeyedLocks()
        #: the service over the catalog in its default language, which keeps the packets (None: this one)
        self.keeper: PacketService | None = None

    def localized(self, catalog: Catalog) -> PacketService:
        """The same packets over ``catalog`` in another language (catalog.localized); kept packets
        are kept by this one, with a page in each language (widgets.packets.kept)."""
        sibling = PacketService(self.store, catalog, self.versions, self.today, layout=self.layout)
        sibling.keeper = self
        return sibling

    def meeting(self, meeting_id: str) -> Meeting:
        """The meeting, or :class:`~btvstat_open.errors.MeetingNotFound` (a 404 page)."""
        if self.catalog is None:
            raise MeetingNotFound(
                "No catalog is loaded, so there are no meetings; start the server with --catalog DIR."
            )
        return find_meeting(self.catalog, meeting_id)

    def kpis(self, meeting: Meeting) -> list[Kpi]:
        """The KPIs on the meeting's agenda: their datasets' versions key its packet."""
        assert self.catalog is not None
        return [self.catalog.kpis[k] for k in agenda_kpis(meeting, self.catalog.kpis)]

    @property
    def cached_values(self) -> int:
        """How many packets, pages and PDFs are cached."""
        return len(self._built)

    def _cached(self, meeting: Meeting, what: str, build: Callable[[], Any]) -> Any:
        assert self.catalog is not None
        # program-updates: the departments' approved commentary each item shows
        deps = self.versions.deps([*(k.source.dataset for k in self.kpis(meeting)), UPDATES_DATASET])
        key = (
            meeting.id,
            self.catalog.version,
            deps,
            what,
            current_locale(),
        )  # words in the request's language
        with self._locks.hold(key):
            value = self._built.get(key)
            if value is None:
                value = build()
                self._built.put(key, value)
        return value

    def packet(self, meeting_id: str) -> Packet:
        """The meeting's packet, computed as of its own day (see :func:`catalog.packet.packet_day`)."""
        meeting = self.meeting(meeting_id)
        catalog = self.catalog
        assert catalog is not None
        packet: Packet = self._cached(
            meeting, "packet", lambda: build_packet(catalog, self.store, meeting.id)
        )
        return packet

    def kept(self, meeting_id: str, revision: int | None = None) -> Revision | None:
        """The kept packet (revision ``revision``, else the newest, produced and kept now if due).

        None before the meeting's date, when nothing is kept yet.
        """
        meeting = self.meeting(meeting_id)
        assert self.catalog is not None
        if revision is not None:
            return KeptPackets(self.store.root).revision(meeting.id, revision)
        if self.keeper is not None:
            return self.keeper.kept(meeting_id)
        catalog = self.catalog
        with self._locks.hold(("kept", meeting.id)):  # one process produces it once
            return produce(catalog, self.store, meeting.id, layout=self.layout)

    def html(self, meeting_id: str, *, links: bool = True, revision: int | None = None) -> str:
        """The packet as a page (``links``: with the site's navigation); the kept one once it is kept."""
        kept = self.kept(meeting_id, revision)
        if kept is not None:
            return kept.html(links=links, locale=current_locale())
        meeting = self.meeting(meeting_id)
        assert self.catalog is not None
        settings = self.catalog.settings
        # Both forms at once: every chart is drawn once for the page and for the PDF.
        pages: tuple[str, str] = self._cached(
            meeting, "pages", lambda: packet_pages(self.packet(meeting_id), settings, brand_of(self.catalog))
        )
        return pages[1] if links else pages[0]

    def pdf(self, meeting_id: str, revision: int | None = None) -> bytes:
        """The packet as a PDF (from the page without the site's navigation); the kept one once kept."""
        kept = self.kept(meeting_id, revision)
        if kept is not None:
            return kept.pdf(current_locale(), self.layout)
        meeting = self.meeting(meeting_id)
        pdf: bytes = self._cached(meeting, "pdf", lambda: self.layout(self.html(meeting_id, links=False)))
        return pdf

    def all_kpis(self) -> list[Kpi]:
        """Every KPI on any meeting's agenda (the meeting list depends on their data)."""
        if self.catalog is None:
            return []
        seen: dict[str, Kpi] = {}
        for meeting in self.catalog.meetings.values():
            seen.update((k.id, k) for k in self.kpis(meeting))
        return list(seen.values())

    def summaries(self) -> tuple[list[MeetingSummary], list[MeetingSummary]]:
        """Upcoming meetings (soonest first) and past ones (latest first), with their highlights."""
        if self.catalog is None:
            return [], []
        today = self.today()
        upcoming: list[MeetingSummary] = []
        past: list[MeetingSummary] = []
        for meeting in sorted(self.catalog.meetings.values(), key=lambda m: (m.date, m.id)):
            kept = [revision.number for revision in KeptPackets(self.store.root).revisions(meeting.id)]
            summary = MeetingSummary(
                meeting,
                long_date(meeting.date),
                meeting.date >= today,
                self.packet(meeting.id).counts(),
                tuple(kept[:-1]),
            )
            (upcoming if summary.upcoming else past).append(summary)
        return upcoming, past[::-1]
