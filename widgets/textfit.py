"""Estimated widths of text in the charts' font, for laying out the frame of static images.

The frame (title, subtitle, key) is written as SVG text without asking the renderer to measure
it, so its layout uses the advance widths of Liberation Sans, which is metric-compatible with
Arial and Helvetica (thousandths of an em, ASCII only; other characters count as wide).
``tests/test_charts.py`` checks the estimate against vl-convert's own measurement.

Example:
    >>> round(text_width("Off track", 11))
    42
    >>> fit("A very long title indeed", 15, 120)
    'A very long title…'
"""

from __future__ import annotations

from typing import Final

__all__ = ["fit", "text_width"]

# Advance widths of the printable ASCII characters, space (32) to tilde (126).
_WIDTHS: Final = (
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278,  # space to /
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556,  # 0 to ?
    1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778,  # @ to O
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556,  # P to _
    333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556,  # ` to o
    556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,  # p to ~
)  # fmt: skip
_WIDE: Final = 1000  # anything else: symbols, CJK, emoji (an overestimate keeps text inside the image)
_BOLD: Final = 1.08  # bold glyphs are about this much wider on average


def text_width(text: str, size: float, *, bold: bool = False) -> float:
    """The estimated width in pixels of ``text`` at font size ``size``."""
    units = sum(_WIDTHS[ord(c) - 32] if 32 <= ord(c) <= 126 else _WIDE for c in text)
    return units * size / 1000 * (_BOLD if bold else 1.0)


def fit(text: str, size: float, width: float, *, bold: bool = False) -> str:
    """``text`` cut short with an ellipsis so that it fits in ``width`` pixels."""
    if text_width(text, size, bold=bold) <= width:
        return text
    room = width - text_width("…", size, bold=bold)
    kept = ""
    for char in text:
        if text_width(kept + char, size, bold=bold) > room:
            break
        kept += char
    return kept.rstrip() + "…"
