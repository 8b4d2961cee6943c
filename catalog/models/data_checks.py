"""``checks:`` in ``catalog.yaml``: rules a dataset must meet before it is published.

Example:
    >>> DataCheck.model_validate({"min_rows": 1000, "unique": ["case_id"], "on_fail": "hold"}).on_fail
    'hold'
"""

from __future__ import annotations

from typing import Literal, Self

from pydantic import Field, model_validator

from catalog.models.base import Strict

__all__ = ["DataCheck", "KpiChange"]


class KpiChange(Strict):
    """How far a KPI's latest value may move at a write: ``share`` of the value before (0.5: 50%),
    ``amount`` in the KPI's unit, or both (moving more than either fails).

    Example:
        >>> KpiChange.model_validate({"share": 0.5}).share
        0.5
    """

    share: float | None = Field(default=None, ge=0)
    amount: float | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _one_limit(self) -> Self:
        if self.share is None and self.amount is None:
            raise ValueError("give share (e.g. share: 0.5 for 50%) or amount (in the KPI's unit), or both")
        return self


class DataCheck(Strict):
    """The checks of one dataset, run at every sync (and by ``btvstat-open checks``).

    ``max_null_share`` maps a column to the largest share of nulls it may hold (0 to 1);
    ``ranges`` a number column to ``[low, high]`` (either may be null); ``max_row_change`` is
    the largest change in row count from the version before (or the one held), as a share;
    ``max_kpi_change`` the largest change of a KPI's latest value (see :class:`KpiChange`).
    ``on_fail: hold`` keeps the last good version published until ``btvstat-open checks accept``.
    """

    min_rows: int | None = Field(default=None, ge=0)
    max_null_share: dict[str, float] = Field(default_factory=dict)
    unique: list[str] = Field(default_factory=list)
    ranges: dict[str, tuple[float | None, float | None]] = Field(default_factory=dict)
    max_row_change: float | None = Field(default=None, ge=0)
    #: KPI id -> how far its latest value may move from the one before the write
    max_kpi_change: dict[str, KpiChange] = Field(default_factory=dict)
    on_fail: Literal["flag", "hold"] = "flag"
