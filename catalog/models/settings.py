"""Site settings (``catalog.yaml``): title, portals, embedding, and the program's goal tree.

Example:
    >>> settings = CatalogSettings.model_validate({
    ...     "goal_levels": ["Priority area", "Goal"],
    ...     "goals": [{"id": "livability", "title": "Neighborhood Livability"},
    ...               {"id": "streets", "title": "Streets in good repair", "parent": "livability"}],
    ... })
    >>> [(g.id, g.parent) for g in settings.goals]
    [('livability', None), ('streets', 'livability')]
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator

from catalog.models.base import ID_PATTERN, Origin, Strict, check_http_url

#: The days "today" may be frozen at (``as_of:``, ``--as-of``): periods a year back and years ahead
#: must stay real dates.
AS_OF_RANGE = (date(1900, 1, 1), date(2999, 12, 31))

__all__ = [
    "DEFAULT_GOAL_LEVELS",
    "CatalogSettings",
    "Contact",
    "EmbedSettings",
    "Goal",
    "PortalKind",
    "PortalSettings",
]

#: The portal kinds a catalog can name (``connectors.kinds`` has their connectors).
PortalKind = Literal["socrata", "arcgis", "ckan", "opendatasoft", "file"]

# What a catalog that does not name its levels calls them (the contract's own example).
DEFAULT_GOAL_LEVELS = ("Priority area", "Goal", "Objective")


class PortalSettings(Strict):
    """A portal the catalog's datasets come from (``portals:`` in ``catalog.yaml``).

    ``kind`` says what it speaks (default ``socrata``). A ``file`` portal's ``url`` is a folder
    (relative to the catalog folder) or an fsspec URL; every other kind's is ``http(s)://``.
    ``title`` names it on KPI pages (default: its key in ``portals:``).

    Example:
        >>> PortalSettings.model_validate({"kind": "file", "url": "data/burlington"}).kind
        'file'
        >>> from pydantic import ValidationError
        >>> try:
        ...     PortalSettings.model_validate({"kind": "ckan", "url": "data/x"})
        ... except ValidationError as exc:
        ...     print(exc.errors()[0]["msg"].split(" (")[-1])
        a folder or fsspec URL needs kind: file)
    """

    kind: PortalKind = "socrata"
    url: str = Field(min_length=1)
    title: str | None = None
    app_token_env: str | None = None
    #: ArcGIS: hosts (besides the portal's own) whose layers a Hub listing or a dataset id may name.
    allow_hosts: list[str] = Field(default_factory=list)

    @field_validator("url")
    @classmethod
    def _url_fits_kind(cls, url: str, info: ValidationInfo) -> str:
        # `kind` is declared first, so it is validated (and in info.data) by now.
        if info.data.get("kind", "socrata") != "file":
            try:
                check_http_url(url)
            except ValueError as exc:
                raise ValueError(f"{exc} (a folder or fsspec URL needs kind: file)") from None
        return url


class EmbedSettings(Strict):
    """Embedding rules: which sites may frame the charts (CSP ``frame-ancestors``)."""

    allowed_origins: list[Origin] = Field(default_factory=list)


class Contact(Strict):
    """Who answers questions about the catalog (DCAT-US ``contactPoint``); optional."""

    name: str
    email: str


class Goal(Strict):
    """One node of the program's goal tree (``goals:`` is a flat list; ``parent`` makes the tree).

    A goal's level is its depth: a goal without ``parent`` is at level 1 (``goal_levels[0]``).
    """

    id: str = Field(pattern=ID_PATTERN, max_length=64)
    title: str
    description: str = ""
    parent: str | None = None
    owner: str | None = None


class CatalogSettings(Strict):
    """Site settings from ``catalog.yaml`` (every key optional).

    ``fiscal_year_start`` is the month (1-12) the fiscal year starts in; fiscal years are labelled by
    the calendar year they end in (with 7, FY2013 runs 2012-07-01 to 2013-06-30). ``as_of`` freezes
    "today" for a demo or an archive (``--as-of`` on the command line overrides it).
    """

    title: str = "City performance dashboard"
    publisher: str = "City"
    description: str = ""
    fiscal_year_start: int = Field(default=7, ge=1, le=12)
    portals: dict[str, PortalSettings] = Field(default_factory=dict)
    embed: EmbedSettings = Field(default_factory=EmbedSettings)
    contact: Contact | None = None
    goal_levels: list[str] = Field(
        default_factory=lambda: list(DEFAULT_GOAL_LEVELS), min_length=1, max_length=4
    )
    goal_status: Literal["majority", "worst"] = "majority"
    goals: list[Goal] = Field(default_factory=list)
    as_of: date | None = Field(default=None, ge=AS_OF_RANGE[0], le=AS_OF_RANGE[1])

    @field_validator("portals")
    @classmethod
    def _local_is_reserved(cls, portals: dict[str, PortalSettings]) -> dict[str, PortalSettings]:
        # `portal: local` always means the built-in store, so a portal of that name could never be used.
        if "local" in portals:
            raise ValueError("'local' is the built-in store and cannot name a portal; pick another name")
        return portals
