"""Chart builders on every demo KPI: specs validate, round-trip through JSON and render to SVG and PNG."""

from __future__ import annotations

import html
import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import altair as alt
import pyarrow as pa
import pytest

from btvstat_open.store import Store
from catalog import load_catalog, measure
from catalog.demo import DEMO_DIR, load_demo_data
from catalog.models import Catalog, Kpi
from widgets.charts import build_chart, chart_spec, sparkline_spec
from widgets.render import render_html, render_png, render_svg, script_json
from widgets.summary import STATUS_SYMBOLS, format_value, period_label, rows, summarize
from widgets.themes import STATUS_SHAPES, THEMES, contrast_ratio


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, Catalog]]:
    store = Store(tmp_path_factory.mktemp("chart-store"))
    load_demo_data(store)
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
        assert render_svg(sparkline_spec(kpi, series)).startswith("<svg")
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
    assert format_value(45.25, kpi) == "45.2%" or format_value(45.25, kpi) == "45.3%"
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
