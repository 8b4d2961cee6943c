"""Row 4: publishing rows with an upsert, ours against sodapy's ``upsert`` in the same batch size.

Each side upserts the same rows into its own target dataset, which already holds half of them (with
other values): half the rows update, half are new, as in a real daily publish. Targets are prepared in
a fresh store before the portal process starts, one per side and repetition, so every run starts equal.
Both sides start from the same Arrow table; sodapy's time includes turning it into JSON-ready records,
as any sodapy user publishing a table or DataFrame must.

Example:
    >>> push_row(rows=5_000, batch=1_000, reps=2, workdir=Path("/tmp/b"))  # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from bench.generate import COLUMNS, ROW_ID, batches, fresh_store
from bench.harness import Result, alternate, median, timed
from bench.rows_pull import sodapy_client
from bench.serve import WRITE_TOKEN, running_server

__all__ = ["push_row", "to_json_records"]


def to_json_records(table: pa.Table) -> list[dict[str, Any]]:
    """Rows as sodapy sends them: JSON values, timestamps as ISO text, nulls left out.

    Example:
        >>> to_json_records(pa.table({"a": [1.5, None]}))
        [{'a': 1.5}, {}]
    """
    records: list[dict[str, Any]] = table.to_pylist()
    for record in records:
        for key in [k for k, v in record.items() if v is None]:
            del record[key]
        for key, value in record.items():
            if isinstance(value, dt.datetime):
                record[key] = value.isoformat(timespec="milliseconds")
    return records


def _prepare_targets(root: Path, table: pa.Table, names: list[str]) -> None:
    """Create each target dataset holding the first half of the rows, with changed numbers."""
    from btvstat_open.store import Store

    half = table.slice(0, table.num_rows // 2)
    index = half.schema.get_field_index("days_to_close")
    half = half.set_column(index, "days_to_close", pc.add(pc.fill_null(half["days_to_close"], 0.0), 1.0))
    with Store(root) as store:
        for name in names:
            store.load(name, half, COLUMNS, name=name, row_identifier=ROW_ID)


def push_row(*, rows: int, batch: int, reps: int, workdir: Path) -> Result:
    """Rows/s of an upsert of ``rows`` rows in batches of ``batch``: ours vs sodapy, alternating."""
    from connectors import connect

    table = pa.Table.from_batches(list(batches(rows)))
    targets = {side: [f"push-{side}-{rep}" for rep in range(reps)] for side in ("ours", "sodapy")}
    root = fresh_store(workdir / "push-store")
    _prepare_targets(root, table, targets["ours"] + targets["sodapy"])
    turn = {"ours": 0, "sodapy": 0}

    with running_server("portal", store=root) as url:

        def ours() -> float:
            target = targets["ours"][turn["ours"]]
            turn["ours"] += 1
            portal = connect(url, username="bench", password=WRITE_TOKEN)
            outcome: list[Any] = []
            seconds = timed(
                lambda: outcome.append(portal.push(table, target, mode="upsert", batch_size=batch))
            )
            _check(outcome[0].created, outcome[0].updated, rows)
            return rows / seconds

        def sodapy() -> float:
            target = targets["sodapy"][turn["sodapy"]]
            turn["sodapy"] += 1
            client: Any = sodapy_client(url, username="bench", password=WRITE_TOKEN)
            counts = {"created": 0, "updated": 0}

            def work() -> None:
                # Both sides start from the same Arrow table: sodapy needs JSON-ready records.
                records = to_json_records(table)
                for start in range(0, rows, batch):
                    body = client.upsert(target, records[start : start + batch])
                    counts["created"] += int(body.get("Rows Created", 0))
                    counts["updated"] += int(body.get("Rows Updated", 0))

            seconds = timed(work)
            client.close()
            _check(counts["created"], counts["updated"], rows)
            return rows / seconds

        samples = alternate({"ours": ours, "sodapy": sodapy}, reps)
    return Result(
        group="push",
        work=f"push {rows:,} rows (upsert, batches of {batch:,})",
        unit="rows/s",
        ours=median(samples["ours"]),
        peer=median(samples["sodapy"]),
        peer_name="sodapy",
        goal=None,
        samples=samples,
        notes="half the rows update, half are new; both start from the same Arrow table",
    )


def _check(created: int, updated: int, rows: int) -> None:
    """Every row must have landed: half updated, half created."""
    if created + updated != rows or updated != rows // 2:
        raise RuntimeError(f"upsert reported {created:,} created and {updated:,} updated of {rows:,} rows")
