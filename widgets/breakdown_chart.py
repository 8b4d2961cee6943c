"""The breakdown chart: the KPI's measure per group for its latest periods, as grouped bars.

Horizontal bars (one row of bars per group, one bar per period, latest periods only) read well
at any width. A suppressed cell has no bar and no number: a text mark says "suppressed" and its
tooltip says why, so its value never reaches the spec, the SVG or the PNG (the rows come from
:func:`catalog.breakdown.publishable_rows`, which has dropped it). Colour is never alone: the
period is in the legend, the tooltip and the visually hidden data table.

Example:
    >>> from catalog.breakdown import breakdown, publishable_rows
    >>> from datetime import date
    >>> table = breakdown(kpi, store, catalog.settings, today=date(2020, 3, 1))
    >>> publishable = publishable_rows(table)
    >>> spec = breakdown_spec(kpi, publishable, theme="light", width="container")
    >>> spec["layer"][0]["encoding"]["y"]["title"]
    'Council district'
"""

from __future__ import annotations

from typing import Any

from btvstat_open.i18n import _
from btvstat_open.i18n.formats import in_digits
from catalog.models import Kpi
from widgets.charts import Width
from widgets.plot_spec import SCHEMA
from widgets.render import vega_svg
from widgets.summary import format_value, period_label
from widgets.themes import is_branded
from widgets.themes import palette as palette_of

__all__ = ["LATEST_PERIODS", "breakdown_records", "breakdown_spec", "breakdown_svg", "describe_breakdown"]

LATEST_PERIODS = 3
# Oldest to latest; each has at least 3:1 contrast with its theme's background.
_PERIOD_COLOURS = {"light": ["#6e7781", "#218bff", "#0a3069"], "dark": ["#8b949e", "#58a6ff", "#cae8ff"]}


def breakdown_records(
    kpi: Kpi, rows: list[dict[str, Any]], periods: int = LATEST_PERIODS
) -> list[dict[str, Any]]:
    """The latest ``periods`` periods of publishable breakdown rows, with labels for the chart."""
    from datetime import date

    starts = sorted({row["period_start"] for row in rows})[-periods:]
    records = []
    for row in rows:
        if row["period_start"] not in starts:
            continue
        start, end = date.fromisoformat(row["period_start"]), date.fromisoformat(row["period_end"])
        suppressed = row["suppressed"]
        records.append(
            {
                "group": row["group"],
                "period": period_label(kpi.period.size, start, end),
                "period_start": row["period_start"],
                "value": row["value"],
                "value_label": _("Suppressed") if suppressed else format_value(row["value"], kpi),
                "count_label": in_digits(row["count_label"]),  # "< 10" in the page's digits
                "suppressed": suppressed,
            }
        )
    return records


def describe_breakdown(kpi: Kpi, records: list[dict[str, Any]]) -> str:
    """The chart's accessible description."""
    label = kpi.breakdown.label if kpi.breakdown and kpi.breakdown.label else _("group")
    periods = list(dict.fromkeys(r["period"] for r in sorted(records, key=lambda r: r["period_start"])))
    groups = len({r["group"] for r in records})
    hidden = sum(r["suppressed"] for r in records)
    text = _("Bar chart of %(title)s by %(group)s, %(count)d groups") % {
        "title": kpi.title,
        "group": label.lower(),
        "count": groups,
    }
    if periods:
        text += ", " + _("for %(periods)s") % {"periods": ", ".join(periods)}
    if hidden:
        text += ". " + _("%(count)d cells are suppressed because too few records are behind them") % {
            "count": hidden
        }
    return text + "."


def breakdown_spec(
    kpi: Kpi,
    rows: list[dict[str, Any]],
    *,
    theme: str = "light",
    width: Width = "container",
    title: bool = False,
) -> dict[str, Any]:
    """The breakdown chart as a Vega-Lite spec, built only from publishable rows.

    With ``title`` (an image that travels alone) it is headed by the KPI and the grouping, and its
    subtitle says which cells are suppressed and why.
    """
    palette = palette_of(theme)
    records = breakdown_records(kpi, rows)
    periods = list(dict.fromkeys(r["period"] for r in sorted(records, key=lambda r: r["period_start"])))
    groups = list(dict.fromkeys(r["group"] for r in records))
    label = kpi.breakdown.label if kpi.breakdown and kpi.breakdown.label else _("Group")
    colours = _PERIOD_COLOURS[theme][-len(periods) :] if periods else []
    if colours and is_branded(theme):  # the newest period's bars in the brand's colour
        colours[-1] = palette.line
    tooltip = [
        {"field": "group", "type": "nominal", "title": label},
        {"field": "period", "type": "nominal", "title": _("Period")},
        {"field": "value_label", "type": "nominal", "title": _("Value")},
        {"field": "count_label", "type": "nominal", "title": _("Records")},
    ]
    y = {"field": "group", "type": "nominal", "sort": groups, "title": label}
    y_offset = {"field": "period", "type": "nominal", "sort": periods}
    colour = {
        "field": "period",
        "type": "nominal",
        "sort": periods,
        "scale": {"domain": periods, "range": colours},
        "legend": {"orient": "top", "title": None, "direction": "vertical"},
    }
    bars = {
        "transform": [{"filter": "!datum.suppressed"}],
        "mark": {"type": "bar", "height": {"band": 1}},
        "encoding": {
            "y": y,
            "yOffset": y_offset,
            "x": {
                "field": "value",
                "type": "quantitative",
                "title": kpi.unit or "value",
                "axis": {"tickCount": 5},
            },
            "color": colour,
            "tooltip": tooltip,
        },
    }
    marks = {
        "transform": [{"filter": "datum.suppressed"}, {"calculate": "0", "as": "zero"}],
        "mark": {"type": "text", "align": "left", "dx": 4, "fontSize": 10, "color": palette.muted},
        "encoding": {
            "y": y,
            "yOffset": y_offset,
            "x": {"field": "zero", "type": "quantitative"},
            "text": {"value": _("suppressed")},
            "tooltip": tooltip,
        },
    }
    config = palette.config()
    heading = {"title": breakdown_title(kpi, label)} if title else {}
    return {
        "$schema": SCHEMA,
        **heading,
        "description": describe_breakdown(kpi, records),
        "width": width,
        "height": {"step": 12},
        "autosize": {"type": "fit-x", "contains": "padding"} if width == "container" else "pad",
        "data": {"values": records},
        "layer": [bars, marks],
        "config": config,
    }


def breakdown_title(kpi: Kpi, label: str) -> dict[str, Any]:
    """The image's title and its suppression note (Vega-Lite ``title`` with a ``subtitle``).

    Example:
        >>> breakdown_title(kpi, "Council district")["subtitle"]
        'Groups with fewer than 10 records in a period are suppressed: no value is shown for them.'
    """
    minimum = kpi.breakdown.min_count if kpi.breakdown else 0
    note = (
        _("Groups with fewer than %(count)d records in a period are suppressed: no value is shown for them.")
        % {"count": minimum}
        if minimum > 1
        else _("No group is suppressed.")
    )
    text = _("%(title)s by %(group)s") % {"title": kpi.title, "group": label.lower()}
    return {"text": text, "subtitle": note, "anchor": "start"}


def breakdown_svg(kpi: Kpi, rows: list[dict[str, Any]], *, theme: str = "light", width: int = 720) -> str:
    """The breakdown chart rendered on the server (for ``breakdown.svg`` and ``.png``), titled."""
    spec = breakdown_spec(kpi, rows, theme=theme, width=width, title=True)
    return vega_svg(spec, "the breakdown chart")
