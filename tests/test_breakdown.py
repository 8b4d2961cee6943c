"""Breakdowns on the real Kansas City 311 file, checked against an independent pandas computation.

The expected tables are computed here from the CSV with pandas (dates parsed by pandas, groups by
``groupby``, suppression and disparity written out again from the catalog format's rules), not
from the measure engine's SQL. The outputs (CSV, JSON, the command line) are checked to never
carry a suppressed value or count.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from btvstat_open.cli import main
from btvstat_open.errors import CatalogError
from btvstat_open.load import load_file
from btvstat_open.store import Store
from catalog.breakdown import NOT_RECORDED, breakdown, breakdown_csv, breakdown_document, publishable_rows
from catalog.loader import load_catalog
from catalog.models import Breakdown, CatalogSettings, Kpi

REAL = Path(__file__).parent / "data" / "real"
KC_CSV = REAL / "kc-311-potholes" / "311_Call_Center_Service_Requests.csv"
SETTINGS = CatalogSettings(fiscal_year_start=7)
FAR = date(2100, 1, 1)
COLUMNS = {"council_district": "COUNCIL DISTRICT", "neighborhood": "NEIGHBORHOOD", "zip_code": "ZIP CODE"}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    with Store(tmp_path_factory.mktemp("breakdown")) as s:
        load_file(s, KC_CSV, "kc-311")
        yield s


@pytest.fixture(scope="module")
def requests() -> pd.DataFrame:
    df = pd.read_csv(KC_CSV, encoding="utf-8-sig", dtype=str)
    df["day"] = pd.to_datetime(df["CREATION DATE"], format="%m/%d/%y")
    df["days_to_close"] = pd.to_numeric(df["DAYS TO CLOSE"])
    return df


def kpi(column: str, calc: str = "count", size: str = "week", min_count: int = 10, **more: Any) -> Kpi:
    spec: dict[str, Any] = {
        "id": "k",
        "title": "Pothole requests",
        "department": "Public Works",
        "source": {"dataset": "kc-311", "date_column": "creation_date"},
        "measure": {"calculation": calc},
        "period": {"size": size},
        "breakdown": {"column": column, "label": COLUMNS[column].title(), "min_count": min_count},
    }
    if calc in ("median", "average", "sum"):
        spec["measure"]["column"] = "days_to_close"
    for key, value in more.items():
        spec[key] = {**spec.get(key, {}), **value}
    return Kpi.model_validate(spec)


def period_of(day: pd.Timestamp, size: str) -> date:
    d: date = day.date()
    return d - timedelta(days=d.weekday()) if size == "week" else d.replace(day=1)


def next_start(d: date, size: str) -> date:
    return d + timedelta(days=7) if size == "week" else (pd.Timestamp(d) + pd.DateOffset(months=1)).date()


def group_key(label: str) -> tuple[int, Any]:
    if label == NOT_RECORDED:
        return (2, "")
    try:
        return (0, float(label))
    except ValueError:
        return (1, label.casefold())


def expected(
    df: pd.DataFrame, column: str, calc: str, size: str, min_count: int, cumulative: bool = False
) -> list[dict[str, Any]]:
    """The breakdown, from pandas: every group in every period, suppression, then disparity."""
    frame = df.assign(
        period=[period_of(d, size) for d in df["day"]],
        group=df[COLUMNS[column]].str.strip().replace("", None).fillna(NOT_RECORDED),
    )
    groups = sorted(frame["group"].unique(), key=group_key)
    periods = [min(frame["period"])]
    while periods[-1] < max(frame["period"]):
        periods.append(next_start(periods[-1], size))
    by = frame.groupby(["period", "group"])
    counts = by.size()
    if calc == "median":
        values = by["days_to_close"].median()
    elif calc == "sum":
        values = by["days_to_close"].sum()
    else:
        values = counts.astype(float)
    out = []
    running: dict[str, tuple[float, int]] = {}
    for start in periods:
        cells = []
        for g in groups:
            n = int(counts.get((start, g), 0))
            v = values.get((start, g), 0.0 if calc in ("count", "sum") else math.nan)
            v = None if pd.isna(v) else float(v)
            if cumulative:  # the data stay inside one fiscal year (Jan-Feb 2020)
                total, rows = running.get(g, (0.0, 0))
                running[g] = (total + (v or 0.0), rows + n)
                v, n = running[g]
            small = 0 < n < min_count  # a group with no rows is no small cell
            cells.append([g, v, n, small, f"< {min_count}" if small else str(n)])
        small_cells = [c for c in cells if c[3]]
        shown = [c for c in cells if not c[3] and c[2] >= min_count]
        if len(small_cells) == 1 and shown:
            extra = min(shown, key=lambda c: c[2])  # min() keeps the first of equal counts
            extra[3], extra[4] = True, f">= {min_count}"
        recorded = [c[1] for c in cells if not c[3] and c[2] and c[1] is not None and c[0] != NOT_RECORDED]
        ratio = max(recorded) / min(recorded) if len(recorded) >= 2 and min(recorded) > 0 else None
        end = next_start(start, size) - timedelta(days=1)
        for g, v, n, hidden, label in cells:
            out.append(
                {
                    "period_start": start.isoformat(),
                    "period_end": end.isoformat(),
                    "group": g,
                    "value": None if hidden else v,
                    "count": None if hidden else n,
                    "count_label": label,
                    "suppressed": hidden,
                    "disparity": ratio,
                }
            )
    return out


def same(actual: list[dict[str, Any]], wanted: list[dict[str, Any]]) -> None:
    assert len(actual) == len(wanted)
    for a, w in zip(actual, wanted, strict=True):
        for key in ("value", "disparity"):
            if w[key] is None:
                assert a[key] is None, (a, w)
            else:
                assert a[key] == pytest.approx(w[key], rel=1e-12), (a, w)
        assert {k: v for k, v in a.items() if k not in ("value", "disparity")} == {
            k: v for k, v in w.items() if k not in ("value", "disparity")
        }


@pytest.mark.parametrize(
    ("column", "calc", "size", "min_count"),
    [
        ("council_district", "count", "week", 10),
        ("council_district", "median", "month", 30),
        ("neighborhood", "count", "month", 10),
        ("neighborhood", "median", "month", 5),
        ("zip_code", "count", "week", 10),
        ("zip_code", "sum", "month", 20),
    ],
)
def test_breakdown_equals_pandas(
    store: Store, requests: pd.DataFrame, column: str, calc: str, size: str, min_count: int
) -> None:
    table = breakdown(kpi(column, calc, size, min_count), store, SETTINGS, today=FAR)
    same(publishable_rows(table), expected(requests, column, calc, size, min_count))


def test_suppression_shows_and_null_groups_are_not_recorded(store: Store, requests: pd.DataFrame) -> None:
    rows = publishable_rows(breakdown(kpi("neighborhood", size="month"), store, SETTINGS, today=FAR))
    assert requests["NEIGHBORHOOD"].isna().sum() == 90  # the real file has 90 requests without one
    not_recorded = [r for r in rows if r["group"] == NOT_RECORDED]
    assert [r["period_start"] for r in not_recorded] == ["2020-01-01", "2020-02-01"]
    assert sum(r["count"] for r in not_recorded if not r["suppressed"]) == 90
    assert any(r["count_label"] == "< 10" for r in rows)
    assert all(r["value"] is None and r["count"] is None for r in rows if r["suppressed"])
    # A period never has exactly one suppressed cell (it could be worked out from a total).
    for start in {r["period_start"] for r in rows}:
        assert sum(r["suppressed"] for r in rows if r["period_start"] == start) != 1


def test_where_filter_and_cumulative_and_current_period(store: Store, requests: pd.DataFrame) -> None:
    resolved = kpi("council_district", size="month", source={"where": "status = 'RESOL'"})
    rows = publishable_rows(breakdown(resolved, store, SETTINGS, today=FAR))
    same(rows, expected(requests[requests["STATUS"] == "RESOL"], "council_district", "count", "month", 10))
    running = kpi("council_district", size="month", measure={"cumulative": True})
    rows = publishable_rows(breakdown(running, store, SETTINGS, today=FAR))
    same(rows, expected(requests, "council_district", "count", "month", 10, cumulative=True))
    # On 2020-02-20 February has not ended, so only January is shown (as in the KPI's series).
    early = publishable_rows(
        breakdown(kpi("council_district", size="month"), store, SETTINGS, today=date(2020, 2, 20))
    )
    assert {r["period_start"] for r in early} == {"2020-01-01"}


def test_rate_per_group(store: Store, requests: pd.DataFrame) -> None:
    late = kpi(
        "council_district",
        "rate",
        size="month",
        measure={
            "numerator": {"where": "exceeded_est_timeframe = 'Y'"},
            "denominator": {},
            "as_percent": True,
        },
    )
    rows = publishable_rows(breakdown(late, store, SETTINGS, today=FAR))
    frame = requests.assign(month=[d.date().replace(day=1).isoformat() for d in requests["day"]])
    share = frame.groupby(["month", "COUNCIL DISTRICT"])["EXCEEDED EST TIMEFRAME"].apply(
        lambda s: 100.0 * (s == "Y").sum() / len(s)
    )
    for row in rows:
        assert not row["suppressed"]  # every district has 10+ requests a month
        assert row["value"] == pytest.approx(share[(row["period_start"], row["group"])])
    jan = [r["value"] for r in rows if r["period_start"] == "2020-01-01"]
    assert rows[0]["disparity"] == pytest.approx(max(jan) / min(jan))


def test_disparity_is_null_with_fewer_than_two_groups(store: Store, requests: pd.DataFrame) -> None:
    # A threshold only district 6 reaches in every month: one value left per month, so no ratio.
    months = requests.assign(month=[d.month for d in requests["day"]])
    counts = months.groupby(["month", "COUNCIL DISTRICT"]).size().unstack()
    threshold = int(counts.drop(columns="6").max().max()) + 1
    assert (counts["6"] >= threshold).all()
    big = kpi("council_district", "median", "month", threshold)
    rows = publishable_rows(breakdown(big, store, SETTINGS, today=FAR))
    shown = [r for r in rows if not r["suppressed"]]
    assert [r["group"] for r in shown] == ["6", "6"]
    assert all(r["disparity"] is None for r in rows)


def test_outputs_never_carry_a_suppressed_value(store: Store) -> None:
    k = kpi("zip_code", size="week")
    table = breakdown(k, store, SETTINGS, today=FAR)
    assert table.column_names == [
        "period_start", "period_end", "group", "value", "count", "count_label", "suppressed", "disparity",
    ]  # fmt: skip
    hidden = [r for r in table.to_pylist() if r["suppressed"]]
    assert hidden and all(r["value"] is None and r["count"] is None for r in hidden)
    lines = breakdown_csv(table).splitlines()
    assert lines[0] == "period_start,period_end,group,value,count,count_label,suppressed,disparity"
    for line in lines[1:]:
        cells = line.split(",")
        if cells[6] == "true":
            assert cells[3] == "" and cells[4] == "" and cells[5] in ("< 10", ">= 10")
    document = breakdown_document(k, table)
    assert (document["column"], document["label"], document["min_count"]) == ("zip_code", "Zip Code", 10)
    assert all(r["value"] is None and r["count"] is None for r in document["rows"] if r["suppressed"])


def test_a_breakdown_needs_a_groupable_column(store: Store) -> None:
    with pytest.raises(CatalogError, match="has no breakdown"):
        breakdown(kpi("zip_code").model_copy(update={"breakdown": None}), store, SETTINGS, today=FAR)
    located = kpi("zip_code").model_copy(update={"breakdown": Breakdown(column="case_url")})
    with pytest.raises(CatalogError, match="is url; groups must be text, number"):
        breakdown(located, store, SETTINGS, today=FAR)


def test_measure_breakdown_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "catalog"
    folder.mkdir()
    (folder / "catalog.yaml").write_text("title: Test\n")
    source = "source: {dataset: kc-311, date_column: creation_date}\nmeasure: {calculation: count}\n"
    (folder / "potholes.yaml").write_text(
        f"id: potholes-by-zip\ntitle: Pothole requests\ndepartment: Public Works\n{source}"
        "period: {size: week}\nbreakdown: {column: zip_code, label: ZIP code, min_count: 10}\n"
    )
    (folder / "plain.yaml").write_text(f"id: plain\ntitle: Plain\ndepartment: Public Works\n{source}")
    root = tmp_path / "store"
    with Store(root) as store:
        load_file(store, KC_CSV, "kc-311")
        k = load_catalog(folder).get("potholes-by-zip")
        wanted = publishable_rows(breakdown(k, store, SETTINGS, today=date.today()))
    base = ["measure", "potholes-by-zip", "--catalog", str(folder), "--store", str(root), "--breakdown"]
    assert main([*base, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["rows"] == wanted
    assert main([*base, "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(wanted) + 1 and lines[1].startswith(wanted[0]["period_start"])
    assert main(base) == 0
    table = capsys.readouterr().out
    assert "by ZIP code" in table and "suppressed" in table and "< 10" in table
    assert main(["measure", "plain", "--catalog", str(folder), "--store", str(root), "--breakdown"]) == 2
    assert "has no breakdown" in capsys.readouterr().err


def test_validation_names_the_line_of_a_bad_breakdown_column(store: Store, tmp_path: Path) -> None:
    (tmp_path / "catalog.yaml").write_text("title: Test\n")
    (tmp_path / "k.yaml").write_text(
        "id: k\ntitle: K\ndepartment: Public Works\n"
        "source: {dataset: kc-311, date_column: creation_date}\nmeasure: {calculation: count}\n"
        "breakdown:\n  column: council_distrct\n"
    )
    with pytest.raises(CatalogError) as caught:
        load_catalog(tmp_path, store=store)
    assert caught.value.problems == [
        (
            str(tmp_path / "k.yaml"),
            7,
            "dataset 'kc-311' has no column 'council_distrct': did you mean 'council_district'?",
        )
    ]


def test_rows_after_the_as_of_day_are_left_out(store: Store, requests: pd.DataFrame) -> None:
    day = date(2020, 2, 12)
    current = kpi("council_district", size="month", period={"include_current": True})
    rows = publishable_rows(breakdown(current, store, SETTINGS, today=day))
    same(rows, expected(requests[requests["day"].dt.date <= day], "council_district", "count", "month", 10))
    assert max(r["period_start"] for r in rows) == "2020-02-01"


def test_los_angeles_water_use_by_zip_code(tmp_path: Path) -> None:
    """A location column (LA's ``Zip Code``: the ZIP and its coordinates) groups by its ZIP.

    Months without water use are left out by the KPI's ``where``, so a ZIP with such months has
    fewer than 12 in a year and is suppressed there; 2005 and 2013 hold six months each.
    """
    path = REAL / "la-city-kpis" / "Water_and_Electric_Usage_from_2005_-_2013.csv"
    df = pd.read_csv(path, dtype=str)
    df["day"] = pd.to_datetime(df["Value Date"], format="%b-%y")
    df["zip"] = df["Zip Code"].str.split("\n").str[0].str.strip()
    df["water"] = pd.to_numeric(df["Water Use"])
    df = df[df["water"] > 0]
    water = Kpi.model_validate(
        {
            "id": "water-use",
            "title": "Water use",
            "department": "Water and Power",
            "source": {"dataset": "la-water", "date_column": "value_date", "where": "water_use > 0"},
            "measure": {"calculation": "average", "column": "water_use"},
            "period": {"size": "year"},
            "breakdown": {"column": "zip_code", "label": "ZIP code", "min_count": 12},
        }
    )
    with Store(tmp_path / "store") as store:
        load_file(store, path, "la-water")
        rows = publishable_rows(breakdown(water, store, SETTINGS, today=FAR))
    years = df.groupby([df["day"].dt.year, "zip"])
    counted, averaged = years.size().to_dict(), years["water"].mean().to_dict()
    zips = sorted(df["zip"].unique(), key=float)
    assert [r["group"] for r in rows[: len(zips)]] == zips
    assert len(rows) == 9 * len(zips)  # 2005 .. 2013, every ZIP each year
    ratios = {}
    for year in range(2005, 2014):
        full = [averaged[(year, z)] for z in zips if counted.get((year, z), 0) >= 12]
        ratios[year] = max(full) / min(full) if len(full) >= 2 else None
    for row in rows:
        year = int(row["period_start"][:4])
        n = counted.get((year, row["group"]), 0)
        assert row["suppressed"] is (0 < n < 12), row  # a ZIP with no rows that year is no small cell
        if not row["suppressed"] and n:
            assert (row["count"], row["value"]) == (n, pytest.approx(averaged[(year, row["group"])]))
        elif not row["suppressed"]:
            assert (row["count"], row["count_label"], row["value"]) == (0, "0", None)
        ratio = ratios[year]
        assert row["disparity"] == (None if ratio is None else pytest.approx(ratio))
    assert [year for year, ratio in ratios.items() if ratio is None] == [2005, 2013]
    partly = {r["group"] for r in rows if r["suppressed"] and r["period_start"][:4] not in ("2005", "2013")}
    assert partly  # ZIPs with a few months of use are suppressed in those years


WELLBEING_FINDINGS = {
    "id": "wellbeing-findings",
    "title": "Wellbeing findings",
    "department": "Office of Civic Wellbeing",
    "source": {"dataset": "wellbeing", "date_column": "year"},
    "measure": {"calculation": "count"},
    "period": {"size": "year"},
    "breakdown": {"column": "dimension", "label": "Dimension", "min_count": 10},
}


def test_a_group_that_appears_later_never_hides_a_published_cell(tmp_path: Path) -> None:
    """Santa Monica's wellbeing findings by dimension: "Demographics" first appears in 2017. Judged as
    of 2018, 2014's "Overall Wb" (15 findings) is still published, as it was judged as of 2015."""
    path = REAL / "santa-monica-wellbeing" / "data.csv"
    findings = Kpi.model_validate(WELLBEING_FINDINGS)
    with Store(tmp_path / "store") as store:
        load_file(store, path, "wellbeing")
        then = publishable_rows(breakdown(findings, store, SETTINGS, today=date(2015, 1, 1)))
        now = publishable_rows(breakdown(findings, store, SETTINGS, today=date(2018, 1, 1)))
    df = pd.read_csv(path)
    counted = df.groupby(["Year", "Dimension"]).size().to_dict()
    assert counted[(2014, "Overall Wb")] == 15 and (2014, "Demographics") not in counted
    in_2014 = {r["group"]: r for r in now if r["period_start"] == "2014-01-01"}
    assert in_2014["Overall Wb"]["count"] == 15 and not in_2014["Overall Wb"]["suppressed"]
    assert in_2014["Demographics"] == {**in_2014["Demographics"], "count": 0, "suppressed": False}
    first = {r["group"]: r for r in then if r["period_start"] == "2014-01-01"}
    for group, row in first.items():  # every 2014 cell published then is published the same now
        assert row == in_2014[group]
    for row in now:  # each published count is pandas' count of that year and dimension
        if not row["suppressed"]:
            assert row["count"] == counted.get((int(row["period_start"][:4]), row["group"]), 0), row


def test_the_breakdown_image_has_a_title_and_its_suppression_note(tmp_path: Path) -> None:
    from widgets.breakdown_chart import breakdown_svg

    findings = Kpi.model_validate(WELLBEING_FINDINGS)
    with Store(tmp_path / "store") as store:
        load_file(store, REAL / "santa-monica-wellbeing" / "data.csv", "wellbeing")
        rows = publishable_rows(breakdown(findings, store, SETTINGS, today=date(2018, 1, 1)))
    svg = breakdown_svg(findings, rows)
    assert "Wellbeing findings by dimension" in svg
    assert "Groups with fewer than 10 records in a period are suppressed: no value is shown for them." in svg
