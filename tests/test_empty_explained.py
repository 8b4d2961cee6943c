"""Every empty result says why: on the real Los Angeles operating indicators, a filter whose text
misses the source's trailing space is a warning naming the nearest value, and ``catalog validate``
says how many rows each KPI's filter keeps."""

from __future__ import annotations

import re
import shutil
from datetime import date
from pathlib import Path

import pytest

from btvstat_open.cli import main

INDICATORS = "la-city-kpis/Operating_Indicators_for_City_Departments.csv"
SPACED = """\
id: business-type-indicators
title: Business-type activity indicators
department: Controller
source:
  portal: local
  dataset: la-indicators
  date_column: fiscal_year
  where: "function_program = 'Business-Type Activities'"
measure: {calculation: count}
period: {size: fiscal_year}
"""


@pytest.fixture
def program(tmp_path: Path, real_data: Path) -> Path:
    shutil.copy(real_data / INDICATORS, tmp_path / "indicators.csv")
    store = str(tmp_path / "store")
    assert (
        main(["load", str(tmp_path / "indicators.csv"), "--dataset", "la-indicators", "--store", store]) == 0
    )
    (tmp_path / "catalog").mkdir()
    (tmp_path / "catalog" / "spaced.yaml").write_text(SPACED)
    return tmp_path


def test_a_filter_that_misses_a_trailing_space_is_a_warning_with_the_nearest_value(
    program: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    code = main(["catalog", "validate", str(program / "catalog"), "--store", str(program / "store")])
    out = capsys.readouterr().out
    assert code == 0  # a warning, not a problem: the catalog still loads
    assert (
        "spaced.yaml:8: warning: where \"function_program = 'Business-Type Activities'\" keeps 0 of "
        "1,890 rows of 'la-indicators': 'function_program' has no 'Business-Type Activities', but has "
        "'Business-Type Activities ' (with its spaces): fix the filter's text"
    ) in out
    assert "business-type-indicators: its where keeps 0 of 1,890 rows" in out


def test_validate_says_how_many_rows_a_filter_keeps(
    program: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kpi = program / "catalog" / "spaced.yaml"
    kpi.write_text(SPACED.replace("'Business-Type Activities'", "'Business-Type Activities '"))
    capsys.readouterr()
    assert main(["catalog", "validate", str(program / "catalog"), "--store", str(program / "store")]) == 0
    out = capsys.readouterr().out
    assert "business-type-indicators: its where keeps 160 of 1,890 rows" in out  # pandas: 160 rows
    assert "warning" not in out


LIBRARY = "la-city-kpis/Library_Monthly_Stats.csv"
IN_PROGRESS = """\
id: library-visitors-fy
title: Library visitors per fiscal year
department: Library
goals: [lifelong-learning]
source: {portal: local, dataset: la-library, date_column: month}
measure: {calculation: sum, column: total_library_visitors}
period: {size: fiscal_year}
unit: visitors
direction: higher_is_better
target: {value: 15000000, rule: above_below}
"""
SETTINGS = """\
title: Library program
as_of: 2014-06-01
goals:
  - {id: lifelong-learning, title: Lifelong learning}
"""
MEETING = """\
id: 2014-06-02-library
date: 2014-06-02
title: Library review
kpis: [library-visitors-fy]
"""
REASON = "its only rows are in the period still in progress (2013-07-01 to 2014-06-30)"


@pytest.fixture
def in_progress(tmp_path: Path, real_data: Path) -> Path:
    store = str(tmp_path / "store")
    assert main(["load", str(real_data / LIBRARY), "--dataset", "la-library", "--store", store]) == 0
    catalog = tmp_path / "catalog"
    (catalog / "meetings").mkdir(parents=True)
    (catalog / "catalog.yaml").write_text(SETTINGS)
    (catalog / "visitors.yaml").write_text(IN_PROGRESS)
    (catalog / "meetings" / "2014-06-02-library.yaml").write_text(MEETING)
    return tmp_path


def test_a_kpi_whose_only_period_is_in_progress_says_so_everywhere(
    in_progress: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from fastapi.testclient import TestClient

    from btvstat_open.server import create_app
    from btvstat_open.store import Store
    from btvstat_open.web.settings import Settings
    from catalog import load_catalog

    catalog_dir, store_dir = str(in_progress / "catalog"), str(in_progress / "store")
    capsys.readouterr()
    assert main(["measure", "library-visitors-fy", "--catalog", catalog_dir, "--store", store_dir]) == 0
    err = capsys.readouterr().err
    assert f"note: library-visitors-fy has no value as of 2014-06-01: {REASON}" in err
    assert "include_current: false, the default" in err
    packet = in_progress / "packet.html"
    meeting = ["packet", "2014-06-02-library", "--catalog", catalog_dir, "--store", store_dir]
    assert main([*meeting, "-o", str(packet)]) == 0
    text = packet.read_text()
    assert REASON in text and "15,000,000" in text and "No target in force" not in text
    assert f"Chart: No chart yet: {REASON}" in text and "role-axis" not in text  # no empty axes
    with Store(store_dir) as store:
        client = TestClient(
            create_app(store, load_catalog(catalog_dir, store), Settings(write_token="t", warm_up=False))
        )
        page = client.get("/kpi/library-visitors-fy").text
        assert f"No value yet: {REASON}" in page and f"No data yet: {REASON}" in page
        assert "<dt>Target</dt><dd>15,000,000" in page and "No target set" not in page
        assert f"No chart yet: {REASON}" in page  # not empty axes
        dashboard = client.get("/").text
        assert f"No value yet: {REASON}" in dashboard and "Target: 15,000,000" in dashboard
        goals = client.get("/api/goals").json()
        assert json_status(goals) == "no_data"  # waiting for data, not "no target"


def json_status(document: object) -> str:
    """The first goal's rollup status in /api/goals (whatever its nesting)."""
    goals = document["goals"] if isinstance(document, dict) and "goals" in document else document
    assert isinstance(goals, list)
    first = goals[0]
    return str(first.get("status") or first["rollup"]["status"])


def test_the_period_in_progress_is_marked_provisional(
    in_progress: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from fastapi.testclient import TestClient

    from btvstat_open.server import create_app
    from btvstat_open.store import Store
    from btvstat_open.web.settings import Settings
    from catalog import load_catalog

    kpi = in_progress / "catalog" / "visitors.yaml"
    kpi.write_text(IN_PROGRESS.replace("{size: fiscal_year}", "{size: fiscal_year, include_current: true}"))
    catalog_dir, store_dir = str(in_progress / "catalog"), str(in_progress / "store")
    capsys.readouterr()
    assert main(["measure", "library-visitors-fy", "--catalog", catalog_dir, "--store", store_dir]) == 0
    err = capsys.readouterr().err
    assert (
        "note: the last period (2014-06-30 is its end) is still in progress: its value is provisional" in err
    )
    with Store(store_dir) as store:
        client = TestClient(
            create_app(store, load_catalog(catalog_dir, store), Settings(write_token="t", warm_up=False))
        )
        page = client.get("/kpi/library-visitors-fy").text
        assert "Off track (provisional)" in page  # 11 months of FY2014 fall short of 15 million
        assert "(provisional)" in client.get("/").text


def test_min_count_guards_the_headline(in_progress: Path, real_data: Path) -> None:
    import pandas as pd

    from btvstat_open.store import Store
    from catalog import load_catalog, measure

    yearly = IN_PROGRESS.replace("{size: fiscal_year}", "{size: year}").replace(
        "column: total_library_visitors}", "column: total_library_visitors, min_count: 7}"
    )
    (in_progress / "catalog" / "visitors.yaml").write_text(yearly)
    frame = pd.read_csv(real_data / LIBRARY).dropna(how="all")
    months = pd.to_datetime(frame["Month"], format="%b-%y")
    per_year = frame.groupby(months.dt.year)["Total Library Visitors"].agg(["size", "sum"])
    assert per_year["size"].to_dict() == {2013: 6, 2014: 10}
    with Store(in_progress / "store") as store:
        catalog = load_catalog(in_progress / "catalog", store)
        series = measure(catalog.get("library-visitors-fy"), store, catalog.settings, today=date(2015, 6, 1))
    values = dict(
        zip(series.column("period_start").to_pylist(), series.column("value").to_pylist(), strict=True)
    )
    assert values[date(2013, 1, 1)] is None  # six rows: fewer than min_count
    assert values[date(2014, 1, 1)] == per_year.loc[2014, "sum"]
    assert series.column("status").to_pylist()[0] == "no_data"


@pytest.mark.parametrize(
    ("as_of", "reason"),
    [
        ("2014-06-01", REASON),
        ("2012-01-01", "every row is dated after the as-of day (2012-01-01): the first is dated"),
    ],
)
def test_a_chart_without_a_value_says_why_instead_of_empty_axes(
    in_progress: Path, as_of: str, reason: str
) -> None:
    import struct

    import vl_convert as vlc
    from fastapi.testclient import TestClient

    from btvstat_open.server import create_app
    from btvstat_open.store import Store
    from btvstat_open.web.settings import Settings
    from catalog import load_catalog

    settings = in_progress / "catalog" / "catalog.yaml"
    settings.write_text(SETTINGS.replace("2014-06-01", as_of))
    catalog_dir, store_dir = in_progress / "catalog", str(in_progress / "store")
    with Store(store_dir) as store:
        client = TestClient(
            create_app(store, load_catalog(catalog_dir, store), Settings(write_token="t", warm_up=False))
        )
        svg = client.get("/kpi/library-visitors-fy.svg").text
        assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="')
        assert "<title>Library visitors per fiscal year</title>" in svg
        assert f"No chart yet: {reason}" in _unescape(svg)
        assert "role-axis" not in svg and ">0<" not in svg  # no axes, no stray zero
        height = int(re.search(r'height="(\d+)"', svg).group(1))  # type: ignore[union-attr]
        assert height < 160  # a small note, not a full chart's frame
        png = client.get("/kpi/library-visitors-fy.png")
        assert png.headers["content-type"] == "image/png" and png.content[:4] == b"\x89PNG"
        assert struct.unpack(">II", png.content[16:24])[1] == 2 * height  # the same picture, scaled
        spec = client.get("/kpi/library-visitors-fy.vl.json").json()
        assert spec["mark"]["type"] == "text" and f"No chart yet: {reason}" in spec["description"]
        drawn = vlc.vegalite_to_svg(spec, allowed_base_urls=[])
        assert "role-axis" not in drawn and ">0<" not in drawn
        assert " ".join(v["line"] for v in spec["data"]["values"]).startswith(f"No chart yet: {reason}")
        embed = client.get("/embed/library-visitors-fy").text
        assert f"No chart yet: {reason}" in _unescape(embed)
        assert "role-axis" not in embed
    for name in ("chart.svg", "chart.png", "chart.html"):  # `render` draws the same images
        argv = ["render", "library-visitors-fy", "--catalog", str(catalog_dir), "--store", store_dir]
        assert main([*argv, "-o", str(in_progress / name)]) == 0
    assert (in_progress / "chart.svg").read_text() == svg
    assert (in_progress / "chart.png").read_bytes()[16:24] == png.content[16:24]
    assert "No chart yet:" in (in_progress / "chart.html").read_text()


def _unescape(markup: str) -> str:
    """Text of markup with entities decoded and tags' line breaks joined."""
    import html

    return html.unescape(" ".join(re.findall(r">([^<>]+)<", markup)))


def test_a_chart_whose_filter_keeps_nothing_names_the_nearest_value(program: Path) -> None:
    from fastapi.testclient import TestClient

    from btvstat_open.server import create_app
    from btvstat_open.store import Store
    from btvstat_open.web.settings import Settings
    from catalog import load_catalog

    with Store(program / "store") as store:
        client = TestClient(
            create_app(
                store, load_catalog(program / "catalog", store), Settings(write_token="t", warm_up=False)
            )
        )
        svg = _unescape(client.get("/kpi/business-type-indicators.svg").text)
        spec = client.get("/kpi/business-type-indicators.vl.json").json()
    said = "keeps 0 of 1,890 rows of 'la-indicators': 'function_program' has no 'Business-Type Activities'"
    assert "No chart yet: where" in svg and said in svg and "'Business-Type Activities '" in svg
    assert said in spec["description"] and spec["mark"]["type"] == "text"
