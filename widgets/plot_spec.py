"""The plot of a static chart image as a plain Vega-Lite spec: marks and axes, no title, no legend.

Static images (``/kpi/{id}.svg|.png``) are drawn in two parts: this plot, rendered by vl-convert,
and a frame around it (title, subtitle and a key of status shapes, see :mod:`widgets.images`).
Vega measures every piece of text it lays out with vl-convert's font engine, which costs about
0.1 ms a character, and twice when the text has a width limit; so the plot keeps its text short
and few: y labels only (about five, SI prefixes for big numbers, no width limit), no axis title
(the unit is in the frame's subtitle), no legend (the frame's key), and x ticks without labels
(the frame writes them at the positions :func:`x_labels` computes from the same scales).

The spec is built as a dict, a pure function of (KPI, series rows, theme, size): building it takes
well under a millisecond, where Altair objects took tens. ``tests/test_charts.py`` validates it
against the Vega-Lite schema.

Example:
    >>> from widgets.summary import rows
    >>> spec = plot_spec(kpi, rows(kpi, series), theme="light", width=640, height=320)
    >>> [layer["mark"]["type"] for layer in spec["layer"]]
    ['area', 'line', 'line', 'point']
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from btvstat_open.i18n import format_date
from catalog.dated_goals import expected_value, kpi_path
from catalog.models import Kpi
from widgets.summary import STATUS_LABELS, STATUSES, ChartNote, Row
from widgets.themes import STATUS_SHAPES, Theme
from widgets.themes import palette as palette_of

__all__ = [
    "MAX_TICKS",
    "SCHEMA",
    "band",
    "note_positions",
    "plot_spec",
    "shown_statuses",
    "status_scales",
    "x_labels",
]

SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json"
MAX_TICKS = 6
_TIME_SIZES = ("week", "month")  # periods drawn on a time axis
_BIG = 10_000  # from here on, y labels use SI prefixes ("40k", "4M"): shorter to draw and to read


def band(kpi: Kpi, target: float | None) -> tuple[float | None, float | None]:
    """The near-target band around a period's target (``(None, None)`` when there is none).

    Example:
        >>> band(kpi, 7.0)  # days to close: lower is better, near within 3 days
        (7.0, 10.0)
    """
    rule = kpi.target
    if target is None or rule is None or rule.tolerance <= 0:
        return None, None
    if rule.rule == "proximity" or kpi.direction == "none":
        return target - rule.tolerance, target + rule.tolerance
    if kpi.direction == "higher_is_better":
        return target - rule.tolerance, target
    return target, target + rule.tolerance


def shown_statuses(series_rows: list[Row]) -> list[str]:
    """The statuses drawn as points, in the fixed order of :data:`~widgets.summary.STATUSES`."""
    present = {row.status for row in series_rows if row.value is not None}
    return [s for s in STATUSES if s != "no_data" and s in present]


def status_scales(theme: Theme, statuses: list[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The colour and the shape scale (``domain``/``range``) over ``statuses``, keyed by label.

    Every chart encodes status by colour *and* shape with these two scales.

    Example:
        >>> from widgets.themes import THEMES
        >>> colour, shape = status_scales(THEMES["light"], ["on_track"])
        >>> colour["domain"] == shape["domain"] and len(shape["range"]) == 1
        True
    """
    labels = [STATUS_LABELS[s] for s in statuses]
    colour = {"domain": labels, "range": [theme.status[s] for s in statuses]}
    shape = {"domain": labels, "range": [STATUS_SHAPES[s] for s in statuses]}
    return colour, shape


def _plot_records(kpi: Kpi, series_rows: list[Row]) -> list[dict[str, Any]]:
    """Only the fields the plot draws (the data is parsed on every render), unlike the
    interactive chart's records, which carry every field its tooltips show."""
    records = []
    path = kpi_path(kpi)
    for row in series_rows:
        low, high = band(kpi, row.target)
        on_path = path and row.period_end >= path[0].date
        records.append(
            {
                "period_start": row.period_start.isoformat(),
                "tick": _tick_label(kpi, row),
                "value": row.value,
                "target": row.target,
                "future_target": row.future_target,
                "status_label": row.status_label,
                "band_low": low,
                "band_high": high,
                # the dated goal's expected path on the period's last day (catalog.dated_goals)
                "path": expected_value(path, row.period_end) if on_path else None,
            }
        )
    return records


def _tick_label(kpi: Kpi, row: Row) -> str:
    """A period's name on an ordinal axis: weeks by their first day, not "Week of ..." (shorter to draw)."""
    if kpi.period.size == "week":
        return format_date(row.period_start)
    return row.period


def _tick_indices(kpi: Kpi, series_rows: list[Row]) -> list[int]:
    """At most :data:`MAX_TICKS` periods, always starting with the first: evenly spaced periods on
    an ordinal axis; on a time axis, periods at least a sixth of the axis apart (future targets can
    leave a long stretch with few periods)."""
    count = len(series_rows)
    if _ordinal(kpi) or count < 2:
        return list(range(0, count, max(1, -(-count // MAX_TICKS))))
    first, last = _utc_ms(series_rows[0].period_start), _utc_ms(series_rows[-1].period_start)
    gap = (last - first) / MAX_TICKS
    picked = [0]
    for i in range(1, count):
        if _utc_ms(series_rows[i].period_start) - _utc_ms(series_rows[picked[-1]].period_start) >= gap:
            picked.append(i)
    return picked


def _utc_ms(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)


def _ordinal(kpi: Kpi) -> bool:
    """Bars, quarters and (fiscal) years sit on an ordinal axis; weeks and months on a time axis."""
    return kpi.chart == "bar" or kpi.period.size not in _TIME_SIZES


def x_labels(kpi: Kpi, series_rows: list[Row], width: int) -> list[tuple[float, str, str]]:
    """The x axis's labels as (x in the plot, text, SVG text-anchor), drawn by the frame.

    The plot has ticks but no x labels: each label Vega lays out costs about 2 ms to measure.
    The positions follow the plot's scales exactly: a time scale over the first to the last
    period start, or an ordinal scale with every period centred in its own step.

    Example:
        >>> from widgets.summary import rows
        >>> x_labels(kpi, rows(kpi, series), 600)[0]
        (0.0, 'Dec 30, 2019', 'start')
    """
    count = len(series_rows)
    labels = []
    for i in _tick_indices(kpi, series_rows):
        row = series_rows[i]
        if _ordinal(kpi):
            labels.append(((i + 0.5) * width / count, _tick_label(kpi, row), "middle"))
            continue
        first, last = _utc_ms(series_rows[0].period_start), _utc_ms(series_rows[-1].period_start)
        x = (_utc_ms(row.period_start) - first) / (last - first) * width if last > first else width / 2
        anchor = "start" if i == 0 and count > 1 else "end" if i == count - 1 and count > 1 else "middle"
        labels.append((x, _tick_label(kpi, row), anchor))
    return labels


def note_positions(kpi: Kpi, series_rows: list[Row], notes: list[ChartNote], width: int) -> list[float]:
    """Where each note's rule sits in the plot (x in pixels), on the same scales as :func:`x_labels`."""
    count = len(series_rows)
    if not count:
        return []
    if _ordinal(kpi):
        return [(note.row + 0.5) * width / count for note in notes]
    first, last = _utc_ms(series_rows[0].period_start), _utc_ms(series_rows[-1].period_start)
    if last <= first:
        return [width / 2 for _ in notes]
    return [(_utc_ms(note.day) - first) / (last - first) * width for note in notes]


def _note_layer(
    kpi: Kpi, series_rows: list[Row], notes: list[ChartNote], x: dict[str, Any], theme: Theme
) -> dict[str, Any]:
    """Dotted rules at the notes' days (the frame numbers them and writes their text)."""
    values = [
        {"period_start": note.day.isoformat(), "tick": _tick_label(kpi, series_rows[note.row])}
        for note in notes
    ]
    rule = {"type": "rule", "color": theme.muted, "strokeDash": [2, 3], "strokeWidth": 1.5}
    return {"data": {"values": values}, "mark": rule, "encoding": {"x": x}}


def _x(kpi: Kpi, series_rows: list[Row]) -> dict[str, Any]:
    ticks = [series_rows[i] for i in _tick_indices(kpi, series_rows)]
    if _ordinal(kpi):
        # Quarters and (fiscal) years are named periods: "Q1 2025", "FY2013". The paddings are
        # Vega-Lite's defaults, written out because x_labels() relies on them.
        steps: dict[str, Any] = {"type": "band", "paddingInner": 0.1, "paddingOuter": 0.05}
        if kpi.chart != "bar":
            steps = {"type": "point", "padding": 0.5}
        axis = {"labels": False, "values": [_tick_label(kpi, r) for r in ticks]}
        return {"field": "tick", "type": "ordinal", "sort": None, "title": None, "scale": steps, "axis": axis}
    scale: dict[str, Any] = {"type": "utc"}
    if series_rows:
        scale["domain"] = [_utc_ms(series_rows[0].period_start), _utc_ms(series_rows[-1].period_start)]
    axis = {"labels": False, "values": [_utc_ms(r.period_start) for r in ticks]}
    return {"field": "period_start", "type": "temporal", "scale": scale, "title": None, "axis": axis}


def _y_axis(series_rows: list[Row]) -> dict[str, Any]:
    numbers = [abs(n) for r in series_rows for n in (r.value, r.target, r.future_target) if n is not None]
    axis: dict[str, Any] = {"tickCount": 5, "title": None}
    if numbers and max(numbers) >= _BIG:
        axis["format"] = "~s"
    return axis


def _config(theme: Theme) -> dict[str, Any]:
    return {
        "background": "transparent",  # the frame draws the background
        "font": theme.font,
        "view": {"stroke": None},
        "aria": False,  # the image is labelled as a whole (role="img", <title>, <desc>)
        "axis": {
            "labelColor": theme.muted,
            "gridColor": theme.grid,
            "domainColor": theme.muted,
            "tickColor": theme.muted,
            "labelFontSize": 11,
            # No width limit: a limit makes Vega measure each label twice.
            "labelLimit": 0,
            "labelOverlap": False,
        },
    }


def plot_spec(
    kpi: Kpi,
    series_rows: list[Row],
    *,
    theme: str,
    width: int,
    height: int,
    notes: list[ChartNote] | None = None,
) -> dict[str, Any]:
    """The plot of a line, bar or area chart: target step line and band (future targets dashed),
    values, status points and dotted rules at the ``notes``.

    Status is drawn by colour *and* shape; periods without data are gaps. ``width`` and
    ``height`` are the plot area's; axes add to them.

    Example:
        >>> from widgets.summary import rows
        >>> plot_spec(kpi, rows(kpi, series), theme="dark", width=600, height=300)["height"]
        300
    """
    palette = palette_of(theme)
    records = _plot_records(kpi, series_rows)
    x = _x(kpi, series_rows)
    value = {"field": "value", "type": "quantitative", "axis": _y_axis(series_rows)}
    layers: list[dict[str, Any]] = []
    if kpi.chart != "bar" and any(r["band_low"] is not None for r in records):
        layers.append(
            {
                "mark": {"type": "area", "opacity": 0.16, "color": palette.band, "interpolate": "step-after"},
                "encoding": {
                    "x": x,
                    "y": {"field": "band_low", "type": "quantitative"},
                    "y2": {"field": "band_high"},
                },
            }
        )
    colour, shape = status_scales(palette, shown_statuses(series_rows))
    status_colour = {"field": "status_label", "type": "nominal", "scale": colour, "legend": None}
    if kpi.chart == "bar":
        layers.append(
            {
                "mark": {"type": "bar", "opacity": 0.85},
                "encoding": {"x": x, "y": value, "color": status_colour},
            }
        )
    elif kpi.chart == "area":
        area = {"type": "area", "opacity": 0.25, "color": palette.line, "line": {"color": palette.line}}
        layers.append({"mark": area, "encoding": {"x": x, "y": value}})
    else:
        line = {"type": "line", "color": palette.line, "strokeWidth": 2}
        layers.append({"mark": line, "encoding": {"x": x, "y": value}})
    if any(r["target"] is not None for r in records):
        target_mark: dict[str, Any] = (
            {"type": "tick", "color": palette.target, "thickness": 3}
            if kpi.chart == "bar"
            else {"type": "line", "color": palette.target, "strokeWidth": 2, "interpolate": "step-after"}
        )
        layers.append(
            {"mark": target_mark, "encoding": {"x": x, "y": {"field": "target", "type": "quantitative"}}}
        )
    if any(r["future_target"] is not None for r in records):
        future = {"type": "line", "color": palette.target, "strokeWidth": 2, "strokeDash": [6, 4],
                  "interpolate": "step-after"}  # fmt: skip
        layers.append(
            {"mark": future, "encoding": {"x": x, "y": {"field": "future_target", "type": "quantitative"}}}
        )
    if any(r["path"] is not None for r in records):  # dotted, clipped to the plot
        path = {"type": "line", "color": palette.target, "strokeWidth": 2, "strokeDash": [2, 3], "clip": True}
        layers.append({"mark": path, "encoding": {"x": x, "y": {"field": "path", "type": "quantitative"}}})
    if notes:
        layers.append(_note_layer(kpi, series_rows, notes, x, palette))
    point = {
        "type": "point",
        "filled": True,
        "size": 60 if kpi.chart == "bar" else 80,
        "opacity": 1,
        "strokeWidth": 1,
        "stroke": palette.background,
    }
    layers.append(
        {
            "transform": [{"filter": {"field": "value", "valid": True}}],
            "mark": point,
            "encoding": {
                "x": x,
                "y": {"field": "value", "type": "quantitative"},
                "color": status_colour,
                "shape": {"field": "status_label", "type": "nominal", "scale": shape, "legend": None},
            },
        }
    )
    return {
        "$schema": SCHEMA,
        "width": width,
        "height": height,
        "padding": {"left": 8, "right": 12, "top": 6, "bottom": 8},
        "data": {"values": records},
        "layer": layers,
        "config": _config(palette),
    }
