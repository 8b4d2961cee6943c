"""A packet's PDF laid out in parts (the front and two runs of items), then joined.

WeasyPrint lays a document out in one thread of one process; a packet of 40 KPIs takes seconds.
:func:`assemble` cuts the printed page (:mod:`widgets.packets.split`) and hands ``run`` two
groups of documents: the front then the first items, and the other items. The server runs the
groups in two processes at once (:class:`~widgets.packets.layout.PdfProcesses`),
:func:`~widgets.packets.render.packet_pdf` one after the other: the parts, and so the joined
PDF (:mod:`widgets.packets.join`), are the same bytes either way.

The front is laid out with a guess of each item's pages (one); when an items part shows the
guess was wrong, the front is laid out again with the pages it found, and when that still does
not match (a page the cut changed), the page is laid out whole, in one piece, as before.

Example:
    >>> pdf = assemble(page, run_here)  # doctest: +SKIP
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from btvstat_open.errors import RenderError
from widgets.packets.charts import IMAGE_RULE, Chart, Drawn, chart_pages, charts_as_images, with_stand_ins
from widgets.packets.split import FRONT_CSS, ITEMS_CSS, Split, split_packet

__all__ = [
    "FRONT_SHARE",
    "LaidOut",
    "Task",
    "assemble",
    "laid_out_whole",
    "lay_out",
    "lay_out_group",
    "run_here",
]

#: the front's layout costs about as much as this many items (its contents, follow-ups, footers)
#: plus a quarter of an item per item (a line of contents and a stand-in page each), measured
#: with the items' charts drawn apart (widgets.packets.charts)
FRONT_SHARE = 8
#: (the page, how it is laid out: "whole", "front" or "items")
Task = tuple[str, str]
Bookmark = tuple[int, str, tuple[float, float], str]


@dataclass(frozen=True)
class LaidOut:
    """One document laid out: its PDF and where its pages' anchors and bookmarks are."""

    pdf: bytes
    #: the page (from 0) of each anchor (``id``) of the document
    anchors: dict[str, int]
    #: each page's bookmarks, as WeasyPrint lists them (level, label, (x, y), state)
    bookmarks: tuple[tuple[Bookmark, ...], ...]
    #: each page's height (CSS pixels)
    heights: tuple[float, ...]

    @property
    def pages(self) -> int:
        """How many pages it has."""
        return len(self.heights)


def _weasyprint() -> Any:
    try:
        import weasyprint
    except (ImportError, OSError) as exc:  # OSError: Pango or its fonts are missing
        raise RenderError(
            f"Cannot make PDF packets: WeasyPrint is not usable here ({exc}). Install the Pango "
            "libraries (Debian: libpango-1.0-0 libpangoft2-1.0-0) and a font such as fonts-dejavu-core."
        ) from exc
    return weasyprint


@functools.cache
def _stylesheets(role: str) -> list[Any]:
    """The stylesheets a part adds to the page's own, parsed once per process."""
    weasyprint = _weasyprint()
    extra = {"whole": "", "front": FRONT_CSS, "items": ITEMS_CSS}[role]
    return [weasyprint.CSS(string=IMAGE_RULE + "\n" + extra)]


def lay_out(html: str, role: str = "whole") -> LaidOut:
    """The document ``html`` laid out as PDF/UA-1 (``role``: which part of a packet it is).

    Raises :class:`~btvstat_open.errors.RenderError` when WeasyPrint or its libraries fail.
    """
    weasyprint = _weasyprint()
    try:
        document = weasyprint.HTML(string=charts_as_images(html), base_url=None).render(
            pdf_variant="pdf/ua-1", stylesheets=_stylesheets(role)
        )
        pdf: bytes = document.write_pdf(pdf_variant="pdf/ua-1", uncompressed_pdf=False)
    except Exception as exc:
        raise RenderError(f"Could not lay out the packet as PDF: {exc}.") from exc
    anchors: dict[str, int] = {}
    for number, page in enumerate(document.pages):
        for name in page.anchors:
            anchors.setdefault(name, number)
    return LaidOut(
        pdf=pdf,
        anchors=anchors,
        bookmarks=tuple(tuple(page.bookmarks) for page in document.pages),
        heights=tuple(float(page.height) for page in document.pages),
    )


def lay_out_group(group: Sequence[Task]) -> list[LaidOut]:
    """The documents of one group, one after the other (what one process does)."""
    return [lay_out(html, role) for html, role in group]


def laid_out_whole(html: str) -> bytes:
    """The page ``html`` laid out in one piece in this process, its charts drawn apart
    (:mod:`widgets.packets.charts`): what a packet is when it is not cut in parts."""
    from widgets.packets.join import with_charts

    page, charts = with_stand_ins(html)
    return with_charts(lay_out(page).pdf, charts, chart_pages(charts))


def run_here(groups: Sequence[Sequence[Task]]) -> list[list[LaidOut]]:
    """Every group laid out in this process, one after the other."""
    return [lay_out_group(group) for group in groups]


def _cut(count: int) -> int:
    """How many items go with the front so that both groups take about as long."""
    front = FRONT_SHARE + count / 4
    return max(0, min(count, round((count - front) / 2)))


def assemble(
    html: str, run: Callable[[Sequence[Sequence[Task]]], list[list[LaidOut]]], *, cut: int | None = None
) -> bytes:
    """The printed packet page ``html`` as one tagged PDF, its parts laid out by ``run``; ``cut``
    items go with the front (by default as many as balance the two groups). The charts are laid
    out as stand-ins and drawn meanwhile in this process (:mod:`widgets.packets.charts`)."""
    html, charts = with_stand_ins(html)
    with ThreadPoolExecutor(1, thread_name_prefix="packet-charts") as drawing:
        pages = drawing.submit(chart_pages, charts)
        return _assemble(html, run, cut, charts, pages)


def _assemble(
    html: str,
    run: Callable[[Sequence[Sequence[Task]]], list[list[LaidOut]]],
    cut: int | None,
    charts: list[Chart],
    pages: Future[Drawn],
) -> bytes:
    from widgets.packets.join import JoinError, join, with_charts

    split = split_packet(html)
    if split is None:
        return with_charts(run([[(html, "whole")]])[0][0].pdf, charts, _drawn(pages))
    cut = _cut(split.count) if cut is None else max(0, min(cut, split.count))
    ranges = [(0, cut), (cut, split.count)] if 0 < cut < split.count else [(0, split.count)]
    items = [(split.items(first, last), "items") for first, last in ranges]
    groups = [[(split.front([1] * split.count), "front"), *items[:-1]], items[-1:]]
    done = run(groups)
    front, parts = done[0][0], [*done[0][1:], *done[1]]
    cover = _fits(split, front, parts)
    if cover is None:  # the guess was wrong: the front again, with the pages the items take
        front = run([[(split.front(_pages(split, parts)), "front")]])[0][0]
        cover = _fits(split, front, parts)
    if cover is not None:
        try:
            return join(front, cover, parts, charts, _drawn(pages))
        except JoinError:
            pass
    return with_charts(run([[(html, "whole")]])[0][0].pdf, charts, _drawn(pages))


def _drawn(pages: Future[Drawn]) -> Drawn:
    """The charts drawn as PDF; :class:`RenderError` when vl-convert could not draw them."""
    try:
        return pages.result()
    except Exception as exc:
        raise RenderError(f"Could not draw the packet's charts as PDF: {exc}.") from exc


def _pages(split: Split, parts: list[LaidOut]) -> list[int]:
    """How many pages each item takes (up to the next item's first page, or its part's end)."""
    pages: list[int] = []
    for part in parts:
        starts = [part.anchors[a] for a in split.item_ids if a in part.anchors]
        ends = [*starts[1:], part.pages]
        pages.extend(max(1, end - start) for start, end in zip(starts, ends, strict=True))
    return pages if len(pages) == split.count else [1] * split.count


def _fits(split: Split, front: LaidOut, parts: list[LaidOut]) -> int | None:
    """The front's number of own pages when its stand-ins take exactly the items parts' pages
    and carry their anchors on the same pages; else None."""
    first = next(iter(split.anchors))
    cover = front.anchors.get(first, -1)
    if cover < 1 or front.pages != cover + sum(p.pages for p in parts):
        return None
    offset = cover
    for part in parts:
        for anchor in split.anchors:
            if anchor in part.anchors and front.anchors.get(anchor) != offset + part.anchors[anchor]:
                return None
        offset += part.pages
    return cover
