"""``build-site``: the demo's public site as files, the server's own answers at the server's paths;
two builds byte-identical; a rebuild renders and writes nothing; one KPI's new data rewrites only
the files that show it (and gives what a cold build gives)."""

from __future__ import annotations

import json
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
    assert built.report.written == built.report.files == len(files) - 1  # all but the manifest
    sitemap = (built.site / "sitemap.xml").read_text()
    assert f"<loc>{BASE}/kpi/{kpi}</loc>" in sitemap and ".svg<" not in sitemap
    assert f"Sitemap: {BASE}/sitemap.xml" in (built.site / "robots.txt").read_text()
    assert "Page not found" in (built.site / "404.html").read_text()


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
    assert report.written == len(changed - {".build-manifest.json"})
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
