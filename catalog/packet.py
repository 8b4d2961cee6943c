"""A meeting's packet: what the panel reads before a Stat meeting, computed from the data as of a day.

A packet has three sections, in this order (README.md, "hold the Stat meeting"):

1. **Follow-ups**: the actions of the agenda's KPIs that were opened, came due or were closed since
   the previous meeting of the same departments (:func:`catalog.meetings.previous_meeting`), and every
   action still open and overdue, which is carried over from meeting to meeting until it is closed.
   Overdue first.
2. **Standing items**: every public KPI of the meeting's departments, and its ``kpis``.
3. **New items**: the ``new_items``, each with why it was raised.

Each KPI item holds the latest value, target and status, the change from the previous period and
from a year earlier, the breakdown (where the KPI has one), the stale, behind and unattended flags,
the notes dated in the window and the panel's questions. Off-track items come first in each section,
then near-target, then the rest, each group in agenda order.

Everything is judged **as of** one day: ``--as-of``, else the meeting's ``as_of``, else its date.
Rows dated after it are left out of every measure; an action opened after it is not there yet, and
one closed after it is still open. So a packet for a past meeting comes out the same every day.

Example:
    >>> from catalog.demo import DEMO_DIR, demo_store
    >>> from catalog.loader import load_catalog
    >>> catalog = load_catalog(DEMO_DIR)
    >>> with demo_store() as store:
    ...     packet = build_packet(catalog, store, "2020-03-04-public-works")
    >>> [section for section, _ in packet.sections()]
    ['Follow-ups', 'Standing items', 'New items']
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import pyarrow as pa

from btvstat_open.errors import MeetingNotFound
from btvstat_open.i18n import in_current_locale
from btvstat_open.store import Store
from catalog.actions import is_overdue, is_unattended, overdue_actions, state_on
from catalog.asof import history_note
from catalog.changes import Latest, latest_change
from catalog.explain import why_empty
from catalog.freshness import FreshnessReport, freshness
from catalog.ledger import revised_between
from catalog.measure import measure
from catalog.meetings import agenda_kpis, previous_meeting
from catalog.models import Action, Catalog, Kpi, Meeting, Note
from catalog.peers import Comparison as PeerComparison
from catalog.peers import comparison
from catalog.status import Status, rank

__all__ = [
    "FollowUp",
    "KpiItem",
    "Packet",
    "action_as_of",
    "build_packet",
    "find_meeting",
    "kpi_item",
    "packet_day",
]

ITEM_THREADS = 4  # a packet's items computed at once


def find_meeting(catalog: Catalog, meeting_id: str) -> Meeting:
    """The meeting with this id; an unknown one is :class:`~btvstat_open.errors.MeetingNotFound`.

    Example:
        >>> from pathlib import Path
        >>> from catalog.models import CatalogSettings
        >>> find_meeting(Catalog(Path("."), CatalogSettings(), {}), "nope")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        btvstat_open.errors.MeetingNotFound: No meeting 'nope' in the catalog's meetings/ folder. ...
    """
    meeting = catalog.meetings.get(meeting_id)
    if meeting is None:
        known = ", ".join(sorted(catalog.meetings)[-8:]) or "none (add files under meetings/)"
        raise MeetingNotFound(
            f"No meeting {meeting_id[:80]!r} in the catalog's meetings/ folder. Known meetings: {known}.",
            data={"id": meeting_id[:80]},
        )
    return meeting


def packet_day(meeting: Meeting, as_of: date | None = None) -> date:
    """The day a packet is computed as of: ``as_of`` (``--as-of``), else the meeting's, else its date.

    Example:
        >>> m = Meeting.model_validate({"id": "m", "date": "2020-03-04", "title": "T"})
        >>> packet_day(m), packet_day(m, date(2020, 3, 1))
        (datetime.date(2020, 3, 4), datetime.date(2020, 3, 1))
    """
    return as_of or meeting.as_of or meeting.date


def action_as_of(action: Action, day: date) -> Action | None:
    """The action as it stood on ``day``: None before it was opened, open until the day it closed.

    Example:
        >>> a = Action(id="a", title="A", opened=date(2020, 1, 5), status="done", closed=date(2020, 2, 9))
        >>> action_as_of(a, date(2020, 1, 1)), action_as_of(a, date(2020, 2, 1)).status
        (None, 'open')
    """
    state = state_on(action, day)
    if state is None:
        return None
    if state != action.status:
        return action.model_copy(update={"status": state, "closed": None})
    return action


@dataclass(frozen=True)
class FollowUp:
    """One action to follow up: what happened to it in the window, and whether it is overdue."""

    kpi: Kpi
    action: Action
    overdue: bool
    carried_over: bool  # still open, and already open at the previous meeting
    events: tuple[str, ...]  # "opened", "due", "closed": what happened in the window


@dataclass(frozen=True)
class KpiItem:
    """One KPI on the agenda, as of the packet's day."""

    kpi: Kpi
    series: pa.Table
    change: Latest | None
    breakdown: pa.Table | None
    fresh: FreshnessReport
    unattended: bool
    overdue: tuple[Action, ...]
    notes: tuple[Note, ...]
    questions: tuple[str, ...]
    raised: str | None = None  # why a new item was raised
    #: the department's approved commentary and action progress notes, as of the packet's day
    updates: tuple[str, ...] = ()
    empty_reason: str | None = None  # why no period has a value (catalog.explain), None when one has
    checks: tuple[str, ...] = ()  # what failed in the dataset's data checks when the packet was made
    peers: PeerComparison | None = None  # the comparison with peer cities as of the packet's day

    @property
    def status(self) -> str:
        """The latest period's status (``no_data`` when no period has a value)."""
        return self.change.status if self.change and self.change.value is not None else "no_data"


@dataclass(frozen=True)
class Packet:
    """A meeting's packet: its day, the previous meeting, and the three sections."""

    meeting: Meeting
    as_of: date
    previous: Meeting | None
    follow_ups: tuple[FollowUp, ...]
    standing: tuple[KpiItem, ...]
    new_items: tuple[KpiItem, ...]
    #: for a past day: the data as known then, and from when history runs (:func:`catalog.asof.history_note`)
    data_note: str | None = None
    #: a kept packet's revision number past the first, the day the one before was kept, and what
    #: changed since it (widgets.packets.kept)
    revision: int | None = None
    kept_before: str | None = None
    changes: tuple[str, ...] = ()
    #: values revised since the previous meeting, for periods it reviewed (catalog.ledger)
    revised: tuple[str, ...] = ()

    @property
    def window_start(self) -> date | None:
        """The previous meeting's date: notes and action events after it are "since last time"."""
        return self.previous.date if self.previous else None

    @property
    def items(self) -> tuple[KpiItem, ...]:
        """Every KPI item, standing then new."""
        return self.standing + self.new_items

    def kpis(self) -> list[Kpi]:
        """Every KPI the packet is computed from (its data versions key the packet's cache)."""
        return [item.kpi for item in self.items]

    def counts(self) -> dict[str, int]:
        """How many items hold each status, plus ``overdue`` follow-ups: a meeting's highlights."""
        counts: dict[str, int] = {}
        for item in self.items:
            counts[item.status] = counts.get(item.status, 0) + 1
        counts["overdue"] = sum(1 for f in self.follow_ups if f.overdue)
        return counts

    def sections(self) -> list[tuple[str, tuple[Any, ...]]]:
        """The sections in the contract's order, with their entries."""
        return [
            ("Follow-ups", self.follow_ups),
            ("Standing items", self.standing),
            ("New items", self.new_items),
        ]


def _in_window(day: date | None, start: date | None, end: date) -> bool:
    return day is not None and (start is None or day > start) and day <= end


def _follow_ups(kpis: list[Kpi], day: date, since: date | None, rank: dict[str, int]) -> list[FollowUp]:
    found: list[tuple[tuple[int, int, date], FollowUp]] = []
    for kpi in kpis:
        for action in kpi.actions:
            now = action_as_of(action, day)
            if now is None:
                continue
            events = tuple(
                name
                for name, when in (("opened", now.opened), ("due", now.due), ("closed", now.closed))
                if _in_window(when, since, day)
            )
            overdue = is_overdue(now, day)
            if not events and not overdue:
                continue
            # Carried over: still open, and already open at the previous meeting.
            carried = since is not None and now.status == "open" and state_on(action, since) == "open"
            entry = FollowUp(kpi, now, overdue, carried, events)
            found.append(((0 if overdue else 1, rank.get(kpi.id, 2), now.due or day), entry))
    return [entry for _, entry in sorted(found, key=lambda pair: pair[0])]


def kpi_item(catalog: Catalog, store: Store, kpi: Kpi, day: date, since: date | None = None) -> KpiItem:
    """A KPI as of ``day`` (data as known then), with its notes after ``since`` and no agenda
    fields: what a packet's item and a story's block show (:mod:`catalog.story_values`)."""
    from catalog.breakdown import breakdown

    series = measure(kpi, store, catalog.settings, today=day)
    return KpiItem(
        kpi=kpi,
        series=series,
        change=latest_change(kpi, series),
        breakdown=breakdown(kpi, store, catalog.settings, today=day) if kpi.breakdown else None,
        fresh=freshness(kpi, store, series, today=day),
        unattended=is_unattended(kpi, series, day),
        overdue=tuple(overdue_actions(kpi, day)),
        notes=tuple(n for n in sorted(kpi.notes, key=lambda n: n.date) if _in_window(n.date, since, day)),
        questions=(),
        updates=department_updates(store, kpi.id, day),
        empty_reason=why_empty(kpi, store, catalog.settings, today=day, series=series),
        checks=tuple(_check_failures(store, kpi.source.dataset)),
        peers=comparison(kpi, store, catalog.settings, series, today=day) if kpi.peers else None,
    )


def _item(
    catalog: Catalog, store: Store, kpi: Kpi, meeting: Meeting, day: date, since: date | None
) -> KpiItem:
    raised = next((item.note or "" for item in meeting.new_items if item.kpi == kpi.id), None)
    questions = tuple(meeting.questions.get(kpi.id, []))
    return replace(kpi_item(catalog, store, kpi, day, since), questions=questions, raised=raised)


def department_updates(store: Store, kpi_id: str, day: date) -> tuple[str, ...]:
    """The department's approved commentary (on periods started by ``day``) and action notes on a
    KPI, newest first."""
    from catalog.updates import action_updates, commentary

    found = []
    for update in [*commentary(store, kpi_id), *action_updates(store, kpi_id)]:
        # Judged by the period written about (a frozen catalog's "today" is before any approval).
        if update.period_start is not None and update.period_start > day:
            continue
        if update.kind == "comment":
            found.append(f"{update.period_start}: {update.text}")
        elif update.kind == "action_update":
            found.append(f"Action {update.action_id} {update.status}: {update.text}".rstrip(": "))
        else:
            found.append(f"New action: {update.title}" + (f" (due {update.due})" if update.due else ""))
    return (*found, *_entry_comments(store, kpi_id, day))


def _entry_comments(store: Store, kpi_id: str, day: date) -> list[str]:
    """The comments entered with a manual KPI's approved values, newest period first."""
    from catalog.entries import entry_dataset_id

    dataset = entry_dataset_id(kpi_id)
    if not store.exists(dataset):
        return []
    rows = (
        store.cursor()
        .execute(
            f"SELECT CAST(period_start AS DATE), comment FROM {store.info(dataset).table} "
            "WHERE comment <> '' AND CAST(period_start AS DATE) <= ? ORDER BY period_start DESC LIMIT 6",
            [day],
        )
        .fetchall()
    )
    return [f"{start}: {comment}" for start, comment in rows]


def _check_failures(store: Store, dataset_id: str) -> list[str]:
    from catalog.data_checks import load_checks

    state = load_checks(store).get(dataset_id)
    return list(state.failures) if state is not None else []


def _urgency(status: str | None) -> int:
    """Off track first, then near target, then everything else alike (ties keep agenda order)."""
    return min(rank(status), Status.ON_TRACK.rank)


def _off_track_first(items: list[KpiItem]) -> tuple[KpiItem, ...]:
    return tuple(sorted(items, key=lambda item: _urgency(item.status)))


def build_packet(catalog: Catalog, store: Store, meeting_id: str, *, as_of: date | None = None) -> Packet:
    """The packet of meeting ``meeting_id`` computed as of :func:`packet_day`.

    Raises :class:`~btvstat_open.errors.MeetingNotFound` for an unknown meeting.
    """
    meeting = find_meeting(catalog, meeting_id)
    day = packet_day(meeting, as_of)
    previous = previous_meeting(meeting, catalog.meetings.values())
    since = previous.date if previous else None
    agenda = agenda_kpis(meeting, catalog.kpis)
    new_ids = {item.kpi for item in meeting.new_items}
    # Most of an item is DuckDB work, which runs outside Python's lock: a few items at once.
    with (
        store.pinned_versions(),  # the same few datasets for every item: versions looked up once
        ThreadPoolExecutor(max_workers=ITEM_THREADS, thread_name_prefix="packet-items") as pool,
    ):
        item = in_current_locale(_item)  # the packet's language in every thread
        kpis = catalog.kpis
        built = pool.map(lambda kpi_id: item(catalog, store, kpis[kpi_id], meeting, day, since), agenda)
        items = dict(zip(agenda, built, strict=True))
    standing = _off_track_first([items[k] for k in agenda if k not in new_ids])
    new_items = _off_track_first([items[k] for k in agenda if k in new_ids])
    rank = {item.kpi.id: _urgency(item.status) for item in items.values()}
    follow_ups = _follow_ups([catalog.kpis[k] for k in agenda], day, since, rank)
    note = history_note(store, (catalog.kpis[k].source.dataset for k in agenda), day, html=True)
    revised = revised_between(store, [catalog.kpis[k] for k in agenda], since, day) if since else []
    return Packet(
        meeting, day, previous, tuple(follow_ups), standing, new_items, note, revised=tuple(revised)
    )
