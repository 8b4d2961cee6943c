"""Meeting files: loaded into Catalog.meetings, and every mistake reported with its file, line and fix."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from catalog_files import problems

from btvstat_open.errors import MeetingNotFound
from catalog import load_catalog
from catalog.demo import DEMO_DIR
from catalog.meetings import agenda_kpis, previous_meeting
from catalog.packet import find_meeting

KPI = """\
id: {id}
title: {title}
department: {department}
public: {public}
source: {{dataset: reqs, date_column: opened}}
measure: {{calculation: count}}
"""

MEETING = """\
id: 2020-03-04-public-works
date: 2020-03-04
title: Public Works review
departments: [Public Works]
kpis: [ems]
new_items:
  - {kpi: potholes-p90, note: Tail of slow closures}
questions:
  potholes: [Why did the week of Jan 13 spike?]
summary: Highlights written after the meeting.
"""


def catalog_dir(root: Path, meetings: dict[str, str]) -> Path:
    kpis = {
        "potholes": ("Pothole requests", "Public Works", "true"),
        "potholes-p90": ("Slowest pothole closures", "Public Works", "true"),
        "ems": ("EMS within 5 minutes", "Fire", "true"),
        "internal": ("An internal count", "Fire", "false"),
    }
    for kpi_id, (title, department, public) in kpis.items():
        text = KPI.format(id=kpi_id, title=title, department=department, public=public)
        (root / f"{kpi_id}.yaml").write_text(text)
    (root / "meetings").mkdir()
    for name, text in meetings.items():
        path = root / "meetings" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def test_a_meeting_file_loads_with_its_agenda(tmp_path: Path) -> None:
    catalog = load_catalog(catalog_dir(tmp_path, {"m.yaml": MEETING}))
    meeting = catalog.meetings["2020-03-04-public-works"]
    assert catalog.meeting_files[meeting.id].name == "m.yaml"
    assert meeting.date.isoformat() == "2020-03-04"
    # Standing: the department's public KPIs (minus the new item), then `kpis`; then the new items.
    assert agenda_kpis(meeting, catalog.kpis) == ["potholes", "ems", "potholes-p90"]
    assert find_meeting(catalog, meeting.id) is meeting


def test_meeting_files_are_part_of_the_catalog_version(tmp_path: Path) -> None:
    root = catalog_dir(tmp_path, {"m.yaml": MEETING})
    before = load_catalog(root).version
    (root / "meetings" / "m.yaml").write_text(MEETING.replace("Highlights", "Notes"))
    assert load_catalog(root).version != before


def test_unknown_key_names_its_line_and_suggests_the_right_one(tmp_path: Path) -> None:
    text = MEETING.replace("summary:", "sumary:")
    assert problems(catalog_dir(tmp_path, {"m.yaml": text})) == [
        ("m.yaml", 10, "unknown key 'sumary': did you mean 'summary'?")
    ]


@pytest.mark.parametrize("value", ["2020-13-04", "March 4", "04/03/2020"])
def test_a_date_that_is_not_a_date(tmp_path: Path, value: str) -> None:
    text = MEETING.replace("date: 2020-03-04", f"date: {value}")
    [(file, line, message)] = problems(catalog_dir(tmp_path, {"m.yaml": text}))
    assert (file, line) == ("m.yaml", 2)
    assert "YYYY-MM-DD" in message and value in message


def test_unknown_department_and_kpis_name_their_lines(tmp_path: Path) -> None:
    text = MEETING.replace("[Public Works]", "[Pubic Works]").replace("[ems]", "[emz]")
    text = text.replace("kpi: potholes-p90", "kpi: potholes-p99")
    found = problems(catalog_dir(tmp_path, {"m.yaml": text}))
    assert ("m.yaml", 4, "unknown department 'Pubic Works': did you mean 'Public Works'?") in found
    assert ("m.yaml", 5, "unknown KPI 'emz': did you mean 'ems'?") in found
    assert ("m.yaml", 7, "unknown KPI 'potholes-p99': did you mean 'potholes-p90'?") in found
    # the question about `potholes` is now off the agenda (its department is misspelt): said too
    assert any(line == 9 and "not on this meeting's agenda" in msg for _, line, msg in found)


def test_a_private_kpi_cannot_be_on_a_published_agenda(tmp_path: Path) -> None:
    text = MEETING.replace("[ems]", "[ems, internal]")
    [(file, line, message)] = problems(catalog_dir(tmp_path, {"m.yaml": text}))
    assert (file, line) == ("m.yaml", 5)
    assert message.startswith("KPI 'internal' is not public") and "public: true" in message


def test_questions_about_a_kpi_off_the_agenda(tmp_path: Path) -> None:
    text = MEETING.replace("departments: [Public Works]", "departments: [Fire]")
    found = problems(catalog_dir(tmp_path, {"m.yaml": text}))
    assert found == [
        (
            "m.yaml",
            9,
            "questions about 'potholes', which is not on this meeting's agenda: "
            "add it to kpis or new_items, or ask about a KPI that is",
        )
    ]


def test_duplicate_meeting_ids_name_both_files(tmp_path: Path) -> None:
    found = problems(catalog_dir(tmp_path, {"a.yaml": MEETING, "b/again.yml": MEETING}))
    assert len(found) == 1
    file, line, message = found[0]
    assert (file, line) == ("again.yml", 1)
    assert "duplicate meeting id '2020-03-04-public-works'" in message and "a.yaml" in message


def test_missing_keys_bad_yaml_and_not_a_mapping(tmp_path: Path) -> None:
    found = problems(
        catalog_dir(
            tmp_path,
            {"a.yaml": "id: a\ndate: 2020-01-01\n", "b.yaml": "id: [b\n", "c.yaml": "- one\n- two\n"},
        )
    )
    assert ("a.yaml", 1, "missing required key 'title': add it") in found
    assert any(f == "b.yaml" and msg.startswith("not valid YAML") for f, _, msg in found)
    assert ("c.yaml", 1, "a meeting file must be a mapping of keys (id: ..., date: ..., title: ...)") in found


def test_previous_meeting_is_the_latest_earlier_one_of_the_same_departments(tmp_path: Path) -> None:
    feb = MEETING.replace("2020-03-04", "2020-02-05")
    fire = MEETING.replace("2020-03-04-public-works", "2020-02-20-fire").replace("[Public Works]", "[Fire]")
    fire = fire.replace("date: 2020-03-04", "date: 2020-02-20").replace("questions:", "questions_: ")
    fire = "\n".join(line for line in fire.splitlines() if not line.startswith(("questions", "  potholes")))
    catalog = load_catalog(catalog_dir(tmp_path, {"feb.yaml": feb, "mar.yaml": MEETING, "fire.yaml": fire}))
    meetings = catalog.meetings
    march = meetings["2020-03-04-public-works"]
    previous = previous_meeting(march, meetings.values())
    assert previous is not None and previous.id == "2020-02-05-public-works"
    assert previous_meeting(meetings["2020-02-05-public-works"], meetings.values()) is None
    assert previous_meeting(meetings["2020-02-20-fire"], meetings.values()) is None


def test_an_unknown_meeting_is_not_found_with_the_known_ones_named() -> None:
    catalog = load_catalog(DEMO_DIR)
    with pytest.raises(MeetingNotFound) as info:
        find_meeting(catalog, "2020-04-01-nothing")
    assert info.value.http_status == 404 and info.value.exit_code == 2
    assert "2020-03-04-public-works" in info.value.message


def test_the_demo_has_three_meetings_over_its_departments() -> None:
    catalog = load_catalog(DEMO_DIR)
    assert sorted(catalog.meetings) == [
        "2013-08-14-public-safety",
        "2020-02-05-public-works",
        "2020-03-04-public-works",
    ]
    departments = {k.department for k in catalog.kpis.values()}
    for meeting in catalog.meetings.values():
        assert set(meeting.departments) <= departments
    first = catalog.meetings["2020-02-05-public-works"]
    assert first.summary and first.questions
