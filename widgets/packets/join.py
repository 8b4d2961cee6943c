"""The front and the items parts of a packet (:mod:`widgets.packets.parts`) joined into one PDF.

The joined PDF is the front's first pages (cover, contents, follow-ups), then every items part's
pages, each with the footer its stand-in page in the front carries (drawn as an artifact: page
furniture, out of the structure tree). It stays a tagged PDF/UA-1 document:

- the structure tree is the front's elements of the pages kept, then each part's, under one
  ``Document`` element; its parent tree is numbered again (pages first, then annotations, as
  WeasyPrint numbers them) and every page's ``StructParents`` and annotation's ``StructParent``
  with it;
- the named destinations are the front's (on its own pages) and the parts', so the contents'
  and follow-ups' links reach the items' pages;
- the outline (bookmarks) is made from every page's bookmarks in order, as WeasyPrint makes it;
- the title, language, metadata and viewer preferences are the front's.

Example:
    >>> pdf = join(front, 2, [first_items, other_items])  # doctest: +SKIP
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from io import BytesIO
from typing import TYPE_CHECKING, Any

import pikepdf

from widgets.packets.charts import Chart, Drawn, draw_charts

if TYPE_CHECKING:
    from widgets.packets.parts import LaidOut

__all__ = ["JoinError", "join", "with_charts"]

_FOOTER = pikepdf.Name("/BtvFooter")
_PT = 0.75  # PDF points per CSS pixel
_TAGGED = re.compile(rb"/\w+\s*<<\s*/MCID \d+\s*>>\s*BDC")  # a tagged piece of content


class JoinError(Exception):
    """The parts are not as WeasyPrint makes them (the packet is then laid out whole)."""


def _nums(pdf: pikepdf.Pdf) -> dict[int, Any]:
    """A document's parent tree (WeasyPrint writes it flat, as ``/Nums``)."""
    tree = pdf.Root.StructTreeRoot.ParentTree
    if "/Kids" in tree or "/Nums" not in tree:
        raise JoinError("the parent tree is not flat")
    nums = list(tree.Nums)
    return {int(nums[i]): nums[i + 1] for i in range(0, len(nums), 2)}


def _page_index(pdf: pikepdf.Pdf) -> dict[tuple[int, int], int]:
    return {page.obj.objgen: n for n, page in enumerate(pdf.pages)}


def join(
    front: LaidOut,
    cover: int,
    parts: Sequence[LaidOut],
    charts: Sequence[Chart] = (),
    pages: Drawn | None = None,
) -> bytes:
    """The front's first ``cover`` pages, then every part's pages, as one tagged PDF, with the
    ``charts`` (their PDF ``pages``) drawn in place of their stand-ins (:mod:`widgets.packets.charts`)."""
    try:
        return _join(front, cover, parts, charts, pages or Drawn(None))
    except (KeyError, AttributeError, ValueError, IndexError, pikepdf.PdfError) as exc:
        raise JoinError(str(exc)) from exc


def with_charts(pdf: bytes, charts: Sequence[Chart], pages: Drawn) -> bytes:
    """A PDF laid out whole, with the ``charts`` drawn in place of their stand-ins.

    Example:
        >>> with_charts(b"%PDF-1.7 ...", [], Drawn(None))
        b'%PDF-1.7 ...'
    """
    if not charts:
        return pdf
    out = pikepdf.open(BytesIO(pdf))
    draw_charts(out, charts, pages)
    return _save(out)


def _save(out: pikepdf.Pdf) -> bytes:
    """The document's bytes: the same for the same document (no random identifier)."""
    buffer = BytesIO()
    out.save(
        buffer,
        deterministic_id=True,
        fix_metadata_version=False,
        object_stream_mode=pikepdf.ObjectStreamMode.generate,
    )
    return buffer.getvalue()


def _join(
    front: LaidOut, cover: int, parts: Sequence[LaidOut], charts: Sequence[Chart], pages: Drawn
) -> bytes:
    out = pikepdf.open(BytesIO(front.pdf))
    sources = [pikepdf.open(BytesIO(part.pdf)) for part in parts]
    front_index = _page_index(out)
    document = out.Root.StructTreeRoot.K[0]
    kids = [k for k in document.K if front_index[k.Pg.objgen] < cover]
    footers = [_footer(out.pages[n]) for n in range(cover, len(out.pages))]
    dests = _dests(out, lambda page: front_index.get(page.objgen, cover) < cover)
    # every page's and annotation's parent-tree entry, in the joined document's order
    entries: list[tuple[Any, Any]] = []
    notes: list[tuple[Any, Any]] = []
    _entries(out.pages[:cover], _nums(out), lambda value: value, entries, notes)
    del out.pages[cover:]
    for source in sources:
        first = len(out.pages)
        for page in source.pages:
            out.pages.append(page)
        added = out.pages[first:]
        _entries(added, _nums(source), lambda value: _copy(out, value), entries, notes)
        for n, page in enumerate(added):
            _over(out, page, footers[first - cover + n])
        for kid in source.Root.StructTreeRoot.K[0].K:
            kid = out.copy_foreign(kid)
            kid.P = document
            kids.append(kid)
        for name, dest in _dests(source, lambda page: True).items():
            dests.setdefault(name, _copy(out, dest))
    document.K = pikepdf.Array(kids)
    _parent_tree(out, entries, notes)
    names = [x for name in sorted(dests) for x in (pikepdf.String(name), dests[name])]
    out.Root.Names.Dests = out.make_indirect(pikepdf.Dictionary(Names=pikepdf.Array(names)))
    marks = [front.bookmarks[:cover], *(p.bookmarks for p in parts)]
    _outline(out, marks, [front.heights[:cover], *(p.heights for p in parts)])
    draw_charts(out, charts, pages)
    return _save(out)


def _copy(out: pikepdf.Pdf, value: Any) -> Any:
    """``value`` of a part's document, in the joined one (its pages already copied)."""
    if isinstance(value, pikepdf.Object) and value.is_indirect:
        return out.copy_foreign(value)
    if isinstance(value, pikepdf.Array):
        return pikepdf.Array([_copy(out, v) for v in value])
    return value


def _entries(
    pages: Sequence[pikepdf.Page],
    nums: dict[int, Any],
    copy: Any,
    entries: list[tuple[Any, Any]],
    notes: list[tuple[Any, Any]],
) -> None:
    """Each page's parent-tree entry, and each of its annotations' (its links)."""
    for page in pages:
        entries.append((page.obj, copy(nums[int(page.obj.StructParents)])))
        for annot in page.obj.get("/Annots", []):
            if "/StructParent" in annot:
                notes.append((annot, copy(nums[int(annot.StructParent)])))


def _footer(page: pikepdf.Page) -> Any:
    """A stand-in page as a form to draw on an item's page: its footer, every piece of it an
    artifact (WeasyPrint tags the footer as text of the stand-in page, which is not kept)."""
    form = page.as_form_xobject()
    form.write(_TAGGED.sub(b"/Artifact BMC", form.read_bytes()))
    return form


def _over(out: pikepdf.Pdf, page: pikepdf.Page, footer: Any) -> None:
    """Draw ``footer`` (a form: the stand-in page's footer, an artifact) over the page's content,
    where WeasyPrint draws a page's footer (the front paints no background: see FRONT_CSS)."""
    shared: Any = page.obj.Resources
    resources = pikepdf.Dictionary(shared)  # the pages shared it: this page's own
    found: Any = resources.get("/XObject", {})
    xobjects = pikepdf.Dictionary(found)
    xobjects[_FOOTER] = footer
    resources.XObject = xobjects
    page.obj.Resources = resources
    before = pikepdf.Stream(out, b"q\n")  # the page's content leaves its coordinates changed
    after = pikepdf.Stream(out, b"\nQ\n/Artifact BMC /BtvFooter Do EMC\n")
    contents = page.obj.Contents
    streams = list(contents) if isinstance(contents, pikepdf.Array) else [contents]
    page.obj.Contents = pikepdf.Array([before, *streams, after])


def _dests(pdf: pikepdf.Pdf, keep: Any) -> dict[str, Any]:
    """The document's named destinations (flat, as WeasyPrint writes them) on the pages kept."""
    names = pdf.Root.get("/Names")
    if names is None or "/Dests" not in names:
        return {}
    flat = list(names.Dests.Names)
    return {str(flat[i]): flat[i + 1] for i in range(0, len(flat), 2) if keep(flat[i + 1][0])}


def _parent_tree(out: pikepdf.Pdf, entries: list[tuple[Any, Any]], notes: list[tuple[Any, Any]]) -> None:
    """Number the parent tree again: the pages in order, then the annotations."""
    nums: list[Any] = []
    for key, (page, value) in enumerate(entries):
        page.StructParents = key
        nums.extend([key, value])
    for key, (annot, value) in enumerate(notes, start=len(entries)):
        annot.StructParent = key
        nums.extend([key, value])
    out.Root.StructTreeRoot.ParentTree = out.make_indirect(pikepdf.Dictionary(Nums=pikepdf.Array(nums)))


def _outline(out: pikepdf.Pdf, bookmarks: list[Any], heights: list[Any]) -> None:
    """The joined document's outline, from every page's bookmarks, nested as WeasyPrint nests them."""
    pages = [
        (marks, height)
        for group, sizes in zip(bookmarks, heights, strict=True)
        for marks, height in zip(group, sizes, strict=True)
    ]
    tree = _bookmark_tree(pages)
    if "/Outlines" in out.Root:
        del out.Root["/Outlines"]
    if tree:
        root = out.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.Outlines))
        items, count = _outlines(out, tree, root)
        root.Count, root.First, root.Last = count, items[0], items[-1]
        out.Root.Outlines = root


def _bookmark_tree(pages: list[tuple[Any, float]]) -> list[Any]:
    """Bookmarks (level, label, (x, y), state) of each page (with its height in CSS pixels) as a tree
    of (label, (page, x, y), children, state) in PDF points, as ``weasyprint.Document``'s
    ``make_bookmark_tree`` makes it: a level skipped (an h4 under an h2) adds no depth."""
    root: list[Any] = []
    skipped: list[int] = []  # at each depth, how many levels were skipped to reach it
    last_by_depth = [root]
    previous = 0
    for number, (marks, height) in enumerate(pages):
        for level, label, (x, y), state in marks:
            if level > previous:
                skipped.append(level - previous - 1)
            else:
                climbed = level
                while climbed < previous:
                    climbed += 1 + skipped.pop()
                if climbed > previous:
                    skipped.append(climbed - previous - 1)
            previous = level
            depth = level - sum(skipped)
            children: list[Any] = []
            last_by_depth[depth - 1].append((label, (number, x * _PT, (height - y) * _PT), children, state))
            del last_by_depth[depth:]
            last_by_depth.append(children)
    return root


def _outlines(out: pikepdf.Pdf, tree: list[Any], parent: Any) -> tuple[list[Any], int]:
    """Outline items for ``tree`` under ``parent`` (as weasyprint.pdf.anchors.add_outlines)."""
    items: list[Any] = []
    count = len(tree)
    for title, (page, x, y), children, state in tree:
        dest = pikepdf.Array([out.pages[page].obj, pikepdf.Name.XYZ, x, y, 0])
        item = out.make_indirect(pikepdf.Dictionary(Title=pikepdf.String(title), Dest=dest, Parent=parent))
        below, below_count = _outlines(out, children, item)
        item.Count = -below_count if state == "closed" else below_count
        if state != "closed":
            count += below_count
        if below:
            item.First, item.Last = below[0], below[-1]
        if items:
            item.Prev, items[-1].Next = items[-1], item
        items.append(item)
    return items, count
