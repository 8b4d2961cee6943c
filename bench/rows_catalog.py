"""Row 7: the catalog's own numbers (measuring every demo KPI, validating a 1,000-KPI catalog).

The measurements live in :mod:`bench.bench_catalog` (``run(quick) -> list[dict]``), next to the code
they measure; this module turns each dict into a table row. A dict has ``work`` and the measured
``ours`` (or ``value``) and may have ``unit``, ``peer``, ``peer_name``, ``higher_is_better``, ``goal``
(text such as ``"<= 60 ms"`` or a dict with ``kind`` and ``value``), ``samples`` and ``notes``.

Example:
    >>> to_result({"work": "validate 1,000 KPIs", "ours": 812.0, "unit": "ms", "goal": "<= 2000 ms"}).met
    True
"""

from __future__ import annotations

import re
from typing import Any

from bench.harness import Goal, Result

__all__ = ["catalog_rows", "to_result"]

_GOAL = re.compile(r"^\s*(<=|>=)\s*([\d.,]+)\s*(x|[^\d\s].*)?$")


def _goal(spec: Any, higher_is_better: bool) -> Goal | None:
    if spec is None or spec == "":
        return None
    if isinstance(spec, dict):
        return Goal(spec["kind"], float(spec["value"]), str(spec.get("unit", "")))
    if isinstance(spec, int | float):
        return Goal("min" if higher_is_better else "max", float(spec))
    match = _GOAL.match(str(spec))
    if not match:
        raise ValueError(
            f"cannot read the goal {spec!r}: write it as '<= 60 ms', '>= 1000 req/s' or '>= 10x'"
        )
    sign, number, unit = (
        match.group(1),
        float(match.group(2).replace(",", "")),
        (match.group(3) or "").strip(),
    )
    if unit == "x":
        return Goal("ratio", number)
    return Goal("max" if sign == "<=" else "min", number, unit)


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def to_result(row: dict[str, Any]) -> Result:
    """One benchmark row from a dict of :func:`bench.bench_catalog.run`."""
    unit = str(row.get("unit", ""))
    higher = bool(row.get("higher_is_better", unit.endswith("/s")))
    samples = row.get("samples") or {}
    if isinstance(samples, list):
        samples = {"ours": [float(v) for v in samples]}
    return Result(
        group=str(row.get("group", "catalog")),
        work=str(row["work"]),
        unit=unit,
        ours=_number(row.get("ours", row.get("value"))),
        peer=_number(row.get("peer")),
        peer_name=str(row.get("peer_name", "")),
        higher_is_better=higher,
        goal=_goal(row.get("goal"), higher),
        samples={str(k): [float(v) for v in vs] for k, vs in samples.items()},
        notes=str(row.get("notes", "")),
    )


def catalog_rows(*, quick: bool) -> list[Result]:
    """The catalog benchmark's rows."""
    import bench.bench_catalog as bench_catalog

    return [to_result(row) for row in bench_catalog.run(quick)]
