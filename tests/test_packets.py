"""Meeting packets read back from the PDF (pypdf) and the HTML, checked against pandas on the real files.

The catalog is the demo's, plus one KPI whose breakdown has small groups with distinctive values
(average days to close, three decimals, by council district), so that a suppressed value leaking
anywhere would be found. Expected values, targets and statuses come from tests/data/real through
pandas (tests/demo_expected.py), never from the packet code.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from io import BytesIO
from pathlib import Path

import pandas as pd
import pypdf
import pytest
from demo_expected import EXPECTED, expected_status, potholes, targets_in_force
from demo_store import demo_store

from btvstat_open.store import Store
from catalog import Catalog, Kpi, load_catalog
from catalog.demo import DEMO_DIR
from catalog.meetings import agenda_kpis
from catalog.packet import Packet, build_packet
from widgets.packets import packet_html, packet_pdf
from widgets.theme_files import brand_of
from widgets.themes import branded, use_palettes

MEETING = "2020-03-04-public-works"
PREVIOUS = "2020-02-05-public-works"
AVERAGE = """\
id: pothole-days-average
title: Average days to close pothole requests
department: Public Works
description: The mean of DAYS TO CLOSE for pothole requests created each week.
source: {dataset: kc-311-potholes, date_column: creation_date, where: "type = 'Pothole'"}
measure: {calculation: average, column: days_to_close}
period: {size: week}
unit: days
decimals: 3
direction: lower_is_better
target: {value: 7, tolerance: 2}
breakdown: {column: council_district, label: Council district, min_count: 10}
"""
LABELS = {
    "on_track": "● On track",
    "near_target": "◆ Near target",
    "off_track": "▼ Off track",
    "no_target": "■ No target",
    "no_data": "○ No data",
}


@dataclass
class Rendered:
    catalog: Catalog
    store: Store
    packet: Packet
    html: str
    pdf: bytes
    pages: list[str]  # each page's text, whitespace collapsed


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rendered]:
    root = tmp_path_factory.mktemp("catalog") / "catalog"
    shutil.copytree(DEMO_DIR, root, ignore=shutil.ignore_patterns("data"))
    (root / "public-works" / "pothole-days-average.yaml").write_text(AVERAGE)
    with demo_store(tmp_path_factory.mktemp("store")) as store:
        catalog = load_catalog(root, store)
        with use_palettes(branded(catalog.settings.theme)):  # the brand's colours, as the CLI and server
            packet = build_packet(catalog, store, MEETING)
            html = packet_html(packet, catalog.settings, brand=brand_of(catalog))
        pdf = packet_pdf(html)
        pages = [flat(page.extract_text()) for page in pypdf.PdfReader(BytesIO(pdf)).pages]
        yield Rendered(catalog, store, packet, html, pdf, pages)


def expected_series(kpi_id: str, today: date) -> pd.Series:
    """The pandas series of a KPI as of ``today`` (only weeks or months that ended before it)."""
    if kpi_id == "pothole-days-average":
        kc = potholes()
        kc = kc[kc["day"].dt.date <= today]
        weeks = kc["day"].dt.date.map(lambda d: d - timedelta(days=d.weekday()))
        series = kc.groupby(weeks)["DAYS TO CLOSE"].mean()
    else:
        series = EXPECTED[kpi_id]
    return series.loc[[start for start in series.index if ended_before(kpi_id, start, today)]]


def ended_before(kpi_id: str, start: date, today: date) -> bool:
    """Whether the period starting ``start`` ended before ``today`` (only ended periods are shown)."""
    if kpi_id == "pothole-days-to-close-p90":  # monthly
        return (pd.Timestamp(start) + pd.offsets.MonthEnd(0)).date() < today
    if kpi_id.startswith("pothole"):  # weekly
        return start + timedelta(days=6) < today
    return True  # the Los Angeles fiscal years ended long before these meetings


def expected_latest(kpi: Kpi, today: date) -> tuple[float, date, str]:
    """Latest value, its period start and its status, by pandas and the contract's rule."""
    series = expected_series(kpi.id, today).dropna()
    start, value = series.index[-1], float(series.iloc[-1])
    target = targets_in_force(kpi, [start]).iloc[0]
    if target["value"] != target["value"]:
        return value, start, "no_target"
    assert kpi.target is not None
    rule = kpi.target.rule
    return value, start, expected_status(value, target["value"], target["tolerance"], rule, kpi.direction)


def label(value: float, kpi: Kpi) -> str:
    number = f"{round(value, kpi.decimals) + 0.0:,.{kpi.decimals}f}"
    return f"{number}%" if kpi.unit == "%" else f"{number} {kpi.unit}".strip()


def period(kpi: Kpi, start: date) -> str:
    if kpi.period.size == "week":
        return f"Week of {start:%b} {start.day}, {start.year}"
    if kpi.period.size == "month":
        return f"{start:%b %Y}"
    return f"FY{start.year + 1}"  # fiscal years starting in July, labelled by the year they end in


def item_page(site: Rendered, kpi: Kpi) -> tuple[int, str]:
    """The page where the KPI's item starts (its heading, then its numbers)."""
    for number, text in enumerate(site.pages):
        heads = [text.find(f"{kpi.title} {badge}") for badge in LABELS.values()]
        at = max(heads)
        if at >= 0 and "Latest value" in text[at:]:
            return number, text[at:]
    raise AssertionError(f"no item page for {kpi.id}")


def test_sections_come_in_the_contracts_order_after_a_cover(site: Rendered) -> None:
    cover = site.pages[0]
    assert cover.upper().startswith("CITY PERFORMANCE DASHBOARD (DEMO) · MEETING PACKET PUBLIC WORKS REVIEW")
    for fact in (
        "Meeting March 4, 2020",
        "Departments Public Works",
        "Data cut-off Data as of March 4, 2020",
    ):
        assert fact in cover
    assert "Previous meeting Public Works review, February 5, 2020" in cover and "Contents" in cover
    starts = {
        name: [i for i, text in enumerate(site.pages) if text.startswith(name + " ")]
        for name in ("Follow-ups", "Standing items", "New items")
    }
    assert [len(pages) for pages in starts.values()] == [1, 1, 1]
    assert starts["Follow-ups"][0] < starts["Standing items"][0] < starts["New items"][0]
    # the contents name every item in packet order
    agenda = [item.kpi.title for item in site.packet.items]
    positions = [cover.find(title) for title in agenda]
    assert -1 not in positions and positions == sorted(positions)


def test_every_kpi_value_and_status_matches_pandas(site: Rendered) -> None:
    catalog = site.catalog
    meeting = catalog.meetings[MEETING]
    ids = agenda_kpis(meeting, catalog.kpis)
    assert len(ids) == 7 and "fire-ems-response-5-minutes" in ids and ids[-1] == "pothole-days-to-close-p90"
    seen = []
    for kpi_id in ids:
        kpi = catalog.kpis[kpi_id]
        value, start, status = expected_latest(kpi, meeting.date)
        number, text = item_page(site, kpi)
        assert text.startswith(f"{kpi.title} {LABELS[status]}"), (kpi_id, text[:120])
        assert f"Latest value {label(value, kpi)} ({period(kpi, start)})" in text, (kpi_id, text[:300])
        seen.append((number, kpi_id, status))
    # standing items, then new items; off track first, then near target, in each section
    seen.sort()
    standing = [s for _, k, s in seen if k != "pothole-days-to-close-p90"]
    rank = [{"off_track": 0, "near_target": 1}.get(s, 2) for s in standing]
    assert rank == sorted(rank) and rank[0] == 0
    assert seen[-1][1] == "pothole-days-to-close-p90"


def test_follow_ups_carry_the_overdue_action_over_from_the_previous_meeting(site: Rendered) -> None:
    feb = build_packet(site.catalog, site.store, PREVIOUS)
    crew = next(f for f in feb.follow_ups if f.action.id == "second-crew")
    assert (crew.overdue, crew.carried_over, crew.events) == (False, False, ("opened",))
    assert "oldest-requests" not in {f.action.id for f in feb.follow_ups}  # opened after February 5

    march = site.packet
    assert march.previous is not None and march.previous.id == PREVIOUS
    first = march.follow_ups[0]
    assert (first.action.id, first.overdue, first.carried_over, first.events) == (
        "second-crew",
        True,
        True,
        ("due",),
    )
    assert all(not f.overdue for f in march.follow_ups[1:])
    by_id = {f.action.id: f for f in march.follow_ups}
    assert (
        by_id["triage-backlog"].events == ("due", "closed")
        and by_id["triage-backlog"].action.status == "done"
    )
    assert by_id["oldest-requests"].events == ("opened",)
    assert "district-6-pilot" not in by_id  # done on January 31, before the previous meeting

    page = next(text for text in site.pages if text.startswith("Follow-ups "))
    crew_at = page.find("Add a second pothole crew for the freeze-thaw season")
    assert 0 < crew_at < page.find("Triage the January backlog by severity")
    assert (
        "Overdue: due February 28, 2020, 5 days late Carried over from the meeting of February 5, 2020"
        in page
    )


def test_a_suppressed_breakdown_cell_appears_nowhere(site: Rendered) -> None:
    kc = potholes()
    kc = kc[kc["day"].dt.date <= date(2020, 3, 4)]
    kc["week"] = kc["day"].dt.date.map(lambda d: d - timedelta(days=d.weekday()))
    cells = kc.groupby(["week", "COUNCIL DISTRICT"]).agg(
        n=("DAYS TO CLOSE", "size"), avg=("DAYS TO CLOSE", "mean")
    )
    latest = cells.loc[max(cells.index.get_level_values(0))]
    small = latest[latest["n"] < 10]
    assert len(small) >= 1
    kpi = site.catalog.kpis["pothole-days-average"]
    _, text = item_page(site, kpi)
    for district, row in small.iterrows():
        secret = f"{row['avg']:.3f}"
        assert f"{district} Suppressed < 10" in text
        if any(f"{v:.3f}" == secret for v in latest[latest["n"] >= 10]["avg"]):
            continue  # the same number is published for another group: nothing to find
        for page in site.pages:
            assert secret not in page
        assert secret not in site.html
    for district, row in latest[latest["n"] >= 10].iterrows():
        assert f"{district} {row['avg']:.3f} days {int(row['n'])}" in text


def test_pdf_is_tagged_titled_with_language_and_embedded_fonts(site: Rendered) -> None:
    reader = pypdf.PdfReader(BytesIO(site.pdf))
    root = reader.trailer["/Root"]
    assert root["/Lang"] == "en"
    assert bool(root["/MarkInfo"]["/Marked"]) and "/StructTreeRoot" in root
    assert reader.metadata is not None
    assert reader.metadata.title == "Public Works review, March 4, 2020 · City performance dashboard (demo)"
    assert reader.metadata["/CreationDate"] == reader.metadata["/ModDate"] == "D:20200304000000Z"
    fonts = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"]
            assert "/FontFile2" in descriptor, font["/BaseFont"]
            fonts.add(str(font["/BaseFont"]).split("+")[-1])
    assert "DejaVuSans" in {f.replace("-", "") for f in fonts}


def test_a_past_meetings_packet_is_the_same_bytes_every_time(site: Rendered) -> None:
    with use_palettes(branded(site.catalog.settings.theme)):
        again = build_packet(site.catalog, site.store, MEETING)
        html = packet_html(again, site.catalog.settings, brand=brand_of(site.catalog))
    assert html == site.html
    assert packet_pdf(html) == site.pdf


def test_the_html_is_self_contained_and_accessible(site: Rendered) -> None:
    html = site.html
    inside = html.replace('xmlns="http://www.w3.org/2000/svg"', "")  # a name, not a request
    # The theme's logo is inside the page too: a data: URI (an image, so it runs nothing).
    assert html.count('<img class="brand-logo" src="data:image/svg+xml;base64,') == 1
    inside = re.sub(r'<img class="brand-logo" src="data:[^"]*" alt="[^"]*">', "", inside)
    assert html.startswith('<!doctype html>\n<html lang="en" dir="ltr">')
    for outside in ("<script", "<link", "<img", "<iframe", "url(", "src=", "http://", "https://"):
        assert outside not in inside, outside
    assert html.count("<style>") == 1 and '<main id="main"' in html and "<header" in html
    assert html.count('role="img" aria-label="') == len(site.packet.items)
    assert html.count("<figcaption>Chart: ") == len(site.packet.items)
    assert '<th scope="col">Council district</th>' in html and "<caption>" in html


def test_cli_writes_pdf_and_html_and_refuses_unknown_meetings(site: Rendered, tmp_path: Path) -> None:
    store = tmp_path / "store"  # its own store: DuckDB lets one process at a time open a store
    demo_store(store).close()

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        argv = [sys.executable, "-m", "btvstat_open", "packet", *args, "--catalog", str(site.catalog.root)]
        return subprocess.run([*argv, "--store", str(store)], capture_output=True, text=True)

    out = tmp_path / "packet.pdf"
    done = run(MEETING, "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert out.read_bytes() == site.pdf  # the same bytes from another process
    html = tmp_path / "packet.html"
    assert run(PREVIOUS, "--as-of", "2020-02-05", "-o", str(html)).returncode == 0
    assert "Data as of February 5, 2020" in html.read_text()

    missing = tmp_path / "nope.pdf"
    failed = run("2020-04-01-nothing", "-o", str(missing))
    assert failed.returncode == 2 and "No meeting '2020-04-01-nothing'" in failed.stderr
    assert "Traceback" not in failed.stderr and not list(tmp_path.glob("nope*"))  # nothing half-written
    wrong = run(MEETING, "-o", str(tmp_path / "packet.docx"))
    assert wrong.returncode == 2 and "must end in .pdf or .html" in wrong.stderr
    bad_day = run(MEETING, "--as-of", "March 4", "-o", str(out))
    assert bad_day.returncode == 2 and "YYYY-MM-DD" in bad_day.stderr
