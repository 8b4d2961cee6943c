"""Notification rules without a server: business days against a hand-made calendar, due-date
reminders with holidays, routing and privacy, and catalog validation of the rules."""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest

from btvstat_open.errors import CatalogError
from catalog.demo import DEMO_DIR
from catalog.loader import load_catalog
from catalog.models import CatalogSettings, Kpi
from catalog.notify.business_days import add_business_days, business_days_between, is_business_day
from catalog.notify.events import Event
from catalog.notify.rules import DEFAULT_RULES, route, rules_for
from catalog.notify.sources import action_observations

HOLIDAYS = [date(2020, 12, 25), date(2021, 1, 1)]
# Written by hand from a wall calendar: the business days from Monday 21 December 2020 to Friday
# 8 January 2021, without Christmas Day (Friday) and New Year's Day (Friday).
BUSINESS = [date(2020, 12, d) for d in (21, 22, 23, 24, 28, 29, 30, 31)] + [
    date(2021, 1, d) for d in (4, 5, 6, 7, 8)
]


def test_business_days_match_the_hand_made_calendar_over_the_year_boundary() -> None:
    days = [date(2020, 12, 19) + timedelta(days=i) for i in range(23)]
    assert [d for d in days if is_business_day(d, HOLIDAYS)] == BUSINESS
    for i, start in enumerate(BUSINESS):
        for j, end in enumerate(BUSINESS):
            assert add_business_days(start, j - i, HOLIDAYS) == end, (start, j - i)
            assert business_days_between(start, end, HOLIDAYS) == j - i
    # from a weekend or a holiday, counting starts at the next business day
    assert add_business_days(date(2020, 12, 25), 1, HOLIDAYS) == date(2020, 12, 28)
    assert add_business_days(date(2021, 1, 2), 0, HOLIDAYS) == date(2021, 1, 4)
    assert add_business_days(date(2021, 1, 4), -5, HOLIDAYS) == date(2020, 12, 24)


def _kpi_with_action(due: str) -> Kpi:
    return Kpi.model_validate(
        {
            "id": "k",
            "title": "Potholes",
            "department": "Public Works",
            "source": {"dataset": "d", "date_column": "day"},
            "measure": {"calculation": "count"},
            "actions": [
                {"id": "crew", "title": "Crew", "owner": "Streets", "opened": "2020-11-01", "due": due}
            ],
        }
    )


def test_a_due_reminder_fires_three_business_days_before_counting_holidays() -> None:
    from catalog.models import Catalog

    settings = CatalogSettings.model_validate(
        {"holidays": HOLIDAYS, "notify": [{"on": ["action_due"], "to": "owner", "days": 3}]}
    )
    kpi = _kpi_with_action("2021-01-04")
    catalog = Catalog(Path("."), settings, {"k": kpi})

    def due_state(day: date) -> str:
        found = {o.key.split(":")[0]: o.state for o in action_observations(catalog, kpi, day)}
        return found["action_due"] + "/" + found["overdue"]

    # Monday 4 January minus 3 business days (31, 30, 29 December; New Year's Day is off)
    assert due_state(date(2020, 12, 28)) == "no/no"
    assert due_state(date(2020, 12, 29)) == "yes/no"
    assert due_state(date(2021, 1, 4)) == "yes/no"
    assert due_state(date(2021, 1, 5)) == "no/yes"


def _event(kind: str, public: bool = True, owner: str | None = None) -> Event:
    return Event(kind, "k", "Potholes", ("Public Works",), "s", "/kpi/k", date(2020, 3, 2), owner, public)


def test_routes_follow_the_rules_and_private_events_reach_only_roles() -> None:
    settings = CatalogSettings.model_validate(
        {
            "notify": [
                {
                    "on": ["off_track"],
                    "to": ["department", "mayor@example.gov"],
                    "by": ["email", "webhook"],
                    "webhook": "ops",
                },
                {"on": ["overdue"], "to": "owner"},
                {"on": ["pending"], "to": "approvers"},
            ],
            "webhooks": {"ops": {"url": "https://hooks.example.gov/x", "shape": "slack"}},
            "recipients": {
                "departments": {"Public Works": "PW@example.gov"},
                "owners": {"Streets": "streets@example.gov"},
                "approvers": ["ops@example.gov"],
            },
        }
    )
    public = route([_event("off_track"), _event("overdue", owner="Streets"), _event("pending")], settings)
    assert {k: [e.kind for e in v] for k, v in public.items()} == {
        ("email", "pw@example.gov"): ["off_track"],
        ("email", "mayor@example.gov"): ["off_track"],
        ("webhook", "ops"): ["off_track"],
        ("email", "streets@example.gov"): ["overdue"],
        ("email", "ops@example.gov"): ["pending"],
    }
    private = route([_event("off_track", public=False)], settings)
    assert list(private) == [("email", "pw@example.gov")]  # not the named address, not the webhook
    # an owner without an address is reached through the department
    assert list(route([_event("overdue", owner="Nobody")], settings)) == [("email", "pw@example.gov")]
    assert rules_for(CatalogSettings()) == DEFAULT_RULES


@pytest.mark.parametrize(
    ("block", "message"),
    [
        ("notify:\n  - {on: [off_track, turned_red]}\n", "unknown event 'turned_red'"),
        ("notify:\n  - {on: [late], to: nobody}\n", "neither department, owner, approvers nor an e-mail"),
        ("notify:\n  - {on: [late], by: pigeon}\n", "'pigeon' is not a channel"),
        ("notify:\n  - {on: [late], by: webhook}\n", "by: webhook needs webhook: NAME"),
        ("notify:\n  - {on: [late], by: webhook, webhook: ops}\n", "webhook 'ops' is not a key of webhooks:"),
        ("webhooks:\n  ops: {shape: slack}\n", "exactly one of url: or url_env:"),
        ("recipients:\n  approvers: [not-an-address]\n", "not an e-mail address"),
        ("holidays: [2020-13-01]\n", "is not a date"),
    ],
)
def test_catalog_validation_names_the_line_and_the_fix(tmp_path: Path, block: str, message: str) -> None:
    root = tmp_path / "catalog"
    shutil.copytree(DEMO_DIR, root, ignore=shutil.ignore_patterns("data"))
    settings = root / "catalog.yaml"
    text = settings.read_text()
    text = text[: text.index("\nholidays:")] + "\n"
    line = text.count("\n") + 1 + (block.count("\n") > 1)
    settings.write_text(text + block)
    with pytest.raises(CatalogError) as caught:
        load_catalog(root)
    problems = [p for p in caught.value.problems if p[0] == str(settings)]
    assert problems and message in problems[0][2], problems
    assert problems[0][1] in (line, line - 1), problems


def test_the_demo_catalog_declares_its_recipients_and_holidays() -> None:
    catalog = load_catalog(DEMO_DIR)
    assert catalog.settings.notify is None  # the defaults
    assert date(2020, 1, 20) in catalog.settings.holidays
    assert catalog.settings.recipients.owners["Street Maintenance"] == ["street-maintenance@example.gov"]


def test_an_overdue_action_reminds_again_after_business_days_and_only_then() -> None:
    from catalog.models import Catalog

    settings = CatalogSettings.model_validate(
        {"holidays": HOLIDAYS, "notify": [{"on": ["overdue"], "to": "owner", "after": [5, 10]}]}
    )
    kpi = _kpi_with_action("2020-12-28")
    catalog = Catalog(Path("."), settings, {"k": kpi})
    recorded: str | None = None
    fired = []
    day = date(2020, 12, 28)
    while day <= date(2021, 1, 15):
        seen = next(o for o in action_observations(catalog, kpi, day) if o.key.startswith("overdue:"))
        if seen.fires(recorded):
            fired.append((day, seen.state))
        recorded = seen.state
        day += timedelta(days=1)
    # due Monday 28 December; 5 business days late on 5 January, 10 on 12 January (1 January off)
    assert fired == [(date(2020, 12, 29), "yes"), (date(2021, 1, 5), "yes+5"), (date(2021, 1, 12), "yes+10")]


def test_a_title_with_line_breaks_and_many_events_still_make_valid_messages() -> None:
    from catalog.notify.digest import digest, email_message
    from catalog.notify.webhook import MAX_LISTED, webhook_body

    events = [
        Event(
            "off_track",
            f"k{i}",
            f"KPI <{i}>",
            ("Public Works",),
            "turned off track",
            f"/kpi/k{i}",
            date(2020, 3, 2),
        )
        for i in range(MAX_LISTED + 5)
    ]
    mail = digest("pw@example.gov", events, title="City\nBcc: x@evil.example", base_url="https://s.example")
    message = email_message(mail, sender="stat@example.gov", message_id="m1")
    assert "\n" not in str(message["Subject"]) and message["Bcc"] is None
    assert mail["html"].count("<li>") == len(events) and "KPI &lt;0&gt;" in mail["html"]
    slack = webhook_body("slack", events, title="Stat", base_url="https://s.example")
    listed = slack["blocks"][1]["text"]["text"]
    assert listed.count("• ") == MAX_LISTED and "and 5 more" in listed and "KPI &lt;0&gt;" in listed
    teams = webhook_body("teams", events, title="Stat", base_url="https://s.example")
    body = teams["attachments"][0]["content"]["body"]
    assert len(body) == 1 + MAX_LISTED + 1 and body[-1]["text"] == "… and 5 more"
    assert "KPI \\<0\\>" in body[1]["text"]
    plain = webhook_body("json", events, title="Stat", base_url="https://s.example")
    assert len(plain["events"]) == len(events)
