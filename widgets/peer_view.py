"""The comparison with peers as the KPI page and packets show it: a table row per city.

Each row: the city, its latest value on the comparison's scale and as measured, its period, its
freshness (when it last synced; a flag when the sync failed, is stale or never ran, and the
reason), how its definition differs, and its population with the cited source.

Example:
    >>> from catalog.measure import measure
    >>> from catalog.peers import comparison
    >>> from datetime import date
    >>> kpi = catalog.kpis["trees-planted-yearly"]
    >>> found = comparison(kpi, store, catalog.settings,
    ...                    measure(kpi, store, catalog.settings), today=date(2020, 3, 2))
    >>> [(row["city"], row["latest"], row["period"], row["flag"]) for row in peer_rows(kpi, found)]
    [('Burlington, VT', '10.18', '2019', ''), ('Los Angeles, CA', 'No value', '', 'not synced')]
"""

from __future__ import annotations

from datetime import date
from typing import Any

from btvstat_open.i18n import _
from btvstat_open.i18n.formats import format_iso_date
from catalog.models import Kpi
from catalog.peers import Comparison, PeerLine
from widgets.peer_chart import shown_label
from widgets.summary import period_label

__all__ = ["freshness_text", "peer_rows"]


def freshness_text(line: PeerLine) -> str:
    """When the peer's values were synced, and what went wrong since, in words.

    Example:
        >>> from catalog.peer_sync import PeerStatus
        >>> from datetime import datetime, UTC
        >>> freshness_text(PeerLine(city="X", own=False, points=[], flag="failed", reason="portal down",
        ...     status=PeerStatus(synced_at=datetime(2026, 1, 2, tzinfo=UTC),
        ...                       failed_at=datetime(2026, 1, 9, tzinfo=UTC))))
        'Sync failed on 2026-01-09 (portal down); showing the values last synced on 2026-01-02'
    """
    if line.own:
        return _("This KPI's own data")
    status = line.status
    synced_day = format_iso_date(status.synced_at.date()) if status and status.synced_at else ""
    if line.flag == "failed":
        when = (
            " " + _("on %(day)s") % {"day": format_iso_date(status.failed_at.date())}
            if status and status.failed_at
            else ""
        )
        reason = f" ({line.reason})" if line.reason else ""
        kept = (
            "; " + _("showing the values last synced on %(day)s") % {"day": synced_day}
            if synced_day
            else "; " + _("no values synced yet")
        )
        return _("Sync failed") + when + reason + kept
    if line.flag == "not synced":
        return (
            _("Not synced yet: %(reason)s") % {"reason": line.reason} if line.reason else _("Not synced yet")
        )
    synced = _("last synced on %(day)s") % {"day": synced_day} if synced_day else ""
    if line.flag == "stale":
        return _("Stale: %(when)s") % {"when": synced} if synced else _("Stale")
    return _("Last synced on %(day)s") % {"day": synced_day} if synced_day else _("Synced")


def _population(line: PeerLine) -> dict[str, Any] | None:
    if line.population is None:
        return None
    source = line.population.source
    return {
        "value": f"{line.population.value:,.0f}",
        "name": source.name,
        "url": source.url,
        "year": source.year,
    }


def peer_rows(kpi: Kpi, found: Comparison) -> list[dict[str, Any]]:
    """One row per city (ours first) for the comparison table."""
    rows = []
    for line in found.lines:
        latest = line.latest
        period = ""
        if latest is not None:
            start, end = date.fromisoformat(latest["period_start"]), date.fromisoformat(latest["period_end"])
            period = period_label(kpi.period.size, start, end)
        rows.append(
            {
                "city": line.city,
                "own": line.own,
                "latest": shown_label(latest["shown"], kpi, bool(found.scale)) if latest else _("No value"),
                "measured": shown_label(latest["value"], kpi, False) if latest else "",
                "period": period,
                "flag": line.flag,
                "freshness": freshness_text(line),
                "differs": line.differs,
                "population": _population(line),
            }
        )
    return rows
