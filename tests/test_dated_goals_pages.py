"""Dated goals on the demo site: the card, the KPI page, the goal page and ``/program.json`` say
the same numbers as :mod:`catalog.dated_goals` computes from the measured series."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from datetime import date
from html import unescape
from pathlib import Path
from typing import Any

import pytest
import requests
from demo_store import demo_store
from servers import mounted

from btvstat_open.server import create_app
from btvstat_open.store import Store
from catalog import load_catalog
from catalog.dated_goals import goal_progress, kpi_progress
from catalog.demo import DEMO_DIR
from catalog.measure import measure
from catalog.packet import build_packet
from widgets.packets.render import packet_html
from widgets.progress_view import progress_view

HTTP = requests.Session()  # reaches the site's app in process (see the site fixture)
TODAY = date(2020, 3, 2)  # the demo's as_of


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Store]]:
    store = demo_store(tmp_path_factory.mktemp("dated-goals-site") / "store")
    with mounted(create_app(store, load_catalog(DEMO_DIR, store)), HTTP) as base:
        yield base, store
    store.close()


def page(base: str, path: str) -> str:
    reply = HTTP.get(base + path, timeout=60)
    assert reply.status_code == 200, (path, reply.status_code)
    return unescape(re.sub(r"<[^>]+>", "", reply.text))  # the text a reader sees


def expected(store: Store, kpi_id: str) -> dict[str, Any]:
    catalog = load_catalog(DEMO_DIR)
    kpi = catalog.kpis[kpi_id]
    found = kpi_progress(kpi, measure(kpi, store, catalog.settings, today=TODAY))
    assert found is not None and found.progress is not None
    return found.record()


def test_kpi_page_card_and_program_json_agree(site: tuple[str, Store]) -> None:
    base, store = site
    water = expected(store, "water-use-monthly")
    percent = f"{water['progress'] * 100:.0f}%"
    kpi_page = page(base, "/kpi/water-use-monthly")
    assert "Progress toward the dated goal" in kpi_page
    assert f"{percent} of the way from 61.1 units as published on Jun 30, 2008" in kpi_page
    assert "ahead of the path" in kpi_page and water["pace"] == "ahead"
    assert "Method: least-squares line" in kpi_page
    projection = water["projection"]
    if projection["status"] == "projected":
        day = date.fromisoformat(projection["date"])
        assert f"reached around {day:%b} {day.day}, {day.year}" in kpi_page
    else:
        assert f"Not projectable: {projection['reason']}." in kpi_page
    dashboard = page(base, "/")
    assert f"{percent} of the way to 45.0 units as published by Jun 30, 2015 · ahead of the path" in dashboard
    doc = HTTP.get(base + "/program.json", timeout=60).json()
    record = next(k for k in doc["kpis"] if k["id"] == "water-use-monthly")
    assert record["progress"] == water


def test_goal_page_shows_the_rollup(site: tuple[str, Store]) -> None:
    base, store = site
    trees, water = expected(store, "trees-planted-yearly"), expected(store, "water-use-monthly")
    mean = (min(trees["progress"], 1) + min(water["progress"], 1)) / 2
    assert {trees["pace"], water["pace"]} == {"reached", "ahead"}
    goal_page = page(base, "/goals/sustainable-city")
    # a tie between "ahead" and "reached" goes to the worse, "ahead"
    assert (
        f"Dated goals: {mean * 100:.0f}% of the way on average over 2 KPIs · mostly ahead of the path"
        in goal_page
    )
    assert "each counted at most 100%" in goal_page


def test_a_packet_keeps_the_progress_of_its_day(tmp_path: Path) -> None:
    """A packet for a meeting in March 2011 states the progress the series had then, not later."""
    root = tmp_path / "catalog"
    shutil.copytree(DEMO_DIR, root, ignore=shutil.ignore_patterns("data"))
    (root / "meetings" / "2011-03-09-water.yaml").write_text(
        "id: 2011-03-09-water\ndate: 2011-03-09\ntitle: Water and Power review\n"
        "departments: [Water and Power]\n"
    )
    day = date(2011, 3, 9)
    with demo_store(tmp_path / "store") as store:
        catalog = load_catalog(root, store)
        kpi = catalog.kpis["water-use-monthly"]
        then = kpi_progress(kpi, measure(kpi, store, catalog.settings, today=day))
        html = unescape(
            re.sub(
                r"<[^>]+>",
                "",
                packet_html(build_packet(catalog, store, "2011-03-09-water"), catalog.settings),
            )
        )
    assert then is not None and then.latest_date == date(2011, 2, 28) and then.progress is not None
    view = progress_view(kpi, then)
    assert view is not None
    assert f"{then.progress * 100:.0f}% of the way to 45.0 units as published by Jun 30, 2015" in html
    assert view["card"] in html and view["projection"] in html


def test_a_goal_page_shows_its_own_dated_goal(site: tuple[str, Store]) -> None:
    base, store = site
    catalog = load_catalog(DEMO_DIR)
    kpi = catalog.kpis["power-use-median-yearly"]
    goal = next(g for g in catalog.settings.goals if g.id == "conserve-water-power")
    assert goal.dated_goal is not None and kpi.dated_goal is None
    series = measure(kpi, store, catalog.settings, today=TODAY)
    found = goal_progress(goal, {kpi.id: series})
    view = progress_view(kpi, found, goal.dated_goal.note)
    assert found is not None and view is not None
    goal_page = page(base, "/goals/conserve-water-power")
    summary = (
        f"Measured by {kpi.title}: {view['percent']} of the way from {view['baseline']} to {view['target']}"
    )
    assert summary in goal_page and f"{view['pace_label']}." in goal_page
    assert view["projection"] in goal_page and "A fifth less power by 2020 (illustrative)" in goal_page
