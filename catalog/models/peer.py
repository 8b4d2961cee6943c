"""Peers: the same measure in other cities' open data (``peers:`` of a KPI file).

The comparison itself (each peer's series, normalised, its freshness) is :mod:`catalog.peers`;
this module fixes the YAML shape and its own consistency: every city is normalised when the
block normalises (each with its population or unit count and a cited source), and no two peers
share a name.

Example:
    >>> census = {"name": "US Census 2010", "url": "https://data.census.gov", "year": 2010}
    >>> peers = Peers.model_validate({
    ...     "rule": "US cities that publish trees planted per year",
    ...     "normalise": {"per": 1000, "of": "residents"},
    ...     "population": {"value": 42417, "source": census},
    ...     "cities": [{"city": "Los Angeles, CA", "portal": "la", "dataset": "la-indicators",
    ...                 "columns": {"date": "fiscal_year", "value": "amount"},
    ...                 "population": {"value": 3792621, "source": census},
    ...                 "differs": "Fiscal years (July to June), not calendar years."}]})
    >>> peer = peers.cities[0]
    >>> peer.store_id, peer.calculation
    ('peer-los-angeles-ca-la-indicators', 'sum')
"""

from __future__ import annotations

import re

from pydantic import Field, model_validator

from catalog.models.base import HttpUrl, Strict
from catalog.models.catalog_yaml import PortalSettings

__all__ = ["Citation", "Peer", "PeerColumns", "Peers", "Population", "Scale", "peer_store_id"]


class Citation(Strict):
    """Where a population (or unit count) comes from: its publisher's name, a URL and the year."""

    name: str = Field(min_length=1)
    url: HttpUrl
    year: int = Field(ge=1790, le=2200)


class Population(Strict):
    """A city's population (or count of units: households, lane-miles...) and its cited source."""

    value: float = Field(gt=0)
    source: Citation


class Scale(Strict):
    """``normalise:``: values are shown per ``per`` of ``of`` (per 1,000 residents by default)."""

    per: float = Field(default=1000, gt=0)
    of: str = Field(default="residents", min_length=1)


class PeerColumns(Strict):
    """Which of the peer's columns date its rows and hold its value; ``where`` filters its rows
    (SoQL, as a KPI's ``source.where``). Without ``value`` the rows of each period are counted."""

    date: str = Field(min_length=1)
    value: str | None = None
    where: str | None = None


def peer_store_id(city: str, dataset: str) -> str:
    """The store's dataset id for a peer's copy: ``peer-<city>-<dataset>``, slugged, at most 64.

    Example:
        >>> peer_store_id("Los Angeles, CA", "Operating_Indicators")
        'peer-los-angeles-ca-operating-indicators'
    """
    slug = re.sub(r"[^a-z0-9]+", "-", f"{city} {dataset}".lower()).strip("-")
    return f"peer-{slug}"[:64].rstrip("-")


class Peer(Strict):
    """One peer city: where its data lives, how its columns map, how its definition differs."""

    city: str = Field(min_length=1)
    # A key of catalog.yaml ``portals:``, or the portal itself: {url, kind}.
    portal: str | PortalSettings
    dataset: str = Field(min_length=1)
    columns: PeerColumns
    population: Population | None = None
    differs: str = Field(min_length=1)
    # The id of the peer's copy in the store (default: :func:`peer_store_id`).
    store_id: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")

    @model_validator(mode="after")
    def _default_store_id(self) -> Peer:
        if self.store_id is None:
            object.__setattr__(self, "store_id", peer_store_id(self.city, self.dataset))
        return self

    @property
    def dataset_id(self) -> str:
        """The store's id of this peer's copy."""
        assert self.store_id is not None
        return self.store_id

    @property
    def calculation(self) -> str:
        """``sum`` of the value column per period, or ``count`` of rows without one."""
        return "count" if self.columns.value is None else "sum"


class Peers(Strict):
    """``peers:`` of a KPI: the rule that chose them, the scale, our population, the cities."""

    rule: str = Field(min_length=1)
    # The KPI's own city, as the comparison names it beside the peers.
    city: str = Field(default="This city", min_length=1)
    comparable: str | None = None
    normalise: Scale | None = None
    population: Population | None = None
    cities: list[Peer] = Field(min_length=1, max_length=4)

    @model_validator(mode="after")
    def _consistent(self) -> Peers:
        names = [peer.city for peer in self.cities]
        if len(set(names)) != len(names):
            raise ValueError("two peers have the same city: give each peer its own city name")
        if self.normalise is None:
            if self.population is not None or any(p.population for p in self.cities):
                raise ValueError(
                    "populations are given but nothing is normalised: "
                    "add normalise: {per: 1000, of: residents} or remove the populations"
                )
            return self
        missing = [p.city for p in self.cities if p.population is None]
        if self.population is None:
            missing.insert(0, "this KPI's own city (peers.population)")
        if missing:
            raise ValueError(
                "normalise needs a population with its source for every city; "
                f"missing for {', '.join(missing)}: add population: "
                "{value: N, source: {name: ..., url: https://..., year: YYYY}}"
            )
        return self
