"""The vectorised encoders agree with a plain per-value encoding of Socrata's rules."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from decimal import Decimal

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from btvstat_open.encode import csv_batch, geojson_batch, json_batch


def _number(value: float) -> str:
    """Socrata's number text, written the slow obvious way."""
    text = format(Decimal(repr(value)), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _reference_rows(table: dict[str, list[object]]) -> list[dict[str, object]]:
    names = list(table)
    rows = []
    for i in range(len(table[names[0]])):
        row: dict[str, object] = {}
        for name in names:
            value = table[name][i]
            if value is None:
                continue
            if isinstance(value, bool):
                row[name] = value
            elif isinstance(value, float):
                row[name] = _number(value)
            elif isinstance(value, datetime):
                text = value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
                row[name] = text.isoformat(timespec="milliseconds") + ("Z" if value.tzinfo else "")
            else:
                row[name] = value
        rows.append(row)
    return rows


texts = st.one_of(st.none(), st.text(max_size=20))
numbers = st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False, width=64))
flags = st.one_of(st.none(), st.booleans())
moments = st.one_of(st.none(), st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2100, 1, 1)))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(texts, numbers, flags, moments), min_size=1, max_size=30))
def test_json_matches_the_reference(rows: list[tuple[object, ...]]) -> None:
    moments_ms = [m.replace(microsecond=m.microsecond // 1000 * 1000) if m else None for *_, m in rows]
    table = {
        "text": [r[0] for r in rows],
        "num": [r[1] for r in rows],
        "flag": [r[2] for r in rows],
        "at": moments_ms,
    }
    batch = pa.record_batch(
        {
            "text": pa.array(table["text"], pa.string()),
            "num": pa.array(table["num"], pa.float64()),
            "flag": pa.array(table["flag"], pa.bool_()),
            "at": pa.array(table["at"], pa.timestamp("us")),
        }
    )
    encoded = b"[" + json_batch(batch, ["text", "number", "checkbox", "floating_timestamp"]) + b"]"
    assert json.loads(encoded) == _reference_rows(table)  # type: ignore[arg-type]


def test_first_column_without_nulls_and_fixed_timestamps() -> None:
    at = [datetime(2020, 1, 7, 12, 30, tzinfo=UTC), None]
    batch = pa.record_batch({"id": ["a", "b"], "at": pa.array(at, pa.timestamp("us", tz="UTC"))})
    decoded = json.loads(b"[" + json_batch(batch, ["text", "fixed_timestamp"]) + b"]")
    assert decoded == [{"id": "a", "at": "2020-01-07T12:30:00.000Z"}, {"id": "b"}]


def test_large_and_small_numbers_have_no_exponent() -> None:
    batch = pa.record_batch({"n": [1e21, 1e-7, 123456789012.0, -0.5]})
    assert json.loads(b"[" + json_batch(batch, ["number"]) + b"]") == [
        {"n": "1000000000000000000000"},
        {"n": "0.0000001"},
        {"n": "123456789012"},
        {"n": "-0.5"},
    ]


@settings(max_examples=40, deadline=None)
@given(st.lists(texts, min_size=1, max_size=20))
def test_csv_round_trips_text(values: list[str | None]) -> None:
    batch = pa.record_batch({"t": pa.array(values, pa.string())})
    records = list(csv.reader(io.StringIO(csv_batch(batch, ["text"], header=True).decode(), newline="")))
    assert records[0] == ["t"]
    assert [r[0] if r else "" for r in records[1:]] == [v or "" for v in values]


def test_geojson_with_location_geometry() -> None:
    place = pa.array(
        [{"latitude": 39.5, "longitude": -94.25, "human_address": None}, None],
        pa.struct([("latitude", pa.float64()), ("longitude", pa.float64()), ("human_address", pa.string())]),
    )
    batch = pa.record_batch({"name": ["x", "y"], "place": place})
    features = json.loads(b"[" + geojson_batch(batch, ["text", "location"]) + b"]")
    assert features[0]["geometry"] == {"type": "Point", "coordinates": [-94.25, 39.5]}
    assert features[1]["geometry"] is None and features[1]["properties"] == {"name": "y"}


def test_timestamps_outside_four_digit_years_and_slices_keep_their_text() -> None:
    ms = pa.array([0, None, 253_402_300_800_000, -62_167_219_200_001, 1_578_355_200_123], pa.timestamp("ms"))
    expected = [
        '"1970-01-01T00:00:00.000"',
        None,
        '"10000-01-01T00:00:00.000"',
        '"-0001-12-31T23:59:59.999"',
        '"2020-01-07T00:00:00.123"',
    ]
    rows = json.loads(b"[" + json_batch(pa.record_batch({"at": ms}), ["floating_timestamp"]) + b"]")
    assert [json.dumps(r["at"]) if "at" in r else None for r in rows] == expected
    tail = json_batch(pa.record_batch({"at": ms.slice(3)}), ["floating_timestamp"])
    assert json.loads(b"[" + tail + b"]") == [
        {"at": "-0001-12-31T23:59:59.999"},
        {"at": "2020-01-07T00:00:00.123"},
    ]
    ordinary = csv_batch(pa.record_batch({"at": ms.slice(4)}), ["floating_timestamp"], header=False)
    assert ordinary == b'"2020-01-07T00:00:00.123"\n'
