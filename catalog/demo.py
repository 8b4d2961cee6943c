"""The bundled demo: a KPI catalog on real city data, and the datasets it needs.

``catalog/demo/`` holds the catalog (``catalog.yaml`` and one YAML file per KPI in department
folders) and ``catalog/demo/data/*.parquet``: the real Kansas City and Los Angeles files, typed by
the project's own type inference (see ``data/SOURCES.md``), and ``data/burlington/*.csv``: Burlington,
VT's Opendatasoft CSV exports as published, read through the file connector (the demo catalog's
``burlington`` portal, of kind ``file``). :func:`load_demo_data` loads them into a store; it is
idempotent (a dataset already loaded from the same file is left alone) and never overwrites a demo
dataset that was written to since it was loaded.

Rebuild the Parquet files from the original CSVs with::

    python -m catalog.demo build tests/data/real

Example:
    >>> import tempfile
    >>> from btvstat_open.store import DataVersion, Store
    >>> with Store(tempfile.mkdtemp()) as store:
    ...     loaded = load_demo_data(store)
    ...     again = load_demo_data(store)
    >>> sorted(loaded) == sorted(DEMO_DATASETS), again
    (True, [])
"""

from __future__ import annotations

import hashlib
import json
import sys
import tempfile
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from btvstat_open.atomic import write_atomically
from btvstat_open.store import DataVersion, Store
from btvstat_open.types import Column

__all__ = ["DATA_DIR", "DEMO_DATASETS", "DEMO_DIR", "DemoDataset", "demo_store", "load_demo_data"]

DEMO_DIR = Path(__file__).parent / "demo"
DATA_DIR = DEMO_DIR / "data"
_MARKER = "demo-data.json"


@dataclass(frozen=True)
class DemoDataset:
    """One bundled dataset: its store id, display name, description and original CSV."""

    id: str
    name: str
    description: str
    source: str  # path of the original CSV under tests/data/real
    row_identifier: str | None = None
    keep: tuple[str, ...] | None = None  # field names kept (None: all)
    #: A ``file`` portal of the demo catalog holding the original file (None: bundled as Parquet).
    portal: str | None = None

    @property
    def parquet(self) -> Path:
        """The bundled Parquet file."""
        return DATA_DIR / f"{self.id}.parquet"

    @property
    def file_name(self) -> str:
        """The original file's name (what a file portal's dataset id names)."""
        return Path(self.source).name

    @property
    def bundled(self) -> Path:
        """The file the demo loads: the Parquet file, or the original in its file portal's folder."""
        if self.portal is None:
            return self.parquet
        return DEMO_DIR / _portal_url(self.portal) / self.file_name


DEMO_DATASETS: dict[str, DemoDataset] = {
    d.id: d
    for d in (
        DemoDataset(
            "kc-311-potholes",
            "Kansas City 311 pothole requests, Jan-Feb 2020",
            "311 service requests of type Pothole created 2020-01-01 to 2020-02-25 "
            "(City of Kansas City, MO).",
            "kc-311-potholes/311_Call_Center_Service_Requests.csv",
            row_identifier="case_id",
            keep=(
                "case_id",
                "source",
                "department",
                "work_group",
                "request_type",
                "category",
                "type",
                "detail",
                "creation_date",
                "creation_time",
                "status",
                "exceeded_est_timeframe",
                "closed_date",
                "days_to_close",
                "street_address",
                "zip_code",
                "neighborhood",
                "council_district",
                "police_district",
                "latitude",
                "longitude",
                "case_url",
            ),
        ),
        DemoDataset(
            "la-operating-indicators",
            "Los Angeles operating indicators for city departments, FY2004-FY2013",
            "Workload and performance indicators of 27 City of Los Angeles departments, one row per metric "
            "per fiscal year (LA Controller).",
            "la-city-kpis/Operating_Indicators_for_City_Departments.csv",
        ),
        DemoDataset(
            "la-library-monthly",
            "Los Angeles Public Library monthly statistics, Jul 2013-Aug 2014",
            "Visitors, programs, web visits, eMedia circulation and sessions per month (LAPL).",
            "la-city-kpis/Library_Monthly_Stats.csv",
        ),
        DemoDataset(
            "la-water-power-usage",
            "Los Angeles water and electric usage by ZIP code, 2005-2013",
            "Monthly water and power use per ZIP code, July 2005 to June 2013 "
            "(LADWP, data.lacity.org asvq-scwp).",
            "la-city-kpis/Water_and_Electric_Usage_from_2005_-_2013.csv",
        ),
        DemoDataset(
            "planting-sites",
            "planting-sites.csv",
            "Burlington, VT tree inventory: one row per planting site, with species, size, condition and "
            "the year planted (Opendatasoft CSV export of data.burlingtonvt.gov).",
            "opendatasoft-burlington-btvstat/planting-sites.csv",
            portal="burlington",
        ),
        DemoDataset(
            "child-care-locations",
            "child-care-locations.csv",
            "Licensed and registered child care providers in Burlington, VT, with licensed capacity and "
            "reported vacancies (Opendatasoft CSV export of data.burlingtonvt.gov).",
            "opendatasoft-burlington-btvstat/child-care-locations.csv",
            portal="burlington",
        ),
    )
}


def _portal_url(key: str) -> str:
    """A demo portal's folder, as the demo catalog.yaml gives it (relative to the catalog folder)."""
    settings = yaml.safe_load((DEMO_DIR / "catalog.yaml").read_text(encoding="utf-8"))
    return str(settings["portals"][key]["url"])


def _read_bundled(dataset: DemoDataset) -> tuple[pa.Table, list[Column]]:
    """The dataset's rows and columns: from its Parquet file, or through the file connector."""
    if dataset.portal is None:
        table = pq.read_table(dataset.parquet)
        return table, [_column(field) for field in table.schema]
    from connectors import connect

    with connect(_portal_url(dataset.portal), kind="file", base_dir=DEMO_DIR) as files:
        return files.pull(dataset.file_name), list(files.describe(dataset.file_name).columns)


def load_demo_data(
    store: Store, *, notice: Callable[[str], None] | None = None, only: Collection[str] | None = None
) -> list[str]:
    """Load the bundled demo datasets into ``store``; returns the ids actually (re)loaded.

    A demo dataset is loaded when the store lacks it, or when the bundled file changed and the
    store's copy is still exactly what was loaded (its version has not moved since). A copy that
    was written to since (rows upserted, replaced or deleted through the API) is kept as it is,
    so writes to a demo server survive a restart; ``notice`` gets one line about each such copy,
    saying how to get the bundled data back. Calling this at every start-up is cheap. ``only``
    loads just these datasets (and not the entered values).

    Example:
        >>> from btvstat_open.store import DataVersion, Store
        >>> with Store(scratch / "store") as store:  # scratch: any empty folder
        ...     sorted(load_demo_data(store))
        ['child-care-locations', 'kc-311-potholes', 'la-library-monthly', 'la-operating-indicators',
        'la-water-power-usage', 'planting-sites']
    """
    marker_path = store.root / _MARKER
    try:
        marker: dict[str, list[object]] = json.loads(marker_path.read_text())
    except (OSError, ValueError):
        marker = {}
    loaded = []
    versions = store.versions()
    for dataset in DEMO_DATASETS.values():
        if only is not None and dataset.id not in only:  # e.g. the peer city's portal (docs/peers.md)
            continue
        digest = hashlib.sha256(dataset.bundled.read_bytes()).hexdigest()[:16]
        entry = marker.get(dataset.id)
        version = versions.get(dataset.id)
        if version is not None:
            written = entry is None or not _is_marked(entry[1:], version)
            if written:
                if notice is not None:
                    notice(_kept_message(dataset.id, bundled_changed=entry is None or entry[0] != digest))
                continue
            if entry is not None and entry[0] == digest:
                continue
        table, columns = _read_bundled(dataset)
        info = store.load(
            dataset.id,
            table,
            columns,
            name=dataset.name,
            description=dataset.description,
            row_identifier=dataset.row_identifier,
        )
        marker[dataset.id] = [digest, *_marked(info.data_version)]
        loaded.append(dataset.id)
    if loaded:
        write_atomically(marker_path, json.dumps(marker, indent=1))
    if only is None:
        load_demo_entries(store)
    return loaded


def load_demo_entries(store: Store) -> list[str]:
    """Give each demo KPI whose values are entered (``source: {entry: manual}``) the approved values
    of ``data/entries/<kpi id>.csv`` (illustrative), when its entries dataset is missing or empty;
    returns the KPI ids filled. Values entered since are kept.

    Example:
        >>> from btvstat_open.store import DataVersion, Store
        >>> with Store(scratch / "entries") as store:  # scratch: any empty folder
        ...     load_demo_entries(store), load_demo_entries(store)
        (['sidewalk-repairs-entered'], [])
    """
    import csv
    from datetime import date

    from catalog.entries import ensure_entry_datasets, entry_dataset_id, entry_table
    from catalog.periods import period_end

    filled = []
    for path in sorted((DATA_DIR / "entries").glob("*.csv")):
        kpi_id = path.stem
        ensure_entry_datasets(store, [kpi_id])
        if store.info(entry_dataset_id(kpi_id)).row_count:
            continue
        with path.open(newline="") as handle:
            rows = list(csv.DictReader(handle))
        values = []
        for row in rows:
            start = date.fromisoformat(row["period_start"])
            values.append(
                (start, period_end(start, "month"), float(row["value"]), None, None, row["comment"])
            )
        store.upsert(entry_dataset_id(kpi_id), entry_table(values))
        filled.append(kpi_id)
    return filled


def _marked(version: DataVersion) -> list[object]:
    """A dataset version as the marker file keeps it (JSON: the number and when the copy was made)."""
    return [version.number, version.created_at.isoformat()]


def _is_marked(marked: list[object], version: DataVersion) -> bool:
    """Whether the marker names this very copy: a copy dropped and made again restarts at 1, so its
    creation time counts too (markers written before it was kept hold the number alone)."""
    if len(marked) == 1:
        return marked[0] == version.number
    return marked == _marked(version)


def _kept_message(dataset_id: str, *, bundled_changed: bool) -> str:
    why = (
        "the bundled demo data is newer, but the store's copy was changed since it was loaded"
        if bundled_changed
        else "it was changed since it was loaded"
    )
    return (
        f"Kept demo dataset {dataset_id!r} as it is in the store: {why}. To get the bundled data "
        f"back, delete it (DELETE /api/views/{dataset_id}.json) and restart, or use a new --store."
    )


@contextmanager
def demo_store(root: str | Path | None = None) -> Iterator[Store]:
    """A store holding the demo datasets (in a temporary folder unless ``root`` is given).

    Example:
        >>> with demo_store() as store:
        ...     store.info("la-library-monthly").row_count
        16
    """
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(root or tmp)
        try:
            load_demo_data(store)
            yield store
        finally:
            store.close()


def _column(field: pa.Field) -> Column:
    meta = field.metadata or {}
    return Column(
        field.name,
        meta.get(b"name", field.name.encode()).decode(),
        meta.get(b"socrata_type", b"text").decode(),
    )


def build_demo_data(real_dir: Path) -> None:
    """Write ``catalog/demo/data/*.parquet`` from the original CSVs in ``real_dir``.

    Each file is read by :func:`btvstat_open.load.read_file` (field names and inferred types),
    optionally narrowed to the columns the demo uses, and written with every column's Socrata
    type and original header in the Parquet field metadata.
    """
    from btvstat_open.load import read_file

    DATA_DIR.mkdir(parents=True, exist_ok=True)
    for dataset in DEMO_DATASETS.values():
        if dataset.portal is not None:
            continue  # kept as the original file, read by the file connector
        loaded = read_file(real_dir / dataset.source)
        columns = [c for c in loaded.columns if dataset.keep is None or c.field_name in dataset.keep]
        fields = [c.arrow_field.with_metadata({"name": c.name, "socrata_type": c.data_type}) for c in columns]
        table = pa.Table.from_arrays(
            [loaded.table.column(c.field_name) for c in columns], schema=pa.schema(fields)
        )
        pq.write_table(table, dataset.parquet, compression="zstd", compression_level=19)
        print(f"{dataset.parquet.name}: {table.num_rows} rows, {dataset.parquet.stat().st_size} bytes")


if __name__ == "__main__":  # pragma: no cover
    if len(sys.argv) == 3 and sys.argv[1] == "build":
        build_demo_data(Path(sys.argv[2]))
    else:
        print("usage: python -m catalog.demo build tests/data/real", file=sys.stderr)
        sys.exit(2)
