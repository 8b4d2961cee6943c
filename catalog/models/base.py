"""What every catalog model shares: strict parsing, id patterns, small value types.

Example:
    >>> import re
    >>> bool(re.match(KPI_ID_PATTERN, "pothole-days-to-close"))
    True
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict

__all__ = [
    "CALCULATIONS",
    "CHARTS",
    "ID_PATTERN",
    "KPI_ID_PATTERN",
    "KPI_KINDS",
    "PERIOD_SIZES",
    "Calculation",
    "Chart",
    "Direction",
    "HttpUrl",
    "Kind",
    "Origin",
    "PeriodSize",
    "Strict",
    "Tag",
    "check_http_url",
]

Calculation = Literal["count", "sum", "average", "median", "percentile", "rate", "recent"]
PeriodSize = Literal["week", "month", "quarter", "year", "fiscal_year"]
Chart = Literal["line", "bar", "area", "number"]
Direction = Literal["higher_is_better", "lower_is_better", "none"]

CALCULATIONS: tuple[str, ...] = ("count", "sum", "average", "median", "percentile", "rate", "recent")
PERIOD_SIZES: tuple[str, ...] = ("week", "month", "quarter", "year", "fiscal_year")
CHARTS: tuple[str, ...] = ("line", "bar", "area", "number")

# What a KPI measures, as Santa Monica asks: impact (outcome) or activity (output), and the rest.
Kind = Literal["outcome", "output", "efficiency", "input", "quality", "equity"]
KPI_KINDS: tuple[str, ...] = ("outcome", "output", "efficiency", "input", "quality", "equity")

# A KPI id: lowercase letters, digits and dashes (it becomes part of URLs such as /kpi/{id}).
KPI_ID_PATTERN = r"^[a-z0-9-]+$"
# Goal, action and meeting ids follow the same rule (they appear in URLs too).
ID_PATTERN = KPI_ID_PATTERN


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


def check_http_url(value: str) -> str:
    """The value if it is an ``http(s)://`` URL, else a ValueError saying how to write one.

    Example:
        >>> check_http_url("https://data.example.gov")
        'https://data.example.gov'
    """
    if not re.match(r"^https?://[^\s/]+", value):
        raise ValueError("a portal url starts with https:// or http://, e.g. https://data.example.gov")
    return value


Origin = Annotated[str, AfterValidator(_origin)]
HttpUrl = Annotated[str, AfterValidator(check_http_url)]


class Strict(BaseModel):
    """Base of every catalog model: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)
