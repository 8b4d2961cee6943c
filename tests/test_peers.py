"""Peers: a KPI compared with the same measure in another city's open data.

Two real uvicorn servers of our own portal, started once for the session, serve real data:
Burlington, VT's tree inventory (the city's Opendatasoft export) and the City of Los Angeles
Controller's operating indicators. A catalog names Burlington's trees planted per year as its KPI
and Los Angeles's trees planted as its peer, per 1,000 residents; the per-capita values are checked
against a computation by hand (pandas on the original CSV files), and a peer whose portal goes
down keeps its last good values on the page, flagged as failed.
"""

from __future__ import annotations

import json
import re
import shutil
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from html import unescape
from pathlib import Path
from xml.etree import ElementTree

import altair as alt
import jsonschema
import pandas as pd
import pytest
import requests
from altair.vegalite.v6.schema.core import load_schema
from demo_store import demo_store
from servers import free_port, serve

from btvstat_open.cli import main
from btvstat_open.errors import CatalogError
from btvstat_open.load import load_file
from btvstat_open.portal.app import create_portal_app
from btvstat_open.server import create_app
from btvstat_open.store import Store
from btvstat_open.web.settings import Settings
from catalog import load_catalog
from catalog.measure import measure
from catalog.models import Kpi
from catalog.packet import build_packet
from catalog.peers import Comparison, comparison
from catalog.sync_all import sync_catalog
from widgets.packets.render import packet_html, packet_pdf
from widgets.peer_chart import peer_spec, peer_svg

LA_CSV = "la-city-kpis/Operating_Indicators_for_City_Departments.csv"
BTV_CSV = "opendatasoft-burlington-btvstat/planting-sites.csv"
LABEL = "Street Tree and Parkway Maintenance Program/Trees planted - City forces & Non-profits (MTLA)"
BTV_POP, LA_POP = 42417, 3792621
TODAY = date(2020, 3, 2)
PEER_ID = "peer-los-angeles-ca-la-indicators"

CATALOG = """\
title: Peer test
publisher: Test city
as_of: 2020-03-02
portals:
  btv: {{kind: socrata, url: "{btv}"}}
  la: {{kind: socrata, url: "{la}"}}
"""

KPI = """\
id: trees
title: Trees planted per year
department: Parks
source: {portal: btv, dataset: planting-sites, date_column: planted, where: planted > 0}
measure: {calculation: count}
period: {size: year, start: 2007-01-01}
unit: trees
decimals: 0
peers:
  city: Burlington, VT
  rule: Cities that publish a yearly count of trees planted.
  comparable: Comparable on trees per resident for 2007 to 2013; not on exact yearly counts.
  normalise: {per: 1000, of: residents}
  population:
    value: 42417
    source: {name: US Census 2010, url: "https://www.census.gov/", year: 2010}
  cities:
    - city: Los Angeles, CA
      portal: la
      dataset: la-indicators
      columns:
        date: fiscal_year
        value: amount
        where: >-
          program_metric_label = 'Street Tree and Parkway Maintenance Program/Trees planted - City forces
          & Non-profits (MTLA)'
      population:
        value: 3792621
        source: {name: US Census 2010, url: "https://www.census.gov/", year: 2010}
      differs: Trees planted by city crews and non-profits per fiscal year (July to June).
"""

MEETING = """\
id: 2020-03-04-parks
date: 2020-03-04
title: Parks review
departments: [Parks]
"""


@dataclass(frozen=True)
class Portals:
    btv: str
    la: str


@pytest.fixture(scope="session")
def portals(tmp_path_factory: pytest.TempPathFactory, real_data: Path) -> Iterator[Portals]:
    """Two local portals, each a real uvicorn server of our portal app with its own store."""
    # The demo datasets, Burlington's planting-sites among them (its Opendatasoft export)
    btv_store = demo_store(tmp_path_factory.mktemp("peer-btv-portal"))
    la_store = Store(tmp_path_factory.mktemp("peer-la-portal"))
    load_file(la_store, real_data / LA_CSV, "la-indicators", name="LA operating indicators")
    with (
        serve(create_portal_app(btv_store, Settings())) as btv,
        serve(create_portal_app(la_store, Settings())) as la,
    ):
        yield Portals(btv, la)
    btv_store.close()
    la_store.close()


def write_catalog(root: Path, btv: str, la: str, kpi: str = KPI) -> Path:
    (root / "meetings").mkdir(parents=True, exist_ok=True)
    (root / "catalog.yaml").write_text(CATALOG.format(btv=btv, la=la))
    (root / "trees.yaml").write_text(kpi)
    (root / "meetings" / "2020-03-04-parks.yaml").write_text(MEETING)
    return root


def by_hand(real_data: Path) -> dict[str, dict[int, float]]:
    """Trees per 1,000 residents per year, from the original CSV files with pandas."""
    btv = pd.read_csv(real_data / BTV_CSV, sep=";")
    btv = btv[(btv["planted"] > 0) & (btv["planted"] >= 2007) & (btv["planted"] <= 2019)]
    la = pd.read_csv(real_data / LA_CSV)
    la = la[(la["Program/Metric Label"] == LABEL) & (la["Fiscal Year"] >= 2007)]  # period.start
    return {
        "Burlington, VT": {int(y): n / BTV_POP * 1000 for y, n in btv.groupby("planted").size().items()},
        "Los Angeles, CA": {
            int(y): a / LA_POP * 1000 for y, a in la.groupby("Fiscal Year")["Amount"].sum().items()
        },
    }


def compare(catalog_dir: Path, store: Store, today: date = TODAY) -> tuple[Kpi, Comparison]:
    """The trees KPI and its comparison with its peer, as of ``today``."""
    catalog = load_catalog(catalog_dir, store)
    kpi = catalog.kpis["trees"]
    found = comparison(kpi, store, catalog.settings, measure(kpi, store, catalog.settings), today=today)
    assert found is not None
    return kpi, found


def shown(catalog_dir: Path, store: Store) -> dict[str, dict[int, float]]:
    _, found = compare(catalog_dir, store)
    return {line.city: {int(p["period_start"][:4]): p["shown"] for p in line.points} for line in found.lines}


def text_of(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


@pytest.fixture()
def synced(portals: Portals, tmp_path: Path) -> tuple[Path, Store]:
    root = write_catalog(tmp_path / "catalog", portals.btv, portals.la)
    store = Store(tmp_path / "store")
    outcomes = sync_catalog(load_catalog(root), store)
    assert [(o.portal, o.dataset, o.ok) for o in outcomes] == [
        ("btv", "planting-sites", True),
        ("la", PEER_ID, True),
    ]
    return root, store


def test_two_portals_compare_per_capita_as_computed_by_hand(
    synced: tuple[Path, Store], real_data: Path
) -> None:
    root, store = synced
    expected, got = by_hand(real_data), shown(root, store)
    assert set(got) == {"Burlington, VT", "Los Angeles, CA"}
    for city, years in expected.items():
        assert sorted(got[city]) == sorted(years), city
        for year, value in years.items():
            assert got[city][year] == pytest.approx(value, rel=1e-12), (city, year)
    # One value checked in plain arithmetic: Los Angeles FY2013, 3,238 trees for 3,792,621 residents.
    assert got["Los Angeles, CA"][2013] == pytest.approx(3238 / 3792621 * 1000)
    assert round(got["Los Angeles, CA"][2013], 2) == 0.85


def test_the_kpi_page_shows_chart_table_rule_and_sources(synced: tuple[Path, Store], real_data: Path) -> None:
    root, store = synced
    expected = by_hand(real_data)
    with serve(create_app(store, load_catalog(root, store))) as base:
        page = requests.get(f"{base}/kpi/trees", timeout=60)
        data = requests.get(f"{base}/kpi/trees/peers.json", timeout=60)
        svg = requests.get(f"{base}/kpi/trees/peers.svg", timeout=60)
    assert page.status_code == data.status_code == svg.status_code == 200
    text = text_of(page.text)
    assert "Compared with peer cities" in text
    assert "How the peers were chosen: Cities that publish a yearly count of trees planted." in text
    assert "What this is and is not comparable on: Comparable on trees per resident" in text
    latest_btv, latest_la = expected["Burlington, VT"][2019], expected["Los Angeles, CA"][2013]
    assert f"Burlington, VT {latest_btv:.2f} 432 2019" in text
    assert f"Los Angeles, CA {latest_la:.2f} 3,238 2013" in text
    assert "Trees planted by city crews and non-profits per fiscal year (July to June)." in text
    assert "3,792,621 ( US Census 2010 , 2010)" in text
    assert f"Last synced on {datetime.now(UTC).date().isoformat()}" in text
    document = data.json()
    assert document["scale"] == "per 1,000 residents"
    assert [c["city"] for c in document["cities"]] == ["Burlington, VT", "Los Angeles, CA"]
    la_points = {p["period_start"][:4]: p["shown"] for p in document["cities"][1]["points"]}
    assert la_points["2009"] == pytest.approx(expected["Los Angeles, CA"][2009])
    with serve(create_app(store, load_catalog(root, store))) as base:
        program = requests.get(f"{base}/program.json", timeout=60).json()
    (trees,) = [k for k in program["kpis"] if k["id"] == "trees"]
    assert trees["peers"]["cities"][0]["store_id"] == PEER_ID
    assert trees["peers"]["population"]["source"]["year"] == 2010
    root_svg = ElementTree.fromstring(svg.content)
    assert root_svg.tag.endswith("svg") and "Los Angeles, CA" in svg.text and "Burlington, VT" in svg.text


def test_the_chart_spec_validates_round_trips_and_renders(
    synced: tuple[Path, Store], real_data: Path
) -> None:
    kpi, found = compare(*synced)
    expected = by_hand(real_data)
    for theme in ("light", "dark"):
        spec = peer_spec(kpi, found, theme=theme, width=640)
        jsonschema.validate(spec, load_schema())
        again = json.loads(json.dumps(spec))
        assert again == spec
        chart = alt.Chart.from_dict(again).to_dict()  # Altair reads it back (validating) and writes it out
        assert (chart["mark"], chart["encoding"]) == (spec["mark"], spec["encoding"])
        assert chart["datasets"][chart["data"]["name"]] == spec["data"]["values"]
        values = {(r["city"], r["period_start"][:4]): r["value"] for r in spec["data"]["values"]}
        for city, years in expected.items():
            for year, value in years.items():
                assert values[city, str(year)] == pytest.approx(value, rel=1e-12)
        assert spec["encoding"]["y"]["title"] == "trees per 1,000 residents"
    drawn = peer_svg(kpi, found)
    assert "Trees planted per year: compared with peers" in drawn and "Los Angeles, CA" in drawn


def test_a_peer_whose_portal_is_down_keeps_its_last_good_values_and_a_flag(
    synced: tuple[Path, Store], portals: Portals, capsys: pytest.CaptureFixture[str]
) -> None:
    root, store = synced
    before = shown(root, store)
    down = f"http://127.0.0.1:{free_port()}"  # nothing listens there: the peer's portal is down
    write_catalog(root, portals.btv, down)
    outcomes = sync_catalog(load_catalog(root), store)
    failed = [o for o in outcomes if not o.ok]
    assert [(o.portal, o.dataset) for o in failed] == [("la", PEER_ID)]
    assert "connection failed" in failed[0].line()
    assert shown(root, store) == before  # the last good values, unchanged
    _, found = compare(root, store)
    assert [line.flag for line in found.lines] == ["", "failed"]
    catalog = load_catalog(root, store)
    with serve(create_app(store, catalog)) as base:
        page = requests.get(f"{base}/kpi/trees", timeout=60)
    assert page.status_code == 200
    text = text_of(page.text)
    today = datetime.now(UTC).date().isoformat()
    assert f"Failed Sync failed on {today} (GET /api/views/la-indicators.json: the connection failed" in text
    assert f"showing the values last synced on {today}" in text
    assert f"Los Angeles, CA {before['Los Angeles, CA'][2013]:.2f} 3,238 2013" in text
    assert "Los Angeles, CA (sync failed)" in page.text  # the chart's legend names the flag
    # The command line says so, but another city's portal does not fail the city's own sync.
    assert main(["sync", "--catalog", str(root), "--store", str(store.root)]) == 0
    err = capsys.readouterr().err
    assert f"la/{PEER_ID}: FAILED" in err and "a peer city's portal failed" in err
    # Packets (HTML and PDF) carry the comparison and the flag too.
    html = packet_html(build_packet(catalog, store, "2020-03-04-parks"), catalog.settings)
    packet_text = text_of(html)
    assert "Compared with peer cities (trees per 1,000 residents)" in packet_text
    assert (
        f"Los Angeles, CA {before['Los Angeles, CA'][2013]:.2f} 2013 Failed: Sync failed on {today}"
        in packet_text
    )
    assert "Los Angeles, CA 3,792,621 (US Census 2010, 2010)" in packet_text
    assert packet_pdf(html)[:5] == b"%PDF-"


def test_a_peer_never_synced_or_synced_long_ago_is_flagged(
    synced: tuple[Path, Store], tmp_path: Path
) -> None:
    root, store = synced
    later = date(datetime.now(UTC).year + 2, 6, 1)  # more than a year (the period) after the sync
    _, found = compare(root, store, later)
    assert found.lines[1].flag == "stale" and found.lines[1].points
    catalog = load_catalog(root, store)
    kpi = catalog.kpis["trees"]
    series = measure(kpi, store, catalog.settings)
    never = comparison(kpi, Store(tmp_path / "empty"), catalog.settings, series, today=TODAY)
    assert never is not None and never.lines[1].flag == "not synced" and not never.lines[1].points


@pytest.mark.parametrize(
    ("change", "line", "message"),
    [
        ("      population:\n        value: 3792621\n", 27, "missing required key 'source'"),
        ("      portal: la\n", 19, "unknown portal 'nowhere'"),
        ("measure: {calculation: count}\n", 13, "normalise divides by population"),
    ],
)
def test_peer_mistakes_are_errors_at_their_file_and_line(
    tmp_path: Path, change: str, line: int, message: str
) -> None:
    kpi = KPI
    if "population" in change:  # a peer's population without its cited source
        kpi = kpi.replace(
            change + '        source: {name: US Census 2010, url: "https://www.census.gov/", year: 2010}\n',
            change,
        )
    elif "portal" in change:
        kpi = kpi.replace(change, "      portal: nowhere\n")
    else:
        kpi = kpi.replace(change, "measure: {calculation: median, column: diameter}\n")
    root = write_catalog(tmp_path, "http://127.0.0.1:1", "http://127.0.0.1:2", kpi)
    with pytest.raises(CatalogError) as caught:
        load_catalog(root)
    found = [(Path(file).name, at) for file, at, text in caught.value.problems if message in text]
    assert found == [("trees.yaml", line)], caught.value.problems


def test_a_peer_on_another_kind_of_portal_written_inline(
    portals: Portals, tmp_path: Path, real_data: Path
) -> None:
    """A peer's portal may be any kind, written in place: here the LA file itself (kind: file)."""
    root = tmp_path / "catalog"
    (root / "data").mkdir(parents=True)
    shutil.copy(real_data / LA_CSV, root / "data" / "la.csv")
    inline = KPI.replace("      portal: la\n", "      portal: {kind: file, url: data}\n")
    inline = inline.replace(
        "      dataset: la-indicators\n", "      dataset: la.csv\n      store_id: la-file\n"
    )
    write_catalog(root, portals.btv, "http://127.0.0.1:1", inline)
    store = Store(tmp_path / "store")
    outcomes = sync_catalog(load_catalog(root), store)
    assert [(o.portal, o.dataset, o.ok) for o in outcomes] == [
        ("btv", "planting-sites", True),
        ("data", "la-file", True),
    ]
    expected = by_hand(real_data)["Los Angeles, CA"]
    got = shown(root, store)["Los Angeles, CA"]
    assert got == pytest.approx(expected, rel=1e-12)


def test_a_peer_column_that_is_gone_flags_the_peer_and_the_page_still_renders(
    synced: tuple[Path, Store],
) -> None:
    root, store = synced
    write_catalog(
        root, "http://127.0.0.1:1", "http://127.0.0.1:2", KPI.replace("value: amount", "value: amounts")
    )
    _, found = compare(root, store)
    la = found.lines[1]
    assert (la.flag, la.points) == ("failed", [])
    assert "amounts" in la.reason
    assert found.lines[0].points  # the city's own series is still there
    # A peer's columns are its portal's to change: the catalog stays valid against the store.
    assert "trees" in load_catalog(root, store).kpis


def test_two_peers_sharing_a_store_id_from_different_portals_is_an_error(tmp_path: Path) -> None:
    root = write_catalog(tmp_path, "http://127.0.0.1:1", "http://127.0.0.1:2")
    other = KPI.replace("id: trees", "id: trees-again").replace("      portal: la\n", "      portal: btv\n")
    (root / "trees-again.yaml").write_text(other)
    with pytest.raises(CatalogError) as caught:
        load_catalog(root)
    assert [(Path(f).name, at) for f, at, _ in caught.value.problems] == [("trees.yaml", 20)]
    assert "already btv/la-indicators's" in caught.value.problems[0][2]


def test_a_catalog_without_normalise_compares_values_as_they_are(synced: tuple[Path, Store]) -> None:
    root, store = synced
    plain = re.sub(r"  population:\n    value: 42417\n    source: .*\n", "", KPI)
    plain = re.sub(r"      population:\n        value: 3792621\n        source: .*\n", "", plain)
    plain = plain.replace("  normalise: {per: 1000, of: residents}\n", "")
    write_catalog(root, "http://127.0.0.1:1", "http://127.0.0.1:2", textwrap.dedent(plain))
    got = shown(root, store)
    assert got["Los Angeles, CA"][2013] == 3238
    assert got["Burlington, VT"][2019] == 432


def test_the_demo_serves_its_peer_from_a_second_local_portal(tmp_path: Path) -> None:
    """`serve --demo`'s second portal (here on a free port, not the demo's 8001) syncs the peer."""
    from btvstat_open.server.demo_peer import demo_peer_portal
    from catalog.demo import DEMO_DIR

    root = tmp_path / "demo"
    shutil.copytree(DEMO_DIR, root)
    settings = root / "catalog.yaml"
    settings.write_text(settings.read_text().replace("127.0.0.1:8001", f"127.0.0.1:{free_port()}"))
    store = demo_store(tmp_path / "store")
    catalog = load_catalog(root, store)
    lines: list[str] = []
    with demo_peer_portal(store, catalog, lines.append):
        deadline = time.monotonic() + 60
        while not lines and time.monotonic() < deadline:
            time.sleep(0.1)
    assert lines == [
        "demo peer sync: la-controller/peer-los-angeles-ca-la-operating-indicators: "
        "full sync (first sync): 1,890 new, 0 updated, 0 deleted; 1,890 rows"
    ]
    kpi = catalog.kpis["trees-planted-yearly"]
    found = comparison(kpi, store, catalog.settings, measure(kpi, store, catalog.settings), today=TODAY)
    assert found is not None
    la = found.lines[1]
    assert (la.city, la.flag) == ("Los Angeles, CA", "")
    assert la.latest is not None and la.latest["value"] == 3238
    assert la.latest["shown"] == pytest.approx(3238 / 3792621 * 1000)
