"""A packet's PDF laid out in parts and joined (widgets.packets.parts, .join) is the packet laid out
whole: the same pages and text, links, named destinations and outline, and a complete tag tree.

Read back with pikepdf (the structure tree, parent tree and content streams) and pypdf (text,
outline, destinations), against the same page laid out in one piece by WeasyPrint.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any

import pikepdf
import pypdf
import pytest
from demo_store import demo_store

from btvstat_open.errors import RenderError
from catalog import load_catalog
from catalog.demo import DEMO_DIR
from catalog.packet import build_packet
from widgets.packets import packet_html, packet_pdf
from widgets.packets.parts import assemble, laid_out_whole, run_here
from widgets.packets.split import split_packet
from widgets.theme_files import brand_of

MEETING = "2020-03-04-public-works"


@dataclass
class Packet:
    html: str
    whole: bytes  # the page laid out in one piece


@pytest.fixture(scope="module")
def packet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Packet]:
    with demo_store(tmp_path_factory.mktemp("store")) as store:
        catalog = load_catalog(Path(DEMO_DIR), store)
        html = packet_html(build_packet(catalog, store, MEETING), catalog.settings, brand=brand_of(catalog))
    yield Packet(html, laid_out_whole(html))


def _outline(reader: pypdf.PdfReader) -> list[tuple[int, str, int, float]]:
    found: list[tuple[int, str, int, float]] = []

    def walk(items: list[Any], depth: int) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item, depth + 1)
            else:
                page = reader.get_destination_page_number(item)
                found.append((depth, item.title, page, round(float(item.top or 0), 2)))

    walk(reader.outline, 0)
    return found


def assert_reads_as_whole(joined: bytes, whole: bytes) -> None:
    """Same pages, text, links, destinations and outline as the packet laid out whole."""
    a, b = pypdf.PdfReader(BytesIO(whole)), pypdf.PdfReader(BytesIO(joined))
    assert len(a.pages) == len(b.pages)
    assert [p.extract_text() for p in a.pages] == [p.extract_text() for p in b.pages]
    links = [
        [(x["/Dest"], x["/Rect"]) for x in (n.get_object() for n in p.get("/Annots", []))] for p in a.pages
    ]
    assert links == [
        [(x["/Dest"], x["/Rect"]) for x in (n.get_object() for n in p.get("/Annots", []))] for p in b.pages
    ]
    dests = {k: a.get_destination_page_number(v) for k, v in a.named_destinations.items()}
    assert dests == {k: b.get_destination_page_number(v) for k, v in b.named_destinations.items()}
    assert _outline(a) == _outline(b) and _outline(a)
    assert b.metadata == a.metadata
    root_a, root_b = a.trailer["/Root"], b.trailer["/Root"]
    for key in ("/Lang", "/MarkInfo", "/ViewerPreferences"):
        assert root_b[key] == root_a[key], key
    assert b"pdfuaid:part" in root_b["/Metadata"].get_object().get_data()


_BDC = re.compile(rb"<<\s*/MCID (\d+)\s*>>\s*BDC")


def _top(element: Any, document: Any) -> Any:
    while element.P.objgen != document.objgen:
        element = element.P
    return element


def assert_tags_complete(pdf: bytes) -> None:
    """Every page's tagged content is reachable from the structure tree and the other way round,
    but for a page's footer (WeasyPrint tags its two boxes in the parent tree only, out of the
    tree: PDF 1.7 has no tagged artifact); every link is in the tree; no tagged content hides in a
    form (a joined packet's footers)."""
    doc = pikepdf.open(BytesIO(pdf))
    root = doc.Root.StructTreeRoot
    pages = {page.obj.objgen: n for n, page in enumerate(doc.pages)}
    nums = list(root.ParentTree.Nums)
    tree = {int(nums[i]): nums[i + 1] for i in range(0, len(nums), 2)}
    reached: set[tuple[int, int]] = set()  # (page, MCID) that elements of the tree hold
    links: set[tuple[int, int]] = set()

    def walk(element: Any, parent: Any, page: int | None) -> None:
        assert element.P.objgen == parent.objgen, "an element's parent is not the one holding it"
        page = pages[element.Pg.objgen] if "/Pg" in element else page
        kids = element.get("/K", pikepdf.Array())
        for kid in kids if isinstance(kids, pikepdf.Array) else [kids]:
            if isinstance(kid, int):
                assert page is not None
                reached.add((page, int(kid)))
            elif kid.get("/Type") == "/OBJR":
                links.add(kid.Obj.objgen)
            elif kid.get("/Type") == "/MCR":
                reached.add((pages[kid.Pg.objgen] if "/Pg" in kid else page, int(kid.MCID)))  # type: ignore[arg-type]
            else:
                walk(kid, element, page)

    (document,) = list(root.K)
    walk(document, root, None)
    marked: set[tuple[int, int]] = set()
    for n, page in enumerate(doc.pages):
        data = b"".join(
            c.read_bytes()
            for c in (
                page.obj.Contents if isinstance(page.obj.Contents, pikepdf.Array) else [page.obj.Contents]
            )
        )
        for mcid in map(int, _BDC.findall(data)):
            marked.add((n, mcid))
            owner = tree[int(page.obj.StructParents)][mcid]
            assert _top(owner, document).P.objgen == document.objgen  # in the document, if not the tree
        for name, xobject in page.obj.Resources.get("/XObject", {}).items():
            if xobject.get("/Subtype") == "/Form":
                assert not _BDC.search(xobject.read_bytes()), f"tagged content in form {name} of page {n + 1}"
        for annot in page.obj.get("/Annots", []):
            assert annot.objgen in links, f"a link of page {n + 1} is not in the structure tree"
            assert tree[int(annot.StructParent)].objgen != document.objgen
    assert reached <= marked, f"the tree holds content no page has: {sorted(reached - marked)[:5]}"
    outside = [n for n, _ in marked - reached]
    assert all(outside.count(n) <= 2 for n in outside), "tagged content missing from the tree"
    assert len(set(tree)) == len(doc.pages) + len(links)


def items_pages(pdf: bytes) -> int:
    """How many pages are an items part's, with the footer of their stand-in drawn on them."""
    pages = pikepdf.open(BytesIO(pdf)).pages
    return sum("/BtvFooter" in page.obj.Resources.get("/XObject", {}) for page in pages)


def pages_from_items(pdf: bytes) -> int:
    """How many pages there are from the first item's on."""
    reader = pypdf.PdfReader(BytesIO(pdf))
    return len(reader.pages) - reader.get_destination_page_number(reader.named_destinations["standing-items"])


def test_the_whole_packet_is_tagged_completely(packet: Packet) -> None:
    assert_tags_complete(packet.whole)  # what the checks below hold a joined packet to


@pytest.mark.parametrize("cut", [0, 2, 5])
def test_a_packet_joined_from_parts_is_the_packet_laid_out_whole(packet: Packet, cut: int) -> None:
    split = split_packet(packet.html)
    assert split is not None and split.count == 6
    joined = assemble(packet.html, run_here, cut=cut)
    assert_reads_as_whole(joined, packet.whole)
    assert_tags_complete(joined)
    assert items_pages(joined) == pages_from_items(joined) == 6  # joined, not laid out whole
    assert items_pages(packet.whole) == 0
    pages = pypdf.PdfReader(BytesIO(joined)).pages
    assert all(f"Page {n} of {len(pages)}" in page.extract_text() for n, page in enumerate(pages, 1))


def test_an_item_longer_than_a_page_moves_the_contents_page_numbers(packet: Packet) -> None:
    # The front is first laid out guessing one page an item; this item takes four.
    notes = "".join(f"<li>Note {n}: the crew was short-handed that week.</li>" for n in range(130))
    html = packet.html.replace(
        '<div class="questions">', f'<div class="notes"><ul>{notes}</ul></div><div class="questions">', 1
    )
    assert html != packet.html
    whole = laid_out_whole(html)
    assert len(pypdf.PdfReader(BytesIO(whole)).pages) > len(pypdf.PdfReader(BytesIO(packet.whole)).pages)
    joined = assemble(html, run_here, cut=3)
    assert items_pages(joined) == pages_from_items(whole) == 9  # joined, the front laid out again
    assert_reads_as_whole(joined, whole)
    assert_tags_complete(joined)


def test_a_page_not_shaped_as_a_packet_is_laid_out_whole() -> None:
    html = "<!doctype html><html lang='en'><title>Note</title><main id='main'><p>Hello</p></main></html>"
    assert split_packet(html) is None
    assert packet_pdf(html) == laid_out_whole(html)


def test_a_packet_joined_is_the_same_bytes_every_time(packet: Packet) -> None:
    assert assemble(packet.html, run_here, cut=2) == assemble(packet.html, run_here, cut=2)


@pytest.mark.parametrize("together", [True, False])
def test_the_charts_are_drawn_where_their_stand_ins_were_laid_out(packet: Packet, together: bool) -> None:
    """Each chart is a form (drawn by svg2pdf, its text as text) inside its tagged figure, in
    place of the blank image WeasyPrint laid out; no stand-in image is left in the PDF. The charts
    are drawn on one page and cut, or (a chart with ids, which could clash) a page each."""
    html = packet.html if together else packet.html.replace("<svg ", '<svg id="a-chart" ', 1)
    assert (html == packet.html) is together
    joined = assemble(html, run_here, cut=2)
    doc = pikepdf.open(BytesIO(joined))
    charts = set()
    for page in doc.pages:
        for name, xobject in page.obj.Resources.get("/XObject", {}).items():
            assert xobject.Subtype == "/Form", f"{name} is a {xobject.Subtype}, not a chart"
            if name != "/BtvFooter":
                charts.add(xobject.objgen)
                assert "/Font" in xobject.Resources
                assert [float(v) for v in xobject.Matrix][1:3] == [0, 0]  # drawn in the unit square
    assert len(charts) == 6
    fonts = {f.objgen for c in charts for f in doc.get_object(c).Resources.Font.values()}
    assert _drawn_ratios(doc) == pytest.approx(_own_ratios(doc), rel=1e-3)  # not stretched to its box
    assert len(fonts) == (2 if together else 12)  # the charts' regular and bold, shared or each
    standing = pypdf.PdfReader(BytesIO(joined)).pages[3].extract_text()
    assert "Target and near-target range" in standing  # the chart's legend, as text
    figures = [e for e in _elements(doc.Root.StructTreeRoot) if e.get("/S") == "/Figure"]
    assert len(figures) >= 6 and all(str(f.Alt) for f in figures)


def _chart_forms(doc: pikepdf.Pdf, page: pikepdf.Page) -> dict[str, Any]:
    found = page.obj.Resources.get("/XObject", {})
    return {str(name): x for name, x in found.items() if name != "/BtvFooter" and x.Subtype == "/Form"}


def _drawn_ratios(doc: pikepdf.Pdf) -> list[float]:
    """Each chart's width over height as drawn (the transformation before it is drawn)."""
    ratios = []
    for page in doc.pages:
        forms = _chart_forms(doc, page)
        ops = list(pikepdf.parse_content_stream(page))
        for before, (operands, operator) in itertools.pairwise(ops):
            if str(operator) == "Do" and str(operands[0]) in forms:
                assert str(before.operator) == "cm"
                a, _, _, d, _, _ = (float(v) for v in before.operands)
                ratios.append(abs(a / d))
    return ratios


def _own_ratios(doc: pikepdf.Pdf) -> list[float]:
    """Each chart's own width over height (its form's box), in the order it is drawn."""
    ratios = []
    for page in doc.pages:
        forms = _chart_forms(doc, page)
        for operands, operator in pikepdf.parse_content_stream(page):
            if str(operator) == "Do" and str(operands[0]) in forms:
                x0, y0, x1, y1 = (float(v) for v in forms[str(operands[0])].BBox)
                ratios.append((x1 - x0) / (y1 - y0))
    return ratios


def _elements(element: Any) -> Iterator[Any]:
    kids = element.get("/K", pikepdf.Array())
    for kid in kids if isinstance(kids, pikepdf.Array) else [kids]:
        if isinstance(kid, pikepdf.Dictionary) and "/S" in kid:
            yield kid
            yield from _elements(kid)


def test_a_chart_that_cannot_be_drawn_is_a_render_error() -> None:
    chart = '<svg width="10" height="10"><g></svg>'  # not well-formed: svg2pdf refuses it
    html = f"<!doctype html><html lang='en'><title>Note</title><p>{chart}</p></html>"
    with pytest.raises(RenderError, match="Could not draw the packet's charts as PDF"):
        packet_pdf(html)
