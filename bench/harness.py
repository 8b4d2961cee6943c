"""What every benchmark row shares: sizes, alternating repetitions, medians, percentiles, results.

A row compares our code with a peer (another client, or the server's own limit) measured in the same
run. :func:`alternate` runs them in turn, rotating which goes first, so that a slow moment of the
machine (the other core busy, a cache flush) hits both sides alike; the row reports medians.

Example:
    >>> samples = alternate({"ours": lambda: 1.0, "peer": lambda: 2.0}, reps=3)
    >>> median(samples["peer"])
    2.0
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

__all__ = ["Goal", "Result", "Sizes", "alternate", "median", "percentile", "size_label", "timed"]


@dataclass(frozen=True)
class Sizes:
    """How big each benchmark is: the full run reaches the sizes in the architecture's table."""

    pull_rows: int
    memory_rows: int
    push_rows: int
    push_batch: int
    soql_rows: int
    reps: int
    soql_reps: int
    load_seconds: float
    connections: int
    soql_big_rows: int
    kind_rows: int = 200_000  # the per-kind pull rows
    #: The large partitioned pull (its small one is ``pull_rows``); the same dataset as ``soql_big_rows``.
    partitioned_rows: int = 10_000_000
    # Sizes of the rows made of a generated program (the quick run keeps the full program's size):
    program_kpis: int = 500  # the program pages' catalog
    program_goals: int = 60
    notify_kpis: int = 500  # the notification run's catalog and its people
    notify_people: int = 100
    meeting_kpis: int = 40  # the KPIs of the meeting packet
    updaters: int = 100  # signed-in people submitting at once
    discovery_datasets: int = 1000  # the datasets the Discovery API pages through

    @classmethod
    def full(cls) -> Sizes:
        return cls(
            1_000_000, 5_000_000, 100_000, 10_000, 1_000_000, 5, 40, 5.0, 16, 10_000_000, 200_000, 10_000_000
        )

    @classmethod
    def quick(cls) -> Sizes:
        return cls(
            20_000, 50_000, 5_000, 1_000, 20_000, 2, 8, 1.0, 8, 40_000, 20_000, 40_000,
            meeting_kpis=8, updaters=20, discovery_datasets=200,
        )  # fmt: skip

    @classmethod
    def smoke(cls) -> Sizes:
        """The smallest sizes that still run every row against real servers (``--smoke``): for the
        test suite, which checks that each row works and reports a number, not what the number is."""
        return cls(
            2_000, 5_000, 500, 100, 2_000, 2, 2, 0.3, 4, 4_000, 2_000, 4_000,
            program_kpis=20, program_goals=4, notify_kpis=20, notify_people=5, meeting_kpis=3,
            updaters=4, discovery_datasets=30,
        )  # fmt: skip


@dataclass(frozen=True)
class Goal:
    """A goal: ``value`` with ``kind`` ``min`` (ours >= value), ``max`` (ours <= value) or ``ratio``.

    Example:
        >>> Goal("ratio", 10).met(ours=None, ratio=12.0)
        True
    """

    kind: Literal["min", "max", "ratio"]
    value: float
    unit: str = ""

    def met(self, ours: float | None, ratio: float | None) -> bool | None:
        """Whether the measured numbers reach the goal (None: nothing measured)."""
        measured = ratio if self.kind == "ratio" else ours
        if measured is None or math.isnan(measured):
            return None
        return measured >= self.value if self.kind in ("min", "ratio") else measured <= self.value

    def __str__(self) -> str:
        sign = "<=" if self.kind == "max" else ">="
        suffix = "x" if self.kind == "ratio" else (" " + self.unit if self.unit else "")
        return f"{sign} {_number(self.value)}{suffix}"


@dataclass
class Result:
    """One row of the benchmark table.

    ``ours`` and ``peer`` are medians in ``unit``; ``ratio`` says how many times better ours is
    (ours / peer for rates, peer / ours for times, as ``higher_is_better`` says).
    """

    group: str
    work: str
    unit: str
    ours: float | None = None
    peer: float | None = None
    peer_name: str = ""
    higher_is_better: bool = True
    goal: Goal | None = None
    samples: dict[str, list[float]] = field(default_factory=dict)
    notes: str = ""
    error: str = ""

    @property
    def ratio(self) -> float | None:
        if self.ours is None or self.peer is None or self.ours == 0 or self.peer == 0:
            return None
        return self.ours / self.peer if self.higher_is_better else self.peer / self.ours

    @property
    def met(self) -> bool | None:
        return self.goal.met(self.ours, self.ratio) if self.goal else None

    def to_json(self) -> dict[str, Any]:
        """The row as plain JSON data (goal rendered as text and as numbers)."""
        data = asdict(self)
        data["goal"] = (
            {"text": str(self.goal), "kind": self.goal.kind, "value": self.goal.value} if self.goal else None
        )
        data["ratio"] = self.ratio
        data["met"] = self.met
        return data


def alternate(runners: dict[str, Callable[[], float]], reps: int) -> dict[str, list[float]]:
    """Run each runner ``reps`` times, interleaved, rotating who goes first; returns the samples.

    Each runner returns its own measurement (seconds, rows/s, ...).
    """
    names = list(runners)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for rep in range(reps):
        shift = rep % len(names)
        for name in names[shift:] + names[:shift]:
            samples[name].append(runners[name]())
    return samples


def timed(work: Callable[[], object]) -> float:
    """Seconds that ``work()`` took (monotonic, high resolution)."""
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def median(values: Sequence[float]) -> float:
    """The median (NaN for no values)."""
    return statistics.median(values) if values else math.nan


def percentile(values: Sequence[float], pct: float) -> float:
    """Linear-interpolated percentile, as numpy's default (``pct`` in 0..100).

    Example:
        >>> percentile([1.0, 2.0, 3.0, 4.0], 50)
        2.5
    """
    if not values:
        return math.nan
    ordered = sorted(values)
    pos = (len(ordered) - 1) * pct / 100
    low = math.floor(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def size_label(rows: int) -> str:
    """A row count as the table shows it.

    Example:
        >>> size_label(5_000_000), size_label(20_000)
        ('5M', '20,000')
    """
    return f"{rows // 1_000_000}M" if rows % 1_000_000 == 0 else f"{rows:,}"


def _number(value: float) -> str:
    if value >= 100 or value == int(value):
        return f"{value:,.0f}"
    return f"{value:.2g}" if value < 1 else f"{value:.1f}"
