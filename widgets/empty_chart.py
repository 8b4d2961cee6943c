"""The chart of a KPI with no value: a small titled image that says why, not empty axes.

When :func:`catalog.explain.why_empty` has a reason (periods still in progress, rows after the
as-of day, a filter that keeps nothing, ...), the KPI's SVG and PNG images and its Vega-Lite spec
(pages, embeds, ``.vl.json``) show the title and "No chart yet: <reason>." in wrapped lines, with
no axes and no number. The SVG is labelled for assistive technology like every chart image.

Example:
    >>> svg = empty_svg(kpi, "its dataset 'x' has no rows yet", width=400)
    >>> "No chart yet: its dataset &#x27;x&#x27; has no rows yet." in svg
    True
    >>> empty_spec(kpi, "its dataset 'x' has no rows yet")["mark"]["type"]
    'text'
"""

from __future__ import annotations

import html
from typing import Any

from btvstat_open.i18n import _
from catalog.models import Kpi
from widgets.plot_spec import SCHEMA
from widgets.textfit import text_width
from widgets.themes import palette as palette_of

__all__ = ["empty_spec", "empty_svg", "empty_text", "wrap"]

PAD, TITLE, BODY, LINE = 12, 15, 13, 18  # padding, font sizes, line height


def empty_text(reason: str) -> str:
    """The sentence every empty chart shows."""
    return _("No chart yet: %(reason)s.") % {"reason": reason.rstrip(".")}


def wrap(text: str, size: float, width: float) -> list[str]:
    """``text`` in lines of words no wider than ``width`` pixels (a long word keeps its own line).

    Example:
        >>> wrap("one two three four", 13, 80)
        ['one two three', 'four']
    """
    lines: list[str] = []
    for word in text.split():
        if lines and text_width(f"{lines[-1]} {word}", size) <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines


def empty_svg(kpi: Kpi, reason: str, *, theme: str = "light", width: int = 720) -> str:
    """A standalone SVG document: the KPI's title and why it has no chart yet."""
    palette = palette_of(theme)
    message = empty_text(reason)
    lines = wrap(message, BODY, width - 2 * PAD)
    esc = html.escape
    texts = [
        f'<text x="{PAD}" y="{PAD + TITLE}" font-size="{TITLE}" font-weight="bold" '
        f'fill="{palette.text}">{esc(kpi.title)}</text>'
    ] + [
        f'<text x="{PAD}" y="{PAD + TITLE + LINE * (i + 1) + 4}" font-size="{BODY}" '
        f'fill="{palette.muted}">{esc(line)}</text>'
        for i, line in enumerate(lines)
    ]
    height = PAD * 2 + TITLE + LINE * len(lines) + 8
    label = esc(f"{kpi.title}. {message}")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{label}" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}"><title>{esc(kpi.title)}</title>'
        f'<desc>{label}</desc><rect width="100%" height="100%" fill="{palette.background}"/>'
        f'<g font-family="{esc(palette.font)}">{"".join(texts)}</g></svg>'
    )


def empty_spec(
    kpi: Kpi, reason: str, *, theme: str = "light", width: int | str = "container", title: bool = True
) -> dict[str, Any]:
    """A Vega-Lite spec drawing only the sentence (and the title when ``title``), no axes."""
    palette = palette_of(theme)
    message = empty_text(reason)
    room = (width if isinstance(width, int) else 480) - 2 * PAD
    lines = wrap(message, BODY, room)
    spec: dict[str, Any] = {
        "$schema": SCHEMA,
        "description": f"{kpi.title}. {message}",
        "width": width,
        "height": LINE * len(lines),
        "background": palette.background,
        "data": {"values": [{"line": line, "row": i} for i, line in enumerate(lines)]},
        "mark": {
            "type": "text",
            "align": "left",
            "baseline": "top",
            "fontSize": BODY,
            "color": palette.muted,
            "font": palette.font,
        },
        "encoding": {
            "text": {"field": "line", "type": "nominal"},
            "x": {"value": 0},
            "y": {"field": "row", "type": "ordinal", "axis": None},
        },
        "config": {"view": {"stroke": None}},
    }
    if title:
        spec["title"] = {"text": kpi.title, "anchor": "start", "color": palette.text}
    return spec
