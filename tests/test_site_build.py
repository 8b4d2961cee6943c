"""``build-site``: the demo's public site as files, the server's own answers at the server's paths;
two builds byte-identical; a rebuild renders and writes nothing; one KPI's new data rewrites only
the files that show it (and gives what a cold build gives)."""

from __future__ import annotations

import html as html_module
import json
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from demo_store import demo_store
from site_build_fixtures import (
    AS_OF,
    BASE,
    CHANGED_DATASET,
    CHANGED_KPI,
    build,
    change_one_kpi,
    goal_and_ancestors,
    hashes,
    two_languages,
)

from btvstat_open.server import create_app
from btvstat_open.store import Store
from btvstat_open.web.inprocess import inprocess_session
from catalog import load_catalog
from widgets.packets.kept import produce
from widgets.sitebuild import BuildReport
from widgets.sitebuild.headers import security_of
from widgets.sitebuild.paths import page_links, site_path


@dataclass
class Built:
    root: Path
    store: Store
    catalog: Path  # the demo catalog in English and Spanish
    site: Path
    report: BuildReport


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    root = tmp_path_factory.mktemp("site")
    store = demo_store(root / "store")
    catalog = two_languages(root / "catalog")
    report = build(store, root / "site", catalog)
    yield Built(root, store, catalog, root / "site", report)
    store.close()


def test_every_public_address_is_a_file_at_the_same_path(built: Built) -> None:
    files = set(hashes(built.site))
    kpi = "pothole-days-to-close"
    expected = {
        "index.html",
        f"kpi/{kpi}/index.html",
        f"embed/{kpi}/index.html",
        *(f"kpi/{kpi}.{ext}" for ext in ("svg", "png", "csv", "json", "vl.json", "atom")),
        *(f"kpi/{kpi}/breakdown.{ext}" for ext in ("svg", "png", "csv", "json")),
        "kpi/trees-planted-yearly/peers.svg",
        "embed.js",
        "static/site.css",
        "static/site.js",
        "goals/fix-potholes-fast/index.html",
        "goals/fix-potholes-fast.atom",
        "departments/index.html",
        "departments/public-works/index.html",
        "departments/public-works.atom",
        "meetings/index.html",
        "meetings/2020-03-04-public-works/index.html",
        "meetings/2020-03-04-public-works.pdf",
        "meetings.ics",
        "actions.ics",
        "program.atom",
        "stories/index.html",
        "stories/2020-02-potholes/index.html",
        "checks/index.html",
        "program.json",
        "data.json",
        "datapackage.json",
        "api/kpis",
        "api/goals",
        "datasets/kc-311-potholes.csv",
        "datasets/kc-311-potholes.parquet",
        "api/views/kc-311-potholes.json",
        "sitemap.xml",
        "robots.txt",
        "404.html",
        ".build-manifest.json",
        ".build-series.zip",
        "_headers",
        # every page in the other language too, and the language selector's stand-in
        "es/index.html",
        f"es/kpi/{kpi}/index.html",
        "es/goals/fix-potholes-fast/index.html",
        "es/meetings/2020-03-04-public-works/index.html",
        "locale/es/index.html",
        "locale/choose.js",
    }
    assert expected <= files, sorted(expected - files)
    assert built.report.broken == []
    assert not any(name.startswith(("fr/", "ar/")) for name in files)  # only the catalog's languages
    # all but the manifest and the series kept for the next build
    assert built.report.written == built.report.files == len(files) - 2
    sitemap = (built.site / "sitemap.xml").read_text()
    assert f"<loc>{BASE}/kpi/{kpi}</loc>" in sitemap and ".svg<" not in sitemap
    assert f"Sitemap: {BASE}/sitemap.xml" in (built.site / "robots.txt").read_text()
    assert "Page not found" in (built.site / "404.html").read_text()


def test_images_drawn_meanwhile_give_the_bytes_of_a_build_in_order(built: Built) -> None:
    """The build draws PNGs on other threads and a worker process while the walk goes on; one that
    asks every address in turn writes the same bytes, the manifest (what each file was built
    from) included."""
    sequential = build(built.store, built.root / "in-order", built.catalog, parallel=False)
    assert sequential.files == built.report.files
    assert any(name.endswith(".png") for name in hashes(built.site))
    # The first build also recorded what its pages publish, then rendered those again: what each
    # was built from is the same as in a build with nothing left to record.
    assert hashes(built.root / "in-order") == hashes(built.site)


def test_files_hold_exactly_what_the_server_answers(built: Built) -> None:
    app = create_app(built.store, load_catalog(built.catalog, built.store), as_of=AS_OF)
    paths = {
        "/kpi/pothole-days-to-close.csv": "kpi/pothole-days-to-close.csv",
        "/kpi/pothole-days-to-close.json": "kpi/pothole-days-to-close.json",
        "/kpi/pothole-days-to-close": "kpi/pothole-days-to-close/index.html",
        "/data.json": "data.json",
        "/datasets/la-library-monthly.csv": "datasets/la-library-monthly.csv",
        "/es/kpi/pothole-days-to-close": "es/kpi/pothole-days-to-close/index.html",
    }
    with inprocess_session(app, BASE) as http:
        for path, name in paths.items():
            answer = http.get(BASE + path, timeout=120)
            assert answer.status_code == 200, path
            assert (built.site / name).read_bytes() == answer.content, path
    page = (built.site / "kpi/pothole-days-to-close/index.html").read_text()
    assert f"{BASE}/embed/pothole-days-to-close" in page  # the embed code names the site


def test_a_rebuild_renders_and_writes_nothing(built: Built) -> None:
    before = hashes(built.site)
    again = build(built.store, built.site, built.catalog)
    assert (again.written, again.rendered, again.removed) == (0, 0, 0)
    assert again.unchanged == again.files == built.report.files
    assert hashes(built.site) == before


def _shows_the_kpi(name: str, goals: set[str]) -> bool:
    """The files one KPI's data may change: its own, and the pages and documents about the whole
    program, its goals (and those above them) and its department, in either language."""
    name = name.removeprefix("es/")
    own = (f"kpi/{CHANGED_KPI}", f"embed/{CHANGED_KPI}/", f"datasets/{CHANGED_DATASET}.")
    about = (
        "index.html",
        "departments/index.html",
        "departments/community-and-economic-development",
        *(f"goals/{goal}/" for goal in goals),
        *(f"goals/{goal}.atom" for goal in goals),
        "program.atom",
        "program.json",
        "api/kpis",
        "api/goals",
        "api/catalog/v1",
        f"api/views/{CHANGED_DATASET}.json",
        "data.json",
        "datapackage.json",
        "actions.ics",
        "checks/index.html",
        ".build-manifest.json",
        ".build-series.zip",  # the KPI's series, kept for the next build
    )
    return name.startswith(own) or name.startswith(about)


def test_one_kpis_new_data_rewrites_only_the_files_that_show_it(built: Built) -> None:
    goals = goal_and_ancestors(built.catalog, built.store, CHANGED_KPI)
    before = hashes(built.site)
    change_one_kpi(built.store)
    report = build(built.store, built.site, built.catalog)
    after = hashes(built.site)
    changed = {name for name in after if before.get(name) != after[name]}
    assert {f"kpi/{CHANGED_KPI}.csv", f"es/kpi/{CHANGED_KPI}/index.html", "index.html"} <= changed
    strays = sorted(name for name in changed if not _shows_the_kpi(name, goals))
    assert strays == [] and report.broken == []
    assert set(report.changed) == changed - {".build-manifest.json", ".build-series.zip"}
    assert report.rendered < built.report.rendered / 3  # the other KPIs' files were not rendered again
    # Two builds give the same bytes: a build from nothing now gives what the rebuild left.
    cold = built.root / "cold"
    build(built.store, cold, built.catalog)
    assert hashes(cold) == after


def test_a_file_no_longer_produced_is_removed(built: Built) -> None:
    copy = built.root / "stale"
    shutil.copytree(built.site, copy)
    (copy / "kpi/no-such-kpi.svg").write_bytes(b"<svg/>")  # as if an earlier build had made it
    manifest = json.loads((copy / ".build-manifest.json").read_text())
    entry = {"deps": {}, "file": "kpi/no-such-kpi.svg", "links": [], "sha256": "x", "size": 6}
    manifest["urls"]["/kpi/no-such-kpi.svg"] = entry
    (copy / ".build-manifest.json").write_text(json.dumps(manifest))
    report = build(built.store, copy, built.catalog)
    assert report.removed == 1 and not (copy / "kpi/no-such-kpi.svg").exists()


def test_a_kept_revision_is_at_its_own_address(built: Built) -> None:
    meeting = "2020-03-04-public-works"
    catalog = load_catalog(built.catalog, built.store)
    assert produce(catalog, built.store, meeting, refresh=True) is not None  # revision 2 kept, 1 stays
    report = build(built.store, built.site, built.catalog)
    assert report.broken == [] and report.rendered < built.report.rendered / 4  # the meetings' pages
    listing = (built.site / "meetings/index.html").read_text()
    assert f'href="/meetings/{meeting}/revisions/1"' in listing
    app = create_app(built.store, catalog, as_of=AS_OF)
    pairs = {
        f"/meetings/{meeting}?revision=1": f"meetings/{meeting}/revisions/1/index.html",
        f"/meetings/{meeting}.pdf?revision=1": f"meetings/{meeting}/revisions/1.pdf",
    }
    with inprocess_session(app, BASE) as http:
        for address, name in pairs.items():
            assert (built.site / name).read_bytes() == http.get(BASE + address, timeout=120).content


# Answers in a language (the site's own files, such as the theme's logo, are the same in each).
_IN_A_LANGUAGE = re.compile(r"^(?!/(static|theme)/).*(\.(svg|png|atom|ics|pdf)$|^/embed/)")


def test_translated_pages_link_the_files_in_their_language(built: Built) -> None:
    """A static host ignores ``?lang=``: a Spanish page links its images, feeds, embeds and
    packets at ``/es/`` addresses, each a file holding the server's Spanish answer."""
    kpi = "pothole-days-to-close"
    urls = json.loads((built.site / ".build-manifest.json").read_text())["urls"]
    pages = ["/es/", f"/es/kpi/{kpi}", f"/es/embed/{kpi}", "/es/meetings/2020-03-04-public-works"]
    app = create_app(built.store, load_catalog(built.catalog, built.store), as_of=AS_OF)
    checked: set[str] = set()
    with inprocess_session(app, BASE) as http:
        for page in pages:
            html = (built.site / urls[page]["file"]).read_text()
            html = re.sub(r"<[^>]*\bhreflang=[^>]*>", "", html)  # the page in the other languages
            for link in page_links(html):
                path = site_path(link, page, BASE)
                if path is None or path.startswith("/locale/"):  # another site; the selector
                    continue
                assert "lang=" not in link, (page, link)
                assert path in urls, (page, link)  # a file of the site
                bare = path.removeprefix("/es")
                if not _IN_A_LANGUAGE.search(bare) or path in checked:
                    continue
                assert path.startswith("/es/"), (page, link)
                spanish = http.get(BASE + path, timeout=120)
                assert spanish.status_code == 200, path
                assert (built.site / urls[path]["file"]).read_bytes() == spanish.content, path
                assert spanish.content != (built.site / urls[bare]["file"]).read_bytes(), path  # not English
                if bare.endswith((".svg", ".png")):  # the answer ?lang=es has always given
                    assert http.get(f"{BASE}{bare}?lang=es", timeout=120).content == spanish.content
                checked.add(path)
    assert {f"/es/kpi/{kpi}.svg", "/es/program.atom", f"/es/embed/{kpi}"} <= checked, sorted(checked)
    assert any(path.endswith(".pdf") for path in checked)
    page = (built.site / urls[f"/es/kpi/{kpi}"]["file"]).read_text()
    assert f'src="{BASE}/es/embed/{kpi}"' in html_module.unescape(page)  # the embed code, in Spanish


def _rules(text: str) -> dict[str, dict[str, str]]:
    """The rules of a ``_headers`` file: each pattern and its headers (lower-case names)."""
    rules: dict[str, dict[str, str]] = {}
    current: dict[str, str] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        if not line.startswith(" "):
            current = rules.setdefault(line, {})
        else:
            name, _, value = line.strip().partition(": ")
            assert name.lower() not in current, line
            current[name.lower()] = value
    return rules


def _matching(rules: dict[str, dict[str, str]], path: str) -> list[str]:
    return [p for p in rules if p == path or (p.endswith("*") and path.startswith(p[:-1]))]


def test_the_headers_file_holds_the_servers_security_headers(built: Built) -> None:
    rules = _rules((built.site / "_headers").read_text())
    urls = json.loads((built.site / ".build-manifest.json").read_text())["urls"]
    for path, entry in urls.items():  # each address (a page with its slash too) meets one rule
        assert len(_matching(rules, path)) == 1, (path, _matching(rules, path))
        if entry["file"].endswith("index.html"):
            assert len(_matching(rules, path.rstrip("/") + "/")) == 1, path
    kpi, meeting = "pothole-days-to-close", "2020-03-04-public-works"
    kinds = {
        "page": ["/", f"/kpi/{kpi}", f"/es/kpi/{kpi}", "/departments", "/es/"],
        "embed": [f"/embed/{kpi}", f"/es/embed/{kpi}"],
        "image": [f"/kpi/{kpi}.svg", f"/es/kpi/{kpi}.png"],
        "data": [f"/kpi/{kpi}.csv", "/api/kpis", "/data.json", "/program.atom"],
        "script": ["/embed.js", "/static/site.js"],
        "packet": [f"/meetings/{meeting}", f"/meetings/{meeting}.pdf"],
        "docs": ["/docs"],
    }
    app = create_app(built.store, load_catalog(built.catalog, built.store), as_of=AS_OF)
    with inprocess_session(app, BASE) as http:
        for kind, paths in kinds.items():
            for path in paths:
                answer = http.get(BASE + path, timeout=120)
                expected = security_of(path, answer.headers)
                assert "content-security-policy" in expected, (kind, path)
                [rule] = _matching(rules, path)
                assert rules[rule] == expected, (kind, path)
    embed, page = rules[_matching(rules, f"/embed/{kpi}")[0]], rules[_matching(rules, f"/kpi/{kpi}")[0]]
    assert "x-frame-options" not in embed and page["x-frame-options"] == "DENY"  # embeds framable
    assert "frame-ancestors 'none'" in page["content-security-policy"]
    assert rules[_matching(rules, "/api/kpis")[0]]["content-type"].startswith("application/json")
