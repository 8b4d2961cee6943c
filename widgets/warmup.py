"""Warming up the chart renderer as the server starts, so that first chart requests are quick.

vl-convert starts its JavaScript engine on first use (a few seconds), and the engine compiles
Vega's code to fast machine code only after running it a few times. So the server renders a few
made-up charts in a background thread when it starts: each chart and axis kind, on invented
numbers, nothing from the catalog. No KPI is rendered ahead of time; every KPI's image is still
drawn from its data on its first request.

Example:
    >>> thread = warm_up_in_background()
    >>> thread.join()
    >>> warm_up_in_background() is thread  # once per process
    True
"""

from __future__ import annotations

import logging
import threading
from datetime import date, timedelta
from typing import Any

import pyarrow as pa

from btvstat_open.errors import BtvstatError
from catalog.models import Kpi
from widgets.images import image_svg

__all__ = ["warm_up", "warm_up_in_background"]

_log = logging.getLogger(__name__)
_started = threading.Lock()
_thread: threading.Thread | None = None
_KINDS = [(chart, period) for chart in ("line", "bar", "area") for period in ("week", "month", "quarter")]


def _made_up(chart: str, period: str) -> tuple[Kpi, pa.Table]:
    """An invented KPI and a 12-period series with every status."""
    kpi = Kpi.model_validate(
        {
            "id": f"warm-up-{chart}-{period}",
            "title": "Warm-up chart",
            "department": "None",
            "unit": "days",
            "direction": "lower_is_better",
            "target": {"value": 10, "tolerance": 2},
            "period": {"size": period},
            "chart": chart,
            "source": {"dataset": "none", "date_column": "none"},
            "measure": {"calculation": "count"},
        }
    )
    step = {"week": 7, "month": 31, "quarter": 92}[period]
    starts = [date(2024, 1, 1) + timedelta(days=step * i) for i in range(12)]
    values: list[float | None] = [8.0, 11.0, 14.0, None, 9.0, 10.5, 12.5, 7.0, 6.0, 13.0, 9.5, 11.5]
    status = [
        "no_data" if v is None else "on_track" if v <= 10 else "near_target" if v <= 12 else "off_track"
        for v in values
    ]
    columns: dict[str, Any] = {
        "period_start": pa.array(starts, pa.date32()),
        "period_end": pa.array([s + timedelta(days=step - 1) for s in starts], pa.date32()),
        "value": pa.array(values, pa.float64()),
        "target": pa.array([10.0] * 12, pa.float64()),
        "status": status,
    }
    return kpi, pa.table(columns)


def warm_up(rounds: int = 2) -> None:
    """Render every made-up chart ``rounds`` times in both themes (blocks; seconds on first use)."""
    charts = [_made_up(chart, period) for chart, period in _KINDS]
    for round_number in range(rounds):
        for kpi, series in charts:
            image_svg(kpi, series, theme="dark" if round_number % 2 else "light")


def _run() -> None:
    try:
        warm_up()
    except BtvstatError:  # a failed warm-up only means slower first charts; requests report real errors
        _log.warning("Warming up the chart renderer failed", exc_info=True)


def warm_up_in_background() -> threading.Thread:
    """Start :func:`warm_up` in a daemon thread, once per process; returns that thread."""
    global _thread
    with _started:
        if _thread is None:
            _thread = threading.Thread(target=_run, name="chart-warm-up", daemon=True)
            _thread.start()
        return _thread
