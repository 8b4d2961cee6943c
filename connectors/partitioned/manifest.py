"""``_manifest.json``: what a partitioned output holds, written after the data it describes.

The manifest names the source (portal, dataset, its validators), the partitioning, the schema, and
for every partition its row count, its files and whether it is done. A partition is marked done only
after all its files are written; it is marked not done before any of its files is rewritten. So a
run killed at any moment leaves a manifest that never claims more than the folder holds, and the
next run fetches exactly the partitions it does not mark done (or that changed at the source).

``cursor`` is the latest ``:updated_at`` of the source when the last complete run planned its work;
the next run rewrites the partitions that rows updated since then fall into. ``cursor_rows`` counts
the rows updated at exactly that moment (rows written together share it), so that a next run can
tell "nothing new" from "more rows at the same moment". ``run_cursor`` (and ``run_cursor_rows``) is
the same for a run still in progress: a resumed run keeps the earliest, so no change is missed.

Example:
    >>> m = Manifest(dataset="ab-12", partition_by="created_date:year", key="created_date_year")
    >>> m.partitions["2020"] = PartitionState(rows=3, files=["created_date_year=2020/part-00000.parquet"])
    >>> Manifest.from_json(m.to_json()).partitions["2020"].rows
    3
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from btvstat_open.errors import UsageError

__all__ = ["MANIFEST_NAME", "MANIFEST_VERSION", "Manifest", "ManifestError", "PartitionState"]

MANIFEST_NAME = "_manifest.json"
MANIFEST_VERSION = 1


class ManifestError(UsageError):
    """The output folder's manifest cannot be used for this pull."""

    default_code = "partitioned.manifest"


@dataclass
class PartitionState:
    """One partition: its rows, its files (relative to the root) and whether they are complete."""

    rows: int = 0
    files: list[str] = field(default_factory=list)
    done: bool = False


@dataclass
class Manifest:
    """The versioned JSON state of one partitioned output folder."""

    dataset: str
    partition_by: str
    key: str
    version: int = MANIFEST_VERSION
    source: dict[str, Any] = field(default_factory=dict)
    schema: list[dict[str, str]] = field(default_factory=list)
    cursor: str | None = None
    cursor_rows: int = 0
    run_cursor: str | None = None
    run_cursor_rows: int = 0
    complete: bool = False
    written_at: str = ""
    partitions: dict[str, PartitionState] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        """Rows in every done partition."""
        return sum(p.rows for p in self.partitions.values() if p.done)

    def to_json(self) -> bytes:
        """The manifest as indented JSON (partitions sorted, so two runs compare line by line)."""
        data = asdict(self)
        data["written_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        data["partitions"] = {k: asdict(v) for k, v in sorted(self.partitions.items())}
        return json.dumps(data, indent=2, default=str).encode() + b"\n"

    @classmethod
    def from_json(cls, raw: bytes, where: str = MANIFEST_NAME) -> Manifest:
        """Read a manifest; a damaged or newer one is a :class:`ManifestError` saying what to do."""
        try:
            data = json.loads(raw)
            version = int(data.get("version", 0))
            if version > MANIFEST_VERSION:
                raise ManifestError(
                    f"{where} was written by a newer btvstat-open (manifest version {version}); "
                    "upgrade btvstat-open or pull into another folder."
                )
            parts = {str(k): PartitionState(**v) for k, v in (data.pop("partitions", None) or {}).items()}
            known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
            return cls(**known, partitions=parts)
        except (ValueError, TypeError, AttributeError) as exc:
            raise ManifestError(
                f"{where} is damaged ({exc}); delete it (and the folder's files) to pull again from scratch."
            ) from exc
