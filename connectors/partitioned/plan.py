"""Plan a partitioned pull with SoQL: one grouped count gives every partition and its size.

``SELECT date_trunc_y(created_date) AS partition_value, count(*) AS row_count GROUP BY
date_trunc_y(created_date)`` answers in one request what the pull will write; a partition larger
than ``rows_per_file`` is cut into several ranges (spans of time), each its own file, so that a
few big years still keep every connection busy. The same query restricted to rows updated since
the last run says which partitions an incremental sync must rewrite.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import pyarrow as pa

from connectors.base import Connector
from connectors.partitioned.spec import PartitionSpec

__all__ = ["Partition", "Range", "partition_counts", "plan_ranges"]


@dataclass(frozen=True)
class Range:
    """One file of one partition: the ``$where`` window that selects its rows."""

    partition: str
    index: int
    where: str
    folder: str

    @property
    def file(self) -> str:
        """The file's path relative to the output root."""
        return f"{self.folder}/part-{self.index:05d}.parquet"


@dataclass(frozen=True)
class Partition:
    """One partition value and how many rows the source holds for it."""

    value: str
    rows: int


def partition_counts(
    connector: Connector, dataset_id: str, spec: PartitionSpec, *, since: str | None = None
) -> dict[str, int]:
    """Rows per partition value (those updated at or after ``since`` only, when given).

    Example:
        >>> partition_counts(portal, "kc-311-potholes", PartitionSpec.parse("creation_date:year"))
        {'2020': 4493}
    """
    batches = connector.iter_batches(
        dataset_id,
        select=f"{spec.group_expr} AS partition_value, count(*) AS row_count",
        group=spec.group_expr,
        since=since,
    )
    return _counts(spec, batches)


def _counts(spec: PartitionSpec, batches: Iterable[pa.RecordBatch]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for batch in batches:
        values = batch.column("partition_value").to_pylist()
        for value, count in zip(values, batch.column("row_count").to_pylist(), strict=True):
            key = spec.value_of(value)
            counts[key] = counts.get(key, 0) + int(float(count or 0))
    return counts


def plan_ranges(
    spec: PartitionSpec, partitions: Iterable[Partition], *, rows_per_file: int, field_type: str
) -> list[Range]:
    """The ranges (files) to fetch for these partitions, the largest partitions first.

    Example:
        >>> spec = PartitionSpec.parse("d:year")
        >>> [r.file for r in plan_ranges(spec, [Partition("2020", 5)], rows_per_file=3, field_type="")]
        ['d_year=2020/part-00000.parquet', 'd_year=2020/part-00001.parquet']
    """
    ranges: list[Range] = []
    # Largest first: a big partition started last would leave the other connections idle at the end.
    for part in sorted(partitions, key=lambda p: -p.rows):
        parts = max(1, math.ceil(part.rows / max(1, rows_per_file)))
        folder = spec.folder(part.value)
        for index, where in enumerate(spec.windows(part.value, parts, field_type)):
            ranges.append(Range(part.value, index, where, folder))
    return ranges
