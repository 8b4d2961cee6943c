"""The comparison with peer cities: the KPI's series and each peer's, on one scale.

Rules (docs/peers.md says them for readers):

* A peer's value for a period is the **sum** of its ``columns.value`` over the rows dated in the
  period (the **count** of rows without ``value``), after its ``columns.where`` filter, over the
  KPI's own periods (size, start, fiscal year, current period left out or not) and as of the
  same day. A peer dataset that already holds one value per period gives that value.
* With ``normalise: {per: P, of: UNIT}`` every value (ours and each peer's) is divided by that
  city's population (or unit count) and multiplied by ``P``: 112 trees for 42,417 residents are
  ``112 / 42417 * 1000 = 2.64`` trees per 1,000 residents. Without it values are compared as they are.
* A peer's **flag**: ``failed`` when its latest sync failed (its last good values are still shown,
  with when they were synced), ``not synced`` when it has never been synced, ``stale`` when its
  last good sync is older than the KPI's ``freshness.expect`` (or else its period size: weekly,
  monthly, quarterly, yearly) plus a day, before today; else none.
* A peer whose data cannot be measured (a column it no longer has) is flagged ``failed`` with the
  reason; the page still renders.

Example:
    >>> from catalog.measure import measure
    >>> kpi = catalog.kpis["trees-planted-yearly"]
    >>> series = measure(kpi, store, catalog.settings, today=date(2020, 3, 2))
    >>> found = comparison(kpi, store, catalog.settings, series, today=date(2020, 3, 2))
    >>> [(line.city, line.flag, line.latest["period_start"] if line.latest else None) for line in found.lines]
    [('Burlington, VT', '', '2019-01-01'), ('Los Angeles, CA', 'not synced', None)]
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

import pyarrow as pa

from btvstat_open.errors import BtvstatError
from btvstat_open.i18n import _, format_decimal
from btvstat_open.store import Store
from catalog.freshness import GRACE, subtract_interval
from catalog.models import CatalogSettings, Kpi, Peer
from catalog.models.peer import Population, Scale
from catalog.peer_sync import PeerStatus, peer_status

__all__ = ["Comparison", "PeerLine", "column_problem", "comparison", "normalised", "scale_label"]

_EXPECT = {
    "week": "weekly",
    "month": "monthly",
    "quarter": "quarterly",
    "year": "yearly",
    "fiscal_year": "yearly",
}


@dataclass(frozen=True)
class PeerLine:
    """One city's line of the comparison (``own``: the KPI's own city)."""

    city: str
    own: bool
    points: list[dict[str, Any]]  # period_start, period_end (ISO), value (as measured), shown (scaled)
    differs: str = ""
    population: Population | None = None
    status: PeerStatus | None = None
    flag: str = ""  # "" | stale | failed | not synced
    reason: str = ""

    @property
    def latest(self) -> dict[str, Any] | None:
        """The latest period with a value (None: no value at all)."""
        return self.points[-1] if self.points else None


@dataclass(frozen=True)
class Comparison:
    """The KPI's comparison: the rule, the scale, and one line per city (ours first)."""

    rule: str
    comparable: str | None
    scale: str  # "per 1,000 residents", or "" (values as they are)
    unit: str
    lines: list[PeerLine] = field(default_factory=list)


def scale_label(scale: Scale | None) -> str:
    """How the scale reads: ``per 1,000 residents`` (``""`` without one).

    Example:
        >>> scale_label(Scale(per=100000, of="residents")), scale_label(Scale(per=1, of="lane-mile"))
        ('per 100,000 residents', 'per lane-mile')
    """
    if scale is None:
        return ""
    if scale.per == 1:
        return _("per %(unit)s") % {"unit": scale.of}
    return _("per %(count)s %(unit)s") % {"count": format_decimal(scale.per, 0), "unit": scale.of}


def normalised(value: float, population: Population | None, scale: Scale | None) -> float:
    """``value`` on the comparison's scale: ``value / population * per`` (as is without a scale).

    Example:
        >>> from catalog.models.peer import Citation
        >>> census = Citation(name="US Census 2010", url="https://data.census.gov", year=2010)
        >>> round(normalised(112, Population(value=42417, source=census), Scale()), 4)
        2.6405
    """
    if scale is None or population is None:
        return value
    return value / population.value * scale.per


def _points(table: pa.Table, population: Population | None, scale: Scale | None) -> list[dict[str, Any]]:
    rows = table.select(["period_start", "period_end", "value"]).to_pylist()
    return [
        {
            "period_start": row["period_start"].isoformat(),
            "period_end": row["period_end"].isoformat(),
            "value": row["value"],
            "shown": normalised(row["value"], population, scale),
        }
        for row in rows
        if row["value"] is not None
    ]


def peer_kpi(kpi: Kpi, peer: Peer) -> Kpi:
    """The peer as a KPI over its store copy: the KPI's periods, the peer's columns and filter."""
    measure: dict[str, Any] = {"calculation": peer.calculation}
    if peer.columns.value is not None:
        measure["column"] = peer.columns.value
    return Kpi.model_validate(
        {
            "id": f"{kpi.id}-peer",
            "title": f"{kpi.title} ({peer.city})",
            "department": kpi.department,
            "source": {
                "dataset": peer.dataset_id,
                "date_column": peer.columns.date,
                "where": peer.columns.where,
            },
            "measure": measure,
            "period": kpi.period.model_dump(),
        }
    )


def _stale(kpi: Kpi, status: PeerStatus, today: date) -> bool:
    if status.synced_at is None:
        return False
    expect = kpi.freshness.expect if kpi.freshness else _EXPECT[kpi.period.size]
    return status.synced_at.date() < subtract_interval(today, expect) - GRACE


def column_problem(store: Store, peer: Peer) -> str | None:
    """Why the peer's copy cannot be measured with its column mapping (None: it can)."""
    from catalog.checks import DATE_TYPES

    types = {c.field_name: c.data_type for c in store.info(peer.dataset_id).all_columns}
    wanted: list[tuple[str, str, tuple[str, ...], str]] = [("date", peer.columns.date, DATE_TYPES, "a date")]
    if peer.columns.value is not None:
        wanted.append(("value", peer.columns.value, ("number",), "a number"))
    for key, name, allowed, role in wanted:
        if name not in types:
            return f"the peer's dataset {peer.dataset} has no column '{name}' (columns.{key} in peers:)"
        if types[name] not in allowed:
            return f"the peer's column '{name}' (columns.{key}) is {types[name]}, not {role} column"
    return None


def _peer_line(
    kpi: Kpi, peer: Peer, store: Store, settings: CatalogSettings, today: date, scale: Scale | None
) -> PeerLine:
    from catalog.measure import measure

    status = peer_status(store, peer.dataset_id)
    line = PeerLine(city=peer.city, own=False, points=[], differs=peer.differs, population=peer.population,
                    status=status)  # fmt: skip
    if not store.exists(peer.dataset_id):
        reason = status.error or "run `btvstat-open sync --catalog DIR` to copy it"
        return replace(line, flag="failed" if status.failed else "not synced", reason=reason)
    problem = column_problem(store, peer)
    if problem:  # the peer changed its columns: said, never a crash
        return replace(line, flag="failed", reason=problem)
    try:
        points = _points(measure(peer_kpi(kpi, peer), store, settings, today=today), peer.population, scale)
    except BtvstatError as exc:
        return replace(line, flag="failed", reason=" ".join(exc.message.split()))
    if status.failed:
        return replace(line, points=points, flag="failed", reason=status.error or "")
    return replace(line, points=points, flag="stale" if _stale(kpi, status, today) else "")


def comparison(
    kpi: Kpi, store: Store, settings: CatalogSettings, series: pa.Table, *, today: date
) -> Comparison | None:
    """The KPI's comparison with its peers as of ``today`` (None without ``peers:``)."""
    peers = kpi.peers
    if peers is None:
        return None
    scale = peers.normalise
    own = PeerLine(
        city=peers.city,
        own=True,
        points=_points(series, peers.population, scale),
        population=peers.population,
    )
    lines = [own, *(_peer_line(kpi, peer, store, settings, today, scale) for peer in peers.cities)]
    return Comparison(
        rule=peers.rule, comparable=peers.comparable, scale=scale_label(scale), unit=kpi.unit, lines=lines
    )
