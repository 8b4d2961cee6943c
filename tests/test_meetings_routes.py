"""The meeting routes served by uvicorn: the list, a packet as a page and as PDF, 404s, caching, escaping."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pytest
import requests
import yaml
from browser.widget_catalogs import HOSTILE_ID, write_test_catalog
from demo_store import demo_store
from servers import in_process

from btvstat_open.server import create_app
from btvstat_open.store import Store
from catalog import load_catalog
from catalog.models import Catalog
from catalog.packet import build_packet
from widgets.packets import packet_html, packet_pdf, style_hash
from widgets.packets.render import packet_css
from widgets.packets.service import PacketService
from widgets.theme_files import brand_of
from widgets.themes import branded, use_palettes

MEETING = "2020-03-04-public-works"
HOSTILE_MEETING = "2020-03-11-hostile"
HOSTILE_TITLE = "<script>window.__pwned=7</script>Review & <b>co</b>"
HOSTILE_QUESTION = "</style><script>window.__pwned=8</script>why?"


@dataclass
class Site:
    base: str
    store: Store
    catalog: Catalog
    packets: PacketService
    http: requests.Session


def write_meetings_catalog(folder: Path) -> Path:
    """The browser tests' catalog (demo + hostile KPI) and a meeting whose texts hold markup."""
    root = write_test_catalog(folder)
    hostile = yaml.safe_load(
        next(p for p in root.rglob("*.yaml") if f"id: {HOSTILE_ID}" in p.read_text()).read_text()
    )
    meeting = {
        "id": HOSTILE_MEETING,
        "date": "2020-03-11",
        "title": HOSTILE_TITLE,
        "departments": [hostile["department"]],
        "questions": {HOSTILE_ID: [HOSTILE_QUESTION]},
        "summary": "<img src=x onerror=alert(1)> summary",
    }
    (root / "meetings" / "hostile.yaml").write_text(yaml.safe_dump(meeting))
    return root


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("meetings")
    store = demo_store(root / "store")
    catalog = load_catalog(write_meetings_catalog(root / "catalog"), store)
    app = create_app(store, catalog)
    with in_process(app) as (base, http):
        yield Site(base, store, catalog, app.state.packets, http)
    store.close()


def get(site: Site, path: str, **headers: str) -> requests.Response:
    return site.http.get(site.base + path, headers=headers, timeout=120)


def test_the_meeting_list_shows_upcoming_and_past_with_highlights(site: Site) -> None:
    response = get(site, "/meetings")
    assert response.status_code == 200 and response.headers["content-type"] == "text/html; charset=utf-8"
    page = response.text
    upcoming, past = page.split('id="past-heading"')
    # the test catalog is as of 2020-03-01: March meetings are upcoming, the rest past (latest first)
    assert upcoming.index(f'href="/meetings/{MEETING}"') < upcoming.index(
        f'href="/meetings/{HOSTILE_MEETING}"'
    )
    assert past.index('href="/meetings/2020-02-05-public-works"') < past.index(
        'href="/meetings/2013-08-14-public-safety"'
    )
    summary = site.catalog.meetings["2020-02-05-public-works"].summary
    assert summary is not None and html.escape(summary).replace("&#x27;", "&#39;") in page
    counts = site.packets.packet(MEETING).counts()
    assert f"Off track: {counts['off_track']}</span>" in page
    assert f"Overdue actions: {counts['overdue']}</li>" in page and counts["overdue"] >= 1


def test_a_packet_page_is_the_packet_with_site_links_and_a_strict_policy(site: Site) -> None:
    response = get(site, f"/meetings/{MEETING}")
    assert response.status_code == 200
    brand = brand_of(site.catalog)  # the demo's theme: its logo and colours
    with use_palettes(branded(site.catalog.settings.theme)):  # and its charts' colour, as served
        packet = build_packet(site.catalog, site.store, MEETING)
        assert response.text == packet_html(packet, site.catalog.settings, links=True, brand=brand)
    policy = response.headers["content-security-policy"]
    # the packet's stylesheet with the theme, and the plain one (packets kept before the theme)
    assert (
        f"style-src {style_hash()} {style_hash(packet_css(brand))};" in policy and "script-src" not in policy
    )
    assert "frame-ancestors 'none'" in policy and response.headers["x-frame-options"] == "DENY"
    again = get(site, f"/meetings/{MEETING}", **{"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304


def test_a_packet_pdf_is_the_packet_laid_out_and_cached(site: Site) -> None:
    response = get(site, f"/meetings/{MEETING}.pdf")
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == f'inline; filename="{MEETING}.pdf"'
    with use_palettes(branded(site.catalog.settings.theme)):  # the charts in the theme's colour
        packet = build_packet(site.catalog, site.store, MEETING)
        html = packet_html(packet, site.catalog.settings, brand=brand_of(site.catalog))
    assert response.content == packet_pdf(html)
    cached = site.packets.cached_values
    second = get(site, f"/meetings/{MEETING}.pdf")
    assert second.content == response.content and second.headers["etag"] == response.headers["etag"]
    assert site.packets.cached_values == cached  # answered from the response cache
    assert (
        get(site, f"/meetings/{MEETING}.pdf", **{"If-None-Match": second.headers["etag"]}).status_code == 304
    )


@pytest.mark.parametrize("path", ["/meetings/2020-04-01-nothing", "/meetings/2020-04-01-nothing.pdf"])
def test_an_unknown_meeting_is_a_404_page(site: Site, path: str) -> None:
    response = get(site, path)
    assert response.status_code == 404 and response.headers["content-type"].startswith("text/html")
    assert "<h1>Meeting not found</h1>" in response.text and "2020-04-01-nothing" in response.text
    # the server's folders are nobody's business on the open internet
    folder = str(site.catalog.root)
    assert folder not in response.text and html.escape(folder) not in response.text


def test_query_options_are_refused(site: Site) -> None:
    response = get(site, f"/meetings/{MEETING}?theme=dark")
    assert response.status_code == 400 and "takes only revision=N" in response.json()["message"]
    assert "takes none" in get(site, "/meetings?theme=dark").json()["message"]
    unknown = get(site, f"/meetings/{MEETING}.pdf?revision=9")
    assert unknown.status_code == 400 and "no kept packet revision 9" in unknown.json()["message"]
    for number in ("\u00b9", "\u0663"):  # a superscript one and an Arabic-Indic three are digits, not numbers
        paths = (f"/meetings/{MEETING}.pdf?revision={number}", f"/meetings/{MEETING}/revisions/{number}.pdf")
        for path in paths:
            refused = get(site, path)
            assert refused.status_code == 400 and "not a revision number" in refused.json()["message"], path


def test_meeting_texts_are_escaped_everywhere(site: Site) -> None:
    for path in ("/meetings", f"/meetings/{HOSTILE_MEETING}"):
        page = get(site, path).text
        assert "window.__pwned" in page  # the text is there...
        assert not re.search(r"<script>window\.__pwned", page)  # ...and never as markup
        assert "<img src=x" not in page and "&lt;script&gt;window.__pwned=7" in page
    packet_page = get(site, f"/meetings/{HOSTILE_MEETING}").text
    assert "&lt;/style&gt;&lt;script&gt;window.__pwned=8&lt;/script&gt;why?" in packet_page
    pdf = get(site, f"/meetings/{HOSTILE_MEETING}.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")


def test_a_data_change_leaves_a_past_packet_as_kept(tmp_path: Path) -> None:
    """A packet produced after its meeting's day is kept: a data change later serves the same bytes."""
    from widgets.packets.kept import KeptPackets

    store = demo_store(tmp_path / "store")
    catalog = load_catalog(write_test_catalog(tmp_path / "catalog"), store)
    app = create_app(store, catalog)
    past = "2020-02-05-public-works"
    with in_process(app) as (base, http):
        first = http.get(f"{base}/meetings/{past}.pdf", timeout=120)
        assert first.content.startswith(b"%PDF-")
        table = store.arrow("kc-311-potholes")
        late = table.slice(0, 5).to_pylist()
        for n, row in enumerate(late):  # new requests, created before the meeting and reported late
            row["case_id"] = 9_000_000 + n
            row["creation_date"] = row["creation_date"].replace(year=2020, month=1, day=20)
        store.upsert("kc-311-potholes", pa.Table.from_pylist(late, schema=table.schema))
        second = http.get(f"{base}/meetings/{past}.pdf", timeout=120)
        assert second.content == first.content
        kept = KeptPackets(store.root).revisions(past)
        assert [r.number for r in kept] == [1] and kept[0].pdf() == first.content
        again = http.get(f"{base}/meetings/{past}.pdf?revision=1", timeout=120)
        assert again.content == first.content
    store.close()
