"""Static chart images, SVG and PNG, rendered on the server fast enough for a first request.

An image is a frame around a plot. The plot (axes and marks, :func:`widgets.plot_spec.plot_spec`)
is rendered by vl-convert. The frame is written here as SVG: the title, a subtitle with the unit
and department, a key of the status shapes and the target line in place of a Vega legend, and
the x axis's labels.
Vega measures every text it lays out through vl-convert's font engine, which made a legend and a
title cost more than the whole plot; the frame's text needs no measuring (it is left-aligned or
centred, and long titles are shortened by estimated width, see :mod:`widgets.textfit`). A
big-number card is all text, so it is all frame. PNG images are the same SVG rasterised by
vl-convert, so both formats always show the same picture.

The image is labelled as a whole for assistive technology: ``role="img"``, an ``aria-label`` and
``<desc>`` with :func:`widgets.charts.describe`, and a ``<title>``.

Example:
    >>> from catalog.demo_series import demo_series  # a demo KPI and its measured series
    >>> from widgets import image_svg
    >>> kpi, series = demo_series("pothole-days-to-close")
    >>> svg = image_svg(kpi, series, theme="dark", width=640)
    >>> svg.startswith('<svg xmlns="http://www.w3.org/2000/svg" role="img"')
    True
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import date

import pyarrow as pa

from btvstat_open.errors import RenderError
from btvstat_open.i18n import _, current_locale, format_integer, use_locale
from catalog.models import Kpi
from widgets.charts import describe
from widgets.plot_spec import band, note_positions, plot_spec, shown_statuses, x_labels
from widgets.render import svg_to_png, vega_svg
from widgets.summary import STATUS_LABELS, Row, chart_notes, rows, summarize, with_future_targets
from widgets.textfit import fit, text_width
from widgets.themes import STATUS_SHAPES, Theme
from widgets.themes import palette as palette_of

__all__ = ["DEFAULT_HEIGHTS", "image_png", "image_svg"]

DEFAULT_HEIGHTS = {"number": 220, "chart": 320}
PAD = 8
_TITLE, _SUBTITLE, _KEY = 15, 12, 11  # font sizes
_SVG_OPEN = re.compile(r'^<svg[^>]*\bwidth="([0-9.]+)" height="([0-9.]+)"[^>]*>')
_ORIGIN = re.compile(r'transform="translate\(([0-9.]+),([0-9.]+)\)"')  # of the plot inside Vega's SVG


@dataclass(frozen=True)
class _Body:
    """The part below the header: SVG markup drawn from (0, 0), and its size."""

    markup: str
    width: float
    height: float


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _text(
    x: float, y: float, text: str, size: int, fill: str, *, bold: bool = False, anchor: str = ""
) -> str:
    weight = ' font-weight="bold"' if bold else ""
    align = f' text-anchor="{anchor}"' if anchor else ""
    return f'<text x="{x:g}" y="{y:g}" font-size="{size}" fill="{fill}"{weight}{align}>{_esc(text)}</text>'


def _symbol(shape: str, x: float, y: float, colour: str, outline: str) -> str:
    """A status shape like the plot's points, centred on (x, y)."""
    paint = f'fill="{colour}" stroke="{outline}" stroke-width="1"'
    if shape == "circle":
        return f'<circle cx="{x:g}" cy="{y:g}" r="4.5" {paint}/>'
    if shape == "square":
        return f'<rect x="{x - 4:g}" y="{y - 4:g}" width="8" height="8" {paint}/>'
    if shape == "diamond":
        points = f"{x:g},{y - 5.5:g} {x + 5.5:g},{y:g} {x:g},{y + 5.5:g} {x - 5.5:g},{y:g}"
    else:  # triangle-down
        points = f"{x - 5.5:g},{y - 4.5:g} {x + 5.5:g},{y - 4.5:g} {x:g},{y + 5:g}"
    return f'<polygon points="{points}" {paint}/>'


def _key_items(kpi: Kpi, series_rows: list[Row], theme: Theme) -> list[tuple[str, str, float]]:
    """(sample markup drawn at the origin, label, sample width) for each entry of the key."""
    items: list[tuple[str, str, float]] = []
    for status in shown_statuses(series_rows):
        sample = _symbol(STATUS_SHAPES[status], 5.5, -4, theme.status[status], theme.background)
        items.append((sample, STATUS_LABELS[status], 11))
    if any(row.target is not None for row in series_rows):
        has_band = kpi.chart != "bar" and any(band(kpi, row.target)[0] is not None for row in series_rows)
        sample = (
            f'<rect x="0" y="-10" width="22" height="12" fill="{theme.band}" opacity="0.16"/>'
            if has_band
            else ""
        )
        width = "3" if kpi.chart == "bar" else "2"
        sample += f'<line x1="0" y1="-4" x2="22" y2="-4" stroke="{theme.target}" stroke-width="{width}"/>'
        items.append((sample, _("Target and near-target range") if has_band else _("Target"), 22))
    if any(row.future_target is not None for row in series_rows):
        dash = 'stroke-dasharray="6 4"'
        sample = f'<line x1="0" y1="-4" x2="22" y2="-4" stroke="{theme.target}" stroke-width="2" {dash}/>'
        items.append((sample, _("Future target"), 22))
    start = kpi.dated_goal.baseline.date if kpi.dated_goal else None
    if start is not None and any(row.period_end >= start for row in series_rows):
        dash = 'stroke-dasharray="2 3"'
        sample = f'<line x1="0" y1="-4" x2="22" y2="-4" stroke="{theme.target}" stroke-width="2" {dash}/>'
        items.append((sample, _("Expected path"), 22))
    if kpi.notes and chart_notes(kpi, series_rows):
        dots = 'stroke-dasharray="2 3"'
        sample = f'<line x1="5" y1="-12" x2="5" y2="2" stroke="{theme.muted}" stroke-width="1.5" {dots}/>'
        items.append((sample, _("Note"), 10))
    return items


def _header(kpi: Kpi, series_rows: list[Row], theme: Theme, width: float, *, key: bool) -> tuple[str, float]:
    """Title, subtitle and key as SVG markup, and the header's height."""
    room = width - 2 * PAD
    parts = [_text(PAD, PAD + 14, fit(kpi.title, _TITLE, room, bold=True), _TITLE, theme.text, bold=True)]
    subtitle = " · ".join(part for part in (kpi.unit, kpi.department) if part)
    parts.append(_text(PAD, PAD + 32, fit(subtitle, _SUBTITLE, room), _SUBTITLE, theme.muted))
    baseline = PAD + 32
    x = room  # start a new row on the first item
    for sample, label, sample_width in _key_items(kpi, series_rows, theme) if key else []:
        label = fit(label, _KEY, room - sample_width - 5)
        item_width = sample_width + 5 + text_width(label, _KEY)
        if x > PAD and x + item_width > PAD + room:
            x, baseline = PAD, baseline + 19
        parts.append(f'<g transform="translate({x:g},{baseline:g})">{sample}</g>')
        parts.append(_text(x + sample_width + 5, baseline, label, _KEY, theme.text))
        x += item_width + 16
    return f'<g font-family="{_esc(theme.font)}">{"".join(parts)}</g>', baseline + 8


def _number_body(kpi: Kpi, series_rows: list[Row], theme: Theme, width: float, height: int) -> _Body:
    """The big-number card: latest value, its period, the change and the status, centred."""
    summary = summarize(kpi, series_rows)
    latest = summary.latest
    status = f"{summary.status_symbol} {summary.status_label}"
    if latest is not None and latest.target is not None:
        status += " · " + _("target %(target)s") % {"target": latest.target_label}
    middle, centre = height / 2, width / 2
    lines = [
        (latest.value_label if latest else _("No data"), 40, True, -0.20, theme.text),
        (latest.period if latest else "", 13, False, 0.0, theme.muted),
        (summary.change_label, 13, False, 0.11, theme.muted),
        (status, 14, True, 0.23, theme.status.get(summary.status, theme.text)),
    ]
    room = width - 2 * PAD
    markup = "".join(
        # y is the baseline: about a third of the font size below the line's middle.
        _text(centre, middle + offset * height + size * 0.35, fit(text, size, room, bold=bold), size, colour,
              bold=bold, anchor="middle")
        for text, size, bold, offset, colour in lines
        if text
    )  # fmt: skip
    return _Body(f'<g font-family="{_esc(theme.font)}">{markup}</g>', width, height)


def _y_label_width(series_rows: list[Row]) -> float:
    """About how wide the y axis (labels, ticks, padding) will be, to size the plot."""
    numbers = [abs(n) for r in series_rows for n in (r.value, r.target, r.future_target) if n is not None]
    biggest = max(numbers, default=0.0)
    label = "999k" if biggest >= 10_000 else f"{biggest:,.0f}"
    return text_width(label, 11) + 10


def _plot_body(kpi: Kpi, series_rows: list[Row], theme: str, width: int, height: int) -> _Body:
    plot_width = max(60, round(width - _y_label_width(series_rows) - 20))
    notes = chart_notes(kpi, series_rows)
    spec = plot_spec(kpi, series_rows, theme=theme, width=plot_width, height=height, notes=notes)
    svg = vega_svg(spec)
    opening, origin = _SVG_OPEN.match(svg), _ORIGIN.search(svg)
    if opening is None or origin is None or not svg.endswith("</svg>"):
        raise RenderError("vl-convert returned something that is not an SVG document.")
    # The x labels, under the plot's ticks (Vega draws 5 px ticks below the plot's bottom edge).
    left, top = float(origin.group(1)), float(origin.group(2))
    baseline = top + height + 17
    palette = palette_of(theme)
    labels = "".join(
        _text(left + x, baseline, label, 11, palette.muted, anchor=anchor)
        for x, label, anchor in x_labels(kpi, series_rows, plot_width)
    )
    # Each note: its number at the top of its rule, and its words in a line under the axis.
    numbers = "".join(
        _text(left + x + 3, top + 11, format_integer(note.number), 11, palette.text, bold=True)
        for note, x in zip(notes, note_positions(kpi, series_rows, notes, plot_width), strict=True)
    )
    room = width - 2 * PAD
    lines = "".join(
        _text(PAD, baseline + 20 + 17 * i, fit(note.label, 11, room), 11, palette.text)
        for i, note in enumerate(notes)
    )
    font = f'font-family="{_esc(palette.font)}"'
    # The notes first, the axis labels last (readers of the SVG find the labels as its last group).
    text = f"<g {font}>{numbers}{lines}</g><g {font}>{labels}</g>"
    inner = svg[opening.end() : -len("</svg>")] + text
    bottom = baseline + 8 + 17 * len(notes)
    return _Body(inner, float(opening.group(1)), max(float(opening.group(2)), bottom))


def image_svg(
    kpi: Kpi,
    series: pa.Table,
    *,
    theme: str = "light",
    width: int = 720,
    height: int | None = None,
    today: date | None = None,
    fiscal_year_start: int = 7,
    locale: str | None = None,
) -> str:
    """The KPI's chart as a standalone, labelled SVG document ``width`` pixels wide (or a little more),
    its words in ``locale`` (default: the current one).

    ``height`` is the plot's (or the big-number card's) height; the header adds to it. With
    ``today``, targets after it are drawn dashed; notes are dotted rules, numbered, with their words
    under the axis.

    Example:
        >>> from catalog.demo_series import demo_series
        >>> from widgets import image_svg
        >>> kpi, series = demo_series("pothole-days-to-close")
        >>> image_svg(kpi, series, width=640)[:58]
        '<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-la'
    """
    if locale is not None and locale != current_locale():
        with use_locale(locale):
            return image_svg(
                kpi,
                series,
                theme=theme,
                width=width,
                height=height,
                today=today,
                fiscal_year_start=fiscal_year_start,
            )
    palette = palette_of(theme)
    series_rows = rows(kpi, series)
    if kpi.chart == "number":
        body = _number_body(kpi, series_rows, palette, width, height or DEFAULT_HEIGHTS["number"])
        drawn = series_rows
    else:
        drawn = with_future_targets(kpi, series_rows, today, fiscal_year_start) if today else series_rows
        body = _plot_body(kpi, drawn, theme, width, height or DEFAULT_HEIGHTS["chart"])
    full_width = max(float(width), body.width)
    header, header_height = _header(kpi, drawn, palette, full_width, key=kpi.chart != "number")
    full_height = header_height + body.height
    description = _esc(describe(kpi, series_rows))
    size = f'width="{full_width:g}" height="{full_height:g}" viewBox="0 0 {full_width:g} {full_height:g}"'
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{description}" {size}>'
        f"<title>{_esc(kpi.title)}</title><desc>{description}</desc>"
        f'<rect width="100%" height="100%" fill="{palette.background}"/>{header}'
        f'<g transform="translate(0,{header_height:g})">{body.markup}</g></svg>'
    )


def image_png(svg: str, *, scale: float = 2.0) -> bytes:
    """An image from :func:`image_svg` as PNG (``scale`` 2 is crisp on high-density screens).

    Example:
        >>> from catalog.demo_series import demo_series
        >>> from widgets import image_png, image_svg
        >>> kpi, series = demo_series("pothole-days-to-close")
        >>> image_png(image_svg(kpi, series))[:4]
        b'\\x89PNG'
    """
    return svg_to_png(svg, scale=scale)
