"""The data check on a KPI's value: how far a write moved the KPI's latest value.

For each KPI named under ``max_kpi_change:`` of a dataset's checks, its series is computed on
the dataset's current rows and on the version it is compared with (the one before the write, or
the one held back), each as of the catalog's day; the latest value with data of each is compared.
A move of more than ``share`` of the earlier value, or more than ``amount``, is a failure.

Example:
    >>> from catalog.models.data_checks import KpiChange
    >>> moved("x", (date(2020, 2, 1), 13.0), (date(2020, 2, 1), 6.5), KpiChange(share=0.5))
    'x: latest value 13 (2020-02-01) against 6.5 before: a change of 100%, more than 50%'
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from btvstat_open.errors import BtvstatError
from btvstat_open.store import Store
from catalog.asof import today_for
from catalog.measure import measure
from catalog.models import Catalog, CatalogSettings, Kpi
from catalog.models.data_checks import KpiChange
from catalog.yamllines import line_for

__all__ = ["check_kpi_change_ids", "kpi_changes", "moved"]

#: a moment after every write: the current rows
_NOW = datetime(9999, 1, 1, tzinfo=UTC)

Latest = tuple[date, float] | None


def kpi_changes(
    catalog: Catalog, store: Store, dataset_id: str, limits: dict[str, KpiChange], before: datetime | None
) -> list[str]:
    """The failures of the KPIs in ``limits`` between the dataset as known at ``before`` and now."""
    failures = []
    for kpi_id, limit in limits.items():
        kpi = catalog.kpis.get(kpi_id)
        if kpi is None or kpi.source.dataset != dataset_id:
            failures.append(f"no KPI {kpi_id!r} of this dataset to check the value of")
            continue
        if before is None:
            continue
        now, then = _latest(catalog, store, kpi_id, _NOW), _latest(catalog, store, kpi_id, before)
        if now is not None and then is not None:
            failure = moved(kpi_id, now, then, limit)
            if failure:
                failures.append(failure)
    return failures


def _latest(catalog: Catalog, store: Store, kpi_id: str, at: datetime) -> Latest:
    """The KPI's latest period with a value, read from the dataset as known at ``at``."""
    kpi = catalog.kpis[kpi_id]
    try:
        series = measure(kpi, store, catalog.settings, today=today_for(catalog.settings), known_at=at)
    except BtvstatError:
        return None  # a KPI that cannot be computed (`catalog validate` says why)
    for start, value in zip(
        reversed(series.column("period_start").to_pylist()),
        reversed(series.column("value").to_pylist()),
        strict=True,
    ):
        if value is not None:
            return start, float(value)
    return None


def moved(kpi_id: str, now: tuple[date, float], then: tuple[date, float], limit: KpiChange) -> str | None:
    """The failure line when ``now`` moved from ``then`` by more than ``limit`` allows, else None."""
    change = abs(now[1] - then[1])
    share = change / abs(then[1]) if then[1] else (float("inf") if change else 0.0)
    over = []
    if limit.share is not None and share > limit.share:
        over.append(f"more than {limit.share:.0%}")
    if limit.amount is not None and change > limit.amount:
        over.append(f"more than {limit.amount:g}")
    if not over:
        return None
    moved_by = f"a change of {share:.0%}" if then[1] else f"a change of {change:g}"
    return (
        f"{kpi_id}: latest value {now[1]:g} ({now[0].isoformat()}) against {then[1]:g} before: "
        f"{moved_by}, {' and '.join(over)}"
    )


def check_kpi_change_ids(
    settings: CatalogSettings,
    kpis: dict[str, Kpi],
    file: str,
    lines: dict[tuple[str | int, ...], int],
    problems: list[tuple[str, int | None, str]],
) -> None:
    """A problem (at its ``catalog.yaml`` line) for each ``max_kpi_change`` KPI that is not a KPI of
    that dataset."""
    for dataset_id, rule in settings.checks.items():
        for kpi_id in rule.max_kpi_change:
            kpi = kpis.get(kpi_id)
            if kpi is not None and kpi.source.dataset == dataset_id:
                continue
            ours = sorted(k.id for k in kpis.values() if k.source.dataset == dataset_id)
            hint = f"its KPIs: {', '.join(ours)}" if ours else "no KPI reads it"
            problems.append(
                (
                    file,
                    line_for(lines, ("checks", dataset_id, "max_kpi_change", kpi_id)),
                    f"checks of {dataset_id}: max_kpi_change names {kpi_id!r}, "
                    f"not a KPI of this dataset ({hint})",
                )
            )
