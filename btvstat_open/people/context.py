"""What the people routes share: the store's accounts, sessions, tokens and submissions, the
catalog's rules, the sign-in throttle, and who is asking.

:func:`who_is_asking` finds the person of a request on every request (session cookie, or a
personal API token in ``Authorization: Bearer``) and their grants under the catalog's rules as
they are now; nothing about roles is kept in the session.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import date, timedelta

from starlette.requests import Request

from btvstat_open.people.access import Grants, Person, grants_for
from btvstat_open.people.accounts import Accounts
from btvstat_open.people.audit import record
from btvstat_open.people.notices import AfterChange
from btvstat_open.people.oidc import OidcClient
from btvstat_open.people.sessions import Session, Sessions
from btvstat_open.people.submissions import Submissions, ValueEntry
from btvstat_open.people.throttle import Throttle
from btvstat_open.people.tokens import ApiToken, Tokens
from btvstat_open.store import Store
from btvstat_open.web.settings import Settings
from catalog.models import Catalog
from catalog.models.people import ROLES

__all__ = ["COOKIE", "Asker", "PeopleContext", "client_address"]

_PREVIEW_LOCK = threading.Lock()

#: The session cookie: ``__Host-`` makes browsers insist on Secure, path / and no Domain.
COOKIE = "__Host-btvstat-session"


@dataclass(frozen=True)
class Asker:
    """Who made a request: their grants, and the session or token it came with."""

    grants: Grants
    session: Session | None = None
    token: ApiToken | None = None


@dataclass
class PeopleContext:
    """The people routes' shared state (``app.state.people``)."""

    store: Store
    catalog: Catalog
    settings: Settings
    accounts: Accounts
    sessions: Sessions
    tokens: Tokens
    submissions: Submissions
    throttle: Throttle
    oidc: OidcClient | None = None
    previews: dict[str, tuple[str, list[ValueEntry], float]] = field(default_factory=dict)
    #: the notifications after each submission, decision and lock (``submissions.on_change``)
    after_change: AfterChange | None = None

    @classmethod
    def create(cls, store: Store, catalog: Catalog, settings: Settings) -> PeopleContext:
        """The context for one server."""
        sessions = Sessions(
            store,
            idle=timedelta(minutes=settings.session_idle_minutes),
            absolute=timedelta(hours=settings.session_hours),
        )
        submissions = Submissions(store, catalog)
        after_change = AfterChange(catalog, store)
        submissions.on_change = after_change
        return cls(
            store,
            catalog,
            settings,
            Accounts(store),
            sessions,
            Tokens(store),
            submissions,
            Throttle(limit=settings.signin_attempts),
            OidcClient(settings) if settings.oidc_issuer else None,
            after_change=after_change,
        )

    def keep_preview(self, email: str, entries: list[ValueEntry]) -> str:
        """Keep a checked workbook until its person submits it (30 minutes at most); its key."""
        now = time.monotonic()
        with _PREVIEW_LOCK:
            for key in [
                k for k, v in self.previews.items() if now - v[2] > 1800 or len(self.previews) > 1000
            ]:
                self.previews.pop(key, None)
            key = secrets.token_urlsafe(16)
            self.previews[key] = (email, entries, now)
        return key

    def take_preview(self, email: str, key: str) -> list[ValueEntry] | None:
        """The entries kept under ``key`` for ``email`` (once), or None."""
        with _PREVIEW_LOCK:
            kept = self.previews.get(key)
            if kept is None or kept[0] != email or time.monotonic() - kept[2] > 1800:
                return None
            del self.previews[key]
        return kept[1]

    @property
    def today(self) -> date:
        """The day pages are computed as of (the catalog's ``as_of`` when frozen)."""
        return self.catalog.settings.as_of or date.today()

    def grants(self, person: Person) -> Grants:
        """The person's roles under the catalog's rules, now."""
        return grants_for(person, self.catalog.settings.access)

    def who_is_asking(self, request: Request) -> Asker | None:
        """The signed-in person (session cookie) or token holder of a request, else None."""
        header = request.headers.get("authorization", "")
        if header[:7].lower() == "bearer ":
            return self._token_asker(request, header[7:].strip())
        session = self.sessions.get(request.cookies.get(COOKIE))
        if session is None:
            return None
        return Asker(self.grants(session.person), session=session)

    def _token_asker(self, request: Request, secret: str) -> Asker | None:
        token = self.tokens.find(secret)
        if token is None:
            return None
        person = Person(token.email, token.email, token.groups)
        full = self.grants(person)
        # A token acts only as an updater, and only for the departments it names that its
        # person may still update.
        kept = tuple(
            (role, frozenset(token.departments) if depts is None else depts & frozenset(token.departments))
            for role, depts in full.roles
            if ROLES.index(role) >= ROLES.index("updater")
        )
        scoped = Grants(person, tuple(("updater", d) for _, d in kept if d))
        record(self.store, token.email, "token_used", subject=token.id, detail=request.url.path,
               address=client_address(request))  # fmt: skip
        return Asker(scoped, token=token)


def client_address(request: Request) -> str:
    """The client's address (the proxy's when behind one: run uvicorn with --proxy-headers there)."""
    return request.client.host if request.client else ""
