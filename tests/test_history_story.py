"""The story of issue 23, end to end, on the real Kansas City 311 pothole rows.

A source portal (the local portal, over real HTTP) holds the rows as they stood on a meeting day:
``DAYS TO CLOSE`` blank for requests still open then. The city syncs, and the meeting's packet is
produced. Then the source fills those values, adds late rows dated before the meeting and deletes
one; the city syncs again. The meeting's packet stays the same bytes; a refreshed packet computed
as of the meeting day from history shows the same values; today's KPI page shows the revised
periods with both values; the ledger read through the portal lists each revision. Every value is
checked against pandas on the two versions of the file.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import requests
from faults import serve_portal
from servers import serve

from btvstat_open.server import create_app
from btvstat_open.store import Store
from btvstat_open.sync import sync_dataset
from btvstat_open.types import Column
from catalog import load_catalog
from catalog.commands import publish_all
from connectors import connect
from widgets.packets.kept import KeptPackets, produce

DATA = Path(__file__).parent.parent / "catalog" / "demo" / "data" / "kc-311-potholes.parquet"
MEETING_DAY = date(2020, 2, 12)
MEETING = "2020-02-12-public-works"
KPI = "pothole-days-to-close"
KPI_YAML = """id: pothole-days-to-close
title: Median days to close pothole requests
department: Public Works
description: Half of the pothole requests opened in a week were closed within this many days.
methodology: The median of DAYS TO CLOSE of requests created in each ISO week.
source: {portal: local, dataset: kc-311-potholes, date_column: creation_date, where: "type = 'Pothole'"}
measure: {calculation: median, column: days_to_close}
period: {size: week, start: 2020-01-01, include_current: false}
unit: days
decimals: 1
direction: lower_is_better
target: {value: 7, rule: above_below, tolerance: 2}
chart: line
"""
MEETING_YAML = """id: {id}
date: {day}
title: Public Works review
departments: [Public Works]
"""
NEXT_MEETING = "2020-02-26-public-works"


def _columns(table: pa.Table) -> list[Column]:
    return [
        Column(f.name, f.metadata[b"name"].decode(), f.metadata[b"socrata_type"].decode())
        for f in table.schema
    ]


def _versions() -> tuple[pa.Table, pa.Table, pd.DataFrame, pd.DataFrame]:
    """The file as the source held it on the meeting day, and later (both as pandas too)."""
    real = pq.read_table(DATA)
    df = real.to_pandas()
    meeting = pd.Timestamp(MEETING_DAY)
    created = df[df.creation_date <= meeting]
    late = created[created.creation_date >= meeting - pd.Timedelta(days=9)].sample(40, random_state=23)
    first = created.drop(late.index).copy()
    open_then = first.closed_date.isna() | (first.closed_date > meeting)
    first.loc[open_then, ["days_to_close", "closed_date"]] = None
    first.loc[open_then, "status"] = "OPEN"
    deleted = df[(df.creation_date < pd.Timestamp(2020, 1, 13)) & df.days_to_close.notna()].index[0]
    later = df.drop(deleted)  # every request up to 2020-02-25, values filled in, one row deleted
    schema = real.schema
    return (
        pa.Table.from_pandas(first, schema=schema, preserve_index=False),
        pa.Table.from_pandas(later, schema=schema, preserve_index=False),
        first,
        later,
    )


def _weekly_medians(df: pd.DataFrame, through: date | None = None) -> dict[date, float]:
    """Median DAYS TO CLOSE by ISO week of creation (weeks ended before ``through``), as pandas says."""
    rows = df[(df["type"] == "Pothole") & df.days_to_close.notna()]
    week = (rows.creation_date - pd.to_timedelta(rows.creation_date.dt.day_of_week, unit="D")).dt.date
    medians = rows.groupby(week).days_to_close.median()
    return {w: float(v) for w, v in medians.items() if through is None or w + timedelta(days=6) < through}


def _catalog(tmp_path: Path) -> Path:
    folder = tmp_path / "catalog"
    (folder / "meetings").mkdir(parents=True)
    (folder / "catalog.yaml").write_text("title: Story\npublisher: Kansas City\n")
    (folder / f"{KPI}.yaml").write_text(KPI_YAML)
    (folder / "meetings" / f"{MEETING}.yaml").write_text(MEETING_YAML.format(id=MEETING, day=MEETING_DAY))
    (folder / "meetings" / f"{NEXT_MEETING}.yaml").write_text(
        MEETING_YAML.format(id=NEXT_MEETING, day="2020-02-26")
    )
    return folder


@pytest.mark.slow
def test_the_meeting_keeps_its_numbers_while_the_data_moves(tmp_path: Path) -> None:
    first, later, first_df, later_df = _versions()
    columns = _columns(first)
    source = Store(tmp_path / "source")
    source.load("kc-311-potholes", first, columns, row_identifier="case_id")
    city = Store(tmp_path / "city")
    with serve_portal(source) as (url, _):
        city.clock = lambda: datetime(2020, 2, 12, 14, tzinfo=UTC)  # the sync of the meeting day
        assert sync_dataset(connect(url), "kc-311-potholes", city, progress=False).mode == "full"
        catalog = load_catalog(_catalog(tmp_path), city)
        publish_all(catalog, city, datetime(2020, 2, 12, 15, tzinfo=UTC))  # published on the meeting day
        kept = produce(catalog, city, MEETING)
        assert kept is not None and kept.number == 1
        pdf, shown = kept.pdf(), kept.record()["values"]
        then = _weekly_medians(first_df, MEETING_DAY)
        latest_week = max(then)
        assert shown == [
            {
                "kpi": KPI,
                "title": "Median days to close pothole requests",
                "unit": "days",
                "period_start": latest_week.isoformat(),
                "value": pytest.approx(then[latest_week]),
                "target": 7.0,
                "status": shown[0]["status"],
            }
        ]

        # The source fills DAYS TO CLOSE, adds late rows dated before the meeting, deletes one.
        removed = set(first_df.case_id) - set(later_df.case_id)
        merged = later_df.merge(first_df, on="case_id", how="left", suffixes=("", "_then"), indicator=True)
        moved = (merged["_merge"] == "left_only") | (
            merged.days_to_close.fillna(-1) != merged.days_to_close_then.fillna(-1)
        )
        changed = later_df[later_df.case_id.isin(merged.case_id[moved])]
        assert 0 < len(changed) < len(later_df)
        source.upsert(
            "kc-311-potholes", pa.Table.from_pandas(changed, schema=later.schema, preserve_index=False)
        )
        doomed = pa.table({"case_id": pa.array(sorted(removed), pa.float64())})
        source.upsert("kc-311-potholes", doomed, deleted=[True] * doomed.num_rows)
        city.clock = lambda: datetime(2020, 2, 26, 9, tzinfo=UTC)
        result = sync_dataset(connect(url), "kc-311-potholes", city, progress=False)
        assert (result.mode, result.deleted) == ("incremental", len(removed)), result
    current = city.arrow("kc-311-potholes").to_pandas()
    assert sorted(current.case_id) == sorted(later_df.case_id)
    publish_all(catalog, city, datetime(2020, 2, 26, 10, tzinfo=UTC))

    # The meeting's packet is the same bytes; a refresh, computed from history, shows the same values.
    assert produce(catalog, city, MEETING).pdf() == pdf  # type: ignore[union-attr]
    refreshed = produce(catalog, city, MEETING, refresh=True)
    assert refreshed is not None and refreshed.number == 2
    assert refreshed.record()["values"] == shown
    assert "Nothing: every value, target and status is as it was." in refreshed.html()
    assert [r.number for r in KeptPackets(city.root).revisions(MEETING)] == [1, 2]

    now = _weekly_medians(later_df)
    first_published = _weekly_medians(first_df, MEETING_DAY)  # published on the meeting day
    revised = {
        w: (first_published[w], v) for w, v in now.items() if w in first_published and first_published[w] != v
    }
    assert revised  # filling in DAYS TO CLOSE moved recent weeks' medians
    # The next meeting's packet lists the values revised since, for the periods the first reviewed.
    following = produce(catalog, city, NEXT_MEETING)
    assert following is not None
    cover = following.html()
    assert "Revised since the meeting of February 12, 2020" in cover
    for week, (old, new) in revised.items():
        assert (
            f"period from {week.isoformat()}: {old:,.1f} then, {new:,.1f} since 2020-02-26 (data changed)."
            in cover
        )
    app = create_app(city, catalog)
    with serve(app) as base:
        assert requests.get(f"{base}/meetings/{MEETING}.pdf", timeout=120).content == refreshed.pdf()
        assert requests.get(f"{base}/meetings/{MEETING}.pdf?revision=1", timeout=120).content == pdf
        page = requests.get(f"{base}/kpi/{KPI}", timeout=120).text
        for week, (old, new) in revised.items():
            assert f"Period from {week.isoformat()}: first reported {old:,.1f} on " in page
            assert f", now {new:,.1f} (revised" in page
        series = requests.get(f"{base}/kpi/{KPI}.json", timeout=60).json()
        by_week = {date.fromisoformat(r["period_start"]): r for r in series}
        for week, (old, new) in revised.items():
            assert by_week[week]["value"] == pytest.approx(new)
            assert by_week[week]["first_published_value"] == pytest.approx(old)
            assert by_week[week]["revised_at"] is not None
        ledger = requests.get(
            f"{base}/resource/published-values.json",
            params={"kpi": KPI, "$where": "revision > 0", "$order": "period_start", "$limit": "1000"},
            timeout=60,
        ).json()
    listed = {date.fromisoformat(r["period_start"][:10]): r for r in ledger}
    assert sorted(listed) == sorted(revised)
    for week, (old, new) in revised.items():
        entry = listed[week]
        assert float(entry["previous_value"]) == pytest.approx(old)
        assert float(entry["value"]) == pytest.approx(new)
        assert entry["reason"] == "data changed" and entry["revision"] == "1"
    # The day of the meeting, read from history, is the first version of the file.
    known = city.arrow("kc-311-potholes", as_known=datetime(2020, 2, 12, 23, 59, tzinfo=UTC)).to_pandas()
    assert sorted(known.case_id) == sorted(first_df.case_id)
    assert _weekly_medians(known, MEETING_DAY) == then
    city.close()
    source.close()
