"""A period's status against its KPI's target.

With ``rule: above_below`` and ``direction: higher_is_better``: ``on_track`` when value >= target,
``near_target`` when target - tolerance <= value < target, else ``off_track``; with
``lower_is_better`` the mirror image (value <= target is on track, up to target + tolerance near).
With ``rule: proximity``: ``on_track`` when |value - target| <= tolerance, else ``off_track``.
No target gives ``no_target``; no value gives ``no_data``. Band edges are inclusive; comparisons
allow for binary rounding (a value within 1e-9 of an edge, relative to the target, counts as on it).

Example:
    >>> from catalog.models import Target
    >>> status(5.0, Target(value=7, tolerance=2), "higher_is_better")
    'near_target'
    >>> status(9.0, Target(value=7, tolerance=2), "lower_is_better")
    'near_target'
    >>> status(None, Target(value=7), "lower_is_better"), status(3.0, None, "none")
    ('no_data', 'no_target')

Every status is a :class:`Status` (a ``str``), with its label and its rank, worst first:

    >>> Status.NEAR_TARGET.label, Status.NEAR_TARGET.rank
    ('Near target', 1)
    >>> [str(s) for s in worst_first(["no_data", "on_track", "off_track"])]
    ['off_track', 'on_track', 'no_data']
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from enum import StrEnum
from typing import Final

from btvstat_open.i18n import gettext, lazy
from catalog.models import Target

__all__ = ["JUDGED", "STATUSES", "Status", "rank", "status", "worst_first"]


class Status(StrEnum):
    """A period's status; members are declared worst first (their :attr:`rank`)."""

    OFF_TRACK = "off_track"
    NEAR_TARGET = "near_target"
    ON_TRACK = "on_track"
    NO_TARGET = "no_target"
    NO_DATA = "no_data"

    def __repr__(self) -> str:
        """A status reads as the string it is, in records and examples alike."""
        return repr(self.value)

    @property
    def rank(self) -> int:
        """0 for the worst status (``off_track``), then upwards in declaration order."""
        return _RANKS[self]

    @property
    def label(self) -> str:
        """The words people read, in the current locale: ``on_track`` is ``On track``."""
        return gettext(_LABELS[self])

    @property
    def judged(self) -> bool:
        """Whether a value was compared with a target (on, near or off track)."""
        return self in JUDGED


_RANKS: Final[dict[str, int]] = {s: i for i, s in enumerate(Status)}
_LABELS: Final[dict[str, str]] = {
    Status.OFF_TRACK: lazy("Off track"),
    Status.NEAR_TARGET: lazy("Near target"),
    Status.ON_TRACK: lazy("On track"),
    Status.NO_TARGET: lazy("No target"),
    Status.NO_DATA: lazy("No data"),
}
# The order statuses are listed in tables and legends (best first); worst first is ``Status`` itself.
STATUSES: Final = (Status.ON_TRACK, Status.NEAR_TARGET, Status.OFF_TRACK, Status.NO_TARGET, Status.NO_DATA)
JUDGED: Final = (Status.OFF_TRACK, Status.NEAR_TARGET, Status.ON_TRACK)


def rank(value: str | None) -> int:
    """The worst-first rank of a status string; anything that is not a status sorts last.

    Example:
        >>> rank("off_track"), rank("no_data"), rank(None)
        (0, 4, 5)
    """
    return _RANKS.get(value, len(_RANKS)) if value is not None else len(_RANKS)


def worst_first(statuses: Iterable[str]) -> list[Status]:
    """The statuses among ``statuses`` (each once), worst first."""
    present = set(statuses)
    return [s for s in Status if s in present]


def status(value: float | None, target: Target | None, direction: str) -> Status:
    """The status of one value (see the module docstring for the rules)."""
    if value is None or math.isnan(value):
        return Status.NO_DATA
    if target is None or target.value is None:
        # A target with a history is resolved per period first (Target.in_force).
        return Status.NO_TARGET
    goal = target.value
    eps = 1e-9 * max(1.0, abs(goal), abs(target.tolerance))
    if target.rule == "proximity":
        return Status.ON_TRACK if abs(value - goal) <= target.tolerance + eps else Status.OFF_TRACK
    # above_below: measure the gap so that a positive gap is always "worse than target".
    if direction == "higher_is_better":
        gap = goal - value
    elif direction == "lower_is_better":
        gap = value - goal
    else:
        return Status.NO_TARGET
    if gap <= eps:
        return Status.ON_TRACK
    if gap <= target.tolerance + eps:
        return Status.NEAR_TARGET
    return Status.OFF_TRACK
