"""Partitioned pulls: a dataset as hive-partitioned Parquet in a folder or object store, resumable.

``pull_partitioned(connector, dataset_id, url, partition_by="created_date:year", parallel=4)``
writes ``created_date_year=2020/part-00000.parquet`` ... and ``_manifest.json`` under ``url``
(a path, ``file://``, ``s3://``, any fsspec URL). Run it again to resume a killed pull or to sync:
only partitions not done, or touched by new, changed or deleted rows, are fetched. See docs/scale.md.

Example:
    >>> from connectors import connect
    >>> from connectors.partitioned import pull_partitioned
    >>> portal = connect(portal_url, concurrency=1)  # portal_url: the demo served on 127.0.0.1
    >>> out = str(scratch / "potholes")
    >>> result = pull_partitioned(portal, "kc-311-potholes", out, partition_by="creation_date:year")
    >>> result.rows, result.fetched
    (4493, ('2020',))
"""

from __future__ import annotations

from connectors.partitioned.manifest import MANIFEST_NAME, Manifest, ManifestError, PartitionState
from connectors.partitioned.pull import PartitionedResult, pooled_session, pull_partitioned
from connectors.partitioned.spec import NULL_PARTITION, PartitionSpec
from connectors.partitioned.writer import OutputError

__all__ = [
    "MANIFEST_NAME",
    "NULL_PARTITION",
    "Manifest",
    "ManifestError",
    "OutputError",
    "PartitionSpec",
    "PartitionState",
    "PartitionedResult",
    "pooled_session",
    "pull_partitioned",
]
