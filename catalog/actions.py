"""Actions as they stood on a day: open, done or dropped; overdue actions; unattended KPIs.

An action's file says how it ends (``status``, ``closed``); judged as of an earlier day it may
still have been open, or not opened yet. So, on ``today``:

* an action ``opened`` after today does not exist yet;
* a done or dropped action whose ``closed`` is after today was still open;
* an action is **overdue** when it is open and its ``due`` is before today;
* a KPI is **unattended** when its latest two periods are ``off_track`` and it has no open action.

Example:
    >>> from datetime import date
    >>> from catalog.models import Action
    >>> crew = Action(id="crew", title="Second crew", opened=date(2020, 1, 15), due=date(2020, 2, 28))
    >>> state_on(crew, date(2020, 1, 1)), state_on(crew, date(2020, 2, 1)), is_overdue(crew, date(2020, 3, 2))
    (None, 'open', True)
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import pyarrow as pa

from catalog.models import Action, Kpi

__all__ = ["is_overdue", "is_unattended", "open_actions", "overdue_actions", "state_on"]


def state_on(action: Action, today: date) -> str | None:
    """``open``, ``done`` or ``dropped`` as of ``today``; ``None`` before the action was opened.

    Example:
        >>> done = Action(id="a", title="A", opened=date(2020, 1, 6), status="done", closed=date(2020, 1, 29))
        >>> state_on(done, date(2020, 1, 28)), state_on(done, date(2020, 1, 29))
        ('open', 'done')
    """
    if action.opened > today:
        return None
    if action.status != "open" and action.closed is not None and action.closed > today:
        return "open"
    return action.status


def is_overdue(action: Action, today: date) -> bool:
    """True when the action is open on ``today`` and was due before it.

    Example:
        >>> a = Action(id="a", title="A", opened=date(2020, 1, 6), due=date(2020, 3, 2))
        >>> is_overdue(a, date(2020, 3, 2)), is_overdue(a, date(2020, 3, 3))
        (False, True)
    """
    return action.due is not None and action.due < today and state_on(action, today) == "open"


def open_actions(kpi: Kpi, today: date) -> list[Action]:
    """The KPI's actions open on ``today``, in file order.

    Example:
        >>> open_actions(kpi, date(2020, 3, 2))
        [Action(id='second-crew', ...)]
    """
    return [a for a in kpi.actions if state_on(a, today) == "open"]


def overdue_actions(kpi: Kpi, today: date) -> list[Action]:
    """The KPI's overdue actions on ``today``, the longest overdue first.

    Example:
        >>> [a.id for a in overdue_actions(kpi, date(2020, 3, 2))]
        ['second-crew']
    """
    late = [a for a in kpi.actions if is_overdue(a, today)]
    return sorted(late, key=lambda a: a.due or today)


def is_unattended(kpi: Kpi, series: pa.Table | Sequence[str], today: date) -> bool:
    """True when the latest two periods are ``off_track`` and no action is open on ``today``.

    ``series`` is the KPI's measure series (its ``status`` column) or the statuses themselves,
    oldest first.

    Example:
        >>> from catalog.models import Kpi
        >>> k = Kpi.model_validate({"id": "k", "title": "K", "department": "D",
        ...     "source": {"dataset": "d", "date_column": "day"}, "measure": {"calculation": "count"}})
        >>> is_unattended(k, ["on_track", "off_track", "off_track"], date(2020, 3, 2))
        True
        >>> is_unattended(k, ["off_track", "near_target"], date(2020, 3, 2))
        False
    """
    statuses = series.column("status").to_pylist() if isinstance(series, pa.Table) else list(series)
    latest_two = statuses[-2:]
    if len(latest_two) < 2 or any(s != "off_track" for s in latest_two):
        return False
    return not open_actions(kpi, today)
