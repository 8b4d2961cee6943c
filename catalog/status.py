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
"""

from __future__ import annotations

import math

from catalog.models import Target

__all__ = ["STATUSES", "status"]

STATUSES = ("on_track", "near_target", "off_track", "no_target", "no_data")


def status(value: float | None, target: Target | None, direction: str) -> str:
    """The status of one value (see the module docstring for the rules)."""
    if value is None or math.isnan(value):
        return "no_data"
    if target is None or target.value is None:
        # A target with a history is resolved per period first (Target.in_force).
        return "no_target"
    goal = target.value
    eps = 1e-9 * max(1.0, abs(goal), abs(target.tolerance))
    if target.rule == "proximity":
        return "on_track" if abs(value - goal) <= target.tolerance + eps else "off_track"
    # above_below: measure the gap so that a positive gap is always "worse than target".
    if direction == "higher_is_better":
        gap = goal - value
    elif direction == "lower_is_better":
        gap = value - goal
    else:
        return "no_target"
    if gap <= eps:
        return "on_track"
    if gap <= target.tolerance + eps:
        return "near_target"
    return "off_track"
