"""Pulls written to Parquet gather small parsed batches into full row groups, and lose no row."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from connectors.output import write_batches_atomically


def test_small_batches_become_row_groups_of_at_least_65536_rows(tmp_path: Path) -> None:
    batches = [
        pa.record_batch({"n": pa.array(range(start, start + 5_000), pa.int64()), "t": ["x"] * 5_000})
        for start in range(0, 200_000, 5_000)
    ]
    out = tmp_path / "out.parquet"
    rows = write_batches_atomically(batches, out, empty_schema=lambda: batches[0].schema)
    meta = pq.read_metadata(out)
    sizes = [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]
    assert rows == 200_000 and sum(sizes) == 200_000
    assert all(size >= 65_536 for size in sizes[:-1]) and len(sizes) == 3
    assert pq.read_table(out).column("n").to_pylist() == list(range(200_000))


def test_fewer_rows_than_a_row_group_are_still_written(tmp_path: Path) -> None:
    batch = pa.record_batch({"n": [1.0, 2.0]})
    out = tmp_path / "small.parquet"
    assert write_batches_atomically([batch, batch], out, empty_schema=lambda: batch.schema) == 4
    assert pq.read_table(out).column("n").to_pylist() == [1.0, 2.0, 1.0, 2.0]


def _dictionary_encoded(path: Path) -> dict[str, bool]:
    meta = pq.read_metadata(path)
    group = meta.row_group(0)
    return {
        group.column(i).path_in_schema: any("DICTIONARY" in e for e in group.column(i).encodings)
        for i in range(group.num_columns)
    }


def test_repeated_values_are_dictionary_encoded_and_unique_ones_are_not(tmp_path: Path) -> None:
    rows = 70_000
    batch = pa.record_batch(
        {
            "id": [f"SR-{i:09d}" for i in range(rows)],
            "status": [("Open", "Closed", "In Progress")[i % 3] for i in range(rows)],
            "at": pa.array(range(rows), pa.timestamp("us")),
            "priority": pa.array([float(i % 4) for i in range(rows)]),
        }
    )
    out = tmp_path / "mixed.parquet"
    write_batches_atomically([batch], out, empty_schema=lambda: batch.schema)
    assert _dictionary_encoded(out) == {"id": False, "status": True, "at": False, "priority": True}
    assert pq.read_table(out).equals(pa.Table.from_batches([batch]))


def test_an_empty_pull_still_writes_the_schema(tmp_path: Path) -> None:
    schema = pa.schema([("id", pa.string()), ("n", pa.float64())])
    out = tmp_path / "empty.parquet"
    assert write_batches_atomically([], out, empty_schema=lambda: schema) == 0
    assert pq.read_schema(out).equals(schema) and pq.read_metadata(out).num_rows == 0
