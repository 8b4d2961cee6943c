"""Kept packets: a meeting's packet as first produced on or after its date, kept as shown.

A packet produced on or after its meeting's date (by the server or ``btvstat-open packet``) is
kept in the store's folder, ``packets/<meeting>/<revision>/``: its page, its PDF and the values
it showed (``values.json``). Later requests and commands serve the kept bytes, whatever the data
or the catalog do since. ``packet MEETING --refresh`` computes it again (as known on the meeting
day) and keeps that as the next revision, every earlier one staying; its cover lists what changed
since the revision before. A revision is written to a temporary folder and renamed into place, so
a crash leaves it whole or absent, and two processes keeping at once keep one.

Example:
    >>> from catalog.packet import build_packet
    >>> kept = KeptPackets(scratch)
    >>> packet = build_packet(catalog, store, "2020-03-04-public-works")
    >>> kept.latest("2020-03-04-public-works") is None
    True
    >>> first = kept.keep(packet, "<html>", "<html>", b"%PDF-")
    >>> first.number, kept.latest("2020-03-04-public-works").pdf()
    (1, b'%PDF-')
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from btvstat_open.errors import UsageError
from btvstat_open.i18n import use_locale
from btvstat_open.store import Store
from catalog.models import Catalog
from catalog.packet import Packet, build_packet, find_meeting
from widgets.packets.render import packet_html, packet_pdf

__all__ = ["KeptPackets", "Revision", "packet_values", "produce", "revisions_between", "should_keep"]


def packet_values(packet: Packet) -> list[dict[str, Any]]:
    """What each KPI item of a packet showed: its latest period's value, target and status."""
    values = []
    for item in packet.items:
        latest = item.change
        values.append(
            {
                "kpi": item.kpi.id,
                "title": item.kpi.title,
                "unit": item.kpi.unit,
                "period_start": latest.period_start.isoformat() if latest else None,
                "value": latest.value if latest else None,
                "target": latest.target if latest else None,
                "status": item.status,
            }
        )
    return values


def revisions_between(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> list[str]:
    """Plain sentences for what changed from one packet's values to another's.

    Example:
        >>> a = [{"kpi": "k", "title": "Days", "unit": "days", "period_start": "2020-02-24",
        ...       "value": 11.0, "target": 7.0, "status": "off_track"}]
        >>> revisions_between(a, [{**a[0], "value": 13.0}])
        ['Days (period from 2020-02-24): 11.0 days (off_track) then, 13.0 days (off_track) now.']
        >>> revisions_between(a, a)
        []
    """
    old = {v["kpi"]: v for v in before}
    lines = []
    for now in after:
        then = old.get(now["kpi"])
        if then is None:
            lines.append(f"{now['title']}: new on this agenda.")
            continue
        if any(then[f] != now[f] for f in ("period_start", "value", "target", "status")):
            lines.append(
                f"{now['title']} (period from {now['period_start']}): {_shown(then)} then, {_shown(now)} now."
            )
    return lines


def _shown(value: dict[str, Any]) -> str:
    if value["value"] is None:
        return f"no data ({value['status']})"
    unit = f" {value['unit']}" if value.get("unit") else ""
    return f"{value['value']}{unit} ({value['status']})"


def should_keep(meeting_date: date, today: date | None = None) -> bool:
    """Whether a packet produced today is kept: on or after its meeting's date (today: UTC).

    Example:
        >>> should_keep(date(2020, 3, 4), date(2020, 3, 3)), should_keep(date(2020, 3, 4), date(2020, 3, 4))
        (False, True)
    """
    return (today or datetime.now(UTC).date()) >= meeting_date


@dataclass(frozen=True)
class Revision:
    """One kept revision of a meeting's packet."""

    meeting_id: str
    number: int
    folder: Path

    def html(self, *, links: bool = True, locale: str | None = None) -> str:
        """The packet as a page (``links``: with the site's navigation; without, as it was printed),
        in ``locale`` when it was kept in that language too (else in the site's default language)."""
        name = "page" if links else "packet"
        translated = self.folder / f"{name}.{locale}.html"
        if locale and translated.is_file():
            return translated.read_text(encoding="utf-8")
        return (self.folder / f"{name}.html").read_text(encoding="utf-8")

    def pdf(self, locale: str | None = None, layout: Callable[[str], bytes] | None = None) -> bytes:
        """The PDF exactly as first produced; in another ``locale`` kept with the revision, the PDF
        of that language's kept page, laid out (by ``layout``) the first time it is asked for."""
        source = self.folder / f"packet.{locale}.html"
        if not locale or layout is None or not source.is_file():
            return (self.folder / "packet.pdf").read_bytes()
        target = self.folder / f"packet.{locale}.pdf"
        if not target.is_file():
            pdf = layout(source.read_text(encoding="utf-8"))
            partial = self.folder / f".packet.{locale}.pdf.{os.getpid()}.partial"
            partial.write_bytes(pdf)
            os.replace(partial, target)  # whole or absent, whoever writes it first or last
        return target.read_bytes()

    def record(self) -> dict[str, Any]:
        """``kept_at``, ``as_of`` and the ``values`` the packet showed."""
        data: dict[str, Any] = json.loads((self.folder / "values.json").read_text(encoding="utf-8"))
        return data


class KeptPackets:
    """The kept revisions of every meeting's packet, in ``<root>/packets/``."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root) / "packets"

    def revisions(self, meeting_id: str) -> list[Revision]:
        """Every kept revision of a meeting's packet, oldest first."""
        folder = self.root / meeting_id
        if not folder.is_dir():
            return []
        numbers = sorted(int(p.name) for p in folder.iterdir() if p.is_dir() and p.name.isdigit())
        return [Revision(meeting_id, n, folder / str(n)) for n in numbers]

    def latest(self, meeting_id: str) -> Revision | None:
        """The newest kept revision, or None."""
        revisions = self.revisions(meeting_id)
        return revisions[-1] if revisions else None

    def revision(self, meeting_id: str, number: int) -> Revision:
        """Revision ``number``; a revision never kept is a :class:`UsageError` naming those there are."""
        for revision in self.revisions(meeting_id):
            if revision.number == number:
                return revision
        there = [r.number for r in self.revisions(meeting_id)]
        raise UsageError(
            f"Meeting {meeting_id!r} has no kept packet revision {number}; "
            + (
                f"its revisions are {', '.join(map(str, there))}."
                if there
                else "no packet of it is kept yet."
            ),
            code="query.bad-revision",
        )

    def keep(
        self,
        packet: Packet,
        page: str,
        html: str,
        pdf: bytes,
        translated: dict[str, tuple[str, str]] | None = None,
    ) -> Revision:
        """Keep a packet as the next revision (or, if another process just kept one, return that);
        ``translated`` holds its page and printed HTML in the site's other languages, by locale."""
        meeting_id = packet.meeting.id
        folder = self.root / meeting_id
        folder.mkdir(parents=True, exist_ok=True)
        previous = self.latest(meeting_id)
        number = previous.number + 1 if previous else 1
        values = {
            "kept_at": datetime.now(UTC).isoformat(),
            "as_of": packet.as_of.isoformat(),
            "values": packet_values(packet),
        }
        partial = Path(tempfile.mkdtemp(prefix=".partial-", dir=folder))
        try:
            (partial / "page.html").write_text(page, encoding="utf-8")
            (partial / "packet.html").write_text(html, encoding="utf-8")
            (partial / "packet.pdf").write_bytes(pdf)
            for locale, (translated_page, translated_html) in (translated or {}).items():
                (partial / f"page.{locale}.html").write_text(translated_page, encoding="utf-8")
                (partial / f"packet.{locale}.html").write_text(translated_html, encoding="utf-8")
            (partial / "values.json").write_text(json.dumps(values, indent=2), encoding="utf-8")
            os.rename(partial, folder / str(number))
        except OSError:
            kept = self.latest(meeting_id)
            if kept is None or kept.number < number:
                raise
            return kept  # kept by another process first
        finally:
            shutil.rmtree(partial, ignore_errors=True)
        return Revision(meeting_id, number, folder / str(number))


def produce(
    catalog: Catalog,
    store: Store,
    meeting_id: str,
    *,
    refresh: bool = False,
    today: date | None = None,
    layout: Callable[[str], bytes] = packet_pdf,
) -> Revision | None:
    """The meeting's kept packet: the newest revision, else one produced and kept now.

    None before the meeting's date (nothing is kept then). ``refresh`` computes the packet again,
    as known on the meeting's day, and keeps it as the next revision, its cover listing what
    changed since the revision before. ``layout`` lays the page out as PDF (the server passes its
    layout processes).
    """
    meeting = find_meeting(catalog, meeting_id)
    kept = KeptPackets(store.root)
    latest = kept.latest(meeting.id)
    if latest is not None and not refresh:
        return latest
    if not should_keep(meeting.date, today):
        if refresh:
            raise UsageError(
                f"Meeting {meeting.id!r} is on {meeting.date.isoformat()}: no packet is kept before that "
                "day, so there is nothing to refresh. Run the command without --refresh."
            )
        return None
    packet = build_packet(catalog, store, meeting.id)
    if latest is not None:
        then = latest.record()
        changes = tuple(revisions_between(then["values"], packet_values(packet)))
        packet = replace(
            packet, revision=latest.number + 1, kept_before=then["kept_at"][:10], changes=changes
        )
    # The record is in the site's default language; its other languages are kept beside it as
    # pages (their PDFs are laid out from those the first time they are asked for).
    default, *others = catalog.settings.locales
    with use_locale(default):
        html = packet_html(packet, catalog.settings, links=False)
        page = packet_html(packet, catalog.settings, links=True)
    translated = {}
    for locale in others:
        with use_locale(locale):
            translated[locale] = (
                packet_html(packet, catalog.settings, links=True),
                packet_html(packet, catalog.settings, links=False),
            )
    return kept.keep(packet, page, html, layout(html), translated)
