"""Field names derived from headers the way Socrata derives them."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from btvstat_open.fieldnames import field_name, field_names


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("DAYS TO CLOSE", "days_to_close"),
        ("30-60-90 Days Open Window", "30_60_90_days_open_window"),
        (
            "# of visitors to branch libraries in millions (Annually FY)",
            "of_visitors_to_branch_libraries_in_millions_annually_fy",
        ),
        (
            "PROJECTED: # of visitors to branch libraries (Annually FY)",
            "projected_of_visitors_to_branch_libraries_annually_fy",
        ),
        ("Function/Program", "function_program"),
        ("Sub-Metric2", "sub_metric2"),
        ("Race/Ethnicity", "race_ethnicity"),
        ("  Zip Code  ", "zip_code"),
        ("\ufeffCASE ID", "case_id"),
        ("Café", "caf"),
        ("___", "column"),
        ("", "column"),
    ],
)
def test_field_name(header: str, expected: str) -> None:
    assert field_name(header) == expected


def test_field_names_are_unique_in_order() -> None:
    assert field_names(["Zip Code", "ZIP CODE", "zip-code", "", "?"]) == [
        "zip_code",
        "zip_code_2",
        "zip_code_3",
        "column",
        "column_2",
    ]


def test_field_names_of_the_kc_header(real_data: Path) -> None:
    path = real_data / "kc-311-potholes" / "311_Call_Center_Service_Requests.csv"
    with path.open(encoding="utf-8-sig", newline="") as f:
        header = next(csv.reader(f))
    names = field_names(header)
    assert len(names) == len(set(names)) == 30
    assert names[0] == "case_id"
    assert names[17] == "days_to_close"
    assert names[-1] == "30_60_90_days_open_window"
    assert all(n == n.lower() and " " not in n for n in names)
