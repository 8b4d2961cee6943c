"""A packet's charts in its PDF: laid out as stand-in images, drawn apart and put in after.

WeasyPrint draws an SVG image's text one letter at a time, and the packet's 40 charts were about
two fifths of its layout. So the page WeasyPrint lays out (:func:`with_stand_ins`) holds each
chart as a blank PNG image of the chart's size, tagged as a figure with the chart's alternative
text; the layout places it as it placed the chart. Meanwhile each chart's SVG is drawn as a
one-page PDF by vl-convert (svg2pdf, native code: text as text, fonts embedded), and
:func:`draw_charts` puts each chart's page, as a form, where its stand-in image is drawn: inside
the figure's tagged content, at the same place and size.

This module is light (no WeasyPrint, no vl-convert at import): the PDF processes import it.

Example:
    >>> page, charts = with_stand_ins('<p><svg width="4" height="2"><title>A</title></svg></p>')
    >>> page[:31], len(charts)
    ('<p><img alt="A" src="data:image', 1)
"""

from __future__ import annotations

import base64
import functools
import hashlib
import html as html_text
import itertools
import re
import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from io import BytesIO
from typing import Any

__all__ = [
    "IMAGE_RULE",
    "Chart",
    "Drawn",
    "chart_pages",
    "charts_as_images",
    "draw_charts",
    "with_stand_ins",
]

# The packet's charts (the server's own SVG, never nested) and the title WeasyPrint tags them with.
_SVG = re.compile(r"<svg\b[^>]*>.*?</svg>", re.DOTALL)
_TITLE = re.compile(r"<title>(.*?)</title>", re.DOTALL)
_LABEL = re.compile(r' aria-label="([^"]*)"')
_SIZE = re.compile(r'^<svg\b[^>]*?\swidth="(\d+(?:\.\d+)?)"[^>]*?\sheight="(\d+(?:\.\d+)?)"')
# What the page's `.chart svg` rule does for an inline chart, for the chart as an image: drawn at its
# own proportions inside its box, as an SVG is (a raster image would be stretched to the box's, and
# the box is lower than the chart's proportions when its maximum height applies).
IMAGE_RULE = (
    ".chart img { display: block; width: 100%; height: auto; max-height: 70mm; object-fit: contain; }"
)


def _alt(svg: str) -> str:
    """The chart's alternative text, escaped for an attribute: its ``<title>``, else its label."""
    # A chart without a <title> (a peer chart drawn by Vega alone) is named by its label.
    title = _TITLE.search(svg) or _LABEL.search(svg[: svg.find(">") + 1])
    return html_text.escape(html_text.unescape(title.group(1)) if title else "Chart", quote=True)


def charts_as_images(html: str) -> str:
    """The packet page with each inline SVG chart as an ``<img>`` of the same SVG, for WeasyPrint.

    WeasyPrint lays an ``<img>`` out from the SVG file in one piece; an inline chart's thousands of
    elements first go through its HTML parser and style cascade. The figure keeps the alternative
    text it had (the chart's ``<title>``), and one without a title gets its ``aria-label``.

    Example:
        >>> charts_as_images('<p><svg role="img"><title>A &amp; B</title></svg></p>')[:44]
        '<p><img alt="A &amp; B" src="data:image/svg+'
    """

    def image(match: re.Match[str]) -> str:
        data = base64.b64encode(match.group(0).encode()).decode()
        return f'<img alt="{_alt(match.group(0))}" src="data:image/svg+xml;base64,{data}">'

    return _SVG.sub(image, html)


@dataclass(frozen=True)
class Chart:
    """One chart of the page: its SVG and the data URI of the image standing in for it."""

    svg: str
    uri: str
    width: int
    height: int

    @property
    def image_name(self) -> str:
        """The name WeasyPrint gives the stand-in image's XObject, without its last character
        (``i`` + the MD5 of its URI, then 0 or 1: whether it is interpolated)."""
        return "/i" + hashlib.md5(self.uri.encode(), usedforsecurity=False).hexdigest()


@functools.lru_cache(maxsize=64)
def _blank(width: int, height: int) -> bytes:
    """The compressed rows of a white RGB image (the charts of a packet have a few sizes)."""
    return zlib.compress((b"\0" + b"\xff" * (3 * width)) * height, 6)


def _png(width: int, height: int, number: int) -> bytes:
    """A white RGB PNG of ``width`` x ``height`` pixels whose text chunk says ``number`` (so that
    every stand-in is an image of its own)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    text = b"Comment\0btvstat-open chart " + str(number).encode()
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"tEXt", text)
        + chunk(b"IDAT", _blank(width, height))
        + chunk(b"IEND", b"")
    )


def with_stand_ins(html: str) -> tuple[str, list[Chart]]:
    """The packet page with each inline SVG chart as a blank image of its size (its alternative
    text the chart's), and the charts; a chart without a size in pixels stays an SVG image.

    Example:
        >>> page, charts = with_stand_ins('<svg width="640" height="260"></svg><svg></svg>')
        >>> page.count("image/png"), page.count("image/svg+xml"), charts[0].svg
        (1, 1, '<svg width="640" height="260"></svg>')
    """
    charts: list[Chart] = []

    def image(match: re.Match[str]) -> str:
        svg = match.group(0)
        size = _SIZE.match(svg)
        if size is None:
            return charts_as_images(svg)
        width, height = (max(1, round(float(v))) for v in size.groups())
        uri = "data:image/png;base64," + base64.b64encode(_png(width, height, len(charts))).decode()
        charts.append(Chart(svg, uri, width, height))
        return f'<img alt="{_alt(svg)}" src="{uri}">'

    return _SVG.sub(image, html), charts


@dataclass(frozen=True)
class Drawn:
    """The charts drawn as PDF: one page holding them all, one under the other (so their fonts are
    embedded once, not once a chart), cut in each chart's content; else (charts with ids of their
    own, or a page not shaped as expected) a page each."""

    #: the page holding every chart, and each chart's content cut from it
    together: bytes | None
    contents: tuple[bytes, ...] = ()
    #: each chart's page, when they are not together
    apart: tuple[bytes, ...] = ()


def chart_pages(charts: Sequence[Chart]) -> Drawn:
    """The charts drawn as PDF by vl-convert (svg2pdf): on one page, one under the other, when
    their SVGs hold no ids (that could clash on one page), else a page each."""
    from widgets.render import svg_to_pdf  # here: a PDF process lays pages out without it

    if charts and not any(" id=" in chart.svg for chart in charts):
        together = svg_to_pdf(_together(charts))
        contents = _cut(charts, together)
        if contents is not None:
            return Drawn(together, contents)
    return Drawn(None, apart=tuple(svg_to_pdf(chart.svg) for chart in charts))


def _together(charts: Sequence[Chart]) -> str:
    """One SVG holding every chart, one under the other (each moved down by the ones above)."""
    width = max((c.width for c in charts), default=1)
    height = sum(c.height for c in charts) or 1
    tops = _tops(charts)
    moved = [f'<g transform="translate(0,{top})">{c.svg}</g>' for c, top in zip(charts, tops, strict=True)]
    return f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}">{"".join(moved)}</svg>'


def _tops(charts: Sequence[Chart]) -> list[int]:
    return list(itertools.accumulate((c.height for c in charts[:-1]), initial=0)) if charts else []


_WRAP = 3  # svg2pdf's page content: three (q, cm) around the drawing, each chart a group in them


def _cut(charts: Sequence[Chart], page: bytes) -> tuple[bytes, ...] | None:
    """Each chart's content cut from the page holding them all: the page's wrapping around the
    chart's group (moved down by its top); None when the page is not shaped so."""
    import pikepdf

    with pikepdf.open(BytesIO(page)) as document:
        ops = list(pikepdf.parse_content_stream(document.pages[0]))
    names = [str(instruction.operator) for instruction in ops]
    head, tail = ops[: 2 * _WRAP], ops[len(ops) - _WRAP :]
    if names[: 2 * _WRAP] != ["q", "cm"] * _WRAP or names[len(ops) - _WRAP :] != ["Q"] * _WRAP:
        return None
    groups, depth, start = [], 0, 0
    for n in range(2 * _WRAP, len(ops) - _WRAP):
        depth += 1 if names[n] == "q" else -1 if names[n] == "Q" else 0
        if depth < 0 or (depth == 0 and names[n] != "Q"):
            return None  # something outside the charts' groups
        if depth == 1 and names[n] == "q":
            start = n
        elif depth == 0:
            groups.append(ops[start : n + 1])
    tops = _tops(charts)
    if len(groups) != len(charts) or any(
        str(g[1].operator) != "cm" or [float(v) for v in g[1].operands] != [1, 0, 0, 1, 0, top]
        for g, top in zip(groups, tops, strict=True)
    ):
        return None
    return tuple(pikepdf.unparse_content_stream([*head, *group, *tail]) for group in groups)


def _forms_apart(pdf: Any, pages: Sequence[bytes]) -> list[Any]:
    """A form per chart page, drawn in the unit square."""
    import pikepdf

    forms = []
    for page in pages:
        document = pikepdf.open(BytesIO(page))  # (kept while its page is copied)
        form = document.pages[0].as_form_xobject()
        x0, y0, x1, y1 = (float(v) for v in form.BBox)
        form.Matrix = pikepdf.Array([1 / (x1 - x0), 0, 0, 1 / (y1 - y0), -x0 / (x1 - x0), -y0 / (y1 - y0)])
        forms.append(pdf.copy_foreign(form))
    return forms


def _forms_together(pdf: Any, charts: Sequence[Chart], drawn: Drawn) -> list[Any]:
    """A form per chart, its content cut from the page holding them all, sharing its resources."""
    import pikepdf

    assert drawn.together is not None
    document = pikepdf.open(BytesIO(drawn.together))  # (kept while its resources are copied)
    source = document.pages[0]
    resources = pdf.copy_foreign(document.make_indirect(source.obj.Resources))
    full = float(source.MediaBox[3])
    forms = []
    for chart, content, top in zip(charts, drawn.contents, _tops(charts), strict=True):
        bottom = full - top - chart.height  # the chart's box on the page (PDF's y goes up)
        form = pikepdf.Stream(pdf, content)
        form.Type, form.Subtype = pikepdf.Name.XObject, pikepdf.Name.Form
        form.BBox = pikepdf.Array([0, bottom, chart.width, bottom + chart.height])
        form.Matrix = pikepdf.Array([1 / chart.width, 0, 0, 1 / chart.height, 0, -bottom / chart.height])
        form.Resources = resources
        forms.append(pdf.make_indirect(form))
    return forms


def draw_charts(pdf: Any, charts: Sequence[Chart], drawn: Drawn) -> None:
    """Put each chart (``drawn`` by :func:`chart_pages`) in ``pdf`` (a ``pikepdf.Pdf``) in place of
    its stand-in image: a form of the chart's size drawn in the image's unit square. A chart whose
    stand-in is not drawn (hidden by a theme's stylesheet) is not drawn either.
    """
    if not charts:
        return
    if drawn.together is not None:
        forms = _forms_together(pdf, charts, drawn)
    else:
        forms = _forms_apart(pdf, drawn.apart)
    by_name = {chart.image_name: form for chart, form in zip(charts, forms, strict=True)}
    for page in pdf.pages:
        xobjects = page.obj.get("/Resources", {}).get("/XObject", {})
        for name in list(xobjects.keys()):
            form = by_name.get(name[:-1])
            if form is not None:
                xobjects[name] = form
