"""Every empty result says why: on the real Los Angeles operating indicators, a filter whose text
misses the source's trailing space is a warning naming the nearest value, and ``catalog validate``
says how many rows each KPI's filter keeps."""

from __future__ import annotations

import shutil
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
