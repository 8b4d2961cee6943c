"""Data checks: rules on a dataset (rows, nulls, keys, ranges, change in rows or in a KPI's value)
run after every sync and load.

A failure is a flag on the dataset's KPIs, like stale data. With ``on_fail: hold`` the dataset
stays published as it was before the failing write (the store's history keeps that version):
measures read it as known at that moment until ``btvstat-open checks accept DATASET`` publishes
the new one (or a later sync passes). The state lives in the store's folder,
``data-checks.json``, written whole (temporary file and rename).

Example:
    >>> from catalog.models.data_checks import DataCheck
    >>> evaluate(store, "kc-311-potholes", DataCheck(min_rows=10_000))
    ['4,493 rows, fewer than the 10,000 expected']
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Collection
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from btvstat_open.atomic import write_atomically
from btvstat_open.errors import UsageError
from btvstat_open.store import MetadataChange, Store, quote_ident
from btvstat_open.store.known import last_recorded
from catalog.kpi_change import kpi_changes
from catalog.models import Catalog
from catalog.models.data_checks import DataCheck

__all__ = [
    "CheckState",
    "accept",
    "evaluate",
    "held_at",
    "load_checks",
    "recorded_rules",
    "run_checks",
    "state_record",
]

CHECKS_FILE = "data-checks.json"
_CACHE: dict[Path, tuple[tuple[int, int, int], dict[str, CheckState]]] = {}
_LOCK = threading.Lock()
#: how long a look at the checks file holds (as long as the store's versions: widgets.cache)
STAMP_SECONDS = 0.25
_STAMPS: dict[Path, tuple[float, tuple[int, int, int] | None]] = {}


@dataclass
class CheckState:
    """What the last run of a dataset's checks found, and the version held back, if any."""

    dataset: str
    checked_at: str
    failures: list[str] = field(default_factory=list)
    on_fail: str = "flag"
    #: ISO moment the published version is read as known at (the last good one), while held
    held_at: str | None = None
    #: the rule checked (as in ``checks:``), so a later ``load`` without the catalog checks it too
    rule: dict[str, Any] | None = None


def load_checks(store: Store) -> dict[str, CheckState]:
    """Every dataset's last check state (re-read only when the file changed)."""
    path = store.root / CHECKS_FILE
    stamp = _stamp(path)
    if stamp is None:
        return {}
    with _LOCK:
        cached = _CACHE.get(path)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        data = json.loads(path.read_text(encoding="utf-8"))
        states = {k: CheckState(**v) for k, v in data.items()}
        _CACHE[path] = (stamp, states)
    return states


def _stamp(path: Path) -> tuple[int, int, int] | None:
    """The file's identity and change time (None: no file), looked up at most every
    :data:`STAMP_SECONDS` (a page over every KPI asks once per KPI) and after each save here."""
    now = time.monotonic()
    seen = _STAMPS.get(path)
    if seen is not None and now - seen[0] < STAMP_SECONDS:
        return seen[1]
    try:
        info = path.stat()  # each save is a new file (rename): its inode tells it apart
        stamp: tuple[int, int, int] | None = (info.st_ino, info.st_mtime_ns, info.st_size)
    except FileNotFoundError:
        stamp = None
    _STAMPS[path] = (now, stamp)
    return stamp


def _save(store: Store, states: dict[str, CheckState]) -> None:
    path = store.root / CHECKS_FILE
    write_atomically(path, json.dumps({k: asdict(v) for k, v in states.items()}, indent=2))
    _STAMPS.pop(path, None)


def recorded_rules(store: Store, dataset_id: str) -> dict[str, DataCheck]:
    """The rule the dataset was last checked against (empty when it never was, or by an older store)."""
    state = load_checks(store).get(dataset_id)
    if state is None or state.rule is None:
        return {}
    return {dataset_id: DataCheck.model_validate(state.rule)}


def held_at(store: Store, dataset_id: str) -> datetime | None:
    """The moment a held dataset is published as known at (None: not held)."""
    state = load_checks(store).get(dataset_id)
    if state is None or state.held_at is None:
        return None
    return datetime.fromisoformat(state.held_at)


def evaluate(store: Store, dataset_id: str, rule: DataCheck, baseline: int | None = None) -> list[str]:
    """The failures of the dataset's current rows against ``rule`` (``baseline``: the row count to
    compare a change with)."""
    info = store.info(dataset_id)
    cur, table, n = store.cursor(), info.table, info.row_count
    failures = []
    if rule.min_rows is not None and n < rule.min_rows:
        failures.append(f"{n:,} rows, fewer than the {rule.min_rows:,} expected")
    if rule.max_row_change is not None and baseline:
        change = abs(n - baseline) / baseline
        if change > rule.max_row_change:
            failures.append(f"{n:,} rows against {baseline:,} before: a change of {change:.0%}")
    for column, share in rule.max_null_share.items():
        if info.column(column) is None:
            failures.append(f"no column {column!r} to count nulls in")
            continue
        nulls = cur.execute(f"SELECT count(*) - count({quote_ident(column)}) FROM {table}").fetchall()[0][0]
        if n and nulls / n > share:
            failures.append(f"{column}: {nulls / n:.0%} nulls, more than {share:.0%}")
    if rule.unique:
        missing = [c for c in rule.unique if info.column(c) is None]
        if missing:
            failures.append(f"no column {missing[0]!r} to check for unique keys")
        else:
            cols = ", ".join(quote_ident(c) for c in rule.unique)
            dupes = cur.execute(
                f"SELECT count(*) FROM (SELECT {cols} FROM {table} GROUP BY ALL HAVING count(*) > 1)"
            ).fetchall()[0][0]
            if dupes:
                failures.append(f"{dupes:,} values of ({', '.join(rule.unique)}) appear more than once")
    for column, (low, high) in rule.ranges.items():
        if info.column(column) is None:
            failures.append(f"no column {column!r} to check a range on")
            continue
        col = quote_ident(column)
        outside = cur.execute(
            f"SELECT count(*) FROM {table} WHERE {col} < coalesce(?, {col}) OR {col} > coalesce(?, {col})",
            [low, high],
        ).fetchall()[0][0]
        if outside:
            failures.append(f"{column}: {outside:,} values outside [{low}, {high}]")
    return failures


def run_checks(
    catalog: Catalog | None,
    store: Store,
    only: Collection[str] | None = None,
    rules: dict[str, DataCheck] | None = None,
) -> list[CheckState]:
    """Run every dataset's checks on its current rows; hold or release as ``on_fail`` says.

    ``only``: just these datasets (a ``load`` checks the one it wrote); ``rules``: these rules
    instead of the catalog's ``checks:``.
    """
    states = dict(load_checks(store))
    now = datetime.now(UTC).isoformat()
    changed: list[str] = []
    checks = rules if rules is not None else catalog.settings.checks if catalog else {}
    for dataset_id, rule in checks.items():
        if not store.exists(dataset_id) or (only is not None and dataset_id not in only):
            continue
        before = states.get(dataset_id)
        held = before.held_at if before else None
        last = last_recorded(store.cursor(), dataset_id)
        # The version to compare with: the one held back, else the one before the latest write.
        moment = (
            datetime.fromisoformat(held) if held else (last - timedelta(microseconds=1) if last else None)
        )
        baseline = store.known(dataset_id, moment).row_count if moment else None
        failures = evaluate(store, dataset_id, rule, baseline)
        if rule.max_kpi_change and catalog is not None:  # the KPIs' definitions are the catalog's
            failures += kpi_changes(catalog, store, dataset_id, rule.max_kpi_change, moment)
        if failures and rule.on_fail == "hold":
            held = held or (moment.isoformat() if moment else None)
        else:
            held = None
        record = rule.model_dump(exclude_defaults=True)
        states[dataset_id] = CheckState(dataset_id, now, failures, rule.on_fail, held, record)
        if held != (before.held_at if before else None):
            changed.append(dataset_id)
    _save(store, states)
    for dataset_id in changed:
        _bump(store, dataset_id)
    return [states[d] for d in checks if d in states and (only is None or d in only)]


def accept(store: Store, dataset_id: str) -> CheckState:
    """Publish a held dataset's current version (``btvstat-open checks accept DATASET``)."""
    states = dict(load_checks(store))
    state = states.get(dataset_id)
    if state is None or state.held_at is None:
        held = sorted(d for d, s in states.items() if s.held_at)
        raise UsageError(
            f"Dataset {dataset_id!r} is not held back by a data check; "
            + (f"held now: {', '.join(held)}." if held else "no dataset is held now.")
        )
    states[dataset_id] = CheckState(
        dataset_id, datetime.now(UTC).isoformat(), [], state.on_fail, None, state.rule
    )
    _save(store, states)
    _bump(store, dataset_id)
    return states[dataset_id]


def _bump(store: Store, dataset_id: str) -> None:
    """Move the dataset's version (a metadata write, rows untouched): pages and caches keyed on it
    are rebuilt with the version now published."""
    store.update_metadata(dataset_id, MetadataChange())


def state_record(state: CheckState) -> dict[str, Any]:
    """JSON-ready: what ``/api/kpis`` and the checks command say."""
    return {"failures": state.failures, "held": state.held_at is not None, "checked_at": state.checked_at}
