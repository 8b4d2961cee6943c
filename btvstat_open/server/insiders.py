"""Who may see a private KPI's page: the people's sessions and roles, told to the widgets.

:func:`insider_lookup` makes the function the widgets call (``app.state.insider_lookup``, see
:mod:`widgets.insiders`): a request with a live session finds its person; they may see a private
KPI when they hold ``viewer`` (or a higher role) for its department, and they read its values
waiting for approval when they may enter or approve them (``updater`` or higher for that
department, as on ``/updates`` and ``/approvals``). Personal API tokens do not open pages.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import Request

from btvstat_open.people.access import Grants
from btvstat_open.people.context import PeopleContext
from catalog.models import Kpi
from widgets.insiders import Insider, PendingValue

__all__ = ["insider_lookup"]


def _pending(people: PeopleContext, grants: Grants, kpi: Kpi) -> list[PendingValue]:
    if not grants.can("updater", kpi.department):
        return []
    waiting = people.submissions.latest(frozenset({kpi.department}), states=("pending",))
    return [
        PendingValue(s.period_start, s.period_end, s.value, s.submitted_by, s.submitted_at)
        for s in waiting
        if s.kind == "value" and s.kpi_id == kpi.id and s.period_start and s.period_end
    ]


def insider_lookup(people: PeopleContext) -> Callable[[Request], Insider | None]:
    """The widgets' lookup of a request's signed-in person (None without a live session)."""

    def lookup(request: Request) -> Insider | None:
        if request.headers.get("authorization"):
            return None
        asker = people.who_is_asking(request)
        if asker is None or asker.session is None:
            return None
        grants = asker.grants
        return Insider(
            grants.person.email,
            may_see=lambda kpi: grants.can("viewer", kpi.department),
            pending=lambda kpi: _pending(people, grants, kpi),
        )

    return lookup
