"""The program's routes against the served test site: the dashboard at a glance and its goal tree,
goal and department pages, /api/goals, /program.json, /api/kpis freshness, filters without
JavaScript, the KPI page's targets, notes and actions, and the breakdown downloads.

Expected numbers are worked out here from the catalog and the real Kansas City file with pandas,
not read back from the code under test.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from html import unescape
from typing import Any

import pandas as pd
import pytest
from browser.widget_catalogs import (
    AS_OF,
    HOSTILE_ACTION,
    HOSTILE_GOAL_TITLE,
    HOSTILE_NOTE,
    PROGRAM_ID,
)
from widget_site import Site, get, in_process_site

from catalog import measure
from catalog.demo import DEMO_DIR
from widgets.overview import slugify

site = in_process_site  # the widget app driven in process (no port)
TODAY = date.fromisoformat(AS_OF)
WORSE_FIRST = ("off_track", "near_target", "on_track")


def latest_statuses(site: Site) -> dict[str, str]:
    """Each public KPI's latest status with data, from its measure series."""
    out = {}
    for kpi in site.catalog.kpis.values():
        if kpi.public:
            frame = measure(kpi, site.store, site.catalog.settings, today=TODAY).to_pandas()
            with_data = frame[frame["value"].notna()]
            out[kpi.id] = with_data["status"].iloc[-1] if len(with_data) else "no_data"
    return out


def majority(statuses: list[str]) -> str:
    judged = [s for s in statuses if s in WORSE_FIRST]
    if not judged:
        return "no_target"
    most = max(judged.count(s) for s in WORSE_FIRST)
    return next(s for s in WORSE_FIRST if judged.count(s) == most)


def under(site: Site, goal_id: str) -> set[str]:
    """The public KPIs serving a goal or any goal below it."""
    goals = {goal_id}
    grew = True
    while grew:
        more = {g.id for g in site.catalog.settings.goals if g.parent in goals}
        grew = not more <= goals
        goals |= more
    return {k.id for k in site.catalog.kpis.values() if k.public and goals & set(k.goals)}


def shown_cards(html: str) -> dict[str, bool]:
    """Card KPI id -> shown (no ``hidden`` attribute)."""
    cards = re.findall(r"<li class=\"card\" data-kpi-card data-kpi=\"([^\"]+)\"[^>]*?( hidden)?>", html)
    return {kpi_id: not hidden for kpi_id, hidden in cards}


def test_dashboard_opens_with_the_program_at_a_glance(site: Site) -> None:
    html = get(site, "/").text
    statuses = latest_statuses(site)
    glance = html[html.index('class="glance"') : html.index("</section>", html.index('class="glance"'))]
    assert glance.index("At a glance") < glance.index("glance-number")
    for status in ("on_track", "near_target", "off_track", "no_target", "no_data"):
        number = re.search(
            rf'status-{status}"><a href="/\?status={status}"><span class="glance-number">(\d+)', glance
        )
        assert number and int(number.group(1)) == list(statuses.values()).count(status), status
    overdue = sum(
        1
        for kpi in site.catalog.kpis.values()
        if kpi.public
        for a in kpi.actions
        if a.status == "open" and a.due is not None and a.due < TODAY
    )
    assert overdue >= 2  # the test program's hot-patch truck and the hostile KPI's action
    assert re.search(rf'glance-number">{overdue}</span> <span class="glance-label">Overdue actions', glance)
    assert "Stale data" in glance and "Behind schedule" in glance
    # then the goal tree, after the glance and the filters
    assert html.index('class="glance"') < html.index('id="kpi-filters"') < html.index('id="tree-heading"')


def test_goal_tree_names_levels_and_rolls_up_each_kpi_once(site: Site) -> None:
    html = get(site, "/").text
    statuses = latest_statuses(site)
    levels = site.catalog.settings.goal_levels
    for goal_id, level in (("test-livability", 0), ("test-streets", 1), ("test-potholes-fast", 2)):
        heading = html[html.index(f'id="goal-{goal_id}"') :]
        assert heading.startswith(
            f'id="goal-{goal_id}" class="goal-title"><span class="goal-level">{levels[level]}:'
        )
        ids = under(site, goal_id)
        expected = majority([statuses[k] for k in ids])
        rollup = heading[heading.index('class="rollup"') :][:400]
        assert f"status-{expected}" in rollup and f"{len(ids)} KPI" in rollup
    top = html[html.index('id="goal-test-livability"') :]
    assert top.index('id="goal-test-streets"') < top.index('id="goal-test-potholes-fast"')


def test_goal_page_has_rollup_subgoals_and_every_kpi_under_it(site: Site) -> None:
    response = get(site, "/goals/test-streets")
    assert response.status_code == 200 and response.headers["cache-control"] == "public, max-age=60"
    html = response.text
    assert "<h1>Test streets in good repair</h1>" in html
    crumbs = html[html.index('class="crumbs"') : html.index("</ol>")]
    assert 'href="/goals/test-livability"' in crumbs and 'aria-current="page"' in crumbs
    assert 'href="/goals/test-potholes-fast"' in html  # its sub-goal
    assert set(shown_cards(html)) == under(site, "test-streets")
    statuses = latest_statuses(site)
    expected = majority([statuses[k] for k in under(site, "test-streets")])
    rollup = html[html.index('id="rollup-heading"') :][:600]
    assert f"status-{expected}" in rollup
    missing = get(site, "/goals/no-such-goal")
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("text/html")
    assert "Goal not found" in missing.text and "/api/goals" in missing.text


def test_api_goals_is_the_tree_with_rollups(site: Site) -> None:
    body = get(site, "/api/goals").json()
    assert body["as_of"] == AS_OF and body["levels"] == site.catalog.settings.goal_levels
    found = {}

    def walk(nodes: list[dict[str, object]], depth: int) -> None:
        for node in nodes:
            found[node["id"]] = node
            assert node["level"] == depth
            walk(node["children"], depth + 1)  # type: ignore[arg-type]

    walk(body["goals"], 1)
    assert {g.id for g in site.catalog.settings.goals} == set(found)
    statuses = latest_statuses(site)
    for goal_id in ("test-livability", "test-streets", "test-reading"):
        assert set(found[goal_id]["all_kpis"]) == under(site, goal_id)
        assert found[goal_id]["status"] == majority([statuses[k] for k in under(site, goal_id)])
        counts = found[goal_id]["status_counts"]
        assert sum(counts.values()) == len(under(site, goal_id))
    assert found["test-potholes-fast"]["kpis"] == [k for k in found["test-potholes-fast"]["all_kpis"]]


def test_departments_and_a_department_page(site: Site) -> None:
    html = get(site, "/departments").text
    public = [k for k in site.catalog.kpis.values() if k.public]
    for department in {k.department for k in public if "<" not in k.department}:
        slug = re.sub(r"[^a-z0-9]+", "-", department.lower()).strip("-")
        assert f'<a href="/departments/{slug}">{department}</a>' in html
    assert 'id="actions"' in html and "Buy a hot-patch truck" in html  # overdue actions, listed
    page = get(site, "/departments/public-works")
    assert page.status_code == 200
    cards = shown_cards(page.text)
    assert set(cards) == {k.id for k in public if k.department == "Public Works"}
    table = page.text[page.text.index('class="data-table actions-table"') :]
    rows = re.findall(r"<tr( class=\"overdue\")?><th scope=\"row\">([^<]+)</th>", table)
    titles = [title for _, title in rows]
    assert titles.index("Buy a hot-patch truck") < titles.index("Triage requests by severity")
    assert titles.index("Triage requests by severity") < titles.index(
        "Add a second pothole crew"
    )  # done last
    assert dict((t, bool(o)) for o, t in rows)["Buy a hot-patch truck"] is True
    missing = get(site, "/departments/nowhere")
    assert missing.status_code == 404 and "Department not found" in missing.text


def test_program_json_is_the_export(site: Site) -> None:
    body = get(site, "/program.json").json()
    assert body["as_of"] == AS_OF
    assert {k["id"] for k in body["kpis"]} == {k.id for k in site.catalog.kpis.values() if k.public}
    program = next(k for k in body["kpis"] if k["id"] == PROGRAM_ID)
    assert [a["id"] for a in program["actions"] if a["overdue"]] == ["hot-patch"]
    assert [entry["from"] for entry in program["target"]["history"]] == [
        "2019-07-01",
        "2020-02-01",
        "2020-07-01",
    ]


def test_api_kpis_has_latest_status_and_freshness(site: Site) -> None:
    body = get(site, "/api/kpis").json()
    assert body["as_of"] == AS_OF
    statuses = latest_statuses(site)
    for item in body["kpis"]:
        kpi = site.catalog.kpis[item["id"]]
        assert item["status"] == statuses[kpi.id]
        updated = datetime.fromisoformat(item["data_updated_at"].replace("Z", "+00:00"))
        stored = site.store.info(kpi.source.dataset).rows_updated_at.replace(tzinfo=None)
        # Data written after the as-of day counts as changed at that day's start (as of then, it was).
        start = datetime(TODAY.year, TODAY.month, TODAY.day)
        expected = stored if stored.date() <= TODAY else start
        assert abs((updated.replace(tzinfo=None) - expected).total_seconds()) < 1
        assert isinstance(item["stale"], bool) and isinstance(item["behind"], bool)
        if kpi.freshness is None:
            assert item["stale"] is item["behind"] is False
    program = next(i for i in body["kpis"] if i["id"] == PROGRAM_ID)
    frame = measure(site.catalog.kpis[PROGRAM_ID], site.store, site.catalog.settings, today=TODAY).to_pandas()
    last_end = frame[frame["value"].notna()]["period_end"].iloc[-1]
    assert program["behind"] is (last_end < TODAY - timedelta(days=7))
    assert program["overdue_actions"] == ["hot-patch"]
    assert program["links"]["breakdown_csv"].endswith(f"/kpi/{PROGRAM_ID}/breakdown.csv")


@pytest.mark.parametrize(
    ("query", "keep"),
    [
        ("status=off_track", lambda k, s: s[k.id] == "off_track"),
        ("department=public-works", lambda k, s: k.department == "Public Works"),
        ("kind=outcome", lambda k, s: k.kind == "outcome"),
        ("q=library", lambda k, s: "library" in (k.title + k.description + " ".join(k.tags)).lower()),
        (
            "department=public-works&status=on_track",
            lambda k, s: k.department == "Public Works" and s[k.id] == "on_track",
        ),
    ],
)
def test_filters_work_without_javascript(site: Site, query: str, keep: object) -> None:
    html = get(site, f"/?{query}").text
    statuses = latest_statuses(site)
    cards = shown_cards(html)
    expected = {k.id for k in site.catalog.kpis.values() if k.public and keep(k, statuses)}  # type: ignore[operator]
    assert {kpi_id for kpi_id, shown in cards.items() if shown} == expected
    assert f'<p id="kpi-count" class="count" role="status" aria-live="polite">{len(expected)} KPI' in html
    for name, value in (part.split("=") for part in query.split("&")):
        if name != "q":
            assert re.search(
                rf'name="{name}" data-filter="{name}">.*?<option value="{value}" selected>', html, re.S
            )


def test_stale_filter_matches_the_flags(site: Site) -> None:
    body = {i["id"]: i for i in get(site, "/api/kpis").json()["kpis"]}
    for value, wanted in (("yes", True), ("no", False)):
        cards = shown_cards(get(site, f"/?stale={value}").text)
        shown = {kpi_id for kpi_id, ok in cards.items() if ok}
        assert shown == {k for k, i in body.items() if (i["stale"] or i["behind"]) is wanted}


def test_kpi_page_lists_targets_notes_actions_and_flags(site: Site) -> None:
    html = get(site, f"/kpi/{PROGRAM_ID}").text
    history = html[
        html.index('id="targets-heading"') : html.index("</table>", html.index('id="targets-heading"'))
    ]
    rows = re.findall(
        r"<tr><th scope=\"row\">([^<]+)</th><td>([^<]+)</td><td>[^<]+</td><td>([^<]+)</td><td>([^<]*)</td>",
        history,
    )
    assert rows == [
        ("2019-07-01", "10.0 days", "Past", "FY2020 service level"),
        ("2020-02-01", "7.0 days", "In force", "Raised with the second crew"),
        ("2020-07-01", "5.0 days", "Future", "FY2021 budget"),
    ]
    notes = html[html.index('id="notes-heading"') :]
    assert '<time datetime="2020-01-13">2020-01-13</time>: Cold snap: many new potholes' in notes
    actions = html[html.index('id="kpi-actions-heading"') :]
    assert "Street Maintenance" in actions and "2020-02-15" in actions and "Overdue" in actions
    assert "1 overdue action" in html
    assert 'href="/goals/test-potholes-fast"' in html
    assert re.search(r"Data updated [^<]+", html)


def test_chart_spec_draws_notes_and_future_targets(site: Site) -> None:
    spec = get(site, f"/kpi/{PROGRAM_ID}.vl.json").json()
    layers = spec["layer"]
    rules = [layer for layer in layers if layer["mark"]["type"] == "rule"]
    assert rules and rules[0]["mark"]["aria"] is True
    assert rules[0]["encoding"]["description"]["field"] == "label"
    labels = [n["label"] for n in spec["datasets"]["notes"]]
    assert labels == ["Note 1, Jan 13, 2020: Cold snap: many new potholes",
                      "Note 2, Feb 3, 2020: Second pothole crew added"]  # fmt: skip
    lines = [layer for layer in layers if layer["mark"]["type"] == "line"]
    steps = {
        layer["encoding"]["y"]["field"]: layer["mark"] for layer in lines if "interpolate" in layer["mark"]
    }
    assert steps["target"]["interpolate"] == "step-after" and "strokeDash" not in steps["target"]
    assert steps["future_target"]["strokeDash"] == [6, 4]
    series = spec["datasets"]["series"]
    future = [r for r in series if r["value"] is None and r["future_target"] is not None]
    assert future and future[0]["future_target"] == 5.0 and future[0]["period_start"] >= "2020-06-29"
    assert all(r["status"] == "no_data" for r in future)  # never scored
    svg = get(site, f"/kpi/{PROGRAM_ID}.svg").text
    assert "Note 1, Jan 13, 2020: Cold snap" in svg and 'stroke-dasharray="6 4"' in svg
    assert "Future target" in svg


def test_hostile_goal_note_and_action_text_is_escaped(site: Site) -> None:
    for path in (
        "/",
        "/goals/test-hostile-goal",
        "/kpi/hostile-markup",
        "/departments",
        "/departments/" + slugify(site.catalog.kpis["hostile-markup"].department),
    ):
        response = get(site, path)
        assert response.status_code == 200, path
        assert "<script>window.__pwned" not in response.text
        text = unescape(re.sub(r"<[^>]+>", "", response.text))
        assert any(s in text for s in (HOSTILE_GOAL_TITLE, HOSTILE_NOTE, HOSTILE_ACTION)), path
    assert "<script>" not in get(site, "/kpi/hostile-markup.svg").text
    assert get(site, "/api/goals").json()["goals"][-1]["title"] == HOSTILE_GOAL_TITLE


# The breakdown: real Kansas City rows, pandas as the reference.


def kc_cells(site: Site) -> pd.DataFrame:
    """Median days to close per ISO week and council district of pothole requests, with row counts."""
    frame = pd.read_parquet(DEMO_DIR / "data" / "kc-311-potholes.parquet")
    frame = frame[frame["type"] == "Pothole"]
    frame = frame[frame["creation_date"].dt.date <= TODAY]
    day = frame["creation_date"].dt.normalize()
    frame = frame.assign(week=(day - pd.to_timedelta(day.dt.day_of_week, unit="D")).dt.date)
    grouped = frame.groupby(["week", "council_district"], dropna=False)
    cells = grouped.agg(count=("case_id", "size"), value=("days_to_close", "median")).reset_index()
    cells["group"] = cells["council_district"].map(lambda v: "(not recorded)" if pd.isna(v) else str(int(v)))
    return cells


def test_breakdown_downloads_match_pandas_and_suppress_small_cells(site: Site) -> None:
    kpi = site.catalog.kpis[PROGRAM_ID]
    assert kpi.breakdown is not None
    cells = kc_cells(site)
    body = get(site, f"/kpi/{PROGRAM_ID}/breakdown.json").json()
    rows = {(r["period_start"], r["group"]): r for r in body["rows"]}
    checked = suppressed = 0
    for cell in cells.itertuples():
        row = rows.get((cell.week.isoformat(), cell.group))
        if row is None:
            continue  # a week outside the series (the current one)
        if cell.count < kpi.breakdown.min_count:
            suppressed += 1
            assert row["suppressed"] is True and row["value"] is None and row["count"] is None
            assert row["count_label"] == f"< {kpi.breakdown.min_count}"
        elif not row["suppressed"]:
            assert row["value"] == pytest.approx(cell.value) and row["count"] == cell.count
            checked += 1
    assert checked > 10 and suppressed > 3
    csv = get(site, f"/kpi/{PROGRAM_ID}/breakdown.csv")
    assert csv.headers["content-type"] == "text/csv; charset=utf-8"
    assert "attachment" in csv.headers["content-disposition"]
    header, *lines = csv.text.splitlines()
    assert header.split(",")[:4] == ["period_start", "period_end", "group", "value"]
    assert len(lines) == len(body["rows"])
    plain = next(k.id for k in site.catalog.kpis.values() if k.public and k.breakdown is None)
    missing = get(site, f"/kpi/{plain}/breakdown.csv")
    assert missing.status_code == 404 and "has no breakdown" in missing.json()["message"]


def test_suppressed_values_never_leak(site: Site, tmp_path_factory: pytest.TempPathFactory) -> None:
    """A suppressed cell's true value and count appear in no output: CSV, JSON, SVG, PNG, page, spec."""
    from widget_site import sentinel_site

    with sentinel_site(tmp_path_factory.mktemp("sentinel")) as (base, http, value, count, kpi_id):
        outputs = {}
        paths = [f"/kpi/{kpi_id}/breakdown.{ext}" for ext in ("csv", "json", "svg")]
        paths += [f"/kpi/{kpi_id}{ext}" for ext in ("", ".vl.json", ".svg", ".csv")]
        for path in [*paths, "/api/kpis", "/program.json", "/"]:
            response = http.get(base + path, timeout=60)
            assert response.status_code == 200, path
            outputs[path] = response.text
        shown = [r for r in http.get(f"{base}/kpi/{kpi_id}/breakdown.json", timeout=60).json()["rows"]]
        assert any(r["suppressed"] for r in shown) and any(not r["suppressed"] for r in shown)
        for path, text in outputs.items():
            assert value not in text, path
            assert f'"count": {count}' not in text and f'"count":{count},' not in text, path
        png = http.get(f"{base}/kpi/{kpi_id}/breakdown.png", timeout=60)
        assert png.headers["content-type"] == "image/png" and value.encode() not in png.content
        import vl_convert as vlc

        # The PNG is the SVG checked above, rasterised: it can show nothing the SVG does not.
        assert png.content == vlc.svg_to_png(outputs[f"/kpi/{kpi_id}/breakdown.svg"], scale=2.0)


def test_a_catalog_without_goals_groups_by_department_and_outcome_area(
    site: Site, tmp_path_factory: pytest.TempPathFactory
) -> None:
    import shutil

    import yaml
    from servers import in_process

    from btvstat_open.server import create_app
    from catalog import load_catalog

    folder = tmp_path_factory.mktemp("no-goals") / "catalog"
    shutil.copytree(DEMO_DIR, folder, ignore=shutil.ignore_patterns("data", "meetings", "stories"))
    for path in folder.rglob("*.yaml"):
        data = yaml.safe_load(path.read_text())
        data.pop("goals", None)
        data.pop("goal_levels", None)
        path.write_text(yaml.safe_dump(data))
    catalog = load_catalog(folder, site.store)
    assert not catalog.settings.goals
    with in_process(create_app(site.store, catalog)) as (base, http):
        html = http.get(base + "/", timeout=60).text
    assert 'id="tree-heading"' not in html and "KPIs under no goal" not in html
    public = [k for k in catalog.kpis.values() if k.public]
    for department in {k.department for k in public}:
        slug = re.sub(r"[^a-z0-9]+", "-", department.lower()).strip("-")
        assert '<h2 id="dept-' in html and f'<a href="/departments/{slug}">{department}</a></h2>' in html
    for area in {k.outcome_area for k in public if k.outcome_area}:
        assert f'<h3 class="area-title">{area}</h3>' in html
    assert set(shown_cards(html)) == {k.id for k in public}


def as_of_shown(site: Site, day: str) -> dict[str, Any]:
    """The /api/kpis answer once it shows ``day``: the data versions (and the day with them) are
    re-read on a short cycle, so poll for it within a deadline rather than sleep a guessed time."""
    import time

    deadline = time.monotonic() + 30
    while True:
        answer = get(site, "/api/kpis")
        body: dict[str, Any] = answer.json()
        if body["as_of"] == day or time.monotonic() > deadline:
            assert body["as_of"] == day, f"the day did not change to {day} within 30 s"
            body["etag"] = answer.headers["etag"]
            return body
        time.sleep(0.05)


def test_a_new_as_of_day_rebuilds_cached_responses(site: Site) -> None:
    first = get(site, "/api/kpis")
    assert first.json()["as_of"] == AS_OF
    assert get(site, "/api/kpis", **{"If-None-Match": first.headers["etag"]}).status_code == 304
    site.service.as_of = TODAY + timedelta(days=40)  # as when a server without as_of runs into a new day
    try:
        later = as_of_shown(site, (TODAY + timedelta(days=40)).isoformat())
        assert later["etag"] != first.headers["etag"]
        assert get(site, "/api/kpis", **{"If-None-Match": first.headers["etag"]}).status_code == 200
    finally:
        site.service.as_of = None
    assert as_of_shown(site, AS_OF)["etag"] == first.headers["etag"]  # the same answer as before
