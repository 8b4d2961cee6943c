"""Light and dark chart themes, with colours checked for WCAG 2.1 AA contrast.

Status colours reach at least 3:1 against the background (non-text contrast, WCAG 1.4.11) and
text colours at least 4.5:1 (WCAG 1.4.3); ``tests/test_charts.py`` computes the ratios. Status is
also drawn as a shape (see :data:`STATUS_SHAPES`), so it never depends on colour alone.

Example:
    >>> THEMES["dark"].background
    '#0d1117'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from catalog.colors import contrast_ratio

__all__ = ["STATUS_SHAPES", "THEMES", "THEME_NAMES", "Theme", "contrast_ratio"]

# Vega-Lite point shapes per status; summary.STATUS_SYMBOLS draws the same shapes as text.
STATUS_SHAPES: Final = {
    "on_track": "circle",
    "near_target": "diamond",
    "off_track": "triangle-down",
    "no_target": "square",
    "no_data": "cross",
}
THEME_NAMES: Final = ("light", "dark")


@dataclass(frozen=True)
class Theme:
    """Colours and font of one chart theme."""

    name: str
    background: str
    text: str
    muted: str
    grid: str
    line: str
    target: str
    band: str
    status: dict[str, str]
    font: str = "Liberation Sans, Arial, Helvetica, sans-serif"

    def config(self) -> dict[str, Any]:
        """The Vega-Lite ``config`` block for this theme."""
        return {
            "background": self.background,
            "font": self.font,
            "padding": 8,
            "view": {"stroke": None},
            "title": {"color": self.text, "subtitleColor": self.muted, "fontSize": 15, "anchor": "start"},
            "axis": {
                "labelColor": self.muted,
                "titleColor": self.muted,
                "gridColor": self.grid,
                "domainColor": self.muted,
                "tickColor": self.muted,
                "labelFontSize": 11,
                "titleFontSize": 11,
                "titleFontWeight": "normal",
            },
            "legend": {"labelColor": self.text, "titleColor": self.text, "labelFontSize": 11},
            "text": {"color": self.text},
        }


THEMES: Final = {
    "light": Theme(
        name="light",
        background="#ffffff",
        text="#1f2328",
        muted="#59636e",
        grid="#d8dee4",
        line="#0b5cad",
        target="#6e40c9",
        band="#8250df",
        status={
            "on_track": "#1a7f37",
            "near_target": "#9a6700",
            "off_track": "#cf222e",
            "no_target": "#59636e",
            "no_data": "#59636e",
        },
    ),
    "dark": Theme(
        name="dark",
        background="#0d1117",
        text="#e6edf3",
        muted="#9198a1",
        grid="#30363d",
        line="#4493f8",
        target="#bc8cff",
        band="#ab7df8",
        status={
            "on_track": "#3fb950",
            "near_target": "#d29922",
            "off_track": "#f85149",
            "no_target": "#9198a1",
            "no_data": "#9198a1",
        },
    ),
}
