"""Feeds for residents, no account needed: Atom feeds of what happened to the public KPIs, and
iCalendar feeds of meetings and of actions' due dates.

An Atom feed (RFC 4287) lists, newest first (at most :data:`MAX_ENTRIES`):

* each **status change** of a KPI (the period whose status differs from the period before it,
  among on track, near target and off track), dated the day the period ended;
* each **note** on or before today, dated its day;
* each **meeting** on or before today whose agenda holds the KPI, with its packet, dated its day;
* whatever a registered feed source adds (:data:`FEED_SOURCES`, from the modules of
  :data:`FEED_MODULES`: :mod:`catalog.revisions` adds each revision of a published value,
  :mod:`catalog.story_feed` each published story about the feed's KPIs).

Only public KPIs are in a feed, and only what their pages show: no breakdown group, so a
suppressed group can never appear. Entry ids are stable URNs; links are full URLs under
``site_url`` when the catalog sets it, else site paths (``/kpi/ID``) a reader resolves against the
feed's own address.

Example:
    >>> from catalog.demo import DEMO_DIR, demo_store
    >>> from catalog.loader import load_catalog
    >>> from catalog.measure import measure
    >>> catalog = load_catalog(DEMO_DIR)
    >>> kpi = catalog.get("pothole-days-to-close")
    >>> with demo_store() as store:
    ...     series = {kpi.id: measure(kpi, store, catalog.settings)}
    >>> entries = kpi_entries(catalog, [kpi], series, date(2020, 3, 2))
    >>> [(e.day.isoformat(), e.title.split(": ")[1]) for e in entries][:3]
    [('2020-02-23', 'on track'), ('2020-02-19', 'The freeze-thaw pothole surge, three weeks on'),
     ('2020-02-09', 'off track')]
    >>> atom_feed("Potholes", "/kpi/x.atom", "/kpi/x", entries, date(2020, 3, 2))[:38]
    b"<?xml version='1.0' encoding='utf-8'?>"
"""

from __future__ import annotations

import importlib
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import pyarrow as pa

from btvstat_open.i18n import _, format_decimal, lazy
from btvstat_open.store import Store
from catalog.actions import state_on
from catalog.meetings import agenda_kpis
from catalog.models import Catalog, Kpi, Meeting

__all__ = [
    "FEED_MODULES",
    "FEED_SOURCES",
    "MAX_ENTRIES",
    "FeedEntry",
    "action_calendar",
    "atom_feed",
    "kpi_entries",
    "meeting_calendar",
]

MAX_ENTRIES = 50
ATOM = "http://www.w3.org/2005/Atom"
_WORDS = {"on_track": lazy("on track"), "near_target": lazy("near target"), "off_track": lazy("off track")}


@dataclass(frozen=True)
class FeedEntry:
    """One entry: a stable ``id``, a ``title``, the ``day`` it happened, the ``path`` of its page
    and a plain-text ``summary``."""

    id: str
    title: str
    day: date
    path: str
    summary: str


#: More entries for a feed's KPIs: each callable gets the catalog, the KPIs, today and the store
#: (None when the feed is made without one).
FEED_SOURCES: list[Callable[[Catalog, Sequence[Kpi], date, Store | None], Iterable[FeedEntry]]] = []
#: Modules that add to :data:`FEED_SOURCES` when imported (imported on the first feed).
FEED_MODULES: list[str] = ["catalog.revisions", "catalog.story_feed"]


def _status_changes(kpi: Kpi, series: pa.Table) -> list[FeedEntry]:
    rows = series.select(["period_start", "period_end", "value", "status"]).to_pylist()
    found, previous = [], None
    for row in rows:
        status = row["status"]
        if status not in _WORDS:
            continue
        if previous is not None and status != previous:
            value = _("no value") if row["value"] is None else format_decimal(row["value"], kpi.decimals)
            found.append(
                FeedEntry(
                    f"urn:btvstat-open:kpi:{kpi.id}:status:{row['period_start'].isoformat()}",
                    f"{kpi.title}: {_(_WORDS[status])}",
                    row["period_end"],
                    f"/kpi/{kpi.id}",
                    _("%(before)s before, %(now)s for the period from %(start)s to %(end)s (%(value)s).")
                    % {
                        "before": _(_WORDS[previous]).capitalize(),
                        "now": _(_WORDS[status]),
                        "start": row["period_start"].isoformat(),
                        "end": row["period_end"].isoformat(),
                        "value": value,
                    },
                )
            )
        previous = status
    return found


def kpi_entries(
    catalog: Catalog,
    kpis: Sequence[Kpi],
    series: dict[str, pa.Table],
    today: date,
    store: Store | None = None,
) -> list[FeedEntry]:
    """The entries of a feed over ``kpis`` (public ones only), newest first (the feed sources'
    entries, such as revisions, need the ``store``)."""
    public = [k for k in kpis if k.public]
    entries: list[FeedEntry] = []
    for kpi in public:
        if kpi.id in series:
            entries += [e for e in _status_changes(kpi, series[kpi.id]) if e.day <= today]
        for i, note in enumerate(kpi.notes):
            if note.date <= today:
                entries.append(
                    FeedEntry(
                        f"urn:btvstat-open:kpi:{kpi.id}:note:{i}",
                        _("%(title)s: note") % {"title": kpi.title},
                        note.date,
                        f"/kpi/{kpi.id}",
                        note.text,
                    )
                )
    ids = {k.id for k in public}
    for meeting in catalog.meetings.values():
        if meeting.date <= today and ids & set(agenda_kpis(meeting, catalog.kpis)):
            entries.append(_meeting_entry(meeting))
    for name in FEED_MODULES:
        importlib.import_module(name)
    for source in FEED_SOURCES:
        entries += source(catalog, public, today, store)
    unique = {e.id: e for e in entries}
    return sorted(unique.values(), key=lambda e: (e.day, e.id), reverse=True)[:MAX_ENTRIES]


def _meeting_entry(meeting: Meeting) -> FeedEntry:
    who = ", ".join(meeting.departments) or _("KPIs named in the agenda")
    return FeedEntry(
        f"urn:btvstat-open:meeting:{meeting.id}",
        _("Meeting packet: %(title)s") % {"title": meeting.title},
        meeting.date,
        f"/meetings/{meeting.id}",
        _("The packet of the %(day)s meeting (%(who)s).") % {"day": meeting.date.isoformat(), "who": who},
    )


def _stamp(day: date) -> str:
    return f"{day.isoformat()}T00:00:00Z"


def atom_feed(
    title: str,
    self_path: str,
    page_path: str,
    entries: Sequence[FeedEntry],
    today: date,
    *,
    site_url: str | None = None,
    author: str = "City",
) -> bytes:
    """An Atom document (UTF-8 bytes); element text is escaped by the XML writer."""
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    base = (site_url or "").rstrip("/")  # without it, paths resolve against the feed's own address
    ET.SubElement(feed, f"{{{ATOM}}}id").text = f"urn:btvstat-open:feed:{self_path.strip('/')}"
    ET.SubElement(feed, f"{{{ATOM}}}title").text = title
    ET.SubElement(feed, f"{{{ATOM}}}updated").text = _stamp(max((e.day for e in entries), default=today))
    ET.SubElement(ET.SubElement(feed, f"{{{ATOM}}}author"), f"{{{ATOM}}}name").text = author
    ET.SubElement(feed, f"{{{ATOM}}}link", rel="self", type="application/atom+xml", href=base + self_path)
    ET.SubElement(feed, f"{{{ATOM}}}link", rel="alternate", type="text/html", href=base + page_path)
    for e in entries:
        entry = ET.SubElement(feed, f"{{{ATOM}}}entry")
        ET.SubElement(entry, f"{{{ATOM}}}id").text = e.id
        ET.SubElement(entry, f"{{{ATOM}}}title").text = e.title
        ET.SubElement(entry, f"{{{ATOM}}}updated").text = _stamp(e.day)
        ET.SubElement(entry, f"{{{ATOM}}}link", rel="alternate", type="text/html", href=base + e.path)
        ET.SubElement(entry, f"{{{ATOM}}}summary", type="text").text = e.summary
    body: bytes = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return body


def _ics_text(text: str) -> str:
    """RFC 5545 TEXT: backslash, semicolon, comma and newlines escaped."""
    return (
        text.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
    )


def _fold(line: str) -> str:
    """Lines of at most 75 octets, continued with a space (RFC 5545 3.1)."""
    data = line.encode()
    if len(data) <= 75:
        return line
    parts: list[str] = []
    start = 0
    while start < len(data):
        end = min(start + (75 if not parts else 74), len(data))
        while end < len(data) and (data[end] & 0xC0) == 0x80:  # never split a UTF-8 character
            end -= 1
        parts.append(data[start:end].decode())
        start = end
    return "\r\n ".join(parts)


def _calendar(name: str, events: Iterable[dict[str, str]], today: date) -> bytes:
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//btvstat-open//notify//EN",
        "CALSCALE:GREGORIAN",
        f"X-WR-CALNAME:{_ics_text(name)}",
    ]
    for event in events:
        lines += ["BEGIN:VEVENT", f"UID:{event['uid']}", f"DTSTAMP:{today.strftime('%Y%m%d')}T000000Z"]
        lines += [f"DTSTART;VALUE=DATE:{event['start']}", f"DTEND;VALUE=DATE:{event['end']}"]
        lines += [f"SUMMARY:{_ics_text(event['summary'])}", f"DESCRIPTION:{_ics_text(event['description'])}"]
        if event.get("url"):
            lines.append(f"URL:{event['url']}")
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return ("\r\n".join(_fold(line) for line in lines) + "\r\n").encode()


def _day(day: date) -> tuple[str, str]:
    return day.strftime("%Y%m%d"), (day + timedelta(days=1)).strftime("%Y%m%d")


def meeting_calendar(catalog: Catalog, today: date, *, site_url: str | None = None) -> bytes:
    """Every meeting as an all-day event (iCalendar bytes).

    Example:
        >>> from catalog.demo import DEMO_DIR
        >>> from catalog.loader import load_catalog
        >>> b"SUMMARY:Public Works review" in meeting_calendar(load_catalog(DEMO_DIR), date(2020, 3, 2))
        True
    """
    base = (site_url or "").rstrip("/")
    events = []
    for meeting in sorted(catalog.meetings.values(), key=lambda m: (m.date, m.id)):
        start, end = _day(meeting.date)
        who = ", ".join(meeting.departments) or _("KPIs named in the agenda")
        events.append(
            {
                "uid": f"meeting-{meeting.id}@btvstat-open",
                "start": start,
                "end": end,
                "summary": meeting.title,
                "description": _("%(who)s. Packet: %(url)s")
                % {"who": who, "url": f"{base}/meetings/{meeting.id}"},
                "url": f"{base}/meetings/{meeting.id}" if base else "",
            }
        )
    return _calendar(_("%(title)s: meetings") % {"title": catalog.settings.title}, events, today)


def action_calendar(
    catalog: Catalog, kpis: Sequence[Kpi], today: date, *, site_url: str | None = None
) -> bytes:
    """The due date of every action of the public ``kpis`` that is open on ``today``.

    Example:
        >>> from catalog.demo import DEMO_DIR
        >>> from catalog.loader import load_catalog
        >>> c = load_catalog(DEMO_DIR)
        >>> b"DTSTART;VALUE=DATE:20200228" in action_calendar(c, list(c.kpis.values()), date(2020, 3, 2))
        True
    """
    base = (site_url or "").rstrip("/")
    events = []
    for kpi in kpis:
        if not kpi.public:
            continue
        for action in kpi.actions:
            if action.due is None or state_on(action, today) != "open":
                continue
            start, end = _day(action.due)
            owner = " " + _("Owner: %(owner)s.") % {"owner": action.owner} if action.owner else ""
            events.append(
                {
                    "uid": f"action-{kpi.id}-{action.id}@btvstat-open",
                    "start": start,
                    "end": end,
                    "summary": _("Due: %(action)s") % {"action": action.title},
                    "description": _("An action on %(title)s (%(department)s).")
                    % {"title": kpi.title, "department": kpi.department}
                    + f"{owner} {base}/kpi/{kpi.id}",
                    "url": f"{base}/kpi/{kpi.id}" if base else "",
                }
            )
    return _calendar(_("%(title)s: action due dates") % {"title": catalog.settings.title}, events, today)
