"""The widget server's promises checked route by route (the app driven in process): security headers
on every response, ETag/304 on every cached route, valid catalog documents whose links resolve, the
embed options, what the KPI page and the dashboard show, and the demo program's dashboard."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
import requests
from demo_store import demo_store
from servers import in_process
from test_exports import dcat_validator
from widget_site import Site, get, in_process_site

from btvstat_open.server import create_app
from catalog import load_catalog
from catalog.demo import DEMO_DIR

site = in_process_site  # the widget app driven in process (no port)
KPI = "pothole-days-to-close"
NUMBER_KPI = "library-emedia-circulation"
DATASET = "la-library-monthly"
# Every widget route, with the content type it answers with.
# The pages "/", "/kpi/ID" and "/embed/ID" are checked (more strictly) in test_widgets_routes.
CACHED_ROUTES = {
    f"/embed/{KPI}?theme=dark&height=240&plain=1": "text/html; charset=utf-8",
    f"/kpi/{KPI}.svg": "image/svg+xml",
    f"/kpi/{KPI}.png?theme=dark&width=400": "image/png",
    f"/kpi/{KPI}.vl.json": "application/json",
    f"/kpi/{KPI}.csv": "text/csv; charset=utf-8",
    f"/kpi/{KPI}.json": "application/json",
    "/embed.js": "text/javascript; charset=utf-8",
    "/api/kpis": "application/json",
    "/datapackage.json": "application/json",
    f"/datasets/{DATASET}.csv": "text/csv; charset=utf-8",
    f"/datasets/{DATASET}.parquet": "application/vnd.apache.parquet",
}
OTHER_ROUTES = ["/healthz", "/openapi.json", "/docs", "/data.json", f"/resource/{DATASET}.json?$limit=2"]
ERROR_ROUTES = ["/kpi/nope", "/kpi/nope.svg", "/embed/nope", f"/embed/{KPI}?theme=neon", "/no/such/page"]


def assert_security_headers(response: requests.Response) -> None:
    headers = response.headers
    assert headers["x-content-type-options"] == "nosniff", response.url
    assert headers["referrer-policy"] == "strict-origin-when-cross-origin", response.url
    policy = headers["content-security-policy"]
    assert "default-src 'none'" in policy and "frame-ancestors" in policy, response.url


@pytest.mark.parametrize("path", list(CACHED_ROUTES))
def test_cached_routes_have_type_security_headers_etag_and_304(site: Site, path: str) -> None:
    first = get(site, path)
    assert first.status_code == 200, first.text[:200]
    assert first.headers["content-type"] == CACHED_ROUTES[path]
    assert_security_headers(first)
    assert first.headers["cache-control"].startswith("public, max-age=")
    etag = first.headers["etag"]
    repeat = get(site, path, **{"If-None-Match": etag})
    assert repeat.status_code == 304 and repeat.content == b"" and repeat.headers["etag"] == etag
    assert get(site, path, **{"If-None-Match": '"other"'}).status_code == 200
    assert_security_headers(repeat)
    assert get(site, path).content == first.content  # served again, unchanged


@pytest.mark.parametrize("path", OTHER_ROUTES + ERROR_ROUTES)
def test_every_other_response_has_security_headers(site: Site, path: str) -> None:
    response = get(site, path)
    assert response.status_code in (200, 400, 404)
    assert (response.status_code == 200) == (path in OTHER_ROUTES)
    assert_security_headers(response)
    # Only a working embed may be framed (by embed.allowed_origins); errors and other pages never.
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


def test_data_json_is_valid_dcat_us(site: Site) -> None:
    document = get(site, "/data.json").json()
    errors = [e.message for e in dcat_validator().iter_errors(document)]
    assert errors == []
    titles = {entry["title"] for entry in document["dataset"]}
    assert all(kpi.title in " ".join(titles) for kpi in site.catalog.kpis.values() if kpi.public)


def test_datapackage_resources_resolve_to_their_table_schemas(site: Site) -> None:
    package = get(site, "/datapackage.json").json()
    assert package["name"] and package["resources"]
    names = [resource["name"] for resource in package["resources"]]
    assert len(names) == len(set(names))
    assert all(re.fullmatch(r"[a-z0-9._-]+", name) for name in names)  # Frictionless name rules
    for resource in package["resources"]:
        assert resource["path"].startswith(site.base + "/"), resource["path"]
        download = site.http.get(resource["path"], timeout=60)
        assert download.status_code == 200 and download.headers["content-type"].startswith("text/csv")
        header = next(csv.reader(io.StringIO(download.text)))
        assert header == [field["name"] for field in resource["schema"]["fields"]], resource["name"]


def _script_json(html: str, element_id: str) -> object:
    block = re.search(rf'<script type="application/json" id="{element_id}">(.*?)</script>', html, re.S)
    assert block is not None, element_id
    return json.loads(block.group(1))


def test_embed_options_height_theme_plain_and_data_link(site: Site) -> None:
    plain = get(site, f"/embed/{KPI}?theme=dark&height=240&plain=1").text
    spec = _script_json(plain, "chart-dark")
    assert isinstance(spec, dict) and spec["height"] == 240
    assert 'id="chart-light"' not in plain  # only the theme asked for
    assert 'class="visually-hidden">' in plain and 'class="embed-title"' not in plain
    assert f'href="/kpi/{KPI}#data"' in plain and ">data</a>" in plain
    full = get(site, f"/embed/{KPI}").text
    assert 'class="embed-title"' in full and 'id="chart-light"' in full and 'id="chart-dark"' in full
    options = _script_json(full, "embed-options")
    # Vega-Embed's action menu (editor, source, export) is off; the SVG renderer draws the chart.
    assert isinstance(options, dict) and options["actions"] is False and options["renderer"] == "svg"


def test_kpi_page_shows_big_number_change_target_and_analysis(site: Site) -> None:
    for kpi_id in (KPI, NUMBER_KPI):
        kpi = site.catalog.kpis[kpi_id]
        summary = site.service.summary(kpi)
        html = get(site, f"/kpi/{kpi_id}").text
        assert summary.latest is not None
        assert f'<p class="big-number">{summary.latest.value_label}</p>' in html
        assert summary.change_label in html and summary.status_label in html
        assert f"<dt>Target</dt><dd>{summary.latest.target_label}</dd>" in html
        if kpi.analysis:
            assert 'id="analysis-heading"' in html
    assert any(k.analysis for k in site.catalog.kpis.values())


def test_dashboard_cards_show_status_in_words(site: Site) -> None:
    html = get(site, "/").text
    public = [k for k in site.catalog.kpis.values() if k.public]
    for kpi in public:  # every card shows its status in words, not only by colour
        if "<" not in kpi.title:
            card = html[html.index(f'href="/kpi/{kpi.id}"') :]
            card = card[: card.index("</li>")]
            assert site.service.summary(kpi).status_label in card


def test_the_demo_program_serves_its_dashboard(tmp_path: Path) -> None:
    """The demo catalog over the demo data (what ``serve --demo`` serves; the command itself is
    started by test_first_hour and test_demo_writes): a card for every KPI, charts drawn."""
    store = demo_store(tmp_path / "s")
    with in_process(create_app(store, load_catalog(DEMO_DIR, store))) as (base, http):
        health = http.get(f"{base}/healthz", timeout=30)
        assert health.json()["status"] == "ok" and health.json()["kpis"] >= 10
        page = http.get(f"{base}/", timeout=30)
        # A KPI serving two goals has a card under each; every KPI has at least one.
        cards = set(re.findall(r'data-kpi="([^"]+)"', page.text))
        assert page.status_code == 200 and len(cards) == health.json()["kpis"]
        assert http.get(f"{base}/kpi/{KPI}.svg", timeout=30).text.startswith("<svg")
    store.close()
