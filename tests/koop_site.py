"""Koop, Esri's open-source GeoServices server (npm ``@koopjs/koop-core`` with the file-GeoJSON
provider), serving the demo's Los Angeles water and power data as ArcGIS REST layers.

Test equipment: ``npm ci --prefix tests/koop`` installs it (``make test`` does); the
``koop_url`` fixture starts it once per test session on 127.0.0.1 (a free port) and fails
with the command to run when it cannot start. Three layers, each the 13,920 rows of
``catalog/demo/data/la-water-power-usage.parquet`` as the portal's GeoJSON writes them:

* ``water``: no ``idField``, so Koop makes each object id a hash of the feature: ids in no
  order, and identical features share one (13,896 distinct ids);
* ``water-ids``: ``idField: row_id`` (1 to 13,920), the rows shuffled, so the ids come in no
  order (Koop ignores ``orderByFields``);
* ``water-shared``: ``idField: zip_id``, the ZIP code: 145 ids, 96 rows each, in id order.

GDAL's ESRIJSON driver (``ogrinfo``, Debian ``gdal-bin``) is the count oracle: :func:`ogr_count`.
"""

from __future__ import annotations

import json
import random
import re
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pyarrow.parquet as pq
import pytest

from btvstat_open.encode import geojson_batch

KOOP = Path(__file__).parent / "koop"
WATER = Path(__file__).parents[1] / "catalog" / "demo" / "data" / "la-water-power-usage.parquet"
LAYERS = ("water", "water-ids", "water-shared")
ROWS = 13_920


def demo_features() -> list[dict[str, Any]]:
    """The water and power rows as the portal's ``.geojson`` writes them, each with its ZIP code."""
    table = pq.read_table(WATER)
    types = [(f.metadata or {})[b"socrata_type"].decode() for f in table.schema]
    features: list[dict[str, Any]] = []
    for batch in table.to_batches():
        features += json.loads(b"[" + geojson_batch(batch, types) + b"]")
    for feature, place in zip(features, table.column("zip_code").to_pylist(), strict=True):
        feature["properties"]["zip"] = place["human_address"]
    return features


def write_layers(folder: Path) -> Path:
    """The three GeoJSON files Koop serves (see the module doc), written to ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    plain = demo_features()
    _write(folder / "water.geojson", [_without(f, "zip") for f in plain], None)
    with_ids = [{**f, "properties": {**f["properties"], "row_id": n}} for n, f in enumerate(plain, 1)]
    random.Random(20).shuffle(with_ids)
    _write(folder / "water-ids.geojson", with_ids, "row_id")
    shared = [{**f, "properties": {**f["properties"], "zip_id": int(f["properties"]["zip"])}} for f in plain]
    _write(folder / "water-shared.geojson", shared, "zip_id")
    return folder


def _without(feature: dict[str, Any], key: str) -> dict[str, Any]:
    return {**feature, "properties": {k: v for k, v in feature["properties"].items() if k != key}}


def _write(path: Path, features: list[dict[str, Any]], id_field: str | None) -> None:
    collection: dict[str, Any] = {"type": "FeatureCollection", "features": features}
    if id_field:
        collection["metadata"] = {"idField": id_field, "name": path.stem}
    path.write_text(json.dumps(collection))


@contextmanager
def koop_server(data: Path) -> Iterator[str]:
    """Koop serving ``data/*.geojson``; yields its base URL (``…/file-geojson/rest/services``)."""
    if not (KOOP / "node_modules" / "@koopjs" / "koop-core").is_dir():
        pytest.fail("Koop is not installed: run `npm ci --prefix tests/koop` (make test does).")
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed: Koop needs it (Debian: apt-get install nodejs).")
    env = {"SUPPRESS_NO_CONFIG_WARNING": "1", "PATH": "/usr/bin:/bin"}
    proc = subprocess.Popen(
        [node, str(KOOP / "server.js"), str(data)],
        cwd=KOOP,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        found = re.match(r"listening (\d+)", line)
        if not found:
            proc.kill()
            pytest.fail(f"Koop did not start: {line}{proc.communicate(timeout=10)[1][-2000:]}")
        yield f"http://127.0.0.1:{found[1]}/file-geojson/rest/services"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def ogr_count(layer_url: str, where: str = "1=1") -> int:
    """How many features GDAL's ESRIJSON driver reads from a layer's query (it pages by itself)."""
    ogrinfo = shutil.which("ogrinfo")
    if ogrinfo is None:
        pytest.fail("ogrinfo is not installed: the count oracle needs GDAL (Debian: gdal-bin).")
    url = f"{layer_url}/query?where={quote(where)}&outFields=*&f=json"
    out = subprocess.run(
        [ogrinfo, "-ro", "-so", "-al", f"ESRIJSON:{url}"], capture_output=True, text=True, timeout=600
    )
    found = re.search(r"Feature Count: (\d+)", out.stdout)
    if not found:
        pytest.fail(f"ogrinfo read no layer from {url}: {out.stderr[-2000:]}")
    return int(found[1])


@pytest.fixture(scope="session")
def koop_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Koop's services URL; service ``NAME/FeatureServer`` for each name of :data:`LAYERS`."""
    with koop_server(write_layers(tmp_path_factory.mktemp("koop-data"))) as url:
        yield url
