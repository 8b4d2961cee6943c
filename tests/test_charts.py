"""Chart builders on every demo KPI: specs validate, round-trip through JSON and render to SVG and PNG."""

from __future__ import annotations

import html
import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import altair as alt
import jsonschema
import pyarrow as pa
import pytest
import vl_convert as vlc
from altair.vegalite.v6.schema.core import load_schema
from demo_store import demo_store

from btvstat_open.store import Store
from catalog import load_catalog, measure
from catalog.demo import DEMO_DIR
from catalog.models import Catalog, Kpi
from widgets.charts import build_chart, chart_spec, describe, sparkline_spec
from widgets.images import image_png, image_svg
from widgets.plot_spec import MAX_TICKS, plot_spec, shown_statuses
from widgets.render import render_html, render_png, render_svg, script_json
from widgets.summary import STATUS_LABELS, STATUS_SYMBOLS, format_value, period_label, rows, summarize
from widgets.textfit import fit, text_width
from widgets.themes import STATUS_SHAPES, THEMES, contrast_ratio

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, Catalog]]:
    store = demo_store(tmp_path_factory.mktemp("chart-store"))
    yield store, load_catalog(DEMO_DIR, store)
    store.close()


def _values(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """The inline data rows of a spec (Altair moves them to top-level ``datasets``)."""
    name = spec["data"]["name"] if "data" in spec else spec["layer"][0]["data"]["name"]
    values: list[dict[str, Any]] = spec["datasets"][name]
    return values


def _kpi(**changes: object) -> Kpi:
    base: dict[str, object] = {
        "id": "t",
        "title": "Days to close",
        "department": "Public Works",
        "unit": "days",
        "decimals": 1,
        "direction": "lower_is_better",
        "target": {"value": 7, "tolerance": 2},
        "source": {"dataset": "d", "date_column": "c"},
        "measure": {"calculation": "median", "column": "x"},
    }
    base.update(changes)
    return Kpi.model_validate(base)


def _series(values: list[float | None], statuses: list[str]) -> pa.Table:
    starts = [date(2025, m, 1) for m in range(1, len(values) + 1)]
    ends = [
        date(2025, m + 1, 1).replace(day=1) if m < 12 else date(2025, 12, 31)
        for m in range(1, len(values) + 1)
    ]
    return pa.table(
        {
            "period_start": pa.array(starts, pa.date32()),
            "period_end": pa.array(ends, pa.date32()),
            "value": pa.array(values, pa.float64()),
            "target": pa.array([7.0] * len(values)),
            "status": statuses,
        }
    )


def test_every_demo_kpi_chart_validates_round_trips_and_renders(demo: tuple[Store, Catalog]) -> None:
    store, catalog = demo
    kinds = set()
    for kpi in catalog.kpis.values():
        series = measure(kpi, store, catalog.settings)
        for theme in ("light", "dark"):
            spec = build_chart(kpi, series, theme=theme, width=640).to_dict()  # validates the schema
            assert spec["description"].startswith(("Line chart", "Bar chart", "Area chart", "Big number"))
            assert kpi.title in spec["description"]
            assert spec["config"]["background"] == THEMES[theme].background
            text = json.dumps(spec)
            assert json.loads(text) == spec
            assert alt.LayerChart.from_dict(json.loads(text), validate=False).to_dict(validate=False) == spec
        kinds.add(kpi.chart)
        svg = render_svg(chart_spec(kpi, series, width=640))
        assert svg.startswith('<svg role="img" aria-label="')
        assert f"<title>{html.escape(kpi.title)}</title>" in svg
        assert render_png(spec)[:8] == b"\x89PNG\r\n\x1a\n"
        spark = sparkline_spec(kpi, series)  # the last 24 periods, drawn as a line and a point
        assert spark["description"] == f"Trend of {kpi.title}, last {min(24, series.num_rows)} periods."
        spark_svg = render_svg(spark)
        assert (
            spark_svg.startswith("<svg")
            and 'class="mark-line' in spark_svg
            and 'class="mark-symbol' in spark_svg
        )
    assert kinds == {"line", "bar", "area", "number"}


def test_container_width_for_pages() -> None:
    spec = chart_spec(_kpi(), _series([5.0, 8.0, 12.0], ["on_track", "near_target", "off_track"]))
    assert spec["width"] == "container"
    assert spec["autosize"] == {"type": "fit-x", "contains": "padding"}


@pytest.mark.parametrize("kind", ["line", "bar", "area"])
def test_status_is_shown_by_colour_and_shape(kind: str) -> None:
    kpi = _kpi(chart=kind)
    spec = chart_spec(kpi, _series([5.0, 8.0, 12.0], ["on_track", "near_target", "off_track"]))
    points = [layer for layer in spec["layer"] if layer["mark"]["type"] == "point"]
    assert len(points) == 1
    encoding = points[0]["encoding"]
    assert encoding["color"]["field"] == encoding["shape"]["field"] == "status_label"
    assert encoding["shape"]["scale"]["domain"] == ["On track", "Near target", "Off track"]
    assert encoding["shape"]["scale"]["range"] == [
        STATUS_SHAPES[s] for s in ("on_track", "near_target", "off_track")
    ]
    assert encoding["color"]["scale"]["range"] == [
        THEMES["light"].status[s] for s in ("on_track", "near_target", "off_track")
    ]
    tooltip_fields = [t["field"] for t in encoding["tooltip"]]
    assert tooltip_fields == ["period", "value_label", "target_label", "status_label"]
    values = _values(spec)
    assert [v["value_label"] for v in values] == ["5.0 days", "8.0 days", "12.0 days"]


def test_target_band_follows_direction() -> None:
    spec = chart_spec(_kpi(), _series([5.0, 9.0], ["on_track", "near_target"]))
    band = spec["layer"][0]
    assert band["mark"]["type"] == "area" and band["encoding"]["y2"]["field"] == "band_high"
    values = _values(spec)
    assert (values[0]["band_low"], values[0]["band_high"]) == (7.0, 9.0)  # lower is better: 7..9 is near
    higher = chart_spec(_kpi(direction="higher_is_better"), _series([5.0], ["off_track"]))
    values = _values(higher)
    assert (values[0]["band_low"], values[0]["band_high"]) == (5.0, 7.0)


def test_no_data_periods_are_gaps_not_points() -> None:
    spec = chart_spec(_kpi(), _series([5.0, None, 6.0], ["on_track", "no_data", "on_track"]))
    point = next(layer for layer in spec["layer"] if layer["mark"]["type"] == "point")
    assert point["transform"] == [{"filter": {"field": "value", "valid": True}}]


def test_number_chart_shows_latest_change_status_and_target() -> None:
    spec = chart_spec(_kpi(chart="number"), _series([9.0, 6.5], ["near_target", "on_track"]))
    record = _values(spec)[0]
    assert record["value"] == "6.5 days"
    assert record["change"] == "▼ -2.5 days since Jan 2025"
    assert record["status"] == f"{STATUS_SYMBOLS['on_track']} On track · target 7.0 days"
    assert "Big number" in spec["description"]


def test_catalog_text_is_escaped_in_svg_and_never_becomes_an_expression() -> None:
    hostile = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'
    kpi = _kpi(title=hostile, unit="</script>")
    spec = chart_spec(kpi, _series([5.0], ["on_track"]))
    svg = render_svg(chart_spec(kpi, _series([5.0], ["on_track"]), width=400))
    assert "<script" not in svg and "<img" not in svg
    assert "&lt;script&gt;" in svg
    text = json.dumps(spec)
    assert '"expr"' not in text and "calculate" not in text
    safe = script_json(spec)
    assert "<" not in safe and ">" not in safe and "&" not in safe
    assert json.loads(safe) == spec


def test_theme_contrast_meets_wcag_aa() -> None:
    for theme in THEMES.values():
        assert contrast_ratio(theme.text, theme.background) >= 4.5
        assert contrast_ratio(theme.muted, theme.background) >= 4.5
        assert contrast_ratio(theme.line, theme.background) >= 3
        assert contrast_ratio(theme.target, theme.background) >= 3
        for colour in theme.status.values():
            assert contrast_ratio(colour, theme.background) >= 3


def test_formatting_and_summary() -> None:
    kpi = _kpi(unit="%", decimals=1)
    # Python's round: half to even, and 45.25 is exact in binary, so it goes down; 45.26 goes up.
    assert format_value(45.25, kpi) == "45.2%"
    assert format_value(45.26, kpi) == "45.3%"
    assert format_value(-0.01, kpi) == "0.0%"
    assert format_value(1234567.0, _kpi(decimals=0, unit="")) == "1,234,567"
    assert period_label("week", date(2025, 1, 6), date(2025, 1, 12)) == "Week of Jan 6, 2025"
    assert period_label("month", date(2025, 1, 1), date(2025, 1, 31)) == "Jan 2025"
    assert period_label("fiscal_year", date(2012, 7, 1), date(2013, 6, 30)) == "FY2013"
    series_rows = rows(kpi, _series([50.0, None, 40.0], ["on_track", "no_data", "off_track"]))
    summary = summarize(_kpi(direction="higher_is_better", unit="%"), series_rows)
    assert summary.latest is not None and summary.latest.period == "Mar 2025"
    assert summary.previous is not None and summary.previous.period == "Jan 2025"
    assert summary.change == -10.0 and summary.trend == "worse"
    assert summarize(kpi, rows(kpi, _series([None], ["no_data"]))).status == "no_data"


def test_self_contained_html_fetches_nothing(tmp_path: Path) -> None:
    spec = chart_spec(_kpi(title="A <b>bold</b> title"), _series([5.0, 6.0], ["on_track", "on_track"]))
    page = render_html(spec, title="A <b>bold</b> title")
    assert "<title>A &lt;b&gt;bold&lt;/b&gt; title</title>" in page
    assert 'src="http' not in page and "cdn." not in page
    assert "vegaEmbed(" in page


# Static images: a plain Vega-Lite plot (rendered by vl-convert) in an SVG frame (title, key).

VEGA_LITE = jsonschema.Draft7Validator(load_schema())


def _demo_series(demo: tuple[Store, Catalog]) -> Iterator[tuple[Kpi, pa.Table]]:
    store, catalog = demo
    for kpi in catalog.kpis.values():
        yield kpi, measure(kpi, store, catalog.settings)


def test_static_plot_specs_are_valid_vega_lite_with_short_text(demo: tuple[Store, Catalog]) -> None:
    checked = 0
    for kpi, series in _demo_series(demo):
        if kpi.chart == "number":
            continue
        series_rows = rows(kpi, series)
        for theme in ("light", "dark"):
            spec = plot_spec(kpi, series_rows, theme=theme, width=600, height=300)
            errors = [e.message for e in VEGA_LITE.iter_errors(spec)]
            assert errors == [], (kpi.id, errors[:3])
            assert json.loads(json.dumps(spec)) == spec
            assert "title" not in spec and spec["config"]["axis"]["labelLimit"] == 0
            for layer in spec["layer"]:
                encoding = layer["encoding"]
                assert encoding["x"]["title"] is None and len(encoding["x"]["axis"]["values"]) <= MAX_TICKS
                for channel in ("color", "shape"):
                    if channel in encoding:
                        assert encoding[channel]["legend"] is None  # the frame's key replaces the legend
            points = spec["layer"][-1]
            assert points["mark"]["type"] == "point"
            encoding = points["encoding"]
            assert encoding["color"]["field"] == encoding["shape"]["field"] == "status_label"
            checked += 1
    assert checked >= 20


def test_every_demo_kpi_image_is_labelled_well_formed_svg_and_png(demo: tuple[Store, Catalog]) -> None:
    for kpi, series in _demo_series(demo):
        series_rows = rows(kpi, series)
        for theme in ("light", "dark"):
            svg = image_svg(kpi, series, theme=theme, width=640)
            root = ElementTree.fromstring(svg)  # well-formed XML
            assert root.get("role") == "img"
            assert root.get("aria-label") == describe(kpi, series_rows)
            assert root.findtext(f"{SVG}title") == kpi.title and root.findtext(f"{SVG}desc")
            assert 640 <= float(root.get("width", "0")) <= 680
            assert root[2].tag == f"{SVG}rect" and root[2].get("fill") == THEMES[theme].background
            texts = [t.text for t in root.iter(f"{SVG}text")]
            assert texts[0] == kpi.title
            if kpi.chart == "number":
                assert summarize(kpi, series_rows).change_label in texts
            else:
                assert [s for s in texts if s in STATUS_LABELS.values()] == [
                    STATUS_LABELS[s] for s in shown_statuses(series_rows)
                ]
                assert any(p.get("d") for p in root.iter(f"{SVG}path"))  # the plot's marks and axes
        assert image_png(svg, scale=1)[:8] == b"\x89PNG\r\n\x1a\n"


def test_image_key_shows_each_status_by_shape_and_colour() -> None:
    kpi = _kpi()
    svg = image_svg(kpi, _series([5.0, 8.0, 12.0], ["on_track", "near_target", "off_track"]), width=500)
    root = ElementTree.fromstring(svg)
    key = root[3]  # the header: title, subtitle, key samples and labels
    samples = [g[0] for g in key.iter(f"{SVG}g") if g.get("transform", "").startswith("translate")]
    light = THEMES["light"].status
    assert [(s.tag.removeprefix(SVG), s.get("fill")) for s in samples[:3]] == [
        ("circle", light["on_track"]),
        ("polygon", light["near_target"]),
        ("polygon", light["off_track"]),
    ]
    assert samples[1].get("points") != samples[2].get("points")  # diamond and triangle differ
    assert "Target and near-target range" in [t.text for t in key.iter(f"{SVG}text")]


def test_image_text_is_escaped_and_long_titles_are_shortened() -> None:
    hostile = '<script>alert(1)</script>"><img src=x onerror=alert(2)> ' + "very long words " * 20
    kpi = _kpi(title=hostile, unit="</script>", department="A & B")
    svg = image_svg(kpi, _series([5.0], ["on_track"]), width=400)
    assert "<script" not in svg and "<img" not in svg and "&lt;script&gt;" in svg
    root = ElementTree.fromstring(svg)
    assert root.findtext(f"{SVG}title") == hostile  # the full title for assistive technology
    shown = next(root.iter(f"{SVG}text")).text or ""
    assert shown.endswith("…") and hostile.startswith(shown[:-1])
    assert text_width(shown, 15, bold=True) <= 400 - 16


def test_image_of_an_empty_series_still_renders() -> None:
    kpi = _kpi()
    empty = _series([], [])
    svg = image_svg(kpi, empty)
    assert ElementTree.fromstring(svg).get("aria-label") == describe(kpi, [])
    number = image_svg(_kpi(chart="number"), empty)
    assert ">No data</text>" in number


@pytest.mark.parametrize(
    ("text", "size", "bold"),
    [
        ("Median days to close pothole requests", 15, True),
        ("Near target", 11, False),
        ("Q3 2014 FY2013 1,234,567", 11, False),
        ("WMW iii Target and near-target range", 12, False),
    ],
)
def test_text_width_estimate_matches_the_renderer(text: str, size: int, bold: bool) -> None:
    # A chart that is only this text, left-aligned at x=0: vl-convert sizes it to the text's width.
    mark = {"type": "text", "fontSize": size, "fontWeight": "bold" if bold else "normal", "limit": 0}
    mark |= {"font": THEMES["light"].font, "align": "left", "baseline": "middle", "x": 0, "y": 0}
    spec = {"width": 1, "height": 1, "padding": 0, "config": {"view": {"stroke": None}}}
    spec |= {"data": {"values": [{"t": text}]}, "mark": mark, "encoding": {"text": {"field": "t"}}}
    measured = float(ElementTree.fromstring(vlc.vegalite_to_svg(spec)).get("width", "0"))
    assert abs(text_width(text, size, bold=bold) - measured) <= 0.03 * measured + 2
    assert fit(text, size, measured / 2, bold=bold).endswith("…")


def test_x_labels_of_images_sit_under_the_plots_ticks(demo: tuple[Store, Catalog]) -> None:
    checked = 0
    for kpi, series in _demo_series(demo):
        if kpi.chart == "number":
            continue
        body = ElementTree.fromstring(image_svg(kpi, series))[4]
        plot = body[0]  # Vega's drawing, moved to the plot's origin
        left = float(plot.get("transform", "").removeprefix("translate(").split(",")[0])
        ticks = [
            float(line.get("transform", "").removeprefix("translate(").split(",")[0]) + 0.5
            for line in plot.iter(f"{SVG}line")
            if line.get("x2") == "0" and line.get("y2") == "5"  # x axis ticks point down
        ]
        labels = [(float(t.get("x", "nan")) - left, t.text) for t in body[-1].iter(f"{SVG}text")]
        assert len(labels) == len(ticks) >= 1, kpi.id
        for (x, text), tick in zip(labels, ticks, strict=True):
            assert abs(x - tick) <= 1.0, (kpi.id, text, x, tick)
        checked += 1
    assert checked >= 10
