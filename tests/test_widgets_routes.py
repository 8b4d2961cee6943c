"""Every widget route against the app served by uvicorn: status, types, headers, ETag/304, CSP."""

from __future__ import annotations

import dataclasses
import gzip
import io
import re
import time
from pathlib import Path

import psutil
import pyarrow.parquet as pq
import pytest
import requests
from browser.widget_catalogs import HOSTILE_ID, PRIVATE_ID, write_test_catalog
from demo_store import demo_store
from servers import in_process
from widget_site import Site, get, in_process_site

from btvstat_open.server import create_app
from btvstat_open.web.settings import Settings
from catalog import load_catalog, measure
from widgets import warmup

site = in_process_site  # the widget app driven in process (no port)
KPI = "pothole-days-to-close"
PAGES = ["/", f"/kpi/{KPI}", f"/embed/{KPI}"]


def csp(response: requests.Response) -> dict[str, str]:
    policy = response.headers["content-security-policy"]
    return {
        part.split(" ", 1)[0]: part.split(" ", 1)[1]
        for part in (p.strip() for p in policy.split(";"))
        if part
    }


@pytest.mark.parametrize("path", PAGES)
def test_pages_have_security_headers_etag_and_304(site: Site, path: str) -> None:
    response = get(site, path)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    policy = csp(response)
    assert policy["script-src"] == "'self'" and policy["style-src"] == "'self'"
    assert policy["default-src"] == "'none'"
    if path.startswith("/embed/"):
        assert policy["frame-ancestors"] == "'self' https://www.example.gov"
        assert "x-frame-options" not in response.headers
    else:
        assert policy["frame-ancestors"] == "'none'"
        assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["cache-control"] == "public, max-age=60"
    etag = response.headers["etag"]
    assert re.fullmatch(r'"[0-9a-f]{24}"', etag)
    html = response.text
    assert '<html lang="en"' in html and "<main" in html and "<h1" in html
    assert "<script>" not in html  # no inline code: only src= scripts and JSON data blocks
    resources = re.findall(r'<(?:script|link|img)[^>]+(?:src|href)="([^"]+)"', html)
    assert resources and all(url.startswith(("/", "data:")) for url in resources)  # nothing from elsewhere
    again = get(site, path, **{"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    assert "content-security-policy" in again.headers
    assert get(site, path, **{"If-None-Match": '"other"'}).status_code == 200


def test_kpi_page_content(site: Site) -> None:
    html = get(site, f"/kpi/{KPI}").text
    kpi = site.catalog.kpis[KPI]
    assert f"<h1>{kpi.title}</h1>" in html
    assert 'class="big-number"' in html and "Methodology" in html and 'id="data"' in html
    for link in (".csv", ".json", ".svg", ".png", ".vl.json"):
        assert f'href="/kpi/{KPI}{link}"' in html
    assert f'href="/datasets/{kpi.source.dataset}.parquet"' in html
    assert f"&lt;iframe src=&#34;{site.base}/embed/{KPI}&#34;" in html  # the snippet, escaped in a textarea
    assert f"&lt;script src=&#34;{site.base}/embed.js&#34; async&gt;" in html
    assert html.count('class="data-table"') == 2  # visible table and the chart's visually hidden one
    assert 'class="visually-hidden"' in html


def test_dashboard_shows_every_public_kpi(site: Site) -> None:
    html = get(site, "/").text
    public = [k for k in site.catalog.kpis.values() if k.public]
    assert set(re.findall(r'data-kpi="([^"]+)"', html)) == {k.id for k in public}
    assert f'href="/kpi/{PRIVATE_ID}"' not in html
    assert 'id="kpi-filter"' in html and 'id="status-filter"' in html
    # Each card of a KPI with at least one value has its sparkline (a KPI may be carded under
    # more than one goal); a KPI with none has no line to draw.
    cards = re.findall(r'<li class="card" data-kpi-card data-kpi="([^"]+)".*?</li>', html, re.S)
    with_line = {
        m.group(1)
        for m in re.finditer(r'<li class="card" data-kpi-card data-kpi="([^"]+)"(.*?)</li>', html, re.S)
        if '<div class="sparkline" aria-hidden="true"><svg' in m.group(2)
    }
    assert set(cards) == {k.id for k in public}
    values = {k.id: site.service.series(k).column("value").to_pylist() for k in public}
    assert with_line == {kpi_id for kpi_id, vs in values.items() if any(v is not None for v in vs)}


def test_hostile_catalog_text_is_escaped(site: Site) -> None:
    for path in ("/", f"/kpi/{HOSTILE_ID}", f"/embed/{HOSTILE_ID}"):
        html = get(site, path).text
        assert "<script>window.__pwned" not in html
        assert "<img src=x" not in html and "<iframe src=javascript" not in html
        assert "<style>body" not in html and "<svg onload" not in html
        assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in html
        for block in re.findall(r'<script type="application/json"[^>]*>(.*?)</script>', html, re.S):
            assert "<" not in block and ">" not in block
    svg = get(site, f"/kpi/{HOSTILE_ID}.svg").text
    assert "<script" not in svg and "&lt;script&gt;" in svg


def test_images_and_spec(site: Site) -> None:
    svg = get(site, f"/kpi/{KPI}.svg")
    assert svg.status_code == 200 and svg.headers["content-type"] == "image/svg+xml"
    assert svg.text.startswith('<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="Line chart of')
    assert f"<title>{site.catalog.kpis[KPI].title}</title>" in svg.text
    assert "script-src" not in svg.headers["content-security-policy"]  # images run nothing
    assert svg.headers["access-control-allow-origin"] == "*"
    dark = get(site, f"/kpi/{KPI}.svg?theme=dark&width=400&height=200")
    assert 'fill="#0d1117"' in dark.text and 'fill="#0d1117"' not in svg.text
    assert get(site, f"/kpi/{KPI}.svg", **{"If-None-Match": svg.headers["etag"]}).status_code == 304
    png = get(site, f"/kpi/{KPI}.png")
    assert png.headers["content-type"] == "image/png" and png.content[:4] == b"\x89PNG"
    spec = get(site, f"/kpi/{KPI}.vl.json")
    assert spec.headers["content-type"] == "application/json"
    body = spec.json()
    assert body["$schema"].startswith("https://vega.github.io/schema/vega-lite/")
    assert body["width"] == "container" and body["description"]
    assert get(site, f"/kpi/{KPI}.vl.json?width=480").json()["width"] == 480


def test_series_downloads_match_the_measure(site: Site) -> None:
    kpi = site.catalog.kpis[KPI]
    series = measure(kpi, site.store, site.catalog.settings)
    csv = get(site, f"/kpi/{KPI}.csv")
    assert csv.headers["content-type"] == "text/csv; charset=utf-8"
    assert csv.headers["content-disposition"] == f'attachment; filename="{KPI}.csv"'
    lines = csv.text.strip().splitlines()
    assert lines[0] == (
        '"period_start","period_end","value","target","status",'
        '"first_published_value","first_published_at","revised_at"'  # from the ledger of published values
    )
    assert len(lines) == series.num_rows + 1
    rows = get(site, f"/kpi/{KPI}.json").json()
    assert [r["period_start"] for r in rows] == [
        d.isoformat() for d in series.column("period_start").to_pylist()
    ]
    assert [r["value"] for r in rows] == series.column("value").to_pylist()
    assert [r["status"] for r in rows] == series.column("status").to_pylist()


def test_dataset_downloads_stream_the_store(site: Site) -> None:
    dataset = "la-library-monthly"
    info = site.store.info(dataset)
    csv = get(site, f"/datasets/{dataset}.csv")
    assert csv.status_code == 200 and csv.headers["content-type"] == "text/csv; charset=utf-8"
    assert csv.headers["content-disposition"] == f'attachment; filename="{dataset}.csv"'
    assert len(csv.text.strip().splitlines()) == info.row_count + 1
    assert csv.text.splitlines()[0] == ",".join(f'"{c.field_name}"' for c in info.columns)
    parquet = get(site, f"/datasets/{dataset}.parquet")
    assert parquet.headers["content-type"] == "application/vnd.apache.parquet"
    table = pq.read_table(io.BytesIO(parquet.content))
    assert table.equals(site.store.arrow(dataset))
    etag = parquet.headers["etag"]
    assert get(site, f"/datasets/{dataset}.parquet", **{"If-None-Match": etag}).status_code == 304
    missing = get(site, "/datasets/no-such-dataset.csv")
    assert missing.status_code == 404 and missing.json()["error"] is True
    assert get(site, "/datasets/BAD%20ID.csv").status_code == 400


def test_api_and_catalog_documents(site: Site) -> None:
    api = get(site, "/api/kpis")
    assert api.headers["content-type"] == "application/json"
    ids = [k["id"] for k in api.json()["kpis"]]
    assert KPI in ids and HOSTILE_ID in ids and PRIVATE_ID not in ids
    entry = next(k for k in api.json()["kpis"] if k["id"] == KPI)
    assert entry["links"]["svg"] == f"{site.base}/kpi/{KPI}.svg"
    assert entry["status"] in {"on_track", "near_target", "off_track", "no_target", "no_data"}
    assert get(site, "/api/kpis", **{"If-None-Match": api.headers["etag"]}).status_code == 304
    package = get(site, "/datapackage.json")
    assert package.status_code == 200 and package.json()["resources"]
    data_json = get(site, "/data.json").json()
    titles = " ".join(d["title"] for d in data_json["dataset"])
    assert site.catalog.kpis[KPI].title in titles
    assert get(site, "/healthz").json()["status"] == "ok"
    openapi = get(site, "/openapi.json").json()
    assert {"/", "/kpi/{kpi_id}.svg", "/embed/{kpi_id}", "/api/kpis", "/datasets/{dataset_id}.csv"} <= set(
        openapi["paths"]
    )
    docs = get(site, "/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    assert "frame-ancestors 'none'" in docs.headers["content-security-policy"]


@pytest.mark.parametrize(
    ("path", "words"),
    [
        (f"/embed/{KPI}?theme=neon", "theme"),
        (f"/embed/{KPI}?height=abc", "height"),
        (f"/embed/{KPI}?height=5", "height"),
        (f"/embed/{KPI}?plain=maybe", "plain"),
        (f"/kpi/{KPI}.svg?theme=auto", "theme"),
        (f"/kpi/{KPI}.svg?width=99999", "width"),
        (f"/kpi/{KPI}.svg?width=%C2%B9", "width"),  # "¹": a digit to Python, not a number
        (f"/kpi/{KPI}.vl.json?spec=%7B%7D", "spec"),
        (f"/kpi/{KPI}?expr=1", "expr"),
        ("/?sort=%3Cscript%3E", "sort"),
        ("/?status=purple", "status"),
        ("/?kind=vibes", "kind"),
        ("/goals/test-livability?q=1", "q"),
    ],
)
def test_bad_query_options_are_400_with_a_clear_message(site: Site, path: str, words: str) -> None:
    response = get(site, path)
    assert response.status_code == 400
    body = response.json()
    assert body["error"] is True and words in body["message"]
    assert "content-security-policy" in response.headers


def test_missing_and_private_kpis_are_404(site: Site) -> None:
    page = get(site, f"/kpi/{PRIVATE_ID}")
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert (
        "KPI not found" in page.text and "frame-ancestors 'none'" in page.headers["content-security-policy"]
    )
    for path in (f"/kpi/{PRIVATE_ID}.svg", "/kpi/nope.json", f"/embed/{PRIVATE_ID}", "/kpi/nope.vl.json"):
        assert get(site, path).status_code == 404, path


def test_static_assets_are_versioned_and_long_cached(site: Site) -> None:
    html = get(site, f"/kpi/{KPI}").text
    bundle = re.search(r'src="(/static/vega-[0-9a-f]{12}\.js)"', html)
    assert bundle is not None
    plain = site.http.get(site.base + bundle.group(1), headers={"Accept-Encoding": "identity"}, timeout=60)
    assert plain.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert plain.headers["content-type"] == "text/javascript; charset=utf-8"
    assert "vegaEmbed" in plain.text
    raw = site.http.get(
        site.base + bundle.group(1), headers={"Accept-Encoding": "gzip"}, stream=True, timeout=60
    )
    assert raw.headers["content-encoding"] == "gzip"
    assert gzip.decompress(raw.raw.read()) == plain.content
    css = re.search(r'href="(/static/site\.css\?v=[0-9a-f]{12})"', html)
    assert css is not None and get(site, css.group(1)).headers["cache-control"].endswith("immutable")
    embed_js = get(site, "/embed.js")
    assert embed_js.headers["content-type"] == "text/javascript; charset=utf-8"
    assert "postMessage" in embed_js.text and embed_js.headers["cache-control"] == "public, max-age=3600"
    assert get(site, "/static/nope.js").status_code == 404


def test_head_requests_answer_headers_only(site: Site) -> None:
    get(site, f"/embed/{KPI}")  # cached now
    head = site.http.head(site.base + f"/embed/{KPI}", timeout=60)
    assert head.status_code == 200 and head.content == b""
    assert int(head.headers["content-length"]) > 1000


def test_cache_is_keyed_by_host(site: Site) -> None:
    evil = get(site, f"/kpi/{KPI}", Host="evil.example")
    assert "http://evil.example/embed.js" in evil.text
    assert "evil.example" not in get(site, f"/kpi/{KPI}").text


def test_data_change_shows_without_restart(tmp_path: Path) -> None:
    store = demo_store(tmp_path / "store")
    catalog = load_catalog(write_test_catalog(tmp_path / "catalog"), store)
    # Computed as of today: a frozen past day reads the data as known then, which this change is not.
    catalog = dataclasses.replace(catalog, settings=catalog.settings.model_copy(update={"as_of": None}))
    kpi = catalog.kpis["library-visitors-annual"]
    with in_process(create_app(store, catalog)) as (base, http):
        first = http.get(f"{base}/kpi/{kpi.id}.json", timeout=60)
        svg = http.get(f"{base}/kpi/{kpi.id}.svg", timeout=60)
        table = store.arrow(kpi.source.dataset)
        store.replace(kpi.source.dataset, table.slice(0, table.num_rows // 2))
        # The store's versions are a snapshot re-read at most every 0.25 s: poll until the change
        # shows, within a deadline (each request with its own timeout).
        deadline = time.monotonic() + 30
        while True:
            second = http.get(
                f"{base}/kpi/{kpi.id}.json", headers={"If-None-Match": first.headers["etag"]}, timeout=30
            )
            if second.status_code == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert second.status_code == 200 and second.json() != first.json()
        new_svg = http.get(
            f"{base}/kpi/{kpi.id}.svg", headers={"If-None-Match": svg.headers["etag"]}, timeout=60
        )
        assert new_svg.status_code == 200 and new_svg.text != svg.text
    store.close()


def _pdf_processes() -> list[psutil.Process]:
    """This process's children that are spawned PDF layout processes (widgets.packets.layout)."""
    return [c for c in psutil.Process().children() if "spawn_main" in " ".join(c.cmdline())]


def test_start_up_warms_the_renderer_without_rendering_any_kpi(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = demo_store(tmp_path / "store")
    catalog = load_catalog(write_test_catalog(tmp_path / "catalog"), store)
    assert catalog.meetings  # so the start-up starts a PDF process too
    monkeypatch.setattr(warmup, "_thread", None)  # as in a new process: not warmed up yet
    before = len(_pdf_processes())
    cold = create_app(store, catalog, Settings.from_env(warm_up=False))  # as the other tests' apps
    with in_process(cold):
        assert warmup._thread is None and len(_pdf_processes()) == before
    app = create_app(store, catalog, Settings.from_env(warm_up=True))
    with in_process(app) as (base, http):
        # The chart renderer's warm-up ran to its end before the first request was taken...
        assert warmup._thread is not None and not warmup._thread.is_alive()
        # ...and the PDF processes were started for the first packet (they end with the server):
        # it is laid out in two parts at once (widgets.packets.parts).
        assert len(_pdf_processes()) == before + Settings.from_env().packet_workers
        service = app.state.widgets
        assert service.cached_values == 0  # start-up drew made-up charts only
        svg = http.get(f"{base}/kpi/{KPI}.svg?theme=dark", timeout=60)
        # its series and its image (and the series' ledger view): values of this KPI only
        assert svg.status_code == 200 and 2 <= service.cached_values <= 3
        after_svg = service.cached_values
        png = http.get(f"{base}/kpi/{KPI}.png?theme=dark", timeout=60)
        assert png.content[:4] == b"\x89PNG" and service.cached_values == after_svg + 1  # from the same SVG
    store.close()
