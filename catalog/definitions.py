"""Definition changes: how a KPI is computed (source, filter, measure, period, target rule), recorded
with the day each definition was first seen, so charts can draw the change and pages show both.

The record is the store dataset ``kpi-definitions`` (one row per KPI and definition), written when
a KPI's values are published (:func:`catalog.ledger.record`). A chart draws each change as a
labelled rule ("Definition changed"): :func:`with_definition_notes` adds it to the KPI's notes.

Example:
    >>> sorted(definition_of(kpi))
    ['measure', 'period', 'source', 'target']
"""

from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pyarrow as pa

from btvstat_open.store import Store
from btvstat_open.types import Column, arrow_type
from catalog.models import Kpi, Note

__all__ = [
    "DEFINITIONS_DATASET",
    "DefinitionChange",
    "append_records",
    "definition_changes",
    "definition_hash",
    "definition_of",
    "record_definition",
    "with_definition_notes",
]

DEFINITIONS_DATASET = "kpi-definitions"
LABEL = "Definition changed"
_COLUMNS = (
    Column("entry", "Entry", "text"),
    Column("kpi", "KPI", "text"),
    Column("definition", "Definition", "text"),
    Column("hash", "Hash", "text"),
    Column("first_seen", "First seen", "fixed_timestamp"),
)


def definition_of(kpi: Kpi) -> dict[str, Any]:
    """The parts of a KPI that say how it is computed, as JSON-ready data."""
    parts = {name: getattr(kpi, name) for name in ("source", "measure", "period", "target")}
    return {
        k: (v.model_dump(mode="json", exclude_none=True) if hasattr(v, "model_dump") else v)
        for k, v in parts.items()
    }


def definition_hash(kpi: Kpi) -> str:
    """A short hash of :func:`definition_of`."""
    text = json.dumps(definition_of(kpi), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class DefinitionChange:
    """A KPI's definition changed on ``day``: what it was before and what it became."""

    day: date
    before: dict[str, Any]
    after: dict[str, Any]

    def differences(self) -> list[tuple[str, str, str]]:
        """``(part, before, after)`` for each part (source, measure, period, target) that changed."""
        return [
            (part, _text(self.before.get(part)), _text(self.after.get(part)))
            for part in ("source", "measure", "period", "target")
            if self.before.get(part) != self.after.get(part)
        ]


def _text(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str) if value is not None else "none"


def _rows(store: Store, kpi_id: str) -> list[tuple[str, str, datetime]]:
    if not store.exists(DEFINITIONS_DATASET):
        return []
    table = store.info(DEFINITIONS_DATASET).table
    rows = store.cursor().execute(
        f"SELECT definition, hash, first_seen FROM {table} WHERE kpi = ? ORDER BY first_seen", [kpi_id]
    )
    return [(str(r[0]), str(r[1]), r[2]) for r in rows.fetchall()]


def record_definition(store: Store, kpi: Kpi, now: datetime | None = None) -> bool:
    """Record the KPI's definition if it is not the latest one recorded; True when it was new."""
    known = _rows(store, kpi.id)
    digest = definition_hash(kpi)
    if known and known[-1][1] == digest:
        return False
    moment = now or datetime.now(UTC)
    row = {
        "entry": f"{kpi.id}|{digest}|{moment.isoformat()}",
        "kpi": kpi.id,
        "definition": json.dumps(definition_of(kpi), sort_keys=True, default=str),
        "hash": digest,
        "first_seen": moment,
    }
    append_records(
        store,
        DEFINITIONS_DATASET,
        ("KPI definitions and when each was first seen", "How each KPI is computed, by the day first seen."),
        _COLUMNS,
        [row],
    )
    return True


def append_records(
    store: Store,
    dataset_id: str,
    about: tuple[str, str],
    columns: tuple[Column, ...],
    rows: list[dict[str, Any]],
) -> None:
    """Append rows to a record dataset of the store (keyed by ``entry``), creating it first if needed.

    ``about`` is the dataset's name and description (the ledger and the definitions are read
    through the portal like any dataset).
    """
    schema = pa.schema([pa.field(c.field_name, arrow_type(c.data_type)) for c in columns])
    if not store.exists(dataset_id):
        store.create(dataset_id, about[0], columns, description=about[1], row_identifier="entry")
    store.upsert(dataset_id, pa.Table.from_pylist(rows, schema=schema))


def definition_changes(store: Store, kpi_id: str) -> list[DefinitionChange]:
    """Every change of a KPI's recorded definition, oldest first."""
    rows = _rows(store, kpi_id)
    return [
        DefinitionChange(after[2].date(), json.loads(before[0]), json.loads(after[0]))
        for before, after in itertools.pairwise(rows)
    ]


def with_definition_notes(kpi: Kpi, changes: list[DefinitionChange]) -> Kpi:
    """The KPI with a "Definition changed" note on each day its definition changed (for charts)."""
    if not changes:
        return kpi
    notes = [*kpi.notes, *(Note(date=c.day, text=LABEL) for c in changes)]
    return kpi.model_copy(update={"notes": sorted(notes, key=lambda n: n.date)})
