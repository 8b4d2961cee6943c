"""Rows "pull N rows to Parquet, <kind>": each portal kind's pull beside the Socrata pull, in one run.

Every kind in :data:`KIND_SOURCES` gets one row: ``connect(url, kind=...).pull_to(dataset, out)`` of
the bench dataset (200,000 rows in the full run), alternating with the Socrata connector's pull of
the same rows from the local portal, which is the reference (``ratio`` = the kind's rows/s over
Socrata's). The ``file`` kind reads the rows from a CSV file in a folder (typed by inference, as
``btvstat-open load`` types it).

Plugging in another kind is one line in :data:`KIND_SOURCES`: a :class:`KindSource` whose ``serve``
is a context manager that takes the bench table and a work folder, starts the kind's stand-in
server (``tests/arcgis_standin.py``, ``tests/ckan_standin.py``, ``tests/opendatasoft_standin.py``)
serving that table, and yields ``(url, dataset_id)``; see ``bench/README.md``.

Example:
    >>> with running_server("portal", store=dataset_store(20_000)) as url:  # doctest: +SKIP
    ...     results = kind_rows(url, rows=20_000, reps=2, workdir=Path("/tmp/b"))
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from bench.generate import DATASET_ID, dataset_parquet
from bench.harness import Goal, Result, alternate, median, size_label, timed

__all__ = ["KIND_SOURCES", "KindSource", "arcgis_source", "file_source", "kind_rows"]

#: ``serve(table, workdir)``: stand a source up holding ``table``; yields ``(url, dataset_id)``.
Serve = Callable[[pa.Table, Path], AbstractContextManager[tuple[str, str]]]


@dataclass(frozen=True)
class KindSource:
    """One portal kind in the pull rows: its name (``connect(kind=...)``), how to serve the rows, a goal."""

    kind: str
    label: str
    serve: Serve
    goal: Goal | None = None
    notes: str = ""


def file_source(suffix: str) -> Serve:
    """The rows as a ``.csv`` or ``.parquet`` file in a folder; the source yields (folder, file name)."""

    @contextmanager
    def serve(table: pa.Table, workdir: Path) -> Iterator[tuple[str, str]]:
        folder = workdir / f"kind-file{suffix}"
        folder.mkdir(parents=True, exist_ok=True)
        name = f"{DATASET_ID}{suffix}"
        if suffix == ".csv":
            pacsv.write_csv(table, folder / name)
        else:
            pq.write_table(table, folder / name)
        yield str(folder), name

    return serve


def _tests_on_path() -> None:
    """The stand-in servers are test equipment in tests/: importable from there, as pytest does."""
    tests = str(Path(__file__).resolve().parent.parent / "tests")
    if tests not in sys.path:
        sys.path.insert(0, tests)


@contextmanager
def opendatasoft_source(table: pa.Table, workdir: Path) -> Iterator[tuple[str, str]]:
    """The rows on the Opendatasoft stand-in (tests/opendatasoft_standin.py), in this process."""
    _tests_on_path()
    from opendatasoft_standin import StandinOds
    from servers import serve

    ods = StandinOds()
    ods.put(DATASET_ID, table, "2024-01-01T00:00:00+00:00")
    with serve(ods.app()) as url:
        yield url, DATASET_ID


@contextmanager
def ckan_source(table: pa.Table, workdir: Path) -> Iterator[tuple[str, str]]:
    """The rows in the CKAN stand-in's DataStore (tests/ckan_standin.py), in this process."""
    _tests_on_path()
    from ckan_standin import StandinCkan
    from servers import serve

    ckan = StandinCkan()
    ckan.add_table(DATASET_ID, "5b1c7a8e-0000-4000-8000-00000000b311", table, "2024-01-01T00:00:00")
    with serve(ckan.app()) as url:
        ckan.url = url
        yield url, DATASET_ID


@contextmanager
def arcgis_source(table: pa.Table, workdir: Path) -> Iterator[tuple[str, str]]:
    """The rows as a point layer of the ArcGIS stand-in (tests/arcgis_standin.py), in this process.

    Every column is a field, ``location`` the layer's point geometry, 2,000 features a page (ArcGIS
    Online's ``maxRecordCount``); the features are encoded before the timing starts, as a server's
    cache would hold them, so the row times the connector rather than the stand-in's encoding.
    """
    _tests_on_path()
    from arcgis_standin import OID, Service
    from arcgis_tables import layer_from_arrow
    from servers import serve

    from bench.arcgis_pages import PagedArcgisStandin

    layer = layer_from_arrow(0, "Service Requests", table, geometry="location")
    app = PagedArcgisStandin({"Requests": Service({0: layer})})
    # The fields a pull of every column asks for: the attributes and the object id, sorted.
    wanted = sorted({OID, *(n for n in table.column_names if n != "location")})
    app.index(layer).warm(layer.rows, wanted, layer.geometry_of)
    with serve(app) as url:
        yield f"{url}/arcgis/rest/services/Requests/FeatureServer", "0"


_STANDIN = (
    "the stand-in server runs in this process (one GIL with the client): test equipment, "
    "so the ratio bounds the connector's cost, it does not rate the portal"
)

# No goal for CSV: a CSV file is typed by inference over every cell (the loader's pace), where a
# portal sends its types; a Parquet file carries its types and should outrun an HTTP pull.
KIND_SOURCES: list[KindSource] = [
    KindSource("file", "file kind (CSV in a folder)", file_source(".csv")),
    KindSource("file", "file kind (Parquet in a folder)", file_source(".parquet"), Goal("ratio", 1)),
    KindSource("opendatasoft", "opendatasoft kind (stand-in)", opendatasoft_source, notes=_STANDIN),
    KindSource("ckan", "ckan kind (stand-in)", ckan_source, notes=_STANDIN),
    KindSource("arcgis", "arcgis kind (stand-in, points)", arcgis_source, notes=_STANDIN),
]


def _pull(url: str, dataset_id: str, target: Path, rows: int, kind: str | None) -> float:
    from connectors import connect

    got = 0

    def work() -> None:
        nonlocal got
        with connect(url, kind=kind) as source:
            got = source.pull_to(dataset_id, target).rows

    seconds = timed(work)
    if got != rows:
        raise RuntimeError(f"the {kind or 'socrata'} pull wrote {got:,} rows, expected {rows:,}")
    return rows / seconds


def kind_rows(
    portal_url: str, *, rows: int, reps: int, workdir: Path, sources: list[KindSource] | None = None
) -> list[Result]:
    """One row per kind: its pull rows/s against the Socrata pull of the same rows from ``portal_url``."""
    table = pq.read_table(dataset_parquet(rows))
    out = workdir / "kinds"
    out.mkdir(parents=True, exist_ok=True)
    results = []
    for source in sources if sources is not None else KIND_SOURCES:
        with source.serve(table, workdir) as (url, dataset_id):
            runners: dict[str, Callable[[], float]] = {
                "kind": partial(_pull, url, dataset_id, out / f"{source.kind}.parquet", rows, source.kind),
                "socrata": partial(_pull, portal_url, DATASET_ID, out / "socrata.parquet", rows, None),
            }
            samples = alternate(runners, reps)
        results.append(
            Result(
                group="kinds",
                work=f"pull {size_label(rows)} rows to Parquet, {source.label} vs Socrata pull",
                unit="rows/s",
                ours=median(samples["kind"]),
                peer=median(samples["socrata"]),
                peer_name="Socrata (local portal)",
                goal=source.goal,
                samples=samples,
                notes=f"connect(url, kind={source.kind!r}).pull_to vs connect(portal).pull_to, same rows"
                + (f"; {source.notes}" if source.notes else ""),
            )
        )
    return results
