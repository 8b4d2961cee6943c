"""A realistic 311-style service-request dataset, generated reproducibly at any size.

Each row is one service request as a city's 311 system publishes it: a row identifier, the dates it was
opened and closed, text categories with realistic skew (a few request types dominate), a ZIP code with a
leading zero (text, never a number), numbers, a checkbox and a point. Rows are generated in vectorised
batches with a fixed seed, so the same size always gives the same data.

Generated files are cached under ``bench/.data`` (or ``$BTVSTAT_BENCH_DATA``): a Parquet file per size and
a ready store per size, re-used while the generator and the store module stay the same.

Example:
    >>> from bench.generate import dataset_parquet
    >>> path = dataset_parquet(1_000)  # doctest: +SKIP
    >>> pq.read_metadata(path).num_rows  # doctest: +SKIP
    1000
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from btvstat_open.store import Store
from btvstat_open.store.writes import insert_rows
from btvstat_open.types import Column

__all__ = [
    "COLUMNS",
    "DATASET_ID",
    "REQUEST_TYPES",
    "ROW_ID",
    "batches",
    "cache_dir",
    "dataset_parquet",
    "dataset_store",
]

# Bump when the generated rows change, so cached files are regenerated.
GENERATOR_VERSION = 2
DATASET_ID = "bench-311"
ROW_ID = "unique_key"
BATCH_ROWS = 250_000

COLUMNS: tuple[Column, ...] = (
    Column("unique_key", "Unique Key", "text"),
    Column("created_date", "Created Date", "floating_timestamp"),
    Column("closed_date", "Closed Date", "floating_timestamp"),
    Column("agency", "Agency", "text"),
    Column("request_type", "Request Type", "text"),
    Column("descriptor", "Descriptor", "text"),
    Column("status", "Status", "text"),
    Column("neighborhood", "Neighborhood", "text"),
    Column("incident_zip", "Incident Zip", "text"),
    Column("days_to_close", "Days to Close", "number"),
    Column("priority", "Priority", "number"),
    Column("is_duplicate", "Is Duplicate", "checkbox"),
    Column("location", "Location", "point"),
)

_AGENCIES = ["Public Works", "Parks", "Water", "Police", "Fire", "Housing", "Health", "Transportation"]
REQUEST_TYPES = [
    "Pothole",
    "Streetlight Out",
    "Trash Pickup Missed",
    "Graffiti",
    "Noise Complaint",
    "Illegal Dumping",
    "Tree Trimming",
    "Abandoned Vehicle",
    "Sidewalk Repair",
    "Water Leak",
    "Snow Removal",
    "Rodent Sighting",
    "Traffic Signal",
    "Parking Enforcement",
    "Dead Animal",
    "Bulk Item Pickup",
    "Sewer Backup",
    "Housing Code Violation",
    "Park Maintenance",
    "Other",
]
_DESCRIPTORS = [f"{kind} - {detail}" for kind in REQUEST_TYPES for detail in ("reported", "repeat", "urgent")]
_STATUSES = ["Closed", "Duplicate", "Cancelled", "Open", "In Progress"]
_CLOSED_WEIGHTS = [0.93, 0.04, 0.03]
_NEIGHBORHOODS = [
    "Old North End",
    "South End",
    "New North End",
    "Downtown",
    "Hill Section",
    "Lakeside",
    "Five Sisters",
    "Riverside",
    "Intervale",
    "Waterfront",
    "University",
    "Ward 8",
]
_ZIPS = ["05401", "05402", "05403", "05405", "05406", "05408", "05446", "05452"]
_START = np.datetime64("2019-01-01T00:00:00", "us")
_SPAN_US = np.int64(7 * 365 * 24 * 3600 * 1_000_000)


def _skewed(rng: np.random.Generator, choices: list[str], n: int) -> pa.Array:
    """Pick from ``choices`` with a Zipf-like skew (the first few dominate, as in real 311 data)."""
    weights = 1.0 / np.arange(1, len(choices) + 1)
    idx = rng.choice(len(choices), size=n, p=weights / weights.sum())
    return pa.DictionaryArray.from_arrays(pa.array(idx, pa.int32()), pa.array(choices)).cast(pa.string())


def _batch(start: int, n: int, seed: int) -> pa.RecordBatch:
    """Rows ``start .. start+n`` (the seed makes each batch reproducible on its own)."""
    rng = np.random.default_rng(seed)
    created = _START + rng.integers(0, _SPAN_US, n).astype("timedelta64[us]")
    days = np.round(rng.gamma(1.5, 6.0, n), 2)
    open_rows = rng.random(n) < 0.12
    closed = created + (days * 86_400_000_000).astype("int64").astype("timedelta64[us]")
    # Open requests are "Open" or "In Progress"; closed ones mostly "Closed".
    status_idx = np.where(open_rows, rng.integers(3, 5, n), rng.choice(3, size=n, p=_CLOSED_WEIGHTS)).astype(
        np.int32
    )
    lon = np.round(-73.212 + rng.normal(0, 0.02, n), 6)
    lat = np.round(44.476 + rng.normal(0, 0.02, n), 6)
    keys = pa.array(np.arange(start + 1, start + n + 1, dtype=np.int64)).cast(pa.string())
    point = pc.binary_join_element_wise(
        "POINT (", pa.array(lon).cast(pa.string()), " ", pa.array(lat).cast(pa.string()), ")", ""
    )
    return pa.RecordBatch.from_arrays(
        [
            pc.binary_join_element_wise("SR-", pc.utf8_lpad(keys, 9, "0"), ""),
            pa.array(created, pa.timestamp("us")),
            pa.array(closed, pa.timestamp("us"), mask=open_rows),
            _skewed(rng, _AGENCIES, n),
            _skewed(rng, REQUEST_TYPES, n),
            _skewed(rng, _DESCRIPTORS, n),
            pa.DictionaryArray.from_arrays(pa.array(status_idx), pa.array(_STATUSES)).cast(pa.string()),
            _skewed(rng, _NEIGHBORHOODS, n),
            _skewed(rng, _ZIPS, n),
            pa.array(days, pa.float64(), mask=open_rows),
            pa.array(rng.integers(1, 5, n).astype(np.float64)),
            pa.array(rng.random(n) < 0.03),
            point,
        ],
        schema=pa.schema([c.arrow_field for c in COLUMNS]),
    )


def batches(rows: int) -> Iterator[pa.RecordBatch]:
    """The dataset of ``rows`` rows as record batches of at most 250,000 rows.

    Example:
        >>> sum(b.num_rows for b in batches(10))
        10
    """
    for number, start in enumerate(range(0, rows, BATCH_ROWS)):
        yield _batch(start, min(BATCH_ROWS, rows - start), seed=1000 + number)


def cache_dir() -> Path:
    """Where generated data is kept between runs (``$BTVSTAT_BENCH_DATA`` or ``bench/.data``)."""
    env = os.environ.get("BTVSTAT_BENCH_DATA")
    path = Path(env) if env else Path(__file__).parent / ".data"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _store_fingerprint() -> str:
    """Changes when the store's code changes: a cached store from older code is rebuilt, not trusted."""
    import btvstat_open.store as store_module

    digest = hashlib.sha256()
    for module in sorted(Path(store_module.__file__).parent.glob("*.py")):
        digest.update(module.read_bytes())
    return digest.hexdigest()[:10]


def dataset_parquet(rows: int) -> Path:
    """The Parquet file of the ``rows``-row dataset, generated on first use."""
    path = cache_dir() / f"311-v{GENERATOR_VERSION}-{rows}.parquet"
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        schema = pa.schema([c.arrow_field for c in COLUMNS])
        with pq.ParquetWriter(tmp, schema, compression="zstd") as writer:
            for batch in batches(rows):
                writer.write_batch(batch)
        tmp.replace(path)
    return path


def dataset_store(rows: int) -> Path:
    """A store folder holding dataset ``bench-311`` with ``rows`` rows, built on first use.

    The store is closed when this returns, so a server process can open it.
    """
    root = cache_dir() / f"store-v{GENERATOR_VERSION}-{_store_fingerprint()}-{rows}"
    done = root / ".complete"
    if done.exists():
        return root
    for stale in cache_dir().glob(f"store-v*-{rows}"):  # built by older code: never used again
        shutil.rmtree(stale, ignore_errors=True)
    # Loaded a batch at a time, a transaction each, so a 10M-row table never sits in memory whole
    # (a build cut short has no .complete and starts over).
    parquet = pq.ParquetFile(dataset_parquet(rows))
    with Store(root) as store:
        store.create(DATASET_ID, "Bench 311 requests", COLUMNS, row_identifier=ROW_ID, replace=True)
        done_rows = 0
        for batch in parquet.iter_batches(batch_size=BATCH_ROWS):
            table = pa.Table.from_batches([batch]).append_column(":id", _row_ids(done_rows, batch.num_rows))
            with store.transaction() as con:
                insert_rows(con, DATASET_ID, table, COLUMNS)
            done_rows += batch.num_rows
    done.touch()
    return root


def _row_ids(start: int, n: int) -> pa.Array:
    """``:id`` values ``row-000000000123`` for rows ``start .. start+n``, made vectorised (not one by one
    in the store)."""
    numbers = pa.array(np.arange(start, start + n, dtype=np.int64)).cast(pa.string())
    ids: pa.Array = pc.binary_join_element_wise("row-", pc.utf8_lpad(numbers, 12, "0"), "")
    return ids


def fresh_store(root: Path) -> Path:
    """An empty folder for a store that a benchmark writes to (removed first if it exists)."""
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    return root
