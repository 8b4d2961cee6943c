"""One vocabulary of KPI status: every place that shows a status knows every member of :class:`Status`.

Removing a status from the enum, or adding one without its label, symbol, chart shape, theme
colours and CSS classes, fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from catalog.goals import rollup
from catalog.status import JUDGED, STATUSES, Status, rank, worst_first
from widgets.summary import STATUS_LABELS, STATUS_SYMBOLS
from widgets.themes import STATUS_SHAPES, THEMES

ROOT = Path(__file__).resolve().parent.parent
STYLESHEETS = (ROOT / "widgets" / "static" / "site.css", ROOT / "widgets" / "templates" / "packet.css")
# The statuses the catalog format documents for a measure series.
DOCUMENTED = {"on_track", "near_target", "off_track", "no_target", "no_data"}


def test_the_enum_is_the_documented_vocabulary() -> None:
    assert {s.value for s in Status} == DOCUMENTED
    assert set(STATUSES) == set(Status)
    assert set(JUDGED) == {s for s in Status if s.judged} == {"on_track", "near_target", "off_track"}


def test_worst_first_is_the_enum_order() -> None:
    assert [s.value for s in Status] == ["off_track", "near_target", "on_track", "no_target", "no_data"]
    assert [s.rank for s in Status] == list(range(len(Status)))
    assert rank("not a status") == len(Status)
    assert worst_first(["no_data", "on_track", "near_target", "on_track"]) == [
        "near_target",
        "on_track",
        "no_data",
    ]
    assert rollup(["on_track", "near_target"], "worst") == Status.NEAR_TARGET


@pytest.mark.parametrize("status", list(Status), ids=str)
def test_every_status_is_shown_everywhere(status: Status) -> None:
    assert status.label and STATUS_LABELS[status] == status.label
    assert STATUS_SYMBOLS[status]
    assert STATUS_SHAPES[status]
    for theme in THEMES.values():
        assert re.fullmatch(r"#[0-9a-f]{6}", theme.status[status]), (theme.name, status)
    for sheet in STYLESHEETS:
        assert f".status-{status}" in sheet.read_text(encoding="utf-8"), (sheet.name, status)


def test_nothing_shows_a_status_the_enum_does_not_have() -> None:
    known = {s.value for s in Status}
    tables = [STATUS_LABELS, STATUS_SYMBOLS, STATUS_SHAPES, *(t.status for t in THEMES.values())]
    for table in tables:
        assert set(table) == known
    for sheet in STYLESHEETS:
        classes = set(re.findall(r"\.status-([a-z_]+)", sheet.read_text(encoding="utf-8")))
        assert classes == known, sheet.name
