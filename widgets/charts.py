"""Vega-Lite charts of KPIs, built with Altair as pure functions of (KPI, series, theme, size).

Nothing from the user reaches a chart: the spec comes from the catalog and the measure series
only, and catalog text (titles, units, labels) goes into data values and titles, never into Vega
expressions. Every chart carries a ``description`` (Vega turns it into the SVG's ARIA label).

Status is shown by colour *and* shape; tooltips show formatted values with units. Charts are
line, bar or area with the target as a dashed line (and the near-target band when the target has
a tolerance), a big-number card for ``chart: number``, and a sparkline for the dashboard.

Example:
    >>> from catalog.demo_series import demo_series  # a demo KPI and its measured series
    >>> from widgets.charts import chart_spec
    >>> kpi, series = demo_series("pothole-days-to-close")
    >>> spec = chart_spec(kpi, series, theme="dark")
    >>> spec["description"]
    'Line chart of Median days to close ...'
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

import altair as alt
import pyarrow as pa
from altair.utils.schemapi import debug_mode

from btvstat_open.i18n import _, current_locale, format_integer, lazy, use_locale
from btvstat_open.i18n.formats import format_iso_date, strftime_pattern
from catalog.dated_goals import expected_value, kpi_path
from catalog.localized import join_marked, marked
from catalog.models import Kpi
from widgets.plot_spec import band, status_scales
from widgets.summary import STATUSES, Row, chart_notes, format_value, rows, summarize, with_future_targets
from widgets.themes import Theme
from widgets.themes import palette as palette_of
from widgets.vocabulary import period_name

__all__ = ["Width", "build_chart", "chart_spec", "describe", "recoloured", "sparkline_spec", "titled"]

Width = int | Literal["container"]

_DATASET = "series"
_NOTES = "notes"
# The time axis' labels: the locale's own order, words and punctuation for these CLDR skeletons.
_AXIS_SKELETONS = {"week": "yMMMd", "month": "yMMM"}
_CHART_KINDS = {
    "line": lazy("Line chart of %(title)s%(unit)s by %(period)s"),
    "bar": lazy("Bar chart of %(title)s%(unit)s by %(period)s"),
    "area": lazy("Area chart of %(title)s%(unit)s by %(period)s"),
    "number": lazy("Big number of %(title)s%(unit)s by %(period)s"),
}


def _tooltip() -> list[alt.Tooltip]:
    """The tooltip fields, titled in the current locale."""
    return [
        alt.Tooltip("period:N", title=_("Period")),
        alt.Tooltip("value_label:N", title=_("Value")),
        alt.Tooltip("target_label:N", title=_("Target")),
        alt.Tooltip("status_label:N", title=_("Status")),
    ]


def describe(kpi: Kpi, series_rows: list[Row]) -> str:
    """One or two sentences saying what the chart shows (its accessible description).

    Example:
        >>> from catalog.demo_series import demo_series
        >>> from widgets.charts import describe
        >>> from widgets.summary import rows
        >>> kpi, series = demo_series("pothole-days-to-close")
        >>> describe(kpi, rows(kpi, series))
        'Line chart of Median days to close pothole requests (days) by week, 9 periods ...'
    """
    unit = marked(" (%(unit)s)", {"unit": kpi.unit}) if kpi.unit else ""
    kind = _(_CHART_KINDS[kpi.chart])
    parts = [marked(kind, {"title": kpi.title, "unit": unit, "period": period_name(kpi.period.size)})]
    if series_rows:
        first, last = series_rows[0].period, series_rows[-1].period
        periods = _("%(count)d periods from %(first)s to %(last)s").replace("%(count)d", "%(count)s") % {
            "count": format_integer(len(series_rows)),  # in the locale's digits
            "first": first,
            "last": last,
        }
        parts[0] = join_marked([parts[0], periods], ", ")
    summary = summarize(kpi, series_rows)
    if summary.latest is not None:
        latest = summary.latest
        parts.append(
            marked(
                _("Latest: %(value)s in %(period)s, %(status)s"),
                {"value": latest.value_label, "period": latest.period, "status": summary.status_label},
            )
        )
    if kpi.target is not None and summary.latest is not None:
        parts.append(marked(_("Target: %(target)s"), {"target": summary.latest.target_label}))
    if kpi.dated_goal is not None:
        goal = kpi.dated_goal.target
        parts.append(
            marked(
                _("Dotted line: the expected path to %(value)s by %(day)s"),
                {"value": format_value(goal.value, kpi), "day": format_iso_date(goal.date)},
            )
        )
    parts.extend(note.label for note in chart_notes(kpi, series_rows))
    return join_marked(parts, ". ", ".")  # in HTML, fallback texts keep their lang


def _chart_records(kpi: Kpi, series_rows: list[Row]) -> list[dict[str, Any]]:
    """Every field of each row (tooltips show them), its near-target band and, with a dated goal,
    the expected path's value on the period's last day (from the baseline's date on)."""
    records = []
    path = kpi_path(kpi)
    for row in series_rows:
        record = row.record()
        record["band_low"], record["band_high"] = band(kpi, row.target)
        if path and row.period_end >= path[0].date:
            record["path"] = expected_value(path, row.period_end)
            record["path_label"] = format_value(record["path"], kpi)
        records.append(record)
    return records


def _status_scales(theme: Theme, records: list[dict[str, Any]] | None = None) -> tuple[alt.Scale, alt.Scale]:
    """Colour and shape scales over the statuses present (all of them when none is)."""
    present = {r["status"] for r in records or []}
    drawn: list[str] = [s for s in STATUSES if s != "no_data"]
    colour, shape = status_scales(theme, [s for s in drawn if s in present] or drawn)
    return alt.Scale(**colour), alt.Scale(**shape)


def _title(kpi: Kpi) -> alt.TitleParams:
    subtitle = " · ".join(part for part in (kpi.unit, kpi.department) if part)
    return alt.TitleParams(text=kpi.title, subtitle=subtitle)


def _tick_values(records: list[dict[str, Any]], key: str) -> list[Any]:
    """At most about six evenly spaced ticks, on period starts (each label costs render time)."""
    step = max(1, -(-len(records) // 6))
    picked = records[::step]
    if key == "period":
        return [r["period"] for r in picked]
    days = [date.fromisoformat(r["period_start"]) for r in picked]
    return [{"year": d.year, "month": d.month, "date": d.day, "utc": True} for d in days]


def _time_layers(
    kpi: Kpi, records: list[dict[str, Any]], notes: list[dict[str, Any]], theme: Theme
) -> list[alt.Chart]:
    colour, shape = _status_scales(theme, records)
    tooltip = {"tooltip": _tooltip()}
    y_title = kpi.unit or _("value")
    y_axis = alt.Axis(tickCount=5)
    # Weeks and months sit on a time axis; quarters and (fiscal) years are named periods, so their
    # labels say "Q1 2025" or "FY2013" rather than the year the period starts in.
    if kpi.chart == "bar" or kpi.period.size not in ("week", "month"):
        axis = alt.Axis(labelAngle=0, labelOverlap=True, values=_tick_values(records, "period"))
        x = alt.X(field="period", type="ordinal", sort=None, title=None, axis=axis)
    else:
        axis = alt.Axis(
            format=strftime_pattern(_AXIS_SKELETONS[kpi.period.size]),
            labelOverlap=True,
            values=_tick_values(records, "start"),
        )
        x = alt.X(field="period_start", type="temporal", title=None, scale=alt.Scale(type="utc"), axis=axis)
    base = alt.Chart().encode(x=x)
    layers: list[alt.Chart] = []
    if any(r["band_low"] is not None for r in records) and kpi.chart != "bar":
        band = base.mark_area(opacity=0.16, color=theme.band, interpolate="step-after")
        layers.append(
            band.encode(y=alt.Y(field="band_low", type="quantitative"), y2=alt.Y2(field="band_high"))
        )
    value = alt.Y(field="value", type="quantitative", title=y_title, axis=y_axis)
    if kpi.chart == "bar":
        colour_channel = alt.Color(field="status_label", type="nominal", scale=colour, title=_("Status"))
        layers.append(base.mark_bar(opacity=0.85).encode(y=value, color=colour_channel, **tooltip))
    elif kpi.chart == "area":
        layers.append(
            base.mark_area(opacity=0.25, color=theme.line, line={"color": theme.line}).encode(y=value)
        )
    else:
        layers.append(base.mark_line(color=theme.line, strokeWidth=2).encode(y=value))
    # The target in force at each period's start, as a step line (a tick per bar on bar charts);
    # targets still to come continue it dashed.
    if any(r["target"] is not None for r in records):
        target_mark = (
            base.mark_tick(color=theme.target, thickness=3)
            if kpi.chart == "bar"
            else base.mark_line(color=theme.target, strokeWidth=2, interpolate="step-after")
        )
        layers.append(target_mark.encode(y=alt.Y(field="target", type="quantitative"), **tooltip))
    if any(r["future_target"] is not None for r in records):
        future = base.mark_line(
            color=theme.target, strokeDash=[6, 4], strokeWidth=2, interpolate="step-after"
        )
        layers.append(future.encode(y=alt.Y(field="future_target", type="quantitative"), **tooltip))
    if any(r.get("path") is not None for r in records):  # the dated goal's path, dotted
        path_tip = [
            alt.Tooltip("period:N", title=_("Period")),
            alt.Tooltip("path_label:N", title=_("Expected path")),
        ]
        path_line = base.transform_filter(alt.FieldValidPredicate(field="path", valid=True)).mark_line(
            color=theme.target, strokeDash=[2, 3], strokeWidth=2
        )
        layers.append(path_line.encode(y=alt.Y(field="path", type="quantitative"), tooltip=path_tip))
    if notes:
        layers.extend(_note_layers(x, theme))
    layers.append(
        base.transform_filter(alt.FieldValidPredicate(field="value", valid=True))
        .mark_point(filled=True, size=80 if kpi.chart != "bar" else 60, opacity=1, strokeWidth=1)
        .encode(
            y=alt.Y(field="value", type="quantitative"),
            color=alt.Color(field="status_label", type="nominal", scale=colour, title=_("Status")),
            shape=alt.Shape(field="status_label", type="nominal", scale=shape, title=_("Status")),
            stroke=alt.value(theme.background),
            **tooltip,
        )
    )
    return layers


def _note_layers(x: alt.X, theme: Theme) -> list[alt.Chart]:
    """Dated notes as dotted rules, each labelled for screen readers and numbered at the top."""
    notes = alt.Chart(alt.NamedData(name=_NOTES)).encode(x=x)
    label = alt.Description(field="label", type="nominal")
    rule = notes.mark_rule(color=theme.muted, strokeDash=[2, 3], strokeWidth=1.5, aria=True).encode(
        description=label, tooltip=alt.Tooltip(field="label", type="nominal", title=_("Note"))
    )
    number = notes.mark_text(color=theme.text, fontSize=11, fontWeight="bold", dx=6, align="left", aria=False)
    return [rule, number.encode(y=alt.value(8), text=alt.Text(field="number", type="nominal"))]


def _number_layers(
    kpi: Kpi, series_rows: list[Row], theme: Theme, height: int
) -> tuple[list[alt.Chart], dict[str, Any]]:
    summary = summarize(kpi, series_rows)
    latest = summary.latest
    record = {
        "value": latest.value_label if latest else _("No data"),
        "period": latest.period if latest else "",
        "change": summary.change_label,
        "status": f"{summary.status_symbol} {summary.status_label}"
        + (
            " · " + _("target %(target)s") % {"target": latest.target_label}
            if latest and latest.target is not None
            else ""
        ),
    }
    lines: list[tuple[str, int, Literal["bold", "normal"], float, str]] = [
        ("value", 40, "bold", -0.20, theme.text),
        ("period", 13, "normal", 0.0, theme.muted),
        ("change", 13, "normal", 0.11, theme.muted),
        ("status", 14, "bold", 0.23, theme.status.get(summary.status, theme.text)),
    ]
    layers = [
        alt.Chart()
        .mark_text(fontSize=size, fontWeight=weight, color=colour, dy=round(offset * height), limit=0)
        .encode(text=alt.Text(field=field, type="nominal"))
        for field, size, weight, offset, colour in lines
    ]
    return layers, record


def build_chart(
    kpi: Kpi,
    series: pa.Table,
    *,
    theme: str = "light",
    width: Width = "container",
    height: int = 300,
    title: bool = True,
    today: date | None = None,
    fiscal_year_start: int = 7,
) -> alt.LayerChart:
    """The KPI's chart as an Altair object (line, bar, area or big number, per ``kpi.chart``).

    With ``today``, target history entries after it are drawn as a dashed continuation of the
    target's step line. Notes within the charted periods are rules with accessible labels.
    Static images are drawn differently, see :mod:`widgets.images`.

    Example:
        >>> from catalog.demo_series import demo_series
        >>> from widgets import build_chart
        >>> kpi, series = demo_series("pothole-days-to-close")
        >>> build_chart(kpi, series, theme="dark", width=640).to_dict()["width"]
        640
    """
    # Altair re-validates every object it builds in "debug mode"; the finished spec is validated in
    # the tests instead (building is then several times faster).
    with debug_mode(False):
        return _build(kpi, series, theme=theme, width=width, height=height, title=title,
                      today=today, fiscal_year_start=fiscal_year_start)  # fmt: skip


def _build(
    kpi: Kpi,
    series: pa.Table,
    *,
    theme: str,
    width: Width,
    height: int,
    title: bool,
    today: date | None,
    fiscal_year_start: int,
) -> alt.LayerChart:
    palette = palette_of(theme)
    series_rows = rows(kpi, series)
    notes: list[dict[str, Any]] = []
    if kpi.chart == "number":
        layers, record = _number_layers(kpi, series_rows, palette, height)
        records = [record]
    else:
        drawn = with_future_targets(kpi, series_rows, today, fiscal_year_start) if today else series_rows
        records = _chart_records(kpi, drawn)
        notes = [note.record(drawn) for note in chart_notes(kpi, drawn)]
        layers = _time_layers(kpi, records, notes, palette)
    extra: dict[str, Any] = {}
    if title:
        extra["title"] = _title(kpi)
    if width == "container":
        extra["autosize"] = alt.AutoSizeParams(type="fit-x", contains="padding")
    # The rows go in once, as a named dataset: Altair copies every layer on each change, and
    # copying the data with them made building a chart slower than rendering it.
    chart = alt.LayerChart(
        layer=layers,
        data=alt.NamedData(name=_DATASET),
        width=width,
        height=height,
        description=describe(kpi, series_rows),
        **extra,
    )
    chart.datasets = {_DATASET: records, **({_NOTES: notes} if notes else {})}
    chart.config = palette.config()
    return chart


def chart_spec(
    kpi: Kpi,
    series: pa.Table,
    *,
    theme: str = "light",
    width: Width = "container",
    height: int = 300,
    title: bool = True,
    today: date | None = None,
    fiscal_year_start: int = 7,
    locale: str | None = None,
) -> dict[str, Any]:
    """The KPI's chart as a Vega-Lite spec (a JSON-ready dict); see :func:`build_chart`. Its words
    (title, axes, legend, tooltips, description) are in ``locale`` (default: the current one).

    Example:
        >>> from catalog.demo_series import demo_series
        >>> from widgets import chart_spec
        >>> kpi, series = demo_series("pothole-days-to-close")
        >>> chart_spec(kpi, series)["$schema"]
        'https://vega.github.io/schema/vega-lite/v6...json'
        >>> chart_spec(kpi, series, locale="es")["description"][:40]
        'Gráfico de líneas de Median days to clos'
    """
    with use_locale(locale or current_locale()):
        chart = build_chart(kpi, series, theme=theme, width=width, height=height, title=title,
                            today=today, fiscal_year_start=fiscal_year_start)  # fmt: skip
        spec: dict[str, Any] = chart.to_dict(validate=False)
    return spec


def titled(spec: dict[str, Any], kpi: Kpi) -> dict[str, Any]:
    """``spec``, a chart :func:`chart_spec` built with ``title=False``, with the KPI's title: the
    spec it builds with ``title=True`` (the same keys in the same order), without building again.

    Example:
        >>> from catalog.demo_series import demo_series
        >>> kpi, series = demo_series("pothole-days-to-close")
        >>> with_title = titled(chart_spec(kpi, series, title=False), kpi)
        >>> with_title == chart_spec(kpi, series) and list(with_title) == list(chart_spec(kpi, series))
        True
    """
    title = _title(kpi).to_dict(validate=False)
    # Altair writes a chart's own properties in name order after its config and layers.
    keys = [key for key in spec if key != "title"]
    at = next(
        (i for i, key in enumerate(keys) if key not in ("config", "layer") and key > "title"), len(keys)
    )
    keys.insert(at, "title")
    return {key: title if key == "title" else spec[key] for key in keys}


def _palette(theme: Theme) -> list[str]:
    return [theme.background, theme.text, theme.muted, theme.grid, theme.line, theme.target, theme.band,
            *(theme.status[status] for status in sorted(theme.status))]  # fmt: skip


def recoloured(spec: dict[str, Any], source: str, target: str) -> dict[str, Any] | None:
    """``spec``, a chart :func:`chart_spec` built in the ``source`` theme, in the ``target`` theme:
    every colour of the one swapped for the other's (the data left as it is). None when the two
    palettes do not map one to one (then build the chart again).

    Example:
        >>> from catalog.demo_series import demo_series
        >>> kpi, series = demo_series("pothole-days-to-close")
        >>> recoloured(chart_spec(kpi, series), "light", "dark") == chart_spec(kpi, series, theme="dark")
        True
    """
    pairs = list(zip(_palette(palette_of(source)), _palette(palette_of(target)), strict=True))
    colours = dict(pairs)
    if len(set(pairs)) != len(colours):
        return None  # one colour of the source stands for two of the target

    def swap(value: Any) -> Any:
        if isinstance(value, str):
            return colours.get(value, value)
        if isinstance(value, dict):
            return {key: swap(item) for key, item in value.items()}
        if isinstance(value, list):
            return [swap(item) for item in value]
        return value

    return {key: value if key == "datasets" else swap(value) for key, value in spec.items()}


def sparkline_spec(kpi: Kpi, series: pa.Table, *, theme: str = "light") -> dict[str, Any]:
    """A small line of the last periods with the latest point marked by status colour and shape.

    Example:
        >>> from catalog.demo_series import demo_series
        >>> from widgets.charts import sparkline_spec
        >>> kpi, series = demo_series("pothole-days-to-close")
        >>> sparkline_spec(kpi, series)["height"]
        36
    """
    palette = palette_of(theme)
    series_rows = rows(kpi, series)[-24:]
    records = [r.record() for r in series_rows]
    colour, shape = _status_scales(palette)
    base = alt.Chart(alt.NamedData(name=_DATASET)).encode(
        x=alt.X("period_start:T", axis=None, scale=alt.Scale(type="utc")),
        y=alt.Y("value:Q", axis=None, scale=alt.Scale(zero=False)),
    )
    latest = [r for r in records if r["value"] is not None][-1:]
    point = (
        alt.Chart(alt.NamedData(name="latest"))
        .mark_point(filled=True, size=40, opacity=1)
        .encode(
            x=alt.X("period_start:T", axis=None, scale=alt.Scale(type="utc")),
            y=alt.Y("value:Q", axis=None),
            color=alt.Color("status_label:N", scale=colour, legend=None),
            shape=alt.Shape("status_label:N", scale=shape, legend=None),
        )
    )
    chart = alt.LayerChart(
        layer=[base.mark_line(color=palette.line, strokeWidth=1.5), point],
        width=132,
        height=36,
        description=_("Trend of %(title)s, last %(count)d periods.")
        % {"title": kpi.title, "count": len(records)},
    )
    chart.datasets = {_DATASET: records, "latest": latest}
    chart.config = palette.config() | {"padding": 3, "background": "transparent", "aria": False}
    spec: dict[str, Any] = chart.to_dict(validate=False)
    return spec
