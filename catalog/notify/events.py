"""Events and the sources that observe them.

An **event** is a change of state the program computes: a KPI turned off track, its data went
stale, an action became overdue, a meeting's packet came out. Sources do not decide what changed:
each reports **observations**, the current state of one thing under a stable key
(``status:pothole-days-to-close`` is ``off_track``, ``overdue:pothole-days-to-close:second-crew``
is ``yes``), and the engine compares them with the states it recorded on the last run. An
observation fires its event only when its state differs from the recorded one (and, with
``after``, only when the recorded state is one of those): so each event is sent once, when it
happens, never again on the next run.

A source is anything with ``observe(catalog, store, today)``; :data:`SOURCES` lists them and
:func:`register_source` adds one, from a module named in :data:`SOURCE_MODULES` (imported by every
run). The department cycle adds ``due``, ``late``, ``pending`` and ``sent_back`` that way
(:mod:`btvstat_open.people.notices`); the ledger of published values adds ``revised``
(:mod:`catalog.revisions`).

Example:
    >>> from datetime import date
    >>> event = Event("off_track", "k", "Potholes", ("Public Works",), "turned off track",
    ...               "/kpi/k", date(2020, 3, 2))
    >>> seen = Observation("status:k", "off_track", event, after=None)
    >>> seen.fires(None), seen.fires("on_track"), seen.fires("off_track")
    (True, True, False)
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from btvstat_open.store import Store
    from catalog.models import Catalog

__all__ = [
    "SOURCES",
    "SOURCE_MODULES",
    "Event",
    "EventSource",
    "Observation",
    "load_sources",
    "register_source",
]


@dataclass(frozen=True)
class Event:
    """One event: what happened (``kind``), to what (``subject_id``, its ``title``), in which
    departments, a one-line ``summary``, the ``path`` of its page and the ``day`` it happened.

    ``owner`` is the action owner (for ``to: owner``); ``public`` is False for what only staff may
    see (a private KPI, a pending value): such events never reach a feed or a public webhook.
    """

    kind: str
    subject_id: str
    title: str
    departments: tuple[str, ...]
    summary: str
    path: str
    day: date
    owner: str | None = None
    public: bool = True
    kpi_id: str | None = None

    def record(self) -> dict[str, Any]:
        """JSON-ready (webhook bodies, ``notify --format json``).

        Example:
            >>> Event("overdue", "a", "A", (), "s", "/kpi/k", date(2020, 3, 2)).record()["day"]
            '2020-03-02'
        """
        return {
            "kind": self.kind,
            "subject": self.subject_id,
            "title": self.title,
            "departments": list(self.departments),
            "summary": self.summary,
            "path": self.path,
            "day": self.day.isoformat(),
            "owner": self.owner,
            "kpi": self.kpi_id,
        }


@dataclass(frozen=True)
class Observation:
    """The state of one thing now, and the event to send when it changes to this state."""

    key: str
    state: str
    event: Event | None
    after: frozenset[str] | None = None

    def fires(self, recorded: str | None) -> bool:
        """True when the state changed since ``recorded`` and this state has an event to send."""
        if self.event is None or recorded == self.state:
            return False
        return self.after is None or recorded in self.after


class EventSource(Protocol):
    """What a source of events provides (see the module docstring)."""

    def observe(self, catalog: Catalog, store: Store, today: date) -> Iterable[Observation]:
        """The current state of everything this source watches, as of ``today``."""
        ...


SOURCES: list[EventSource] = []

#: Modules that register their sources when imported; every run imports them first: the program's
#: own events, the ledger's revisions, and the department cycle's (named, not imported: the
#: people package sits above the catalog).
SOURCE_MODULES: list[str] = ["catalog.notify.sources", "catalog.revisions", "btvstat_open.people.notices"]


def load_sources() -> list[EventSource]:
    """Import every module of :data:`SOURCE_MODULES` (each registers its sources); returns them all.

    Example:
        >>> [type(s).__name__ for s in load_sources()][:1]
        ['ProgramSource']
    """
    for name in SOURCE_MODULES:
        importlib.import_module(name)
    return SOURCES


def register_source(source: EventSource) -> EventSource:
    """Add a source of events (once); returns it.

    Example:
        >>> class Nothing:
        ...     def observe(self, catalog, store, today):
        ...         return []
        >>> nothing = register_source(Nothing())
        >>> nothing in SOURCES
        True
        >>> SOURCES.remove(nothing)
    """
    if source not in SOURCES:
        SOURCES.append(source)
    return source
