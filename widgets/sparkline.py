"""The dashboard's sparklines, drawn as SVG in Python: a line of the last periods and the latest
point in its status colour and shape.

A dashboard of 500 KPIs draws 500 of them on its first request; through Vega each cost tens of
milliseconds, written here each costs well under one. They are decoration (the card says the
value, change and status in words), so they are hidden from assistive technology.

Example:
    >>> svg = sparkline_svg([3.0, 4.0, None, 5.0, 4.0], "on_track")
    >>> svg.startswith('<svg xmlns="http://www.w3.org/2000/svg" width="132" height="36"')
    True
    >>> svg.count("<polyline")  # the gap breaks the line
    2
"""

from __future__ import annotations

from collections.abc import Sequence

from widgets.themes import STATUS_SHAPES
from widgets.themes import palette as palette_of

__all__ = ["HEIGHT", "PERIODS", "WIDTH", "sparkline_svg"]

WIDTH, HEIGHT, PAD = 132, 36, 4
PERIODS = 24  # the last this many periods


def _shape(shape: str, x: float, y: float, colour: str) -> str:
    if shape == "circle":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}"/>'
    if shape == "square":
        return f'<rect x="{x - 3:.1f}" y="{y - 3:.1f}" width="6" height="6" fill="{colour}"/>'
    if shape == "diamond":
        points = f"{x:.1f},{y - 4.5:.1f} {x + 4.5:.1f},{y:.1f} {x:.1f},{y + 4.5:.1f} {x - 4.5:.1f},{y:.1f}"
    else:  # triangle-down (off track) and anything else
        points = f"{x - 4.5:.1f},{y - 3.5:.1f} {x + 4.5:.1f},{y - 3.5:.1f} {x:.1f},{y + 4:.1f}"
    return f'<polygon points="{points}" fill="{colour}"/>'


def sparkline_svg(values: Sequence[float | None], status: str, *, theme: str = "light") -> str:
    """The sparkline of ``values`` (oldest first; None is a gap), "" when none has a value."""
    values = list(values)[-PERIODS:]
    known = [v for v in values if v is not None]
    if not known:
        return ""
    palette = palette_of(theme)
    low, high = min(known), max(known)
    span = high - low
    step = (WIDTH - 2 * PAD) / max(1, len(values) - 1)

    def y(value: float) -> float:
        return HEIGHT / 2 if span == 0 else PAD + (high - value) / span * (HEIGHT - 2 * PAD)

    runs: list[list[str]] = [[]]
    for i, value in enumerate(values):
        if value is None:
            runs.append([])
        else:
            runs[-1].append(f"{PAD + i * step:.1f},{y(value):.1f}")
    lines = "".join(
        f'<polyline points="{" ".join(run)}" fill="none" stroke="{palette.line}" stroke-width="1.5"/>'
        for run in runs
        if len(run) > 1
    )
    last = max(i for i, v in enumerate(values) if v is not None)
    last_value = values[last]
    assert last_value is not None
    colour = palette.status.get(status, palette.muted)
    point = _shape(STATUS_SHAPES.get(status, "circle"), PAD + last * step, y(last_value), colour)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" focusable="false">{lines}{point}</svg>'
    )
