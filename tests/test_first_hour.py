"""What a newcomer meets in the first hour: percent changes in points, the KPI key reference that
cannot drift from the models, and the README's first commands."""

from __future__ import annotations

from datetime import date

import pyarrow as pa

from catalog.models import Kpi
from widgets.summary import rows, summarize


def test_a_percent_kpis_change_is_in_points() -> None:
    kpi = Kpi.model_validate(
        {
            "id": "response-5-minutes",
            "title": "Calls answered within 5 minutes",
            "department": "Fire",
            "unit": "%",
            "decimals": 0,
            "source": {"dataset": "calls", "date_column": "day"},
            "measure": {"calculation": "count"},
        }
    )
    series = pa.table(
        {
            "period_start": [date(2020, 1, 1), date(2020, 2, 1)],
            "period_end": [date(2020, 1, 31), date(2020, 2, 29)],
            "value": [98.0, 97.0],
            "target": [None, None],
            "status": ["no_target", "no_target"],
        }
    )
    label = summarize(kpi, rows(kpi, series)).change_label
    assert "-1 point since Jan 2020" in label and "%" not in label
