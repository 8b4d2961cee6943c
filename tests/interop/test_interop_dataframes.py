"""pandas and geopandas read the portal's URLs directly, as analysts do, and get typed frames.

pandas ``read_csv`` on ``/resource/{id}.csv`` and on the ``rows.csv`` export, ``read_json`` on
``/resource/{id}.json``; geopandas ``read_file`` (pyogrio) on ``/resource/{id}.geojson`` of a
point dataset built from the real Kansas City 311 coordinates. Every value is checked against
DuckDB's reading of the real file.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import geopandas
import pandas as pd
import pyarrow as pa
import pytest
from interop_helpers import SessionCA
from portal_fixtures import KC_CSV, kc_file

from btvstat_open.store import Store
from btvstat_open.types import Column

KC = "kc-311-potholes"
MAP = "kc-potholes-map"


@pytest.fixture()
def trusted(trust_test_ca: SessionCA, monkeypatch: pytest.MonkeyPatch) -> SessionCA:
    """urllib (pandas, geopandas) follows SSL_CERT_FILE; GDAL's curl follows CURL_CA_BUNDLE."""
    monkeypatch.setenv("CURL_CA_BUNDLE", str(trust_test_ca.ca_pem))
    return trust_test_ca


def test_read_csv_resource_with_types(interop_url: str, trusted: SessionCA, real_data: Path) -> None:
    url = (
        f"{interop_url}/resource/{KC}.csv?$select=case_id,creation_date,days_to_close,latitude,status"
        "&$order=case_id&$limit=10000"
    )
    frame = pd.read_csv(url, parse_dates=["creation_date"])
    expected = kc_file(
        real_data,
        'SELECT "CASE ID", "CREATION DATE", "DAYS TO CLOSE", LATITUDE, STATUS FROM kc ORDER BY 1',
    )
    assert list(frame.columns) == ["case_id", "creation_date", "days_to_close", "latitude", "status"]
    assert len(frame) == len(expected) == 4493
    assert str(frame["case_id"].dtype) == "int64" and str(frame["latitude"].dtype) == "float64"
    assert str(frame["creation_date"].dtype).startswith("datetime64")
    for row, (case_id, created, days, latitude, status) in zip(
        frame.itertuples(index=False), expected, strict=True
    ):
        assert (row.case_id, row.creation_date.date(), row.latitude, row.status) == (
            case_id,
            created,
            latitude,
            status,
        )
        assert (math.isnan(row.days_to_close) and days is None) or row.days_to_close == days


def test_read_csv_export_matches_the_original_file(
    interop_url: str, trusted: SessionCA, real_data: Path
) -> None:
    """``rows.csv?accessType=DOWNLOAD`` is headed with display names, as Socrata's "Export CSV" is."""
    exported = pd.read_csv(f"{interop_url}/api/views/{KC}/rows.csv?accessType=DOWNLOAD")
    original = pd.read_csv(real_data / KC_CSV, encoding="utf-8-sig")
    assert list(exported.columns) == list(original.columns)
    assert len(exported) == len(original)
    exported = exported.sort_values("CASE ID", ignore_index=True)
    original = original.sort_values("CASE ID", ignore_index=True)
    for name in ["CASE ID", "STATUS", "DAYS TO CLOSE", "ADDRESS WITH GEOCODE", "LATITUDE", "NEIGHBORHOOD"]:
        pd.testing.assert_series_equal(exported[name], original[name], check_names=False)


def test_read_json_resource_with_types(interop_url: str, trusted: SessionCA, real_data: Path) -> None:
    url = f"{interop_url}/resource/{KC}.json?$select=case_id,days_to_close,longitude,source&$order=case_id"
    frame = pd.read_json(url)
    expected = kc_file(
        real_data, 'SELECT "CASE ID", "DAYS TO CLOSE", LONGITUDE, SOURCE FROM kc ORDER BY 1 LIMIT 1000'
    )
    assert len(frame) == 1000  # SODA's default page
    assert str(frame["case_id"].dtype) == "int64" and str(frame["longitude"].dtype) == "float64"
    assert frame["days_to_close"].isna().sum() == sum(1 for e in expected if e[1] is None) > 0
    for row, (case_id, days, longitude, source) in zip(frame.itertuples(index=False), expected, strict=True):
        assert (row.case_id, row.longitude, row.source) == (case_id, longitude, source)
        assert (math.isnan(row.days_to_close) and days is None) or row.days_to_close == days


@pytest.fixture()
def pothole_map(portal_store: Store, real_data: Path) -> Iterator[str]:
    """The real KC requests as a point dataset (``location`` built from their LONGITUDE/LATITUDE)."""
    rows = kc_file(
        real_data,
        'SELECT "CASE ID"::VARCHAR, STATUS, "DAYS TO CLOSE", '
        "'POINT (' || LONGITUDE || ' ' || LATITUDE || ')' FROM kc ORDER BY 1",
    )
    columns = [
        Column("case_id", "CASE ID", "text"),
        Column("status", "STATUS", "text"),
        Column("days_to_close", "DAYS TO CLOSE", "number"),
        Column("location", "Location", "point"),
    ]
    portal_store.create(MAP, "KC pothole map", columns, row_identifier="case_id")
    table = pa.table(
        {
            "case_id": [r[0] for r in rows],
            "status": [r[1] for r in rows],
            "days_to_close": pa.array([r[2] for r in rows], pa.float64()),
            "location": [r[3] for r in rows],
        }
    )
    portal_store.replace(MAP, table)
    yield MAP
    portal_store.drop(MAP)


def test_geopandas_read_file_geojson(
    interop_url: str, trusted: SessionCA, real_data: Path, pothole_map: str
) -> None:
    frame = geopandas.read_file(f"{interop_url}/resource/{pothole_map}.geojson?$order=case_id&$limit=5000")
    expected = kc_file(
        real_data, 'SELECT "CASE ID", STATUS, "DAYS TO CLOSE", LONGITUDE, LATITUDE FROM kc ORDER BY 1'
    )
    assert len(frame) == len(expected) == 4493
    assert frame.crs is not None and frame.crs.to_epsg() == 4326
    assert set(frame.geom_type) == {"Point"}
    assert {"case_id", "status", "days_to_close"} <= set(frame.columns)
    for row, (case_id, status, days, longitude, latitude) in zip(
        frame.itertuples(index=False), expected, strict=True
    ):
        assert (int(row.case_id), row.status) == (case_id, status)
        assert (row.geometry.x, row.geometry.y) == pytest.approx((longitude, latitude), abs=1e-9)
        assert (days is None and pd.isna(row.days_to_close)) or float(row.days_to_close) == days
