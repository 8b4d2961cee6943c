"""Meeting files (``meetings/*.yaml`` in a catalog): loading, validation, and the order of meetings.

Each file is one Stat meeting (:class:`~catalog.models.Meeting`). :func:`load_meetings` reads every
file under ``meetings/`` and checks it the way KPI files are checked: every problem names its file,
its line and the fix (an unknown key, a date that is not a date, a department or KPI the catalog does
not have, a private KPI on a published agenda, a question about a KPI not on the agenda, an id used
twice).

:func:`previous_meeting` finds the meeting a packet's follow-ups start from: the latest earlier
meeting that reviewed the same departments (the same set of names; for a meeting without
departments, the same ``kpis``).

Example:
    >>> from catalog.demo import DEMO_DIR
    >>> from catalog.loader import load_catalog
    >>> catalog = load_catalog(DEMO_DIR)
    >>> first, second = (catalog.meetings[m] for m in sorted(catalog.meetings)[:2])
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from catalog.checks import Problems
from catalog.models import Kpi, Meeting
from catalog.models.texts import TextEntry
from catalog.pydantic_problems import translate
from catalog.translations import split_texts
from catalog.yamllines import YamlProblem, line_for, load_with_lines

__all__ = ["MEETINGS_DIR", "agenda_kpis", "load_meetings", "meeting_files", "previous_meeting"]

MEETINGS_DIR = "meetings"
Lines = dict[tuple[str | int, ...], int]


def meeting_files(root: Path) -> list[Path]:
    """The YAML files under ``root/meetings/`` (any subfolder, hidden ones skipped), sorted.

    Example:
        >>> meeting_files(Path("/no/such/catalog"))
        []
    """
    folder = root / MEETINGS_DIR
    if not folder.is_dir():
        return []
    found = []
    for path in folder.rglob("*"):
        rel = path.relative_to(folder)
        if any(part.startswith(".") for part in rel.parts) or not path.is_file():
            continue
        if path.suffix in (".yaml", ".yml"):
            found.append(path)
    return sorted(found)


def load_meetings(
    files: Iterable[Path],
    kpis: dict[str, Kpi],
    problems: Problems,
    texts: tuple[tuple[str, ...], dict[str, TextEntry]] | None = None,
) -> tuple[dict[str, Meeting], dict[str, Path]]:
    """Every valid meeting in ``files`` by id, and each one's file; problems are appended.

    ``kpis`` are the catalog's KPIs: departments and KPI ids are checked against them. ``texts``
    (the catalog's locales and its table of texts) receives the meetings' texts and translations.

    Example:
        >>> problems = []
        >>> load_meetings([], {}, problems)
        ({}, {})
    """
    meetings: dict[str, Meeting] = {}
    paths: dict[str, Path] = {}
    for file in files:
        loaded = _load_one(file, kpis, problems, texts)
        if loaded is None:
            continue
        meeting, lines = loaded
        if meeting.id in meetings:
            problems.append(
                (
                    str(file),
                    line_for(lines, ("id",)),
                    f"duplicate meeting id '{meeting.id}' (also used in {paths[meeting.id]}); "
                    "every meeting needs its own id",
                )
            )
            continue
        meetings[meeting.id] = meeting
        paths[meeting.id] = file
    return meetings, paths


def _load_one(
    file: Path,
    kpis: dict[str, Kpi],
    problems: Problems,
    texts: tuple[tuple[str, ...], dict[str, TextEntry]] | None = None,
) -> tuple[Meeting, Lines] | None:
    try:
        data, lines = load_with_lines(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        problems.append((str(file), None, f"cannot read the file: {exc}; save it as UTF-8 text"))
        return None
    except YamlProblem as exc:
        problems.append((str(file), exc.line, exc.message))
        return None
    if not isinstance(data, dict):
        problems.append(
            (str(file), 1, "a meeting file must be a mapping of keys (id: ..., date: ..., title: ...)")
        )
        return None
    if texts is not None:  # text in several languages (catalog.translations)
        data = split_texts(data, "meeting", str(file), lines, texts[0], texts[1], problems)
    try:
        meeting = Meeting.model_validate(data)
    except ValidationError as exc:
        problems.extend(_explain_dates(translate(exc, Meeting, str(file), lines), data))
        return None
    check_meeting(meeting, kpis, str(file), lines, problems)
    return meeting, lines


def _explain_dates(found: Problems, data: dict[str, Any]) -> Problems:
    """Say how to write a date when pydantic only says the value is not one."""
    out: Problems = []
    for file, line, message in found:
        for key in ("date", "as_of"):
            if message.startswith(f"'{key}':") and key in data:
                message = f"'{key}' must be a date written YYYY-MM-DD, e.g. 2020-03-04 (got {data[key]!r})"
        out.append((file, line, message))
    return out


def check_meeting(
    meeting: Meeting, kpis: dict[str, Kpi], file: str, lines: Lines, problems: Problems
) -> None:
    """Append a problem for every department or KPI the meeting names that the catalog cannot serve.

    Example:
        >>> m = Meeting.model_validate({"id": "m", "date": "2020-03-04", "title": "T",
        ...                             "departments": ["Pubic Works"]})
        >>> problems = []
        >>> check_meeting(m, {}, "m.yaml", {("departments", 0): 4}, problems)
        >>> problems[0][:2]
        ('m.yaml', 4)
    """

    def add(path: tuple[str | int, ...], message: str) -> None:
        problems.append((file, line_for(lines, path), message))

    departments = sorted({k.department for k in kpis.values() if k.public})
    for i, name in enumerate(meeting.departments):
        if name not in departments:
            add(("departments", i), f"unknown department '{name}': {_closest(name, departments)}")
    named: list[tuple[tuple[str | int, ...], str]] = [
        (("kpis", i), kpi_id) for i, kpi_id in enumerate(meeting.kpis)
    ]
    named += [(("new_items", i, "kpi"), item.kpi) for i, item in enumerate(meeting.new_items)]
    for path, kpi_id in named:
        _check_kpi_id(kpi_id, kpis, path, add)
    on_agenda = set(agenda_kpis(meeting, kpis))
    for kpi_id in meeting.questions:
        if _check_kpi_id(kpi_id, kpis, ("questions", kpi_id), add) and kpi_id not in on_agenda:
            add(
                ("questions", kpi_id),
                f"questions about '{kpi_id}', which is not on this meeting's agenda: "
                "add it to kpis or new_items, or ask about a KPI that is",
            )


def _check_kpi_id(kpi_id: str, kpis: dict[str, Kpi], path: tuple[str | int, ...], add: Any) -> bool:
    kpi = kpis.get(kpi_id)
    if kpi is None:
        add(path, f"unknown KPI '{kpi_id}': {_closest(kpi_id, sorted(kpis))}")
        return False
    if not kpi.public:
        add(path, f"KPI '{kpi_id}' is not public, and a packet is published: set public: true or drop it")
        return False
    return True


def _closest(name: str, known: list[str]) -> str:
    import difflib

    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    if close:
        return f"did you mean '{close[0]}'?"
    return f"known: {', '.join(known[:12])}" if known else "the catalog has none"


def agenda_kpis(meeting: Meeting, kpis: dict[str, Kpi]) -> list[str]:
    """Every KPI id on the meeting's agenda: standing items (catalog order, then ``kpis``), then new items.

    A KPI raised as a new item is not also a standing item. Unknown or private ids are left out.

    Example:
        >>> agenda_kpis(Meeting.model_validate({"id": "m", "date": "2020-03-04", "title": "T"}), {})
        []
    """
    new = [item.kpi for item in meeting.new_items if item.kpi in kpis and kpis[item.kpi].public]
    standing = [k.id for k in kpis.values() if k.public and k.department in meeting.departments]
    standing += [k for k in meeting.kpis if k in kpis and kpis[k].public and k not in standing]
    return [k for k in standing if k not in new] + list(dict.fromkeys(new))


def _panel(meeting: Meeting) -> frozenset[str]:
    """What makes two meetings "of the same departments": the set of departments (else of KPIs)."""
    return (
        frozenset(meeting.departments) if meeting.departments else frozenset(f"kpi:{k}" for k in meeting.kpis)
    )


def previous_meeting(meeting: Meeting, meetings: Iterable[Meeting]) -> Meeting | None:
    """The latest meeting before ``meeting`` that reviewed the same departments, or None.

    Example:
        >>> a = Meeting.model_validate({"id": "a", "date": "2020-02-05", "title": "A", "departments": ["X"]})
        >>> b = Meeting.model_validate({"id": "b", "date": "2020-03-04", "title": "B", "departments": ["X"]})
        >>> previous_meeting(b, [a, b]).id, previous_meeting(a, [a, b])
        ('a', None)
    """
    panel = _panel(meeting)
    earlier = [
        m
        for m in meetings
        if m.id != meeting.id and _panel(m) == panel and (m.date, m.id) < (meeting.date, meeting.id)
    ]
    return max(earlier, key=lambda m: (m.date, m.id), default=None)
