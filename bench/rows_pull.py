"""Rows 1-3: pulling from the local portal, the memory a pull needs, and a sync with nothing new.

Row 1 pulls the whole dataset to Parquet three ways, alternating, against one portal process:
ours (``connect(url).pull_to``), sodapy (``get_all`` ordered by ``:id`` in pages of 50,000, the
portal's largest page, then a pandas DataFrame and ``to_parquet``), and a raw download of the CSV export
``/api/views/{id}/rows.csv`` (the server's own limit: the bytes as fast as it sends them, unparsed).

Example:
    >>> with running_server("portal", store=dataset_store(20_000)) as url:  # doctest: +SKIP
    ...     results = pull_rows(url, rows=20_000, reps=2, workdir=Path("/tmp/b"))
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import pandas as pd
import requests
from requests.adapters import HTTPAdapter

from bench.generate import DATASET_ID, dataset_store
from bench.harness import Goal, Result, alternate, median, size_label, timed
from bench.pull_child import measure_pull_memory
from bench.serve import request_count, running_server

__all__ = ["memory_row", "pull_rows", "sodapy_client", "sync_row"]

SODAPY_PAGE = 50_000


def sodapy_client(url: str, **auth: str) -> object:
    """A sodapy client for the portal at ``url`` (plain HTTP, as its docs describe)."""
    from sodapy import Socrata

    return Socrata(
        urlsplit(url).netloc,
        None,
        timeout=600,
        session_adapter={"prefix": "http://", "adapter": HTTPAdapter()},
        **auth,
    )


def pull_rows(url: str, *, rows: int, reps: int, workdir: Path) -> list[Result]:
    """Row 1: rows/s of ours, sodapy and the raw CSV export, alternating; two results (vs each peer)."""
    from connectors import connect

    out = workdir / "pull"
    out.mkdir(parents=True, exist_ok=True)

    def ours() -> float:
        target = out / "ours.parquet"
        got = 0

        def work() -> None:
            nonlocal got
            got = connect(url).pull_to(DATASET_ID, target).rows

        seconds = timed(work)
        _check_rows("ours", got, rows)
        return rows / seconds

    def sodapy() -> float:
        client = sodapy_client(url)
        got = 0

        def work() -> None:
            nonlocal got
            records = list(client.get_all(DATASET_ID, order=":id", limit=SODAPY_PAGE))  # type: ignore[attr-defined]
            frame = pd.DataFrame.from_records(records)
            frame.to_parquet(out / "sodapy.parquet")
            got = len(frame)

        seconds = timed(work)
        client.close()  # type: ignore[attr-defined]
        _check_rows("sodapy", got, rows)
        return rows / seconds

    def raw() -> float:
        target = out / "raw.csv"

        def work() -> None:
            with (
                requests.get(
                    f"{url}/api/views/{DATASET_ID}/rows.csv",
                    params={"accessType": "DOWNLOAD"},
                    stream=True,
                    timeout=600,
                ) as resp,
                target.open("wb") as sink,
            ):
                resp.raise_for_status()
                for chunk in resp.iter_content(chunk_size=1 << 20):
                    sink.write(chunk)

        return rows / timed(work)

    samples = alternate({"ours": ours, "sodapy": sodapy, "raw": raw}, reps)
    work = f"pull {size_label(rows)} rows to Parquet"
    return [
        Result(
            group="pull",
            work=f"{work} vs sodapy get_all",
            unit="rows/s",
            ours=median(samples["ours"]),
            peer=median(samples["sodapy"]),
            peer_name="sodapy",
            goal=Goal("ratio", 10),
            samples={"ours": samples["ours"], "sodapy": samples["sodapy"]},
            notes=f"sodapy get_all($order=:id, pages of {SODAPY_PAGE:,}) + DataFrame + to_parquet",
        ),
        Result(
            group="pull",
            work=f"{work} vs raw CSV export",
            unit="rows/s",
            ours=median(samples["ours"]),
            peer=median(samples["raw"]),
            peer_name="raw CSV",
            goal=Goal("ratio", 0.5),
            samples={"ours": samples["ours"], "raw": samples["raw"]},
            notes="raw: bytes of /api/views/{id}/rows.csv written to disk unparsed (the server's limit)",
        ),
    ]


def memory_row(*, rows: int, workdir: Path) -> Result:
    """Row 2: peak RSS of a whole fresh process pulling ``rows`` rows to Parquet."""
    with running_server("portal", store=dataset_store(rows)) as url:
        report = measure_pull_memory(url, DATASET_ID, workdir / "memory.parquet")
    _check_rows("ours", int(report["rows"]), rows)
    return Result(
        group="memory",
        work=f"pull {size_label(rows)} rows: peak memory (RSS, whole process)",
        unit="MB",
        ours=float(report["peak_mb"]),
        higher_is_better=False,
        goal=Goal("max", 300, "MB"),
        samples={"ours": [float(report["peak_mb"])], "base": [float(report["base_mb"])]},
        notes=(
            f"fresh process; {report['base_mb']:.0f} MB resident after imports, "
            f"pull took {report['seconds']:.1f} s"
        ),
    )


def sync_row(url: str) -> Result:
    """Row 3: requests the server receives for a sync of an unchanged dataset (after a first full one)."""
    from btvstat_open.store import Store
    from btvstat_open.sync import sync_dataset
    from connectors import connect

    with tempfile.TemporaryDirectory(prefix="bench-sync-") as tmp, Store(tmp) as local:
        portal = connect(url)
        sync_dataset(portal, DATASET_ID, local, dataset_id="synced")
        counts = []
        for _ in range(2):
            before = request_count(url)
            sync_dataset(portal, DATASET_ID, local, dataset_id="synced")
            counts.append(float(request_count(url) - before))
    return Result(
        group="sync",
        work="sync with nothing new: requests made (counted at the server)",
        unit="requests",
        ours=max(counts),
        higher_is_better=False,
        goal=Goal("max", 2),
        samples={"ours": counts},
    )


def _check_rows(who: str, got: int, want: int) -> None:
    """A benchmark of a wrong answer means nothing: every pull must bring every row."""
    if got != want:
        raise RuntimeError(f"{who} pulled {got:,} rows, expected {want:,}")
