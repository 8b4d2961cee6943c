"""A printed packet page cut into parts that WeasyPrint can lay out side by side.

A packet's PDF is mostly its KPI items, each starting a page. :func:`split_packet` cuts the printed
page (:func:`~widgets.packets.render.packet_html`, ``links=False``) into:

- **items parts**: the items, in order, split in runs; each a page of its own with the sections
  the items sit in (a section's heading goes with its first item), laid out without page footers;
- **the front**: the cover, the contents and the follow-ups as printed, then every item as an
  empty stand-in taking as many pages as the item does, hidden. Laid out, its first pages are the
  packet's first pages, and its stand-in pages carry the footer ("Page N of M") and the anchors
  of the pages the items parts fill, so the contents' page numbers are the packet's.

How many pages an item takes is known once its part is laid out; the front is laid out with a
guess (one page an item) at the same time, and again when the guess was wrong
(:mod:`widgets.packets.parts`). The page is the server's own template's output; one that does not
have the expected shape (a theme's template, an old kept page) is not split (None).

Example:
    >>> page = open(packet_page_path).read()  # doctest: +SKIP
    >>> split = split_packet(page)  # doctest: +SKIP
    >>> front = split.front([1] * split.count)  # doctest: +SKIP
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

__all__ = ["FRONT_CSS", "ITEMS_CSS", "Split", "split_packet"]

#: added to the front's stylesheet: the stand-ins take their pages but draw nothing, and no page
#: paints a background (white as the paper), so a stand-in page can be drawn over an item's page
FRONT_CSS = (
    "html { background: transparent !important; } .stand-in { visibility: hidden !important; } "
    ".stand-in-page { break-before: page; }"
)
#: added to an items part's stylesheet: its pages' footers are drawn from the front's
ITEMS_CSS = "@page { @bottom-left { content: none !important; } @bottom-right { content: none !important; } }"

_MAIN = '<main id="main" tabindex="-1">'
_SECTION = re.compile(r'<section class="part( empty)?" id="([a-z-]+)"[^>]*>(.*?)</section>', re.S)
_ARTICLE = re.compile(r'<article class="item" id="([^"]+)"[^>]*>.*?</article>', re.S)


@dataclass(frozen=True)
class _Section:
    """One ``<section class="part">`` of the page's main content."""

    tag: str  # its opening tag
    id: str
    head: str  # what comes before its first item (its heading; all of it when empty)
    items: tuple[str, ...]  # its items' articles
    ids: tuple[str, ...]  # their anchors
    tail: str  # what follows its last item


@dataclass(frozen=True)
class Split:
    """A printed packet page cut into a front and items, put back together as HTML documents."""

    head: str  # the document up to ``<body>`` (its styles, title and language)
    cover: str  # the body up to the main content
    front_sections: tuple[str, ...]  # the follow-ups and any empty section right after them
    sections: tuple[_Section, ...]  # the sections holding items, then any after them
    end: str  # what follows the main content

    @property
    def count(self) -> int:
        """How many items the packet has."""
        return sum(len(s.items) for s in self.sections)

    @property
    def item_ids(self) -> tuple[str, ...]:
        """Each item's anchor, in packet order."""
        return tuple(a for s in self.sections for a in s.ids)

    @property
    def anchors(self) -> tuple[str, ...]:
        """The anchors both the front and the items parts have: each item's and section's."""
        return tuple(a for s in self.sections for a in (s.id, *s.ids))

    def front(self, pages: list[int]) -> str:
        """The front, with item ``i`` standing in for ``pages[i]`` pages."""
        out, n = [], 0
        for s in self.sections:
            stand_ins = []
            for anchor in s.ids:
                # (a first child's break would be its article's: the pages break after an empty block)
                extra = "<div></div>" + '<div class="stand-in-page"></div>' * (pages[n] - 1)
                stand_ins.append(f'<article class="item" id="{anchor}">{extra}</article>')
                n += 1
            out.append(_hidden(s.tag) + s.head + "\n".join(stand_ins) + s.tail + "</section>")
        return self._document(self.cover + _MAIN + "".join(self.front_sections) + "\n".join(out))

    def items(self, first: int, last: int) -> str:
        """The items ``first`` to ``last - 1`` (in packet order) as a document of their own.

        A section's heading goes with its first item, a section without items with the part that
        ends where it begins; a section cut in two goes on without heading nor anchor.
        """
        out, n = [], 0
        for s in self.sections:
            start, stop = n, n + len(s.items)
            n = stop
            mine = s.items[max(first - start, 0) : max(min(last, stop) - start, 0)]
            empty_here = not s.items and first < start <= last
            if not mine and not empty_here:
                continue
            if start >= first:  # the section begins in this part
                out.append(s.tag + s.head + "\n  ".join(mine) + s.tail + "</section>")
            else:
                out.append('<section class="part">' + "\n  ".join(mine) + s.tail + "</section>")
        return self._document(_MAIN + "\n".join(out))

    def _document(self, body: str) -> str:
        return self.head + body + "\n</main>" + self.end


def _hidden(tag: str) -> str:
    return tag.replace('class="part', 'class="stand-in part', 1)


def split_packet(html: str) -> Split | None:
    """The printed packet page cut into a front and items; None when it has no items or has not
    the shape of the server's own packet page (it is then laid out whole).

    Example:
        >>> split_packet("<html><body><p>Not a packet</p></body></html>") is None
        True
    """
    body, main = html.find("<body>"), html.find(_MAIN)
    end = html.rfind("</main>")
    if min(body, main, end) < 0 or html.count(_MAIN) != 1:
        return None
    content = html[main + len(_MAIN) : end]
    found = list(_SECTION.finditer(content))
    if not found or found[0].group(2) != "follow-ups" or _leftover(content, found):
        return None
    sections = [_section(m) for m in found[1:]]
    if any(s is None for s in sections):
        return None
    parts = [s for s in sections if s is not None]
    leading = 0  # empty sections after the follow-ups flow on its page: they are the front's
    while leading < len(parts) and not parts[leading].items:
        leading += 1
    split = Split(
        head=html[: body + len("<body>")],
        cover=html[body + len("<body>") : main],
        front_sections=tuple(m.group(0) for m in found[: leading + 1]),
        sections=tuple(parts[leading:]),
        end=html[end + len("</main>") :],
    )
    return split if split.count else None


def _leftover(content: str, found: list[re.Match[str]]) -> bool:
    """Whether the main content holds anything but its sections (then it is not cut)."""
    rest = content
    for m in reversed(found):
        rest = rest[: m.start()] + rest[m.end() :]
    return bool(rest.strip())


def _section(match: re.Match[str]) -> _Section | None:
    tag = match.group(0)[: match.group(0).find(">") + 1]
    inner = match.group(3)
    items = list(_ARTICLE.finditer(inner))
    if not items:
        return _Section(tag, match.group(2), inner, (), (), "")
    if "<article" in inner[items[-1].end() :] or any(
        inner[a.end() : b.start()].strip() for a, b in itertools.pairwise(items)
    ):
        return None  # something between or after the items: not the template's shape
    return _Section(
        tag=tag,
        id=match.group(2),
        head=inner[: items[0].start()],
        items=tuple(m.group(0) for m in items),
        ids=tuple(m.group(1) for m in items),
        tail=inner[items[-1].end() :],
    )
