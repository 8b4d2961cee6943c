"""Test catalogs for the widget server: the demo catalog plus hostile and private KPIs.

Used by tests/test_widgets_*.py and the browser tests. The hostile KPI's title, description,
unit, methodology and tags hold markup that must show as text and never run; so do a hostile
goal's title, and the notes and actions of the hostile KPI.

A small program is added beside whatever the demo has: a three-level goal tree (``test-*`` ids),
and ``PROGRAM_ID``, a copy of the pothole KPI with a target history (one future entry), notes,
actions (one done, one open, one overdue) and a breakdown by council district.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from catalog.demo import DEMO_DIR

HOSTILE_TITLE = '<script>window.__pwned=1</script>"><img src=x onerror="window.__pwned=2">'
HOSTILE_DESCRIPTION = '</script><script>window.__pwned=3</script> & <b>bold</b> \u2028 "quotes"'
HOSTILE_ID = "hostile-markup"
PRIVATE_ID = "private-measure"
HOST_ORIGIN_PLACEHOLDER = "http://127.0.0.1:1"
HOSTILE_GOAL_TITLE = "<script>window.__pwned=4</script>Goal & <b>co</b>"
HOSTILE_NOTE = "<script>window.__pwned=5</script>note"
HOSTILE_ACTION = "<script>window.__pwned=6</script>action"
PROGRAM_ID = "test-pothole-program"
# The demo's as-of day when it has one (the test program's dates are chosen around it).
AS_OF = str(yaml.safe_load((DEMO_DIR / "catalog.yaml").read_text()).get("as_of", "2020-03-01"))
TEST_GOALS = [
    {"id": "test-livability", "title": "Test livability", "description": "Streets and services."},
    {"id": "test-streets", "title": "Test streets in good repair", "parent": "test-livability",
     "owner": "Public Works"},
    {"id": "test-potholes-fast", "title": "Test fix potholes fast", "parent": "test-streets"},
    {"id": "test-reading", "title": "Test reading", "parent": "test-livability"},
    {"id": "test-hostile-goal", "title": HOSTILE_GOAL_TITLE, "description": HOSTILE_DESCRIPTION},
]  # fmt: skip
# KPI id -> the test goals it serves (added to what the demo gives it).
TEST_GOAL_KPIS = {
    PROGRAM_ID: ["test-potholes-fast"],
    "pothole-days-to-close-p90": ["test-potholes-fast"],
    "pothole-closed-within-7-days": ["test-streets"],
    "library-emedia-circulation": ["test-reading"],
    "library-visitors-quarterly": ["test-reading"],
    HOSTILE_ID: ["test-hostile-goal"],
}
PROGRAM = {
    "kind": "outcome",
    "target": {"rule": "above_below", "tolerance": 3, "history": [
        {"from": "2019-07-01", "value": 10, "note": "FY2020 service level"},
        {"from": "2020-02-01", "value": 7, "tolerance": 2, "note": "Raised with the second crew"},
        {"from": "2020-07-01", "value": 5, "note": "FY2021 budget"}]},
    "notes": [{"date": "2020-01-13", "text": "Cold snap: many new potholes"},
              {"date": "2020-02-03", "text": "Second pothole crew added"}],
    "actions": [
        {"id": "second-crew", "title": "Add a second pothole crew", "owner": "Street Maintenance",
         "opened": "2020-01-06", "due": "2020-02-01", "status": "done", "closed": "2020-01-31"},
        {"id": "hot-patch", "title": "Buy a hot-patch truck", "owner": "Fleet",
         "opened": "2020-01-20", "due": "2020-02-15", "status": "open"},
        {"id": "triage", "title": "Triage requests by severity", "owner": "311",
         "opened": "2020-02-01", "due": "2020-06-30", "status": "open"}],
    "breakdown": {"column": "council_district", "label": "Council district", "min_count": 20},
    "freshness": {"expect": "weekly"},
}  # fmt: skip


def write_test_catalog(folder: Path, *, allowed_origins: list[str] | None = None) -> Path:
    """Copy the demo catalog to ``folder`` and add a hostile KPI, a private KPI and embed origins."""
    shutil.copytree(DEMO_DIR, folder, ignore=shutil.ignore_patterns("data"))
    settings = yaml.safe_load((folder / "catalog.yaml").read_text())
    settings["embed"] = {"allowed_origins": allowed_origins or ["https://www.example.gov"]}
    settings["goals"] = [*settings.get("goals", []), *TEST_GOALS]
    settings.setdefault("as_of", AS_OF)
    (folder / "catalog.yaml").write_text(yaml.safe_dump(settings))
    for path in folder.rglob("*.yaml"):
        kpi = yaml.safe_load(path.read_text())
        if isinstance(kpi, dict) and kpi.get("id") in TEST_GOAL_KPIS:
            kpi["goals"] = [*kpi.get("goals", []), *TEST_GOAL_KPIS[kpi["id"]]]
            path.write_text(yaml.safe_dump(kpi))
    base = yaml.safe_load((DEMO_DIR / "public-works" / "pothole-days-to-close.yaml").read_text())
    base.pop("goals", None)
    program = dict(base, id=PROGRAM_ID, title="Test median days to close potholes", **PROGRAM)
    program["goals"] = TEST_GOAL_KPIS[PROGRAM_ID]
    (folder / "tests").mkdir()
    (folder / "tests" / "program.yaml").write_text(yaml.safe_dump(program))
    hostile = dict(
        base,
        id=HOSTILE_ID,
        title=HOSTILE_TITLE,
        description=HOSTILE_DESCRIPTION,
        methodology="<iframe src=javascript:alert(1)></iframe>",
        analysis="<style>body{display:none}</style>",
        unit="</script>",
        department="Tests <b>&</b> Co",
        tags=["<svg onload=alert(1)>"],
        goals=TEST_GOAL_KPIS[HOSTILE_ID],
        notes=[{"date": "2020-02-03", "text": HOSTILE_NOTE}],
        actions=[{"id": "hostile", "title": HOSTILE_ACTION, "owner": "<i>owner</i>", "opened": "2020-01-01",
                  "due": "2020-01-15", "status": "open"}],
    )  # fmt: skip
    (folder / "tests" / "hostile.yaml").write_text(yaml.safe_dump(hostile))
    private = dict(base, id=PRIVATE_ID, title="Not public yet", public=False)
    (folder / "tests" / "private.yaml").write_text(yaml.safe_dump(private))
    return folder
