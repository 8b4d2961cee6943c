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

import re
from datetime import date
from typing import TYPE_CHECKING, Literal

from pydantic import Field, ValidationInfo, field_validator

from catalog.models.base import ID_PATTERN, HttpUrl, Origin, Strict, check_http_url
from catalog.models.data_checks import DataCheck
from catalog.models.dated_goal import GoalDatedGoal
from catalog.models.notify import NotifyRule, Recipients, Webhook
from catalog.models.people import AccessRule, EntrySettings
from connectors.kinds import DEFAULT_KIND, KINDS

#: The days "today" may be frozen at (``as_of:``, ``--as-of``): periods a year back and years ahead
#: must stay real dates.
AS_OF_RANGE = (date(1900, 1, 1), date(2999, 12, 31))

__all__ = [
    "DEFAULT_GOAL_LEVELS",
    "CatalogSettings",
    "Contact",
    "DatasetMetadata",
    "EmbedSettings",
    "Goal",
    "PortalKind",
    "PortalSettings",
    "every_seconds",
]

#: The portal kinds a catalog can name: the names of the registry of ``connectors.kinds``.
if TYPE_CHECKING:
    PortalKind = str
else:
    PortalKind = Literal[tuple(KINDS)]

# What a catalog that does not name its levels calls them (the contract's own example).
DEFAULT_GOAL_LEVELS = ("Priority area", "Goal", "Objective")


_EVERY = re.compile(r"^(?:(\d+)\s*([smhd])|P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?)$", re.I)
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def every_seconds(text: str) -> float:
    """An interval such as ``30m``, ``6h``, ``1d`` or ISO 8601's ``PT6H``, ``P1DT12H``, in seconds.

    Example:
        >>> every_seconds("6h"), every_seconds("PT30M"), every_seconds("P1DT12H")
        (21600.0, 1800.0, 129600.0)
        >>> every_seconds("weekly")
        Traceback (most recent call last):
        ...
        ValueError: 'weekly' is not an interval: write a number and a unit (30m, 6h, 1d) or ISO 8601 (PT6H)
    """
    match = _EVERY.match(text.strip())
    seconds = 0.0
    if match is not None:
        number, unit, days, hours, minutes, secs = match.groups()
        if unit:
            seconds = float(number) * _UNIT[unit.lower()]
        else:
            parts = (days, hours, minutes, secs)
            seconds = sum(float(v or 0) * f for v, f in zip(parts, (86400, 3600, 60, 1), strict=True))
    if seconds <= 0:
        raise ValueError(
            f"{text!r} is not an interval: write a number and a unit (30m, 6h, 1d) or ISO 8601 (PT6H)"
        )
    return seconds


class DatasetMetadata(Strict):
    """What the catalog says about one dataset (``datasets:`` in ``catalog.yaml``): written to the
    store by ``sync --catalog`` and by ``serve`` (at start and on each catalog reload), over what
    ``load`` or the source recorded. Every key is optional; a key left out changes nothing.

    Example:
        >>> DatasetMetadata.model_validate({"license": "ODC-By-1.0", "tags": ["wellbeing"]}).tags
        ['wellbeing']
    """

    name: str | None = None
    description: str | None = None
    license: str | None = None
    attribution: str | None = None
    source_url: str | None = None
    tags: list[str] | None = None
    source_updated: date | None = None

    @field_validator("source_url")
    @classmethod
    def _web(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("source_url is a web address: start it with https://")
        return value


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

    kind: PortalKind = DEFAULT_KIND
    url: str = Field(min_length=1)
    title: str | None = None
    app_token_env: str | None = None
    #: ArcGIS: hosts (besides the portal's own) whose layers a Hub listing or a dataset id may name.
    allow_hosts: list[str] = Field(default_factory=list)

    @field_validator("url")
    @classmethod
    def _url_fits_kind(cls, url: str, info: ValidationInfo) -> str:
        # `kind` is declared first, so it is validated (and in info.data) by now.
        if info.data.get("kind", DEFAULT_KIND) != "file":
            try:
                check_http_url(url)
            except ValueError as exc:
                raise ValueError(f"{exc} (a folder or fsspec URL needs kind: file)") from None
        return url

    @field_validator("allow_hosts")
    @classmethod
    def _hosts_fit_kind(cls, hosts: list[str], info: ValidationInfo) -> list[str]:
        kind = info.data.get("kind", DEFAULT_KIND)
        if hosts and kind in KINDS and "allow_hosts" not in KINDS[kind].options:
            takers = [name for name, spec in KINDS.items() if "allow_hosts" in spec.options]
            raise ValueError(f"allow_hosts is for {' and '.join(takers)} portals, not {kind}: leave it out")
        return hosts


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
    # -- progress toward a dated goal, measured by one KPI under the goal (catalog.dated_goals) --
    dated_goal: GoalDatedGoal | None = None


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
    # -- people and entered values (catalog.models.people) --
    access: list[AccessRule] = Field(default_factory=list)
    entry: EntrySettings = Field(default_factory=EntrySettings)
    # `serve` syncs the catalog's remote datasets this often ("30m", "6h", "1d", "PT6H"; see every_seconds).
    sync_every: str | None = None
    # License, attribution, source and more per dataset id (DatasetMetadata).
    datasets: dict[str, DatasetMetadata] = Field(default_factory=dict)

    @field_validator("sync_every")
    @classmethod
    def _every(cls, value: str | None) -> str | None:
        if value is not None:
            every_seconds(value)
        return value

    # Data checks per dataset id (catalog.checks_run runs them; catalog.models.data_checks).
    checks: dict[str, DataCheck] = Field(default_factory=dict)

    # Notifications (catalog.notify): rules, who receives them, webhooks, the city's holidays for
    # business-day reminders, and the public address that links in messages and feeds start with.
    webhooks: dict[str, Webhook] = Field(default_factory=dict)  # before notify, which names them
    notify: list[NotifyRule] | None = None
    recipients: Recipients = Field(default_factory=Recipients)
    holidays: list[date] = Field(default_factory=list)
    site_url: HttpUrl | None = None
    # -- languages (btvstat_open.i18n): the site's locales, the first the default (unprefixed URLs) --
    locales: list[str] = Field(default_factory=lambda: ["en"], min_length=1, max_length=20)

    @field_validator("locales")
    @classmethod
    def _locale_codes(cls, locales: list[str]) -> list[str]:
        for code in locales:
            if not re.fullmatch(r"[a-z]{2,3}(-[A-Z]{2})?", code):
                raise ValueError(f"locale {code!r} is not a language code such as en, es, fr or pt-BR")
        if len(set(locales)) != len(locales):
            raise ValueError("a locale is listed twice")
        return locales

    @field_validator("portals")
    @classmethod
    def _local_is_reserved(cls, portals: dict[str, PortalSettings]) -> dict[str, PortalSettings]:
        # `portal: local` always means the built-in store, so a portal of that name could never be used.
        if "local" in portals:
            raise ValueError("'local' is the built-in store and cannot name a portal; pick another name")
        return portals

    @field_validator("notify")
    @classmethod
    def _webhooks_defined(
        cls, rules: list[NotifyRule] | None, info: ValidationInfo
    ) -> list[NotifyRule] | None:
        webhooks = info.data.get("webhooks") or {}
        for rule in rules or ():
            if rule.webhook and rule.webhook not in webhooks:
                known = ", ".join(sorted(webhooks)) or "none defined"
                raise ValueError(f"webhook {rule.webhook!r} is not a key of webhooks: ({known})")
        return rules
