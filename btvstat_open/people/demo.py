"""The people of ``serve --demo``: two accounts, one pending submission, one sent back.

Each start gives the two demo accounts new random passwords (printed, with the addresses), so a
demo left running on a network is not open with a published password. The Public Works updater
(group ``public-works-staff``) enters Street Services' sidewalk repairs; the program office
approves. On the first start, January 2020 is submitted and waits for approval, and February
2020 was sent back with a reason: what a department sees in the middle of a cycle.
"""

from __future__ import annotations

import secrets
from datetime import date

from btvstat_open.people.access import Grants, Person, grants_for
from btvstat_open.people.accounts import Accounts
from btvstat_open.people.submissions import Submissions, ValueEntry
from btvstat_open.store import Store
from catalog.models import Catalog

__all__ = ["DEMO_KPI", "seed_demo_people"]

UPDATER = "updater@demo.example"
APPROVER = "program-office@demo.example"
DEMO_KPI = "sidewalk-repairs-entered"


def _password() -> str:
    return "-".join(secrets.token_urlsafe(6) for _ in range(3))


def seed_demo_people(store: Store, catalog: Catalog) -> list[str]:
    """Make (or reset) the demo accounts and, once, the demo's submissions; the lines to print."""
    accounts = Accounts(store)
    known = {a.email for a in accounts.list()}
    lines = []
    for email, name, groups in (
        (UPDATER, "Demo updater (Public Works)", ["public-works-staff"]),
        (APPROVER, "Demo program office (approver)", []),
    ):
        password = _password()
        if email in known:
            accounts.reset(email, password, by="serve --demo")
        else:
            accounts.add(email, password, name=name, groups=groups, by="serve --demo")
        lines.append(f"  {name}: {email} / {password}")
    if DEMO_KPI in catalog.kpis:
        _seed_submissions(store, catalog)
    return ["Demo accounts (new passwords at each start; sign in at /login):", *lines]


def _seed_submissions(store: Store, catalog: Catalog) -> None:
    submissions = Submissions(store, catalog)
    if submissions.latest(None, states=("pending", "approved", "sent_back")):
        return  # seeded before: keep what people did since
    updater = submissions_grants(catalog, UPDATER, ("public-works-staff",))
    approver = submissions_grants(catalog, APPROVER, ())
    comment = "Crews back after the holidays."
    january = ValueEntry(DEMO_KPI, date(2020, 1, 1), date(2020, 1, 31), value=104, comment=comment)
    february = ValueEntry(DEMO_KPI, date(2020, 2, 1), date(2020, 2, 29), value=151, comment="Record month.")
    submissions.submit_value(updater, january, via="demo")
    sent = submissions.submit_value(updater, february, via="demo")
    submissions.send_back(approver, sent, "151 counts patched panels too; enter replaced panels only.")


def submissions_grants(catalog: Catalog, email: str, groups: tuple[str, ...]) -> Grants:
    """The demo person's grants under the demo catalog's rules."""
    return grants_for(Person(email, email, groups), catalog.settings.access)
