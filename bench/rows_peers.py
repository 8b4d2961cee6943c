"""Rows "pull from a real GIS or catalog server": our connectors beside the peers a data team would use.

* **Koop** (Esri's open-source GeoServices server, npm, started from ``tests/koop``) serving the
  bench dataset as a point layer with an ``idField``: ``ArcgisConnector.pull_to`` Parquet against
  GDAL's ``ogr2ogr`` to GeoJSON of the same layer and against esridump's ``esri2geojson`` (PyPI
  ``esridump``, pages of the layer's ``maxRecordCount``, its politeness pause of 10 s every five
  requests turned off); goal: at least 1x the faster of the two. esridump reads the layer by
  offsets, one request per 2,000 features, each a scan of the whole file on Koop: it runs once,
  not ``reps`` times.
* **CKAN 2.12** with the DataStore (``tests/ckan_site.py``: PyPI in a side venv, Debian PostgreSQL
  and Redis) holding the same rows: ``CkanConnector.pull_to`` Parquet against CKAN's own
  ``/datastore/dump/{id}`` CSV download, the server's limit (goal: at least 0.5x).

Both servers run as their own processes on 127.0.0.1, alternated with the peer in one run.

Example:
    >>> results = peer_rows(rows=20_000, reps=1, workdir=Path("/tmp/b"))  # doctest: +SKIP
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import requests

from bench.generate import COLUMNS, dataset_parquet
from bench.harness import Goal, Result, alternate, median, size_label, timed
from bench.rows_kinds import _tests_on_path

__all__ = ["peer_rows"]

_CKAN_TYPES = {"text": "text", "floating_timestamp": "timestamp", "number": "numeric", "checkbox": "bool"}


@contextmanager
def _equipment() -> Iterator[None]:
    """Test equipment fails with pytest's ``Failed`` (a BaseException): make it an ordinary error."""
    import pytest

    try:
        yield
    except pytest.fail.Exception as exc:
        raise RuntimeError(str(exc)) from None


def _koop_layer(table: pa.Table, folder: Path) -> Path:
    """The rows as a GeoJSON point layer (``location`` the geometry) with ``idField: row_id``."""
    from btvstat_open.encode import geojson_batch

    types = [c.data_type for c in COLUMNS]
    features: list[dict[str, Any]] = []
    for batch in table.to_batches(max_chunksize=50_000):
        features += json.loads(b"[" + geojson_batch(batch, types) + b"]")
    for number, feature in enumerate(features, 1):
        feature["properties"]["row_id"] = number
    folder.mkdir(parents=True, exist_ok=True)
    doc = {"type": "FeatureCollection", "metadata": {"idField": "row_id"}, "features": features}
    (folder / "requests.geojson").write_text(json.dumps(doc))
    return folder


def _ours(make: Callable[[], Any], dataset_id: str, target: Path, rows: int) -> float:
    """Rows/s of ``make().pull_to(dataset_id, target)`` (a connector), which must bring ``rows``."""
    got = 0

    def work() -> None:
        nonlocal got
        with make() as conn:
            got = conn.pull_to(dataset_id, target).rows

    seconds = timed(work)
    if got != rows:
        raise RuntimeError(f"the pull wrote {got:,} rows, expected {rows:,}")
    return rows / seconds


def _features_in(geojson: Path, rows: int, who: str) -> None:
    """A peer's GeoJSON must hold every feature (one ``"type": "Feature"`` each)."""
    found = geojson.read_bytes().count(b'"type": "Feature"')
    if found != rows:
        raise RuntimeError(f"{who} wrote {found:,} features, expected {rows:,}")


def _ogr2ogr(layer: str, target: Path, rows: int) -> float:
    ogr2ogr = shutil.which("ogr2ogr")
    if ogr2ogr is None:
        raise RuntimeError("ogr2ogr is not installed (Debian: gdal-bin)")
    target.unlink(missing_ok=True)
    source = f"ESRIJSON:{layer}/query?where=1%3D1&outFields=*&f=json"
    seconds = timed(lambda: subprocess.run([ogr2ogr, "-f", "GeoJSON", str(target), source], check=True))
    _features_in(target, rows, "ogr2ogr")
    return rows / seconds


#: esri2geojson's own command line, its pause between requests (``pause_seconds=10`` every five
#: requests, a courtesy to public servers, not work) set to zero; the CLI has no option for it.
_ESRI2GEOJSON = (
    "import functools, sys; import esridump.cli as cli; "
    "cli.EsriDumper = functools.partial(cli.EsriDumper, pause_seconds=0); "
    "sys.argv[0] = 'esri2geojson'; cli.main()"
)


def _esridump(layer: str, target: Path, rows: int, page: int) -> float:
    target.unlink(missing_ok=True)
    cmd = [sys.executable, "-c", _ESRI2GEOJSON, "-q", "-m", str(page), layer, str(target)]
    seconds = timed(lambda: subprocess.run(cmd, check=True))
    _features_in(target, rows, "esri2geojson")
    return rows / seconds


def koop_row(table: pa.Table, *, reps: int, workdir: Path) -> Result:
    """Koop: our ArcGIS pull to Parquet vs ogr2ogr to GeoJSON, same layer, alternated."""
    _tests_on_path()
    from koop_site import koop_server

    from connectors.arcgis import ArcgisConnector

    rows = table.num_rows
    with _equipment(), koop_server(_koop_layer(table, workdir / "koop-data")) as services:
        layer = f"{services}/requests/FeatureServer/0"
        page = int(requests.get(layer, params={"f": "json"}, timeout=600).json()["maxRecordCount"])
        runners: dict[str, Callable[[], float]] = {
            "ours": partial(_ours, partial(ArcgisConnector, layer), "0", workdir / "koop.parquet", rows),
            "ogr2ogr": partial(_ogr2ogr, layer, workdir / "koop.geojson", rows),
            "esridump": partial(_esridump, layer, workdir / "koop-esridump.geojson", rows, page),
        }
        samples = alternate(runners, 1)
        if reps > 1:  # esridump's offset pages cost Koop a scan each (minutes): it runs once
            more = alternate({k: v for k, v in runners.items() if k != "esridump"}, reps - 1)
            samples = {k: samples[k] + more.get(k, []) for k in samples}
    faster = max(("ogr2ogr", "esridump"), key=lambda k: median(samples[k]))
    samples["faster peer"] = samples[faster]
    others = ", ".join(f"{k} {median(samples[k]):,.0f} rows/s" for k in ("ogr2ogr", "esridump"))
    return _row(
        f"pull {size_label(rows)} features from Koop (ArcGIS REST) to Parquet vs ogr2ogr, esridump",
        samples,
        ("faster peer", f"the faster of GDAL ogr2ogr (ESRIJSON driver) and esridump: {faster}"),
        Goal("ratio", 1),
        f"{others}. Koop answers a query without paging parameters with every feature: ogr2ogr asks "
        f"it once, ours also the layer and the count; esridump pages by {page:,} features",
    )


def _row(work: str, samples: dict[str, list[float]], peer: tuple[str, str], goal: Goal, notes: str) -> Result:
    return Result(
        group="peers",
        work=work,
        unit="rows/s",
        ours=median(samples["ours"]),
        peer=median(samples[peer[0]]),
        peer_name=peer[1],
        goal=goal,
        samples=samples,
        notes=notes,
    )


def _ckan_records(batch: pa.RecordBatch) -> list[dict[str, Any]]:
    out = []
    for row in batch.to_pylist():
        out.append({k: v.isoformat() if isinstance(v, datetime) else v for k, v in row.items()})
    return out


def _ckan_load(site: Any, table: pa.Table) -> str:
    """The rows (``location`` left out: CKAN has no point type) as a DataStore resource; its id."""
    table = table.drop_columns(["location"])
    fields = [
        {"id": c.field_name, "type": _CKAN_TYPES[c.data_type]} for c in COLUMNS if c.field_name != "location"
    ]
    site.action("package_create", name="bench-requests", title="Bench requests")
    created = site.action(
        "datastore_create",
        resource={"package_id": "bench-requests", "name": "rows"},
        fields=fields,
        records=[],
    )
    rid = str(created["resource_id"])
    for batch in table.to_batches(max_chunksize=20_000):
        site.action(
            "datastore_upsert", resource_id=rid, method="insert", records=_ckan_records(batch), force=True
        )
    return rid


def _dump(url: str, rid: str, target: Path, rows: int) -> float:
    def work() -> None:
        with requests.get(
            f"{url}/datastore/dump/{rid}", params={"format": "csv"}, stream=True, timeout=600
        ) as resp:
            resp.raise_for_status()
            with target.open("wb") as out:
                for chunk in resp.iter_content(1 << 20):
                    out.write(chunk)

    return rows / timed(work)


def ckan_row(table: pa.Table, *, reps: int, workdir: Path) -> Result:
    """CKAN: our DataStore pull to Parquet vs CKAN's own /datastore/dump CSV, alternated."""
    _tests_on_path()
    from ckan_site import ckan_server

    from connectors.ckan import CkanConnector

    rows = table.num_rows
    folder = workdir / "ckan-site"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    with _equipment(), ckan_server(folder) as site:
        rid = _ckan_load(site, table)
        samples = alternate(
            {
                "ours": partial(_ours, partial(CkanConnector, site.url), rid, workdir / "ckan.parquet", rows),
                "dump": partial(_dump, site.url, rid, workdir / "ckan-dump.csv", rows),
            },
            reps,
        )
    return _row(
        f"pull {size_label(rows)} rows from CKAN 2.12 DataStore to Parquet vs /datastore/dump CSV",
        samples,
        ("dump", "CKAN /datastore/dump (the server's own export)"),
        Goal("ratio", 0.5),
        "CKAN runs its development server (ckan run, threaded); the dump streams one query",
    )


def peer_rows(*, rows: int, reps: int, workdir: Path) -> list[Result]:
    """The Koop and CKAN rows over the first ``rows`` rows of the bench dataset."""
    table = pq.read_table(dataset_parquet(rows))
    workdir.mkdir(parents=True, exist_ok=True)
    return [koop_row(table, reps=reps, workdir=workdir), ckan_row(table, reps=reps, workdir=workdir)]
