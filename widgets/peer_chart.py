"""The comparison chart: the KPI's series and each peer's, on the comparison's scale, as lines.

One line per city, built only on the server from the catalog and the store (as every chart).
Colour is never alone: each city also has its own dash and point shape, its name is in the
legend and the tooltip, and the page has the same values in a table. A flagged peer (failed,
stale, not synced) keeps its last good values on the chart; the legend names it with its flag.

Example:
    >>> from catalog.measure import measure
    >>> from catalog.peers import comparison
    >>> from datetime import date
    >>> kpi = catalog.kpis["trees-planted-yearly"]
    >>> found = comparison(kpi, store, catalog.settings,
    ...                    measure(kpi, store, catalog.settings), today=date(2020, 3, 2))
    >>> spec = peer_spec(kpi, found, theme="light")
    >>> spec["encoding"]["y"]["title"]
    'trees per 1,000 residents'
"""

from __future__ import annotations

from typing import Any

from btvstat_open.i18n import _, lazy
from catalog.models import Kpi
from catalog.peers import Comparison, PeerLine
from widgets.charts import Width
from widgets.plot_spec import SCHEMA
from widgets.render import vega_svg
from widgets.themes import is_branded
from widgets.themes import palette as palette_of

__all__ = ["describe_peers", "peer_label", "peer_records", "peer_spec", "peer_svg", "shown_label"]

# Ours first; each has at least 3:1 contrast with its theme's background.
_COLOURS = {
    "light": ["#0a3069", "#bc4c00", "#1a7f37", "#8250df", "#6e7781"],
    "dark": ["#cae8ff", "#ffa657", "#56d364", "#d2a8ff", "#8b949e"],
}
_DASHES = [[1, 0], [6, 3], [2, 2], [8, 2, 2, 2], [4, 4]]
_SHAPES = ["circle", "square", "triangle-up", "diamond", "cross"]
_FLAGS = {"failed": lazy("sync failed"), "stale": lazy("stale"), "not synced": lazy("not synced")}


def peer_label(line: PeerLine) -> str:
    """A city as the legend names it, with its flag: ``Los Angeles, CA (sync failed)``."""
    flag = _FLAGS.get(line.flag)
    return f"{line.city} ({_(flag)})" if flag else line.city


def shown_label(value: float, kpi: Kpi, scaled: bool) -> str:
    """A value as the table and tooltip show it: the KPI's decimals, at least two on a per-capita scale.

    Example:
        >>> kpi.decimals, shown_label(2.6404, kpi, True), shown_label(1234.0, kpi, False)
        (1, '2.64', '1,234.0')
    """
    decimals = max(kpi.decimals, 2) if scaled else kpi.decimals
    return f"{value:,.{decimals}f}"


def peer_records(kpi: Kpi, found: Comparison) -> list[dict[str, Any]]:
    """One record per city and period with a value: what the chart draws."""
    return [
        {
            "city": peer_label(line),
            "period_start": point["period_start"],
            "value": point["shown"],
            "value_label": shown_label(point["shown"], kpi, bool(found.scale)),
            "measured": shown_label(point["value"], kpi, False),
        }
        for line in found.lines
        for point in line.points
    ]


def describe_peers(kpi: Kpi, found: Comparison) -> str:
    """The chart's accessible description."""
    cities = ", ".join(peer_label(line) for line in found.lines)
    scale = f" {found.scale}" if found.scale else ""
    return _("Line chart comparing %(title)s across %(count)d cities: %(cities)s.") % {
        "title": kpi.title + scale,
        "count": len(found.lines),
        "cities": cities,
    }


def _colours(theme: str) -> list[str]:
    """The lines' colours: this city's first, in the brand's colour where the catalog has one."""
    colours = list(_COLOURS[theme])
    if is_branded(theme):
        colours[0] = palette_of(theme).line
    return colours


def peer_spec(
    kpi: Kpi, found: Comparison, *, theme: str = "light", width: Width = "container", title: bool = False
) -> dict[str, Any]:
    """The comparison chart as a Vega-Lite spec (``title``: headed, for an image that travels alone)."""
    palette = palette_of(theme)
    cities = [peer_label(line) for line in found.lines]
    count = len(cities)
    unit = " ".join(part for part in (found.unit or _("value"), found.scale) if part)
    legend = {"orient": "top", "title": None, "direction": "vertical"}
    text = _("%(title)s: compared with peers") % {"title": kpi.title}
    heading = {"title": {"text": text, "subtitle": unit, "anchor": "start"}}
    return {
        "$schema": SCHEMA,
        **(heading if title else {}),
        "description": describe_peers(kpi, found),
        "width": width,
        "height": 260,
        "autosize": {"type": "fit-x", "contains": "padding"} if width == "container" else "pad",
        "data": {"values": peer_records(kpi, found)},
        "mark": {"type": "line", "point": {"filled": True, "size": 50}, "strokeWidth": 2},
        "encoding": {
            "x": {"field": "period_start", "type": "temporal", "title": None},
            "y": {"field": "value", "type": "quantitative", "title": unit, "axis": {"tickCount": 5}},
            "color": {"field": "city", "type": "nominal", "sort": cities,
                      "scale": {"domain": cities, "range": _colours(theme)[:count]}, "legend": legend},
            "strokeDash": {"field": "city", "type": "nominal", "sort": cities,
                           "scale": {"domain": cities, "range": _DASHES[:count]}, "legend": legend},
            "shape": {"field": "city", "type": "nominal", "sort": cities,
                      "scale": {"domain": cities, "range": _SHAPES[:count]}, "legend": legend},
            "tooltip": [
                {"field": "city", "type": "nominal", "title": _("City")},
                {"field": "period_start", "type": "temporal", "title": _("Period")},
                {"field": "value_label", "type": "nominal", "title": unit},
                {"field": "measured", "type": "nominal", "title": _("As measured")},
            ],
        },
        "config": palette.config(),
    }  # fmt: skip


def peer_svg(kpi: Kpi, found: Comparison, *, theme: str = "light", width: int = 720) -> str:
    """The comparison chart rendered on the server (``peers.svg``, packets), titled."""
    spec = peer_spec(kpi, found, theme=theme, width=width, title=True)
    return vega_svg(spec, "the peer comparison chart")
