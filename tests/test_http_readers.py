"""Readers that probe first read the portal directly: Range, 206, 416, If-Range, ETag and 304.

Real readers, none written here: DuckDB's httpfs (``read_parquet``, ``read_csv``, ``read_json``
over http://, in a side virtual environment, since the ``duckdb-ext-httpfs`` wheel on PyPI
pins its own duckdb), GDAL's ``/vsicurl/`` (``ogrinfo`` from Debian's gdal-bin) and fsspec's
HTTPFileSystem seeking through the Parquet download with pyarrow, and polars.
"""

from __future__ import annotations

import json
import re
import subprocess
import venv
from pathlib import Path

import fsspec
import polars as pl
import pyarrow.parquet as pq
import pytest
import requests
from widget_site import Site

DATASET = "kc-311-potholes"
DOWNLOADS = [f"/datasets/{DATASET}.parquet", f"/datasets/{DATASET}.csv", f"/api/views/{DATASET}/rows.csv"]
SIDE_VENV = Path(__file__).resolve().parent.parent / ".btvstat" / "duckdb-httpfs"
HTTPFS = ["duckdb==1.4.4", "duckdb-ext-httpfs==1.4.4.20260205"]


@pytest.fixture(scope="session")
def httpfs_python() -> Path:
    """A Python with duckdb and its httpfs extension from PyPI (made once, kept under .btvstat/)."""
    python = SIDE_VENV / "bin" / "python"
    marker = SIDE_VENV / ".installed"
    if marker.exists() and marker.read_text() == " ".join(HTTPFS):
        return python
    venv.EnvBuilder(with_pip=True, clear=True).create(SIDE_VENV)
    done = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", *HTTPFS], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, f"cannot install {HTTPFS} into {SIDE_VENV}: {done.stderr[-2000:]}"
    marker.write_text(" ".join(HTTPFS))
    return python


DUCKDB_SCRIPT = """
import json, pathlib, re, sys
import duckdb
base = sys.argv[1]
con = duckdb.connect()
con.execute("SET autoinstall_known_extensions = false")
extensions = pathlib.Path(duckdb.__file__).parent.parent / "duckdb_ext" / "extensions"
con.execute("SET extension_directory = ?", [str(extensions)])
con.execute("LOAD httpfs")
one = lambda sql: con.sql(sql).fetchall()[0][0]
out = {
    "parquet": one(f"SELECT count(*) FROM read_parquet('{base}/datasets/kc-311-potholes.parquet')"),
    "csv": one(f"SELECT count(*) FROM read_csv('{base}/datasets/kc-311-potholes.csv')"),
    "rows_csv": one(f"SELECT count(*) FROM read_csv('{base}/api/views/kc-311-potholes/rows.csv')"),
    "resource_csv": one(f"SELECT count(*) FROM read_csv('{base}/resource/kc-311-potholes.csv?$limit=2000')"),
    "resource_json": one(f"SELECT count(*) FROM read_json('{base}/resource/kc-311-potholes.json')"),
    "max_case": one(f"SELECT max(case_id) FROM read_parquet('{base}/datasets/kc-311-potholes.parquet')"),
}
plan = con.sql(
    f"EXPLAIN ANALYZE SELECT max(case_id) FROM read_parquet('{base}/datasets/kc-311-potholes.parquet')"
).fetchall()[0][1]
size, unit = re.search(r"in: ([0-9.]+) (bytes|KiB|MiB)", plan).groups()
out["bytes_in"] = float(size) * {"bytes": 1, "KiB": 1024, "MiB": 1024 * 1024}[unit]
print(json.dumps(out, default=str))
"""


def test_duckdb_httpfs_reads_the_portal_and_only_the_parts_it_needs(site: Site, httpfs_python: Path) -> None:
    done = subprocess.run(
        [str(httpfs_python), "-c", DUCKDB_SCRIPT, site.base], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    got = json.loads(done.stdout)
    rows = site.store.info(DATASET).row_count
    assert got["parquet"] == got["csv"] == got["rows_csv"] == rows
    assert got["resource_csv"] == 2000 and got["resource_json"] == 1000  # SoQL's limits, streamed
    expected = site.store.cursor().execute(f'SELECT max(case_id) FROM "ds_{DATASET}"').fetchone()
    assert expected is not None and str(got["max_case"]) == str(expected[0])
    size = int(requests.head(f"{site.base}/datasets/{DATASET}.parquet", timeout=60).headers["content-length"])
    assert got["bytes_in"] < size / 2, (got["bytes_in"], size)  # one column's pages, not the file


def test_gdal_vsicurl_opens_the_downloads(site: Site) -> None:
    for path in DOWNLOADS[1:]:
        done = subprocess.run(
            ["ogrinfo", "-ro", "-so", "-al", f"/vsicurl/{site.base}{path}"],
            capture_output=True,
            text=True,
            timeout=120,
            env={
                "GDAL_HTTP_TIMEOUT": "60",
                "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".csv",
                "PATH": "/usr/bin:/bin",
            },
        )
        assert done.returncode == 0, done.stderr
        count = re.search(r"Feature Count: (\d+)", done.stdout)
        assert count is not None and int(count.group(1)) == site.store.info(DATASET).row_count, done.stdout


def test_polars_scans_the_parquet_download_and_reads_the_export(site: Site) -> None:
    scanned = pl.scan_parquet(f"{site.base}/datasets/{DATASET}.parquet").select(pl.col("case_id").max())
    expected = site.store.cursor().execute(f'SELECT max(case_id) FROM "ds_{DATASET}"').fetchone()
    assert expected is not None and scanned.collect().item() == expected[0]
    export = pl.read_csv(f"{site.base}/api/views/{DATASET}/rows.csv")
    assert export.height == site.store.info(DATASET).row_count


def test_fsspec_seeks_through_the_parquet_download(site: Site) -> None:
    url = f"{site.base}/datasets/{DATASET}.parquet"
    fs = fsspec.filesystem("http")
    with fs.open(url, block_size=4096, cache_type="readahead") as handle:
        assert handle.size == int(requests.head(url, timeout=60).headers["content-length"])
        parquet = pq.ParquetFile(handle)
        assert parquet.metadata.num_rows == site.store.info(DATASET).row_count
        column = parquet.read(columns=["case_id"])
    assert column.num_rows == parquet.metadata.num_rows


@pytest.mark.parametrize("path", DOWNLOADS)
def test_ranges_are_answered_with_206_and_416(site: Site, path: str) -> None:
    url = site.base + path
    whole = requests.get(url, timeout=60)
    size = len(whole.content)
    assert whole.status_code == 200 and whole.headers["accept-ranges"] == "bytes"
    assert int(whole.headers["content-length"]) == size
    head = requests.head(url, timeout=60)
    assert head.headers["content-length"] == str(size) and head.headers["etag"] == whole.headers["etag"]
    part = requests.get(url, headers={"Range": "bytes=10-109"}, timeout=60)
    assert part.status_code == 206 and part.content == whole.content[10:110]
    assert part.headers["content-range"] == f"bytes 10-109/{size}"
    tail = requests.get(url, headers={"Range": "bytes=-64"}, timeout=60)
    assert tail.status_code == 206 and tail.content == whole.content[-64:]
    past = requests.get(url, headers={"Range": f"bytes={size}-"}, timeout=60)
    assert past.status_code == 416 and past.headers["content-range"] == f"bytes */{size}"
    etag = whole.headers["etag"]
    same = requests.get(url, headers={"Range": "bytes=0-9", "If-Range": etag}, timeout=60)
    assert same.status_code == 206 and same.content == whole.content[:10]
    stale = requests.get(url, headers={"Range": "bytes=0-9", "If-Range": '"stale"'}, timeout=60)
    assert stale.status_code == 200 and stale.content == whole.content


@pytest.mark.parametrize("path", [*DOWNLOADS, "/data.json", "/datapackage.json"])
def test_etag_and_last_modified_give_304(site: Site, path: str) -> None:
    url = site.base + path
    first = requests.get(url, timeout=60)
    assert first.status_code == 200
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    by_tag = requests.get(url, headers={"If-None-Match": etag}, timeout=60)
    assert by_tag.status_code == 304 and by_tag.content == b"" and by_tag.headers["etag"] == etag
    by_date = requests.get(url, headers={"If-Modified-Since": modified}, timeout=60)
    assert by_date.status_code == 304
    older = requests.get(url, headers={"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"}, timeout=60)
    assert older.status_code == 200 and older.content == first.content
    other = requests.get(url, headers={"If-None-Match": '"other"'}, timeout=60)
    assert other.status_code == 200


def test_a_change_makes_a_new_download(site: Site) -> None:
    url = f"{site.base}/datasets/la-library-monthly.csv"
    before = requests.get(url, timeout=60)
    info = site.store.info("la-library-monthly")
    own = ", ".join(f'"{c.field_name}"' for c in info.columns)
    table = site.store.cursor().sql(f"SELECT {own} FROM {info.table} LIMIT 5").to_arrow_table()
    site.store.replace("la-library-monthly", table)
    after = requests.get(url, headers={"If-None-Match": before.headers["etag"]}, timeout=60)
    assert after.status_code == 200 and after.headers["etag"] != before.headers["etag"]
    assert len(after.text.strip().splitlines()) == 6
    assert len(after.content) < len(before.content)


def test_a_dataset_made_anew_is_never_answered_from_the_old_file(site: Site) -> None:
    dataset = next(i.id for i in site.store.datasets() if i.id not in (DATASET, "la-library-monthly"))
    url = f"{site.base}/datasets/{dataset}.csv"
    info = site.store.info(dataset)
    own = ", ".join(f'"{c.field_name}"' for c in info.columns)
    rows = site.store.cursor().sql(f"SELECT {own} FROM {info.table} ORDER BY 1").to_arrow_table()
    site.store.replace(dataset, rows)  # version 2, as a dataset made anew and filled will have
    before = requests.get(url, timeout=60)
    site.store.drop(dataset)
    site.store.create(dataset, info.name, info.columns)
    site.store.replace(dataset, rows.slice(0, 3))
    assert site.store.info(dataset).version == info.version + 1  # the same version as before the drop
    after = requests.get(url, timeout=60)
    assert after.status_code == 200 and len(after.text.strip().splitlines()) == 4
    assert len(before.text.strip().splitlines()) == rows.num_rows + 1
