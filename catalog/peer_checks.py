"""Rules a KPI's ``peers:`` block must follow beyond its YAML shape (each at its line).

A peer's ``portal:`` names a portal of ``catalog.yaml`` (or is one, ``{url, kind}``); its filter
parses as SoQL; normalising (per capita, per unit) needs a count or a sum, since a median or a
rate per resident means nothing; and two peers of the catalog that share a store id must come
from the same portal and dataset.

Example:
    >>> from catalog.models import CatalogSettings, Kpi
    >>> kpi = Kpi.model_validate({"id": "x", "title": "X", "department": "D",
    ...     "source": {"dataset": "d", "date_column": "day"}, "measure": {"calculation": "count"},
    ...     "peers": {"rule": "r", "cities": [{"city": "Elsewhere", "portal": "nowhere", "dataset": "e",
    ...               "columns": {"date": "day"}, "differs": "Counts all requests."}]}})
    >>> problems = []
    >>> check_peers(kpi, CatalogSettings(), lambda path, msg: problems.append((path, msg)))
    >>> problems[0][0], problems[0][1][:25]
    (('peers', 'cities', 0, 'portal'), "unknown portal 'nowhere':")
"""

from __future__ import annotations

from collections.abc import Callable

from btvstat_open.errors import SoqlError
from catalog.models import CatalogSettings, Kpi

__all__ = ["check_peer_ids", "check_peers"]

Adder = Callable[[tuple[str | int, ...], str], None]
NORMALISABLE = ("count", "sum")


def check_peers(kpi: Kpi, settings: CatalogSettings, add: Adder) -> None:
    """Call ``add(path, message)`` for every rule the KPI's ``peers:`` block breaks."""
    from btvstat_open.soql.parser import parse_expression

    peers = kpi.peers
    if peers is None:
        return
    if peers.normalise is not None and kpi.measure.calculation not in NORMALISABLE:
        add(
            ("peers", "normalise"),
            f"normalise divides by population, which fits a count or a sum, not '{kpi.measure.calculation}': "
            "remove normalise (the values are then compared as they are)",
        )
    for index, peer in enumerate(peers.cities):
        if isinstance(peer.portal, str) and peer.portal not in settings.portals:
            known = ", ".join(settings.portals) or "none yet"
            add(
                ("peers", "cities", index, "portal"),
                f"unknown portal '{peer.portal}': use one of the portals: in catalog.yaml ({known}), "
                "or write the portal itself as {url: https://..., kind: socrata}",
            )
        if peer.columns.where:
            try:
                parse_expression(peer.columns.where, "$where")
            except SoqlError as exc:
                add(("peers", "cities", index, "columns", "where"), f"where does not parse: {exc.message}")


def check_peer_ids(
    kpi: Kpi,
    file: str,
    lines: dict[tuple[str | int, ...], int],
    seen: dict[str, tuple[str, str, str]],
    problems: list[tuple[str, int | None, str]],
) -> None:
    """Two peers of the catalog with one store id must be the same portal's same dataset (``seen``
    maps each store id to its portal, dataset and file, across the KPI files)."""
    from catalog.peer_sync import peer_label
    from catalog.yamllines import line_for

    for index, peer in enumerate(kpi.peers.cities if kpi.peers else []):
        source = (peer_label(peer), peer.dataset, file)
        first = seen.setdefault(peer.dataset_id, source)
        if first[:2] != source[:2]:
            problems.append(
                (
                    file,
                    line_for(lines, ("peers", "cities", index, "dataset")),
                    f"the peer's store id '{peer.dataset_id}' is already {first[0]}/{first[1]}'s "
                    f"(in {first[2]}): give one of them its own store_id",
                )
            )
