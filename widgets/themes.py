"""Light and dark chart themes, with colours checked for WCAG 2.1 AA contrast.

Status colours reach at least 3:1 against the background (non-text contrast, WCAG 1.4.11) and
text colours at least 4.5:1 (WCAG 1.4.3); ``tests/test_charts.py`` computes the ratios. Status is
also drawn as a shape (see :data:`STATUS_SHAPES`), so it never depends on colour alone.

Example:
    >>> THEMES["dark"].background
    '#0d1117'
"""

from __future__ import annotations

import contextvars
import dataclasses
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from btvstat_open.i18n.formats import in_digits
from catalog.colors import contrast_ratio, nearest_passing

if TYPE_CHECKING:
    from catalog.models.theme import Theme as CatalogTheme

__all__ = [
    "STATUS_SHAPES",
    "THEMES",
    "THEME_NAMES",
    "PaletteMiddleware",
    "Theme",
    "branded",
    "contrast_ratio",
    "is_branded",
    "palette",
    "use_palettes",
]

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
                **_labels_in_digits(),
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


_LATIN = "0123456789"


def _labels_in_digits() -> dict[str, str]:
    """Axis labels in the current locale's digits (none to add for Latin digits).

    Vega's time format has no digits of its own: the browser would write dates on a time axis in
    Latin digits on an Arabic page. Each label's Latin digits are replaced by the locale's.

    Example:
        >>> from btvstat_open.i18n import use_locale
        >>> with use_locale("ar"):
        ...     _labels_in_digits()["labelExpr"].endswith("/8/g, '٨'), /9/g, '٩')")
        True
        >>> _labels_in_digits()
        {}
    """
    native = in_digits(_LATIN)
    if native == _LATIN:
        return {}
    expression = "datum.label"
    for latin, digit in zip(_LATIN, native, strict=True):
        expression = f"replace({expression}, /{latin}/g, '{digit}')"
    return {"labelExpr": expression}


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


# -- The catalog's brand colour in the charts (``theme:`` in catalog.yaml) --
# A chart's own colour (the series line, the newest period's bars, this city's peer line) is the
# brand's ``primary``, shaded as little as needed to reach 3:1 against the chart's background
# (WCAG 1.4.11); status colours stay semantic and text keeps the built-in AA colours.

_palettes: contextvars.ContextVar[Mapping[str, Theme]] = contextvars.ContextVar("palettes", default=THEMES)


def branded(theme: CatalogTheme | None) -> dict[str, Theme]:
    """The chart themes in a catalog's brand colour (``colors.primary``; ``dark_colors.primary``
    in the dark theme, else the light one shaded for it).

    Example:
        >>> from catalog.models.theme import Theme as CatalogTheme
        >>> themes = branded(CatalogTheme.model_validate({"colors": {"primary": "#16466f"}}))
        >>> themes["light"].line, themes["dark"].line, branded(None)["light"] == THEMES["light"]
        ('#16466f', '#1f639d', True)
    """
    if theme is None:
        return dict(THEMES)
    found = {}
    for name, base in THEMES.items():
        chosen = (theme.dark_colors.primary if name == "dark" else None) or theme.colors.primary
        line = base.line if chosen is None else nearest_passing(chosen, base.background, 3.0)
        found[name] = dataclasses.replace(base, line=line)
    return found


def palette(name: str) -> Theme:
    """The chart theme ``name`` (``light``, ``dark``) in the brand colours of the work in hand."""
    return _palettes.get().get(name) or THEMES[name]


def is_branded(name: str) -> bool:
    """Whether the work in hand draws theme ``name`` in a brand colour of its own."""
    return palette(name).line != THEMES[name].line


@contextmanager
def use_palettes(palettes: Mapping[str, Theme]) -> Iterator[None]:
    """Draw charts in ``palettes`` (:func:`branded`) within the block."""
    token = _palettes.set(palettes)
    try:
        yield
    finally:
        _palettes.reset(token)


class PaletteMiddleware:
    """Run each request with the catalog's chart palettes (pure ASGI: worker pools copy the context)."""

    def __init__(self, app: Any, palettes: Mapping[str, Theme]) -> None:
        self.app = app
        self.palettes = palettes

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        with use_palettes(self.palettes):
            await self.app(scope, receive, send)
