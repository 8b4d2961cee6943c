"""People: sign-in, roles, sessions, entered values, approvals and the audit.

Beside the web plumbing and above the catalog: the core never knows who is signed in. The
server installs the routes with :func:`install_people` when its catalog has access rules or
manual KPIs.

Example:
    >>> import tempfile
    >>> import ipaddress

from fastapi import FastAPI
    >>> from btvstat_open.web.settings import Settings
    >>> from btvstat_open.store import Store
    >>> from catalog.models import Catalog, CatalogSettings
    >>> from pathlib import Path
    >>> app = FastAPI()
    >>> empty = Catalog(Path("."), CatalogSettings(), {})
    >>> _ = install_people(app, Store(tempfile.mkdtemp()), empty, Settings())
    >>> app.url_path_for("updates")
    '/updates'
"""

from __future__ import annotations

import ipaddress

from fastapi import FastAPI

from btvstat_open.people.audit import record_roles
from btvstat_open.people.context import PeopleContext
from btvstat_open.people.pages import Look
from btvstat_open.store import Store
from btvstat_open.web.settings import Settings
from catalog.models import Catalog

__all__ = ["Look", "PeopleContext", "install_people", "plain_http_warning"]


def install_people(
    app: FastAPI,
    store: Store,
    catalog: Catalog,
    settings: Settings,
    *,
    stylesheet: str | None = None,
    look: Look | None = None,
) -> PeopleContext:
    """Serve sign-in, ``/updates``, ``/approvals`` and ``/audit`` from ``app`` (``look``: the
    catalog's theme stylesheet and logo, as the public pages have them)."""
    from btvstat_open.people.api import router as api_router
    from btvstat_open.people.routes import router
    from btvstat_open.people.routes_sheet import router as sheet_router
    from btvstat_open.people.routes_updates import router as program_router

    ctx = PeopleContext.create(store, catalog, settings)
    rules = [rule.model_dump(exclude_none=True) for rule in catalog.settings.access]
    record_roles(store, rules)  # a changed access: list is a role change: audited
    app.state.people = ctx
    if ctx.after_change is not None:  # the notifications after the last change finish first
        app.state.on_shutdown = [*getattr(app.state, "on_shutdown", ()), ctx.after_change.wait]
    app.state.people_stylesheet = stylesheet
    app.state.people_look = look or Look()
    app.include_router(router)
    app.include_router(api_router)
    app.include_router(sheet_router)
    app.include_router(program_router)
    return ctx


def plain_http_warning(host: str) -> str | None:
    """The warning ``serve`` prints when it serves sign-in over plain HTTP beyond this machine.

    Example:
        >>> plain_http_warning("127.0.0.1") is None, plain_http_warning("localhost") is None
        (True, True)
        >>> plain_http_warning("0.0.0.0")[:40]
        'warning: sign-in is served over plain HT'
    """
    name = host.strip("[]")
    if name == "localhost":
        return None
    try:
        if ipaddress.ip_address(name).is_loopback:
            return None
    except ValueError:
        pass
    return (
        f"warning: sign-in is served over plain HTTP on {host}: passwords and session cookies would cross "
        "the network in clear, and browsers drop the Secure session cookie. Put a TLS proxy (HTTPS) in "
        "front of this address, or serve on 127.0.0.1."
    )
