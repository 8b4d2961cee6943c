"""Vega-Lite charts of KPIs, built with Altair as pure functions of (KPI, series, theme, size).

Nothing from the user reaches a chart: the spec comes from the catalog and the measure series
only, and catalog text (titles, units, labels) goes into data values and titles, never into Vega
expressions. Every chart carries a ``description`` (Vega turns it into the SVG's ARIA label).

Status is shown by colour *and* shape; tooltips show formatted values with units. Charts are
line, bar or area with the target as a dashed line (and the near-target band when the target has
a tolerance), a big-number card for ``chart: number``, and a sparkline for the dashboard.

Example:
    >>> spec = chart_spec(kpi, series, theme="dark")  # doctest: +SKIP
    >>> spec["description"]  # doctest: +SKIP
    'Line chart of Median days to close ...'
"""

from __future__ import annotations

from typing import Any, Literal, cast

import altair as alt
import pyarrow as pa

from catalog.models import Kpi
from widgets.summary import STATUS_LABELS, STATUSES, Row, rows, summarize
from widgets.themes import STATUS_SHAPES, THEMES, Theme

__all__ = ["Width", "build_chart", "chart_spec", "describe", "sparkline_spec"]

Width = int | Literal["container"]

_AXIS_FORMATS = {"week": "%b %d, %Y", "month": "%b %Y", "quarter": "%b %Y", "year": "%Y", "fiscal_year": "%Y"}
_TOOLTIP = [
    alt.Tooltip("period:N", title="Period"),
    alt.Tooltip("value_label:N", title="Value"),
    alt.Tooltip("target_label:N", title="Target"),
    alt.Tooltip("status_label:N", title="Status"),
]


def describe(kpi: Kpi, series_rows: list[Row]) -> str:
    """One or two sentences saying what the chart shows (its accessible description).

    Example:
        >>> describe(kpi, rows(kpi, series))  # doctest: +SKIP
        'Line chart of Pothole requests (requests) by month, 24 periods from Jan 2024 to Dec 2025. ...'
    """
    kind = {"line": "Line chart", "bar": "Bar chart", "area": "Area chart", "number": "Big number"}[kpi.chart]
    unit = f" ({kpi.unit})" if kpi.unit else ""
    size = kpi.period.size.replace("_", " ")
    text = f"{kind} of {kpi.title}{unit} by {size}"
    if series_rows:
        text += f", {len(series_rows)} periods from {series_rows[0].period} to {series_rows[-1].period}"
    summary = summarize(kpi, series_rows)
    if summary.latest is not None:
        text += f". Latest: {summary.latest.value_label} in {summary.latest.period}, {summary.status_label}"
    if kpi.target is not None:
        text += f". Target: {summary.latest.target_label if summary.latest else kpi.target.value}"
    return text + "."


def _band(kpi: Kpi, record: dict[str, Any]) -> tuple[float | None, float | None]:
    """The near-target band around a period's target (None when there is no band)."""
    target, rule = record["target"], kpi.target
    if target is None or rule is None or rule.tolerance <= 0:
        return None, None
    if rule.rule == "proximity" or kpi.direction == "none":
        return target - rule.tolerance, target + rule.tolerance
    if kpi.direction == "higher_is_better":
        return target - rule.tolerance, target
    return target, target + rule.tolerance


def _records(kpi: Kpi, series_rows: list[Row]) -> list[dict[str, Any]]:
    records = []
    for row in series_rows:
        record = row.record()
        record["band_low"], record["band_high"] = _band(kpi, record)
        records.append(record)
    return records


def _bar_ticks(records: list[dict[str, Any]]) -> list[str]:
    """At most about six evenly spaced period labels (each label costs render time and space)."""
    step = max(1, -(-len(records) // 6))
    return [r["period"] for r in records[::step]]


def _status_scales(theme: Theme, records: list[dict[str, Any]] | None = None) -> tuple[alt.Scale, alt.Scale]:
    """Colour and shape scales over the statuses present (all of them when none is)."""
    present = {r["status"] for r in records or []}
    shown = [s for s in STATUSES if s != "no_data" and s in present] or [
        s for s in STATUSES if s != "no_data"
    ]
    labels = [STATUS_LABELS[s] for s in shown]
    colour = alt.Scale(domain=labels, range=[theme.status[s] for s in shown])
    shape = alt.Scale(domain=labels, range=[STATUS_SHAPES[s] for s in shown])
    return colour, shape


def _title(kpi: Kpi) -> alt.TitleParams:
    subtitle = " · ".join(part for part in (kpi.unit, kpi.department) if part)
    return alt.TitleParams(text=kpi.title, subtitle=subtitle)


def _time_chart(kpi: Kpi, records: list[dict[str, Any]], theme: Theme, height: int) -> alt.LayerChart:
    data = alt.InlineData(values=records)
    colour, shape = _status_scales(theme, records)
    y_title = kpi.unit or "value"
    y_axis = alt.Axis(tickCount=5)
    if kpi.chart == "bar":
        x = alt.X(
            "period:O",
            sort=None,
            title=None,
            axis=alt.Axis(labelAngle=0, labelOverlap=True, values=_bar_ticks(records)),
        )
    else:
        x = alt.X(
            "period_start:T",
            title=None,
            scale=alt.Scale(type="utc"),
            axis=alt.Axis(format=_AXIS_FORMATS[kpi.period.size], labelOverlap=True, tickCount=5),
        )
    base = alt.Chart(data).encode(x=x)
    layers: list[alt.Chart] = []
    if any(r["band_low"] is not None for r in records) and kpi.chart != "bar":
        layers.append(
            base.mark_area(opacity=0.16, color=theme.band).encode(
                y=alt.Y("band_low:Q"), y2=alt.Y2("band_high:Q")
            )
        )
    if kpi.chart == "bar":
        layers.append(
            base.mark_bar(opacity=0.85).encode(
                y=alt.Y("value:Q", title=y_title, axis=y_axis),
                color=alt.Color("status_label:N", scale=colour, title="Status"),
                tooltip=_TOOLTIP,
            )
        )
    elif kpi.chart == "area":
        layers.append(
            base.mark_area(opacity=0.25, color=theme.line, line={"color": theme.line}).encode(
                y=alt.Y("value:Q", title=y_title, axis=y_axis)
            )
        )
    else:
        layers.append(
            base.mark_line(color=theme.line, strokeWidth=2).encode(
                y=alt.Y("value:Q", title=y_title, axis=y_axis)
            )
        )
    if any(r["target"] is not None for r in records):
        target_mark = (
            base.mark_tick(color=theme.target, thickness=3)
            if kpi.chart == "bar"
            else base.mark_line(color=theme.target, strokeDash=[6, 4], strokeWidth=2)
        )
        layers.append(target_mark.encode(y=alt.Y("target:Q"), tooltip=_TOOLTIP))
    layers.append(
        base.transform_filter(alt.FieldValidPredicate(field="value", valid=True))
        .mark_point(filled=True, size=80 if kpi.chart != "bar" else 60, opacity=1, strokeWidth=1)
        .encode(
            y=alt.Y("value:Q"),
            color=alt.Color("status_label:N", scale=colour, title="Status"),
            shape=alt.Shape("status_label:N", scale=shape, title="Status"),
            stroke=alt.value(theme.background),
            tooltip=_TOOLTIP,
        )
    )
    return cast(alt.LayerChart, alt.layer(*layers).properties(height=height))


def _number_chart(kpi: Kpi, series_rows: list[Row], theme: Theme, height: int) -> alt.LayerChart:
    summary = summarize(kpi, series_rows)
    latest = summary.latest
    status = summary.status
    record = {
        "value": latest.value_label if latest else "No data",
        "period": latest.period if latest else "",
        "change": summary.change_label,
        "status": f"{summary.status_symbol} {summary.status_label}"
        + (f" · target {latest.target_label}" if latest and latest.target is not None else ""),
    }
    base = alt.Chart(alt.InlineData(values=[record]))
    lines: list[tuple[str, int, Literal["bold", "normal"], float, str]] = [
        ("value", 40, "bold", -0.20, theme.text),
        ("period", 13, "normal", 0.0, theme.muted),
        ("change", 13, "normal", 0.11, theme.muted),
        ("status", 14, "bold", 0.23, theme.status.get(status, theme.text)),
    ]
    layers = [
        base.mark_text(
            fontSize=size, fontWeight=weight, color=colour, dy=round(offset * height), limit=0
        ).encode(text=alt.Text(f"{field}:N"))
        for field, size, weight, offset, colour in lines
    ]
    return cast(alt.LayerChart, alt.layer(*layers).properties(height=height))


def build_chart(
    kpi: Kpi,
    series: pa.Table,
    *,
    theme: str = "light",
    width: Width = "container",
    height: int = 300,
    title: bool = True,
) -> alt.LayerChart:
    """The KPI's chart as an Altair object (line, bar, area or big number, per ``kpi.chart``).

    Example:
        >>> build_chart(kpi, series, theme="dark", width=640).to_dict()["width"]  # doctest: +SKIP
        640
    """
    palette = THEMES[theme]
    series_rows = rows(kpi, series)
    if kpi.chart == "number":
        chart = _number_chart(kpi, series_rows, palette, height)
    else:
        chart = _time_chart(kpi, _records(kpi, series_rows), palette, height)
    chart = chart.properties(width=width, description=describe(kpi, series_rows))
    if title:
        chart = chart.properties(title=_title(kpi))
    if width == "container":
        chart = chart.properties(autosize=alt.AutoSizeParams(type="fit-x", contains="padding"))
    return cast(alt.LayerChart, chart.configure(**palette.config()))


def chart_spec(
    kpi: Kpi,
    series: pa.Table,
    *,
    theme: str = "light",
    width: Width = "container",
    height: int = 300,
    title: bool = True,
) -> dict[str, Any]:
    """The KPI's chart as a Vega-Lite spec (a JSON-ready dict); see :func:`build_chart`.

    Example:
        >>> chart_spec(kpi, series)["$schema"]  # doctest: +SKIP
        'https://vega.github.io/schema/vega-lite/v6.json'
    """
    chart = build_chart(kpi, series, theme=theme, width=width, height=height, title=title)
    spec: dict[str, Any] = chart.to_dict(validate=False)
    return spec


def sparkline_spec(kpi: Kpi, series: pa.Table, *, theme: str = "light") -> dict[str, Any]:
    """A small line of the last periods with the latest point marked by status colour and shape.

    Example:
        >>> sparkline_spec(kpi, series)["height"]  # doctest: +SKIP
        36
    """
    palette = THEMES[theme]
    series_rows = rows(kpi, series)[-24:]
    records = [r.record() for r in series_rows]
    colour, shape = _status_scales(palette)
    base = alt.Chart(alt.InlineData(values=records)).encode(
        x=alt.X("period_start:T", axis=None, scale=alt.Scale(type="utc")),
        y=alt.Y("value:Q", axis=None, scale=alt.Scale(zero=False)),
    )
    latest = [r for r in records if r["value"] is not None][-1:]
    point = (
        alt.Chart(alt.InlineData(values=latest))
        .mark_point(filled=True, size=40, opacity=1)
        .encode(
            x=alt.X("period_start:T", axis=None, scale=alt.Scale(type="utc")),
            y=alt.Y("value:Q", axis=None),
            color=alt.Color("status_label:N", scale=colour, legend=None),
            shape=alt.Shape("status_label:N", scale=shape, legend=None),
        )
    )
    chart = alt.layer(base.mark_line(color=palette.line, strokeWidth=1.5), point).properties(
        width=132, height=36, description=f"Trend of {kpi.title}, last {len(records)} periods."
    )
    config = palette.config() | {"padding": 3, "background": "transparent"}
    spec: dict[str, Any] = chart.configure(**config).to_dict(validate=False)
    return spec
