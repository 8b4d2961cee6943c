"""SODA 2.1 reads over real HTTP: encodings, headers, limits, streaming, errors."""

from __future__ import annotations

import csv
import io
import json
from email.utils import parsedate_to_datetime
from pathlib import Path

import duckdb
import pytest
import requests
from portal_fixtures import KC_CSV, LA_CSV, MAX_LIMIT

from btvstat_open.store import Store
from btvstat_open.web.settings import Settings

TYPED = "/resource/typed-sample"


def _rows_by_name(rows: list[dict[str, object]]) -> dict[object, dict[str, object]]:
    return {row.get("name"): row for row in rows}


def test_json_uses_socrata_encoding(portal_url: str) -> None:
    response = requests.get(f"{portal_url}{TYPED}.json")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    rows = _rows_by_name(response.json())
    first = rows['Pothole "A"\nline two']
    assert first["amount"] == "36"  # integral numbers without ".0", as strings
    assert first["done"] is True
    assert first["opened"] == "2020-01-07T00:00:00.000"  # floating: no zone
    assert first["stamped"] == "2020-01-07T12:00:00.000Z"  # fixed: UTC with Z
    assert first["spot"] == {"type": "Point", "coordinates": [-94.527365, 39.014495]}
    assert first["place"] == {
        "latitude": "39.014495",
        "longitude": "-94.527365",
        "human_address": '{"address": "4900 E 63rd St"}',
    }
    assert first["link"] == {"url": "https://example.gov/a"}
    second = rows["B"]
    assert second["amount"] == "0.1" and second["done"] is False
    assert second["opened"] == "2021-05-06T07:08:09.123"
    assert "link" not in second  # nulls are left out
    assert rows[None] == {}  # a row of nulls is an empty object


def test_soda_headers_and_caching(portal_url: str) -> None:
    response = requests.get(f"{portal_url}{TYPED}.json", params={"$select": "name, amount"})
    assert json.loads(response.headers["X-SODA2-Fields"]) == ["name", "amount"]
    assert json.loads(response.headers["X-SODA2-Types"]) == ["text", "number"]
    assert parsedate_to_datetime(response.headers["Last-Modified"]).tzinfo is not None
    etag = response.headers["ETag"]
    again = requests.get(
        f"{portal_url}{TYPED}.json", params={"$select": "name, amount"}, headers={"If-None-Match": etag}
    )
    assert again.status_code == 304 and again.content == b"" and again.headers["ETag"] == etag
    other = requests.get(
        f"{portal_url}{TYPED}.json", params={"$select": "name"}, headers={"If-None-Match": etag}
    )
    assert other.status_code == 200 and other.headers["ETag"] != etag
    since = requests.get(
        f"{portal_url}{TYPED}.json", headers={"If-Modified-Since": response.headers["Last-Modified"]}
    )
    assert since.status_code == 304


def test_csv_has_a_header_of_field_names_and_socrata_texts(portal_url: str) -> None:
    response = requests.get(
        f"{portal_url}{TYPED}.csv", params={"$order": "amount DESC", "$where": "amount IS NOT NULL"}
    )
    assert response.headers["content-type"].startswith("text/csv")
    records = list(csv.reader(io.StringIO(response.text)))
    assert records[0] == ["name", "amount", "done", "opened", "stamped", "spot", "place", "link"]
    assert records[1][:6] == [
        'Pothole "A"\nline two',
        "36",
        "true",
        "2020-01-07T00:00:00.000",
        "2020-01-07T12:00:00.000Z",
        "POINT (-94.527365 39.014495)",
    ]
    assert records[1][6].endswith("(39.014495, -94.527365)")
    assert len(records) == 3


def test_geojson_uses_the_first_point_column(portal_url: str) -> None:
    response = requests.get(f"{portal_url}{TYPED}.geojson")
    assert response.headers["content-type"].startswith("application/vnd.geo+json")
    document = response.json()
    assert document["type"] == "FeatureCollection"
    by_name = {f["properties"]["name"]: f for f in document["features"]}
    assert by_name["B"]["geometry"] == {"type": "Point", "coordinates": [-118.25, 34.05]}
    assert by_name[None]["geometry"] is None
    assert "spot" not in by_name["B"]["properties"]


def test_default_limit_and_cap(portal_url: str, portal_store: Store) -> None:
    total = portal_store.info("kc-311-potholes").row_count
    assert total > 1000
    assert len(requests.get(f"{portal_url}/resource/kc-311-potholes.json").json()) == 1000
    too_many = requests.get(f"{portal_url}/resource/kc-311-potholes.json", params={"$limit": MAX_LIMIT + 1})
    assert too_many.status_code == 400
    assert too_many.json()["code"] == "query.soql.limit-too-large"
    # More rows than one streaming batch (2048): the stream must still be one valid document.
    rows = requests.get(f"{portal_url}/resource/kc-311-potholes.json", params={"$limit": MAX_LIMIT}).json()
    assert len(rows) == total
    assert len({r["case_id"] for r in rows}) == total


def test_streamed_csv_has_one_header(portal_url: str, portal_store: Store) -> None:
    total = portal_store.info("kc-311-potholes").row_count
    text = requests.get(f"{portal_url}/resource/kc-311-potholes.csv", params={"$limit": MAX_LIMIT}).text
    records = list(csv.reader(io.StringIO(text)))
    assert len(records) == total + 1
    assert sum(1 for r in records if r and r[0] == "case_id") == 1


def test_paging_with_offset_is_stable(portal_url: str) -> None:
    url = f"{portal_url}/resource/kc-311-potholes.json"
    whole = requests.get(url, params={"$select": "case_id", "$limit": 300}).json()
    pages = [
        requests.get(url, params={"$select": "case_id", "$limit": 100, "$offset": o}).json()
        for o in (0, 100, 200)
    ]
    assert [r for page in pages for r in page] == whole


def test_simple_filters_match_duckdb_on_the_file(portal_url: str, real_data: Path) -> None:
    rows = requests.get(
        f"{portal_url}/resource/kc-311-potholes.json",
        params={"status": "RESOL", "source": "PHONE", "$select": "count(*) AS n"},
    ).json()
    expected = (
        duckdb.connect()
        .execute(
            f"SELECT count(*) FROM read_csv('{real_data / KC_CSV}') "
            "WHERE STATUS = 'RESOL' AND SOURCE = 'PHONE'"
        )
        .fetchall()
    )
    assert expected[0][0] > 0 and rows == [{"n": str(expected[0][0])}]


def test_full_export_streams_every_row_ordered_by_id(
    portal_url: str, portal_store: Store, real_data: Path
) -> None:
    info = portal_store.info("la-indicators")
    assert info.row_count > 1000
    response = requests.get(
        f"{portal_url}/api/views/la-indicators/rows.csv", params={"accessType": "DOWNLOAD"}
    )
    assert response.status_code == 200
    records = list(csv.reader(io.StringIO(response.text)))
    # Headed with display names, as Socrata's export is: the loaded file's own header.
    with open(real_data / LA_CSV, encoding="utf-8-sig", newline="") as fh:
        assert records[0] == next(csv.reader(fh))
    assert len(records) - 1 == info.row_count
    ids = [
        r[0]
        for r in portal_store.cursor().execute(f'SELECT ":id" FROM {info.table} ORDER BY ":id"').fetchall()
    ]
    first_field = info.columns[0].field_name
    expected_first = (
        portal_store.cursor()
        .execute(f'SELECT CAST("{first_field}" AS VARCHAR) FROM {info.table} WHERE ":id" = ?', [ids[0]])
        .fetchone()
    )
    assert expected_first is not None and records[1][0] == str(expected_first[0]).removesuffix(".0")


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/resource/no-such-dataset.json", 404, "dataset.missing"),
        ("/resource/kc-311-potholes.xml", 404, "format.unsupported"),
        ("/resource/kc-311-potholes.json?$where=nope > 1", 400, "query.soql.no-such-column"),
        ("/resource/kc-311-potholes.json?$select=frobnicate(type)", 400, "query.soql.no-such-function"),
        ("/resource/kc-311-potholes.json?$where=type = ", 400, "query.soql.bad-parse"),
        ("/resource/kc-311-potholes.json?$limit=abc", 400, None),
        ("/resource/kc-311-potholes.json?$bogus=1", 400, None),
        ("/api/views/no-such-dataset.json", 404, "dataset.missing"),
        ("/api/views/no-such-dataset/rows.csv", 404, "dataset.missing"),
        ("/no/such/route", 404, "not.found"),
    ],
)
def test_errors_are_in_socrata_shape(portal_url: str, path: str, status: int, code: str | None) -> None:
    response = requests.get(portal_url + path)
    assert response.status_code == status
    body = response.json()
    assert body["error"] is True and isinstance(body["message"], str) and body["message"]
    assert isinstance(body["code"], str)
    if code is not None:
        assert body["code"] == code
    assert "Traceback" not in response.text


def test_wrong_method_is_socrata_shaped(portal_url: str) -> None:
    response = requests.patch(f"{portal_url}/resource/kc-311-potholes.json")
    assert response.status_code == 405
    assert response.json()["error"] is True


def test_system_fields_are_read_only_when_asked_for(portal_url: str, portal_store: Store) -> None:
    url = f"{portal_url}{TYPED}.json"
    plain = requests.get(url).json()
    assert all(not key.startswith(":") for row in plain for key in row)
    response = requests.get(url, params={"$select": ":id, :created_at, :updated_at, name", "$order": ":id"})
    assert response.status_code == 200
    assert json.loads(response.headers["X-SODA2-Types"]) == [
        "text",
        "fixed_timestamp",
        "fixed_timestamp",
        "text",
    ]
    stored = portal_store.arrow("typed-sample", system=True).sort_by(":id").to_pylist()
    rows = response.json()
    assert [r[":id"] for r in rows] == [s[":id"] for s in stored]
    for row, expected in zip(rows, stored, strict=True):
        for name in (":created_at", ":updated_at"):
            assert row[name] == expected[name].strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    newest = max(s[":updated_at"] for s in stored).strftime("%Y-%m-%dT%H:%M:%S.%f")
    since = requests.get(url, params={"$where": f":updated_at >= '{newest}Z'", "$select": "count(*) AS n"})
    assert since.json() == [
        {"n": str(sum(s[":updated_at"].strftime("%Y-%m-%dT%H:%M:%S.%f") >= newest for s in stored))}
    ]


def test_full_export_is_written_in_batches_and_sent_with_its_length(
    portal_url: str, portal_store: Store, portal_settings: Settings
) -> None:
    info = portal_store.info("kc-311-potholes")
    assert info.row_count > portal_settings.batch_size  # more than one batch
    with requests.get(f"{portal_url}/api/views/kc-311-potholes/rows.csv", stream=True) as response:
        assert response.status_code == 200
        assert response.headers["accept-ranges"] == "bytes"  # written once, then answered from a file
        assert response.headers["content-disposition"] == 'attachment; filename="kc-311-potholes.csv"'
        body = response.content
        assert int(response.headers["content-length"]) == len(body)
        records = list(csv.reader(io.StringIO(body.decode())))
    assert len(records) == info.row_count + 1
