"""Actions a department takes about a KPI: which are overdue, and which KPIs nobody attends to.

An action is overdue when it is open and its ``due`` day is before today; a KPI is unattended
when its latest two periods are ``off_track`` and it has no open action.

Example:
    >>> from catalog.models import Action
    >>> late = Action(id="a", title="A", opened=date(2020, 1, 1), due=date(2020, 2, 1))
    >>> is_overdue(late, date(2020, 3, 1)), is_overdue(late, date(2020, 2, 1))
    (True, False)
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from catalog.models import Action, Kpi

__all__ = ["is_overdue", "is_unattended"]


def is_overdue(action: Action, today: date) -> bool:
    """Open, with a due day before ``today``."""
    return action.status == "open" and action.due is not None and action.due < today


def is_unattended(kpi: Kpi, statuses: Sequence[str]) -> bool:
    """Its latest two statuses (oldest first) are ``off_track`` and no action of it is open."""
    return list(statuses)[-2:] == ["off_track", "off_track"] and not any(
        a.status == "open" for a in kpi.actions
    )
