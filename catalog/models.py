"""The catalog's data model: site settings (``catalog.yaml``) and one :class:`Kpi` per KPI file.

The field names are the YAML keys documented in ARCHITECTURE.md ("Catalog format"); unknown keys
are errors (``extra="forbid"``). Cross-field rules (a rate needs a numerator, a percentile needs
``percentile``, ...) are checked by :mod:`catalog.checks` for :mod:`catalog.loader`, which knows the
line of every key and so can say where the problem is.

Example:
    >>> kpi = Kpi.model_validate({
    ...     "id": "potholes", "title": "Pothole requests", "department": "Public Works",
    ...     "source": {"dataset": "kc-311-potholes", "date_column": "creation_date"},
    ...     "measure": {"calculation": "count"},
    ... })
    >>> (kpi.period.size, kpi.source.portal, kpi.chart)
    ('month', 'local', 'line')
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from btvstat_open.errors import KpiNotFound

__all__ = [
    "CALCULATIONS",
    "CHARTS",
    "PERIOD_SIZES",
    "Catalog",
    "CatalogSettings",
    "Contact",
    "EmbedSettings",
    "Kpi",
    "Measure",
    "Period",
    "PortalSettings",
    "RateTerm",
    "Source",
    "Target",
]

Calculation = Literal["count", "sum", "average", "median", "percentile", "rate", "recent"]
PeriodSize = Literal["week", "month", "quarter", "year", "fiscal_year"]
Chart = Literal["line", "bar", "area", "number"]
Direction = Literal["higher_is_better", "lower_is_better", "none"]

CALCULATIONS: tuple[str, ...] = ("count", "sum", "average", "median", "percentile", "rate", "recent")
PERIOD_SIZES: tuple[str, ...] = ("week", "month", "quarter", "year", "fiscal_year")
CHARTS: tuple[str, ...] = ("line", "bar", "area", "number")

# A KPI id: lowercase letters, digits and dashes (it becomes part of URLs such as /kpi/{id}).
KPI_ID_PATTERN = r"^[a-z0-9-]+$"


def _number_as_text(value: Any) -> Any:
    """YAML reads ``[streets, 311]`` with 311 as a number; a tag is text either way."""
    return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


Tag = Annotated[str, BeforeValidator(_number_as_text)]

# An origin as CSP frame-ancestors takes it: scheme://host[:port], or a wildcard subdomain, or "*".
# Checked here so `catalog validate` points at the line; the embed routes put it in a header.
_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$|^https?://\*\.[A-Za-z0-9.-]+$|^\*$")


def _origin(value: str) -> str:
    if not _ORIGIN.match(value):
        raise ValueError(
            "not an origin: write scheme://host[:port] with no path, e.g. https://www.example.gov"
        )
    return value


def _http_url(value: str) -> str:
    if not re.match(r"^https?://[^\s/]+", value):
        raise ValueError("a portal url starts with https:// or http://, e.g. https://data.example.gov")
    return value


Origin = Annotated[str, AfterValidator(_origin)]
HttpUrl = Annotated[str, AfterValidator(_http_url)]


class _Strict(BaseModel):
    """Base of every catalog model: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class PortalSettings(_Strict):
    """A portal the catalog's datasets come from (``portals:`` in ``catalog.yaml``)."""

    url: HttpUrl
    app_token_env: str | None = None


class EmbedSettings(_Strict):
    """Embedding rules: which sites may frame the charts (CSP ``frame-ancestors``)."""

    allowed_origins: list[Origin] = Field(default_factory=list)


class Contact(_Strict):
    """Who answers questions about the catalog (DCAT-US ``contactPoint``); optional."""

    name: str
    email: str


class CatalogSettings(_Strict):
    """Site settings from ``catalog.yaml`` (every key optional).

    ``fiscal_year_start`` is the month (1-12) the fiscal year starts in; fiscal years are labelled by
    the calendar year they end in (with 7, FY2013 runs 2012-07-01 to 2013-06-30).
    """

    title: str = "City performance dashboard"
    publisher: str = "City"
    description: str = ""
    fiscal_year_start: int = Field(default=7, ge=1, le=12)
    portals: dict[str, PortalSettings] = Field(default_factory=dict)
    embed: EmbedSettings = Field(default_factory=EmbedSettings)
    contact: Contact | None = None

    @field_validator("portals")
    @classmethod
    def _local_is_reserved(cls, portals: dict[str, PortalSettings]) -> dict[str, PortalSettings]:
        # `portal: local` always means the built-in store, so a portal of that name could never be used.
        if "local" in portals:
            raise ValueError("'local' is the built-in store and cannot name a portal; pick another name")
        return portals


class Source(_Strict):
    """Where a KPI's rows come from and which column dates them."""

    portal: str = "local"
    dataset: str
    date_column: str
    where: str | None = None


class RateTerm(_Strict):
    """The numerator or denominator of a rate: a count or a sum, with its own SoQL filter."""

    calculation: Literal["count", "sum"] = "count"
    column: str | None = None
    where: str | None = None


class Measure(_Strict):
    """How each period's value is computed from the rows in it."""

    calculation: Calculation
    column: str | None = None
    percentile: float | None = Field(default=None, gt=0, lt=100)
    numerator: RateTerm | None = None
    denominator: RateTerm | None = None
    as_percent: bool = False
    cumulative: bool = False


class Period(_Strict):
    """The period size and the range of the series."""

    size: PeriodSize = "month"
    start: date | None = None
    include_current: bool = False


class Target(_Strict):
    """The target and how a value is judged against it."""

    value: float
    rule: Literal["above_below", "proximity"] = "above_below"
    tolerance: float = Field(default=0.0, ge=0)


class Kpi(_Strict):
    """One KPI, exactly the keys of a KPI YAML file."""

    id: str = Field(pattern=KPI_ID_PATTERN, max_length=64)
    title: str
    department: str
    outcome_area: str | None = None
    description: str = ""
    methodology: str = ""
    analysis: str | None = None
    source: Source
    measure: Measure
    period: Period = Field(default_factory=Period)
    unit: str = ""
    decimals: int = Field(default=1, ge=0, le=6)
    direction: Direction = "none"
    target: Target | None = None
    chart: Chart = "line"
    tags: list[Tag] = Field(default_factory=list)
    public: bool = True


@dataclass(frozen=True)
class Catalog:
    """A loaded, validated catalog.

    ``kpis`` keeps file order (sorted by path); ``files`` maps each KPI id to its YAML file;
    ``version`` is a hash of every catalog file's content, so caches can key on it; ``warnings``
    lists ``(file, line, message)`` for keys that are valid but ignored (e.g. ``percentile`` on a
    median).
    """

    root: Path
    settings: CatalogSettings
    kpis: dict[str, Kpi]
    files: dict[str, Path] = field(default_factory=dict)
    version: str = ""
    warnings: list[tuple[str, int | None, str]] = field(default_factory=list)

    def get(self, kpi_id: str) -> Kpi:
        """The KPI with this id; raises :class:`~btvstat_open.errors.KpiNotFound`.

        Example:
            >>> Catalog(Path("."), CatalogSettings(), {}).get("nope")  # doctest: +ELLIPSIS
            Traceback (most recent call last):
            ...
            btvstat_open.errors.KpiNotFound: No KPI 'nope' in the catalog ...
        """
        try:
            return self.kpis[kpi_id]
        except KeyError:
            known = ", ".join(sorted(self.kpis)[:10]) or "none"
            raise KpiNotFound(
                f"No KPI {kpi_id!r} in the catalog at {self.root}. Known ids: {known}.",
                data={"id": kpi_id},
            ) from None

    def datasets(self) -> dict[tuple[str, str], list[str]]:
        """Every ``(portal, dataset)`` the catalog uses, with the ids of the KPIs using it."""
        used: dict[tuple[str, str], list[str]] = {}
        for kpi in self.kpis.values():
            used.setdefault((kpi.source.portal, kpi.source.dataset), []).append(kpi.id)
        return used


def content_version(files: list[Path], root: Path) -> str:
    """A short hash over file names and contents (stable across machines)."""
    digest = hashlib.sha256()
    for path in sorted(files):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()[:16]
