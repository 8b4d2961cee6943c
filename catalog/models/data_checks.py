"""``checks:`` in ``catalog.yaml``: rules a dataset must meet before it is published.

Example:
    >>> DataCheck.model_validate({"min_rows": 1000, "unique": ["case_id"], "on_fail": "hold"}).on_fail
    'hold'
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from catalog.models.base import Strict

__all__ = ["DataCheck"]


class DataCheck(Strict):
    """The checks of one dataset, run at every sync (and by ``btvstat-open checks``).

    ``max_null_share`` maps a column to the largest share of nulls it may hold (0 to 1);
    ``ranges`` a number column to ``[low, high]`` (either may be null); ``max_row_change`` is
    the largest change in row count from the version before (or the one held), as a share.
    ``on_fail: hold`` keeps the last good version published until ``btvstat-open checks accept``.
    """

    min_rows: int | None = Field(default=None, ge=0)
    max_null_share: dict[str, float] = Field(default_factory=dict)
    unique: list[str] = Field(default_factory=list)
    ranges: dict[str, tuple[float | None, float | None]] = Field(default_factory=dict)
    max_row_change: float | None = Field(default=None, ge=0)
    on_fail: Literal["flag", "hold"] = "flag"
