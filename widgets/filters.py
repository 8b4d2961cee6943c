"""The dashboard's filters: status, department, kind, stale and words, from the query string.

The filters work without JavaScript: the form submits them as query parameters and the server
marks the cards that do not match ``hidden``; ``site.js`` applies the same rules in the browser as
the controls change (and keeps the address in step), so both paths show the same cards.

Example:
    >>> f = parse_filters({"status": "off_track", "stale": "yes"}, departments=["public-works"])
    >>> (f.status, f.stale, f.active)
    ('off_track', 'yes', True)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from btvstat_open.errors import UsageError
from btvstat_open.i18n import lazy
from catalog.models import KPI_KINDS
from widgets.summary import STATUSES

__all__ = ["FILTER_NAMES", "STALE_CHOICES", "Filters", "parse_filters"]

FILTER_NAMES = ("status", "department", "kind", "stale", "q")
# "yes": stale or behind; "no": neither.
STALE_CHOICES = {"yes": lazy("Stale or behind"), "no": lazy("Up to date")}


@dataclass(frozen=True)
class Filters:
    """Validated filter values ("" means any)."""

    status: str = ""
    department: str = ""  # a department's slug
    kind: str = ""
    stale: str = ""
    q: str = ""

    @property
    def active(self) -> bool:
        """Whether any filter is set."""
        return any((self.status, self.department, self.kind, self.stale, self.q))

    def matches(self, *, status: str, department: str, kind: str, stale: bool, search: str) -> bool:
        """Whether a card with these facts is shown (``search`` is its lower-case words)."""
        return (
            (not self.status or status == self.status)
            and (not self.department or department == self.department)
            and (not self.kind or kind == self.kind)
            and (not self.stale or stale == (self.stale == "yes"))
            and all(word in search for word in self.q.lower().split())
        )


def _choice(name: str, raw: str, allowed: Iterable[str]) -> str:
    allowed = list(allowed)
    if raw and raw not in allowed:
        raise UsageError(
            f"Filter {name}={raw[:40]!r} is not one of: {', '.join(allowed)} (or leave it empty for any).",
            code="query.bad-option",
        )
    return raw


def parse_filters(query: Mapping[str, str], *, departments: Iterable[str]) -> Filters:
    """Check the query string's filters; an unknown name or value is a :class:`UsageError` (400)."""
    unknown = sorted(set(query) - set(FILTER_NAMES))
    if unknown:
        raise UsageError(
            f"Unknown query option {unknown[0][:40]!r}; this page accepts: {', '.join(FILTER_NAMES)}.",
            code="query.bad-option",
        )
    return Filters(
        status=_choice("status", query.get("status", ""), STATUSES),
        department=_choice("department", query.get("department", ""), departments),
        kind=_choice("kind", query.get("kind", ""), KPI_KINDS),
        stale=_choice("stale", query.get("stale", ""), STALE_CHOICES),
        q=query.get("q", "")[:200],
    )
