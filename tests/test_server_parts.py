"""The one server is the widgets' app with the portal's routes added; the widgets' part stands alone.

``btvstat_open.server.create_app`` composes two siblings that never import each other (the layers
contract checks that). These tests serve the widgets' app alone and the composed server under
uvicorn on the demo data and the test catalog, and check what each answers and documents.
"""

from __future__ import annotations

from servers import in_process
from widget_site import Site, get, in_process_site

from btvstat_open.portal.openapi import PORTAL_ROUTES
from btvstat_open.web.openapi import merged, undescribed
from btvstat_open.web.settings import Settings
from widgets import create_widgets_app
from widgets.api_docs import WIDGET_ROUTES

site = in_process_site  # the widget app driven in process (no port)
KPI = "pothole-days-to-close"
DATASET = "la-library-monthly"


def test_the_widgets_app_alone_serves_and_documents_only_its_routes(site: Site) -> None:
    part = create_widgets_app(site.store, site.catalog, Settings(warm_up=False))
    with in_process(part.app) as (url, http):
        series = http.get(f"{url}/kpi/{KPI}.csv", timeout=60)
        download = http.get(f"{url}/datasets/{DATASET}.csv", timeout=60)
        soda = http.get(f"{url}/resource/{DATASET}.json", timeout=30)
        page = http.get(f"{url}/kpi/no-such-kpi", timeout=30)
        document = http.get(f"{url}/openapi.json", timeout=30).json()
    assert series.status_code == 200 and series.headers["content-type"].startswith("text/csv")
    assert download.status_code == 200 and download.text.count("\n") > 10
    # The portal's routes are not part of it; the shared handlers answer in the one error shape.
    assert soda.status_code == 404 and soda.json()["code"] == "not.found"
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert undescribed(document, WIDGET_ROUTES) == []
    portal_only = {path for _, path in PORTAL_ROUTES} - {path for _, path in WIDGET_ROUTES}
    assert "/resource/{resource}" in portal_only and not portal_only & set(document["paths"])
    assert "SODA" not in document["info"]["description"]


def test_the_server_adds_the_portal_in_the_sites_look(site: Site) -> None:
    """``site`` is served by ``btvstat_open.server.create_app`` (tests/widget_site.py)."""
    url, catalog = site.base, site.catalog
    rows = get(site, f"/resource/{DATASET}.json?$limit=2")
    dataset_page = get(site, f"/d/{DATASET}")
    stylesheet = get(site, f"/kpi/{KPI}").text.split('rel="stylesheet" href="')[1]
    data_json = get(site, "/data.json").json()
    document = get(site, "/openapi.json").json()
    assert rows.status_code == 200 and len(rows.json()) == 2
    # The dataset pages wear the widgets' stylesheet and the catalog's title.
    assert stylesheet.split('"')[0] in dataset_page.text
    assert catalog.settings.title in dataset_page.text
    # /data.json is the catalog's (the KPI series too), linked from the address asked.
    titles = " ".join(entry["title"] for entry in data_json["dataset"])
    assert catalog.kpis[KPI].title in titles
    landing = [entry["landingPage"] for entry in data_json["dataset"] if "landingPage" in entry]
    assert landing and all(page.startswith(f"{url}/") for page in landing), landing
    assert undescribed(document, merged(PORTAL_ROUTES, WIDGET_ROUTES)) == []
    assert {"/resource/{resource}", "/kpi/{kpi_id}.svg"} <= set(document["paths"])
    assert "SODA API" in document["info"]["description"]
