"""The one server: the widgets' app with the local portal's SODA routes added.

``btvstat-open serve`` itself is :mod:`btvstat_open.server.command`; what it does while it runs
(catalog reloads, scheduled syncs) is :mod:`btvstat_open.server.running`.

The widgets (:mod:`widgets.app`) and the local portal (:mod:`btvstat_open.portal`) are siblings
that do not import each other; this module, above both, puts them in one FastAPI app, so a city
serves its dashboard, embeds, downloads and SODA API from one address, on one set of heavy-work
pools. Its ``/openapi.json`` describes both route tables.

Example:
    >>> import tempfile
    >>> app = create_app(Store(tempfile.mkdtemp()))
    >>> paths = app.openapi()["paths"]
    >>> "/resource/{resource}" in paths, "/kpi/{kpi_id}.svg" in paths
    (True, True)
"""

from __future__ import annotations

import functools
from datetime import date

from fastapi import FastAPI, Request

from btvstat_open.people import Look, PeopleContext, install_people
from btvstat_open.portal.app import PageSite, install_portal
from btvstat_open.portal.openapi import PORTAL_ROUTES
from btvstat_open.server.insiders import insider_lookup
from btvstat_open.store import Store
from btvstat_open.web.openapi import install_openapi, merged
from btvstat_open.web.settings import Settings
from catalog.models import Catalog
from widgets.api_docs import WIDGET_ROUTES
from widgets.app import create_widgets_app

__all__ = ["create_app"]

DESCRIPTION = "City performance KPIs: dashboard, embeddable charts, downloads and a SODA API."


def create_app(
    store: Store,
    catalog: Catalog | None = None,
    settings: Settings | None = None,
    *,
    as_of: date | None = None,
) -> FastAPI:
    """One app serving the SODA portal, the dashboard, KPI pages, embeds, images and downloads.

    ``catalog`` may be None (the portal alone, with an empty dashboard); ``settings`` defaults to
    :meth:`Settings.from_env`; ``as_of`` (``serve --as-of``) fixes the day pages are computed as of,
    over the catalog's own ``as_of``. With a catalog, ``/data.json`` lists its KPI series too, and
    the dataset pages (``/d/{id}``) take the site's title, publisher and stylesheet.

    Example:
        >>> import tempfile
        >>> app = create_app(Store(tempfile.mkdtemp()), settings=Settings(write_token="t"))
        >>> sorted({app.url_path_for(name) for name in ("get_data_json", "discovery")})
        ['/api/catalog/v1', '/data.json']
    """
    settings = settings or Settings.from_env()
    part = create_widgets_app(store, catalog, settings, as_of=as_of)
    app = part.app
    app.description = DESCRIPTION
    site = part.site
    page_site = PageSite(
        title=site.title,
        publisher=site.publisher,
        stylesheet=part.stylesheet,
        theme_stylesheet=part.theme_stylesheet,  # the catalog's colours, fonts and logo
        logo_url=part.logo[0] if part.logo else None,
        logo_alt=part.logo[1] if part.logo else "",
    )
    # After the widgets' routes, as before the split; on their pools (one budget for the server).
    install_portal(app, store, settings, data_json=part.data_json, page_site=page_site, pools=part.pools)
    install_openapi(app, merged(PORTAL_ROUTES, WIDGET_ROUTES))
    if catalog is not None:  # people: sign-in, entered values, approvals, audit
        look = Look(
            part.theme_stylesheet, page_site.logo_url, page_site.logo_alt
        )  # the theme, as public pages
        people = install_people(app, store, catalog, settings, stylesheet=part.stylesheet, look=look)
        app.state.story_preview = functools.partial(_signed_in_staff, people)  # draft stories
        app.state.insider_lookup = insider_lookup(people)  # private KPI pages for signed-in people
    return app


def _signed_in_staff(people: PeopleContext, request: Request) -> bool:
    """Whether a request comes from a signed-in person holding a role (who may preview drafts)."""
    asker = people.who_is_asking(request)
    return asker is not None and asker.session is not None and asker.grants.any_role
