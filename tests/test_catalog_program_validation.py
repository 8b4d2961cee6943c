"""Validation of the performance program's keys: every mistake names its file, its line and the fix.

Each test writes a small catalog whose one mistake sits on a known line and checks the problem
the loader reports (through ``catalog validate`` for one of them, the command people run).
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest
from catalog_files import problems, write

from btvstat_open.cli import main
from btvstat_open.store import Store
from btvstat_open.types import Column
from catalog import load_catalog

KPI = """\
id: k
title: K
department: Public Works
source: {dataset: reqs, date_column: opened}
measure: {calculation: median, column: days}
direction: lower_is_better
"""

GOALS = """\
goal_levels: [Priority, Goal, Objective]
goals:
  - {id: streets, title: Streets}
  - {id: repair, title: Repair, parent: streets}
  - {id: potholes, title: Potholes, parent: repair}
"""


def one_problem(tmp_path: Path, settings: str, kpi_extra: str) -> tuple[str, int | None, str]:
    root = write(tmp_path / "c", {"catalog.yaml": settings, "k.yaml": KPI + kpi_extra})
    found = problems(root)
    assert len(found) == 1, found
    return found[0]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "store") as s:
        columns = [
            Column("opened", "Opened", "floating_timestamp"),
            Column("days", "Days", "number"),
            Column("district", "District", "text"),
            Column("where", "Where", "point"),
        ]
        s.create("reqs", "Requests", columns)
        s.replace("reqs", pa.table({"days": [1.0]}))
        yield s


def test_a_full_program_loads(tmp_path: Path) -> None:
    kpi = KPI + textwrap.dedent("""\
        goals: [potholes, streets]
        kind: efficiency
        target:
          rule: above_below
          tolerance: 2
          history:
            - {from: 2019-07-01, value: 10}
            - {from: 2020-02-01, value: 7, tolerance: 1, note: FY2020 budget}
        notes:
          - {date: 2020-02-03, text: Second crew}
        actions:
          - {id: crew, title: Crew, opened: 2020-01-15, due: 2020-03-01, status: open}
          - {id: triage, title: Triage, opened: 2020-01-15, status: done, closed: 2020-01-20}
          - {id: contract, title: Contract, opened: 2020-01-15, status: dropped}
        breakdown: {column: district, label: District, min_count: 5}
        freshness: {expect: P2W}
        """)
    root = write(tmp_path / "c", {"catalog.yaml": GOALS, "k.yaml": kpi})
    catalog = load_catalog(root)
    loaded = catalog.get("k")
    assert loaded.goals == ["potholes", "streets"] and loaded.kind == "efficiency"
    assert [g.id for g in catalog.settings.goals] == ["streets", "repair", "potholes"]


def test_a_catalog_without_goals_still_loads_with_outcome_areas(tmp_path: Path) -> None:
    root = write(tmp_path / "c", {"k.yaml": KPI + "outcome_area: Livability\n"})
    catalog = load_catalog(root)
    assert catalog.settings.goals == [] and catalog.get("k").outcome_area == "Livability"


def test_unknown_goal_on_a_kpi_names_the_line_and_a_close_match(tmp_path: Path) -> None:
    file, line, message = one_problem(tmp_path, GOALS, "goals:\n  - streets\n  - pothole\n")
    assert (file, line) == ("k.yaml", 9)
    assert "unknown goal 'pothole'" in message and "did you mean 'potholes'?" in message


def test_goal_on_a_kpi_when_the_catalog_has_no_goals(tmp_path: Path) -> None:
    file, line, message = one_problem(tmp_path, "title: T\n", "goals: [streets]\n")
    assert (file, line) == ("k.yaml", 7)
    assert "catalog.yaml defines no goals" in message and "add the goal to goals:" in message


def test_unknown_parent_names_the_goal_line(tmp_path: Path) -> None:
    settings = GOALS + "  - {id: lights, title: Lights, parent: street}\n"
    file, line, message = one_problem(tmp_path, settings, "")
    assert (file, line) == ("catalog.yaml", 6)
    assert "parent 'street', which is not a goal id" in message and "did you mean 'streets'?" in message


def test_a_cycle_in_the_goal_tree_is_reported_once(tmp_path: Path) -> None:
    settings = """\
        goals:
          - {id: a, title: A, parent: c}
          - {id: b, title: B, parent: a}
          - {id: c, title: C, parent: b}
          - {id: top, title: Top}
        """
    file, line, message = one_problem(tmp_path, settings, "")
    assert (file, line) == ("catalog.yaml", 2)
    assert "goal 'a' is its own ancestor (a -> c -> b -> a)" in message
    assert "change one of these parents" in message


def test_a_goal_that_is_its_own_parent(tmp_path: Path) -> None:
    file, line, message = one_problem(tmp_path, "goals:\n  - {id: a, title: A, parent: a}\n", "")
    assert (file, line) == ("catalog.yaml", 2) and "its own ancestor (a -> a)" in message


def test_a_tree_deeper_than_goal_levels(tmp_path: Path) -> None:
    settings = GOALS + "  - {id: deep, title: Deep, parent: potholes}\n"
    file, line, message = one_problem(tmp_path, settings, "")
    assert (file, line) == ("catalog.yaml", 6)
    assert "level 4 (streets > repair > potholes > deep)" in message and "goal_levels names 3" in message
    assert "add a level name to goal_levels" in message


def test_duplicate_goal_id(tmp_path: Path) -> None:
    settings = GOALS + "  - {id: repair, title: Repair again}\n"
    file, line, message = one_problem(tmp_path, settings, "")
    assert (file, line) == ("catalog.yaml", 6)
    assert "duplicate goal id 'repair' (also goal 2 of goals:)" in message and "its own id" in message


def test_goal_levels_limits(tmp_path: Path) -> None:
    file, line, message = one_problem(tmp_path, "goal_levels: [A, B, C, D, E]\n", "")
    assert (file, line) == ("catalog.yaml", 1) and "goal_levels" in message


def test_target_with_value_and_history(tmp_path: Path) -> None:
    extra = "target:\n  value: 7\n  history:\n    - {from: 2020-01-01, value: 7}\n"
    file, line, message = one_problem(tmp_path, "", extra)
    assert (file, line) == ("k.yaml", 7)
    assert "not both" in message and "remove value, or move it into history" in message


def test_target_with_neither_value_nor_history(tmp_path: Path) -> None:
    file, line, message = one_problem(tmp_path, "", "target:\n  tolerance: 2\n")
    assert (file, line) == ("k.yaml", 7)
    assert "needs value: N" in message and "history: [{from: DATE, value: N}" in message


def test_history_out_of_order(tmp_path: Path) -> None:
    extra = """\
        target:
          history:
            - {from: 2020-02-01, value: 7}
            - {from: 2019-07-01, value: 10}
        """
    file, line, message = one_problem(tmp_path, "", textwrap.dedent(extra))
    assert (file, line) == ("k.yaml", 10)
    assert (
        "entry 2 (from 2019-07-01) comes after one from 2020-02-01" in message and "oldest first" in message
    )


def test_history_repeats_a_date(tmp_path: Path) -> None:
    extra = """\
        target:
          history:
            - {from: 2019-07-01, value: 10}
            - {from: 2019-07-01, value: 7}
        """
    file, line, message = one_problem(tmp_path, "", textwrap.dedent(extra))
    assert (file, line) == ("k.yaml", 10)
    assert "two entries from 2019-07-01 (entries 1 and 2)" in message and "keep one" in message


def test_history_entry_with_a_bad_date(tmp_path: Path) -> None:
    extra = "target:\n  history:\n    - {from: 2019-13-01, value: 10}\n"
    file, line, message = one_problem(tmp_path, "", extra)
    assert (file, line) == ("k.yaml", 9) and "'2019-13-01' is not a date" in message


def test_action_id_repeated_within_a_kpi(tmp_path: Path) -> None:
    extra = """\
        actions:
          - {id: crew, title: Crew, opened: 2020-01-15}
          - {id: crew, title: Crew again, opened: 2020-01-16}
        """
    file, line, message = one_problem(tmp_path, "", textwrap.dedent(extra))
    assert (file, line) == ("k.yaml", 9)
    assert "action id 'crew' is used twice" in message and "its own id" in message


def test_closed_on_an_open_action(tmp_path: Path) -> None:
    extra = """\
        actions:
          - id: crew
            title: Crew
            opened: 2020-01-15
            closed: 2020-02-01
        """
    file, line, message = one_problem(tmp_path, "", textwrap.dedent(extra))
    assert (file, line) == ("k.yaml", 11)
    assert "open but has closed" in message and "set status: done" in message


def test_done_action_without_closed(tmp_path: Path) -> None:
    extra = """\
        actions:
          - id: crew
            title: Crew
            opened: 2020-01-15
            status: done
        """
    file, line, message = one_problem(tmp_path, "", textwrap.dedent(extra))
    assert (file, line) == ("k.yaml", 11)
    assert "done but has no closed date" in message and "add closed: YYYY-MM-DD" in message


def test_done_action_closed_before_it_was_opened(tmp_path: Path) -> None:
    extra = """\
        actions:
          - id: crew
            title: Crew
            opened: 2020-01-15
            status: done
            closed: 2020-01-10
        """
    file, line, message = one_problem(tmp_path, "", textwrap.dedent(extra))
    assert (file, line) == ("k.yaml", 12)
    assert (
        "closed 2020-01-10, before it was opened (2020-01-15)" in message
        and "fix closed or opened" in message
    )


def test_due_before_opened(tmp_path: Path) -> None:
    extra = """\
        actions:
          - id: crew
            title: Crew
            opened: 2020-01-15
            due: 2020-01-01
        """
    file, line, message = one_problem(tmp_path, "", textwrap.dedent(extra))
    assert (file, line) == ("k.yaml", 11)
    assert "due 2020-01-01, before it was opened" in message and "fix due or opened" in message


def test_action_with_an_unknown_status(tmp_path: Path) -> None:
    extra = "actions:\n  - {id: crew, title: Crew, opened: 2020-01-15, status: closed}\n"
    file, line, message = one_problem(tmp_path, "", extra)
    assert (file, line) == ("k.yaml", 8) and "'open', 'done' or 'dropped'" in message


def test_note_with_a_bad_date_and_a_blank_note(tmp_path: Path) -> None:
    extra = "notes:\n  - {date: 2020-02-30, text: Crew}\n  - {date: 2020-02-03, text: '  '}\n"
    root = write(tmp_path / "c", {"k.yaml": KPI + extra})
    found = problems(root)
    assert [(f, line) for f, line, _ in found] == [("k.yaml", 8)]
    assert "'2020-02-30' is not a date: write YYYY-MM-DD with a real month and day" in found[0][2]
    file, line, message = one_problem(tmp_path / "2", "", "notes:\n  - {date: 2020-02-03, text: '  '}\n")
    assert (file, line) == ("k.yaml", 8) and "has no text: write what happened" in message


def test_breakdown_with_a_bad_min_count_and_an_unknown_key(tmp_path: Path) -> None:
    extra = "breakdown:\n  column: district\n  min_count: 0\n  lable: District\n"
    root = write(tmp_path / "c", {"k.yaml": KPI + extra})
    found = problems(root)
    assert [(f, line) for f, line, _ in found] == [("k.yaml", 9), ("k.yaml", 10)]
    assert "'breakdown.min_count'" in found[0][2] and "greater than or equal to 1" in found[0][2]
    assert "did you mean 'label'?" in found[1][2]


def test_breakdown_column_is_checked_against_the_store(tmp_path: Path, store: Store) -> None:
    root = write(tmp_path / "c", {"k.yaml": KPI + "breakdown: {column: distrct}\n"})
    [(file, line, message)] = problems(root, store)
    assert (file, line) == ("k.yaml", 7) and "no column 'distrct': did you mean 'district'?" in message
    root = write(tmp_path / "d", {"k.yaml": KPI + "breakdown: {column: where}\n"})
    [(file, line, message)] = problems(root, store)
    assert (
        "column 'where' is point, but a breakdown column must be text or number or checkbox or location"
        in message
    )


def test_freshness_with_a_bad_interval(tmp_path: Path) -> None:
    file, line, message = one_problem(tmp_path, "", "freshness: {expect: fortnightly}\n")
    assert (file, line) == ("k.yaml", 7)
    assert "daily, weekly, monthly, quarterly, yearly or an ISO 8601 duration such as P2W" in message


def test_bad_kind(tmp_path: Path) -> None:
    file, line, message = one_problem(tmp_path, "", "kind: impact\n")
    assert (file, line) == ("k.yaml", 7) and "'outcome'" in message


def test_bad_as_of_in_catalog_yaml(tmp_path: Path) -> None:
    file, line, message = one_problem(tmp_path, "title: T\nas_of: 2020-02-30\n", "")
    assert (file, line) == ("catalog.yaml", 2) and "'2020-02-30' is not a date" in message


def test_a_bad_catalog_yaml_does_not_make_kpi_goals_unknown(tmp_path: Path) -> None:
    """A typo in catalog.yaml is reported alone: its goals still count for the KPI files."""
    settings = GOALS + "titel: T\n"
    file, line, message = one_problem(tmp_path, settings, "goals: [potholes]\n")
    assert (file, line) == ("catalog.yaml", 6) and "unknown key 'titel'" in message


def test_catalog_validate_prints_every_program_problem_with_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = GOALS + "  - {id: deep, title: Deep, parent: potholes}\n"
    extra = "goals: [potholes, nope]\nactions:\n  - {id: crew, title: C, opened: 2020-01-15, status: done}\n"
    root = write(tmp_path / "c", {"catalog.yaml": settings, "k.yaml": KPI + extra})
    assert main(["catalog", "validate", str(root), "--store", str(tmp_path / "none")]) == 2
    out = capsys.readouterr()
    lines = out.out.splitlines()
    assert len(lines) == 3, lines
    assert lines[0].endswith(
        "catalog.yaml:6: goal 'deep' is at level 4 (streets > repair > potholes > deep), "
        "but goal_levels names 3: add a level name to goal_levels (at most 4) or give "
        "'deep' a parent higher up"
    )
    assert "k.yaml:7: unknown goal 'nope'" in lines[1]
    assert "k.yaml:9: action 'crew' is done but has no closed date" in lines[2]
    assert "3 problems" in out.err
