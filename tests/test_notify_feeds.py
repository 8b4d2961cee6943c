"""Feeds for residents, read by real parsers (feedparser, icalendar) from a running server, and the
rule that a suppressed breakdown group never appears in any message, feed or post."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import feedparser  # type: ignore[import-untyped]
import icalendar
import pyarrow as pa
import pytest
import requests
import yaml
from demo_store import demo_store
from servers import mounted
from smtp_server import Inbox, smtp_inbox

from btvstat_open.server import create_app
from btvstat_open.store import Store
from btvstat_open.types import Column
from catalog.breakdown import breakdown
from catalog.demo import DEMO_DIR
from catalog.loader import load_catalog
from catalog.models import Catalog
from catalog.notify.run import notify

__all__ = ["smtp_inbox"]

HTTP = requests.Session()  # reaches the app in process (servers.mounted)
HAMLET = "Hamlet of Zyx"  # a group too small to publish
TODAY = date(2020, 3, 2)


@dataclass
class Site:
    base: str
    root: Path
    catalog: Catalog
    store: Store


def _equity_rows() -> pa.Table:
    days, wards = [], []
    for month in (1, 2):
        for i in range(30):
            days.append(date(2020, month, 1 + i % 28))
            wards.append("Big Ward")
        days += [date(2020, month, 3), date(2020, month, 4)]
        wards += [HAMLET, HAMLET]
    return pa.table({"day": days, "ward": wards})


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    folder = tmp_path_factory.mktemp("feeds")
    root = folder / "catalog"
    shutil.copytree(DEMO_DIR, root)
    private = root / "public-works" / "pothole-requests-fiscal-ytd.yaml"
    doc = yaml.safe_load(private.read_text())
    doc["public"] = False
    private.write_text(yaml.safe_dump(doc, sort_keys=False))
    equity = {
        "id": "ward-requests",
        "title": "Requests per ward",
        "department": "Public Works",
        "source": {"dataset": "ward-requests", "date_column": "day"},
        "measure": {"calculation": "count"},
        "period": {"size": "month"},
        "direction": "lower_is_better",
        "target": {"value": 10, "rule": "above_below", "tolerance": 1},
        "breakdown": {"column": "ward", "label": "Ward", "min_count": 10},
        "goals": ["know-pothole-demand"],
    }
    (root / "public-works" / "ward-requests.yaml").write_text(yaml.safe_dump(equity))
    with (root / "catalog.yaml").open("a") as settings:
        settings.write("webhooks:\n  everyone: {url: 'https://hooks.example.gov/x'}\n")
    store = demo_store(folder / "store")
    store.load(
        "ward-requests",
        _equity_rows(),
        [Column("day", "Day", "floating_timestamp"), Column("ward", "Ward", "text")],
    )
    catalog = load_catalog(root, store)
    with mounted(create_app(store, catalog), HTTP) as base:
        yield Site(base, root, catalog, store)
    store.close()


def _get(site: Site, path: str, **headers: str) -> requests.Response:
    return HTTP.get(site.base + path, headers=headers, timeout=120)


def _feed(site: Site, path: str) -> feedparser.FeedParserDict:
    reply = _get(site, path)
    assert reply.status_code == 200 and reply.headers["content-type"].startswith("application/atom+xml")
    headers = {"content-location": site.base + path, "content-type": reply.headers["content-type"]}
    parsed = feedparser.parse(reply.content, response_headers=headers)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    return parsed


def test_a_kpi_feed_lists_its_status_changes_notes_and_meetings_with_dates(site: Site) -> None:
    parsed = _feed(site, "/kpi/pothole-days-to-close.atom")
    assert parsed.feed.title == "Median days to close pothole requests"
    entries = parsed.entries
    titles = [(e.title, e.updated[:10]) for e in entries]
    assert titles[0] == ("Median days to close pothole requests: on track", "2020-02-23")
    assert ("Median days to close pothole requests: off track", "2020-02-09") in titles
    assert ("Meeting packet: Public Works review", "2020-02-05") in titles
    assert not any("2020-03-04" in t[1] for t in titles)  # not before the meeting happens
    dates = [e.updated_parsed for e in entries]
    assert dates == sorted(dates, reverse=True)
    assert all(e.link.startswith(site.base + "/") for e in entries)
    for link in {e.link for e in entries}:
        assert _get(site, link[len(site.base) :]).status_code == 200
    assert len({e.id for e in entries}) == len(entries)


def test_department_goal_and_program_feeds_hold_only_public_kpis(site: Site) -> None:
    department = _feed(site, "/departments/public-works.atom")
    assert department.feed.title == "Public Works"
    text = json.dumps(department.entries)
    assert "Pothole requests per week: note" in text and "Airport" not in text
    goal = _feed(site, "/goals/fix-potholes-fast.atom")
    assert goal.entries and all(
        "Pothole" in e.title or "pothole" in e.title or "Meeting" in e.title for e in goal.entries
    )
    program = _feed(site, "/program.atom")
    everything = json.dumps(program.entries) + json.dumps(department.entries)
    assert "Pothole requests this fiscal year" not in everything  # the private KPI
    assert _get(site, "/kpi/pothole-requests-fiscal-ytd.atom").status_code == 404
    assert _get(site, "/departments/nowhere.atom").status_code == 404
    assert _get(site, "/goals/nowhere.atom").status_code == 404


def test_feeds_are_cached_like_pages(site: Site) -> None:
    first = _get(site, "/program.atom")
    etag = first.headers["etag"]
    assert "max-age" in first.headers["cache-control"]
    again = _get(site, "/program.atom", **{"If-None-Match": etag})
    assert again.status_code == 304


def test_pages_link_their_feeds(site: Site) -> None:
    pages = {
        "/": '<link rel="alternate" type="application/atom+xml" title="City performance dashboard (demo): '
        'what changed" href="/program.atom">',
        "/kpi/pothole-days-to-close": 'href="/kpi/pothole-days-to-close.atom"',
        "/departments/public-works": 'href="/departments/public-works.atom"',
        "/goals/fix-potholes-fast": 'href="/goals/fix-potholes-fast.atom"',
        "/meetings": '<link rel="alternate" type="text/calendar" title="Meetings (iCalendar)" '
        'href="/meetings.ics">',
    }
    for path, link in pages.items():
        page = _get(site, path).text
        head = page[: page.index("</head>")]
        assert link in head, path
        assert 'rel="alternate"' in head


def test_calendars_of_meetings_and_action_due_dates_parse(site: Site) -> None:
    reply = _get(site, "/meetings.ics")
    assert reply.status_code == 200 and reply.headers["content-type"].startswith("text/calendar")
    calendar = icalendar.Calendar.from_ical(reply.content)
    meetings = {str(e["UID"]): e for e in calendar.walk("VEVENT")}
    assert len(meetings) == len(site.catalog.meetings)
    works = meetings["meeting-2020-03-04-public-works@btvstat-open"]
    assert works.decoded("DTSTART") == date(2020, 3, 4) and str(works["SUMMARY"]) == "Public Works review"
    actions = icalendar.Calendar.from_ical(_get(site, "/actions.ics").content)
    due = {str(e["SUMMARY"]): e.decoded("DTSTART") for e in actions.walk("VEVENT")}
    assert due["Due: Add a second pothole crew for the freeze-thaw season"] == date(2020, 2, 28)
    open_due = [
        a
        for k in site.catalog.kpis.values()
        if k.public
        for a in k.actions
        if a.due and a.opened <= TODAY and (a.status == "open" or (a.closed and a.closed > TODAY))
    ]
    assert len(due) == len(open_due)
    assert isinstance(works.decoded("DTSTAMP"), datetime)


def test_a_suppressed_breakdown_group_never_appears_in_any_message_feed_or_post(
    site: Site, smtp_inbox: Inbox, tmp_path: Path
) -> None:
    kpi = site.catalog.get("ward-requests")
    table = breakdown(kpi, site.store, site.catalog.settings, today=TODAY)
    hamlet = [r for r in table.to_pylist() if r["group"] == HAMLET]
    assert hamlet and all(r["suppressed"] for r in hamlet)  # the group exists, and is suppressed
    smtp_inbox.clear()
    with Store(tmp_path / "store") as store:  # a fresh outbox over the same data
        store.load(
            "ward-requests",
            _equity_rows(),
            [Column("day", "Day", "floating_timestamp"), Column("ward", "Ward", "text")],
        )
        found, done = notify(site.catalog, store, TODAY, env=smtp_inbox.env())
    assert done.failed == [] and len(done.delivered) == len(smtp_inbox.received) > 0
    assert any(e.kpi_id == "ward-requests" for e in found.events)  # it is off track: it is in messages
    sent = [m.as_string() for _, m in smtp_inbox.received] + [json.dumps(i.payload) for i in found.items]
    assert any("Requests per ward" in s for s in sent)
    feeds = [
        _get(site, p).text
        for p in ("/kpi/ward-requests.atom", "/program.atom", "/departments/public-works.atom")
    ]
    for text in sent + feeds:
        assert HAMLET not in text
