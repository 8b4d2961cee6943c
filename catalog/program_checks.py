"""The performance program's rules: the goal tree, goal references, target histories, notes, actions.

Each problem is ``(file, line, message)`` where the message says what is wrong and how to fix it;
the line is the key at fault. :func:`check_goals` checks ``goals:`` in ``catalog.yaml`` (duplicate
ids, unknown parents, cycles, a tree deeper than ``goal_levels``); :func:`check_program` checks the
program keys of one KPI file (its ``goals``, ``target.history``, ``notes`` and ``actions``).

Example:
    >>> from catalog.models import CatalogSettings
    >>> settings = CatalogSettings.model_validate({"goal_levels": ["Area"], "goals": [
    ...     {"id": "a", "title": "A"}, {"id": "b", "title": "B", "parent": "a"}]})
    >>> problems = []
    >>> check_goals(settings, "catalog.yaml", {("goals", 1, "parent"): 9}, problems)
    >>> problems[0][1], problems[0][2].split(":")[0]
    (9, "goal 'b' is at level 2 (a > b), but goal_levels names 1")
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable

from catalog.models import CatalogSettings, Goal, Kpi, TargetEntry
from catalog.yamllines import line_for

__all__ = ["check_goal_dated_goals", "check_goals", "check_program"]

Problems = list[tuple[str, int | None, str]]
Lines = dict[tuple[str | int, ...], int]
Add = Callable[[tuple[str | int, ...], str], None]


def _adder(file: str, lines: Lines, problems: Problems) -> Add:
    def add(path: tuple[str | int, ...], message: str) -> None:
        problems.append((file, line_for(lines, path), message))

    return add


def _suggest(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    if close:
        return f"did you mean '{close[0]}'?"
    shown = ", ".join(known[:12]) + (", ..." if len(known) > 12 else "")
    return f"use one of {shown}"


def _repeats(keys: Iterable[object]) -> dict[int, int]:
    """``{index: index of the first occurrence}`` for every key seen before (ids, dates).

    Example:
        >>> _repeats(["a", "b", "a", "a"])
        {2: 0, 3: 0}
    """
    first: dict[object, int] = {}
    out: dict[int, int] = {}
    for i, key in enumerate(keys):
        if key in first:
            out[i] = first[key]
        first.setdefault(key, i)
    return out


def check_goals(settings: CatalogSettings, file: str, lines: Lines, problems: Problems) -> None:
    """Append a problem for each duplicate goal id, unknown parent, cycle and too-deep goal."""
    add = _adder(file, lines, problems)
    by_id: dict[str, Goal] = {}
    index: dict[str, int] = {}
    repeats = _repeats(g.id for g in settings.goals)
    for i, goal in enumerate(settings.goals):
        if i in repeats:
            add(
                ("goals", i, "id"),
                f"duplicate goal id '{goal.id}' (also goal {repeats[i] + 1} of goals:); "
                "give every goal its own id",
            )
            continue
        by_id[goal.id] = goal
        index[goal.id] = i
    known = list(by_id)
    reported_cycles: set[frozenset[str]] = set()
    levels = len(settings.goal_levels)
    for goal_id, goal in by_id.items():
        at = ("goals", index[goal_id], "parent")
        if goal.parent is not None and goal.parent not in by_id:
            add(
                at,
                f"goal '{goal_id}' has parent '{goal.parent}', which is not a goal id: "
                f"{_suggest(goal.parent, known)}",
            )
            continue
        chain = _ancestors(goal_id, by_id)
        if chain is None:
            continue  # reported at the goal whose parent is unknown
        if chain and chain[-1] == goal_id:
            loop = frozenset(chain)
            if loop not in reported_cycles:
                reported_cycles.add(loop)
                path = " -> ".join([goal_id, *chain])
                add(
                    at,
                    f"goal '{goal_id}' is its own ancestor ({path}): change one of these "
                    "parents so the tree has a top",
                )
            continue
        depth = len(chain) + 1
        if depth > levels:
            path = " > ".join([*reversed(chain), goal_id])
            add(
                at,
                f"goal '{goal_id}' is at level {depth} ({path}), but goal_levels names {levels}: "
                f"add a level name to goal_levels (at most 4) or give '{goal_id}' a parent higher up",
            )


def _ancestors(goal_id: str, by_id: dict[str, Goal]) -> list[str] | None:
    """The goal's parents up to the top; ends with ``goal_id`` itself when the chain loops back to it.

    None when the chain reaches an unknown parent or a loop that does not pass through ``goal_id``
    (both are reported at the goals they belong to).
    """
    chain: list[str] = []
    seen = {goal_id}
    current = by_id[goal_id].parent
    while current is not None:
        if current not in by_id:
            return None
        chain.append(current)
        if current == goal_id:
            return chain
        if current in seen:
            return None
        seen.add(current)
        current = by_id[current].parent
    return chain


def check_program(kpi: Kpi, settings: CatalogSettings, file: str, lines: Lines, problems: Problems) -> None:
    """Append a problem for each rule the KPI's goals, target history, notes or actions break."""
    add = _adder(file, lines, problems)
    _check_goal_refs(kpi, settings, add)
    if kpi.target is not None and kpi.target.history:
        _check_history(kpi.target.history, add)
    for i, note in enumerate(kpi.notes):
        if not note.text.strip():
            add(
                ("notes", i, "text"),
                f"the note of {note.date} has no text: write what happened, or remove it",
            )
    _check_actions(kpi, add)


def _check_history(history: list[TargetEntry], add: Add) -> None:
    """Entries oldest first, no two from the same day (each period has one target in force)."""
    repeats = _repeats(e.start for e in history)
    latest = None
    for i, entry in enumerate(history):
        at = ("target", "history", i, "from")
        if i in repeats:
            add(
                at,
                f"target.history has two entries from {entry.start} (entries {repeats[i] + 1} "
                f"and {i + 1}): keep one, or give one another date",
            )
        elif latest is not None and entry.start < latest:
            add(
                at,
                f"target.history entry {i + 1} (from {entry.start}) comes after one from {latest}: "
                "list the entries oldest first",
            )
        latest = entry.start if latest is None else max(latest, entry.start)


def _check_goal_refs(kpi: Kpi, settings: CatalogSettings, add: Add) -> None:
    known = [g.id for g in settings.goals]
    for i, goal_id in enumerate(kpi.goals):
        if goal_id in known:
            continue
        if not known:
            add(
                ("goals", i),
                f"unknown goal '{goal_id}': catalog.yaml defines no goals; add the goal "
                "to goals: in catalog.yaml, or remove it here",
            )
        else:
            add(
                ("goals", i), f"unknown goal '{goal_id}' (goals: in catalog.yaml): {_suggest(goal_id, known)}"
            )


def _check_actions(kpi: Kpi, add: Add) -> None:
    repeats = _repeats(a.id for a in kpi.actions)
    for i, action in enumerate(kpi.actions):
        if i in repeats:
            add(
                ("actions", i, "id"),
                f"action id '{action.id}' is used twice in this KPI (actions "
                f"{repeats[i] + 1} and {i + 1}): give each action its own id",
            )
        if action.due is not None and action.due < action.opened:
            add(
                ("actions", i, "due"),
                f"action '{action.id}' is due {action.due}, before it was opened "
                f"({action.opened}): fix due or opened",
            )
        if action.status == "open" and action.closed is not None:
            add(
                ("actions", i, "closed"),
                f"action '{action.id}' is open but has closed: {action.closed}: "
                "set status: done (or dropped), or remove closed",
            )
        elif action.status == "done" and action.closed is None:
            add(
                ("actions", i, "status"),
                f"action '{action.id}' is done but has no closed date: add "
                "closed: YYYY-MM-DD (the day it was done)",
            )
        if action.closed is not None and action.closed < action.opened:
            add(
                ("actions", i, "closed"),
                f"action '{action.id}' was closed {action.closed}, before it was "
                f"opened ({action.opened}): fix closed or opened",
            )


def check_goal_dated_goals(
    settings: CatalogSettings, kpis: dict[str, Kpi], file: str, lines: Lines, problems: Problems
) -> None:
    """Append a problem for each goal whose ``dated_goal.kpi`` is not a KPI under the goal.

    Example:
        >>> settings = CatalogSettings.model_validate({"goals": [{"id": "a", "title": "A", "dated_goal": {
        ...     "kpi": "k", "baseline": {"date": "2020-01-01", "value": 1},
        ...     "target": {"date": "2021-01-01", "value": 2}}}]})
        >>> problems = []
        >>> lines = {("goals", 0, "dated_goal", "kpi"): 4}
        >>> check_goal_dated_goals(settings, {}, "catalog.yaml", lines, problems)
        >>> problems[0][1], problems[0][2].split(":")[0]
        (4, "goal 'a' measures its dated goal by KPI 'k', which is not under it")
    """
    from catalog.goals import goal_tree, goals_by_id

    add = _adder(file, lines, problems)
    nodes = goals_by_id(goal_tree(settings, kpis.values()))
    for i, goal in enumerate(settings.goals):
        if goal.dated_goal is None or goal.id not in nodes:
            continue
        under = nodes[goal.id].all_kpi_ids()
        if goal.dated_goal.kpi not in under:
            choices = (
                f"use one of {', '.join(under[:12])}" if under else "add the goal to a KPI's goals: first"
            )
            add(
                ("goals", i, "dated_goal", "kpi"),
                f"goal '{goal.id}' measures its dated goal by KPI '{goal.dated_goal.kpi}', which is not "
                f"under it: {choices}",
            )
