"""Turning a KPI's measure series into words and rows people read.

Everything here is a pure function of a :class:`~catalog.Kpi` and its series (the Arrow table
``measure`` returns): formatted values with units, period labels, status labels and symbols, the
latest value with its change since the previous period. Charts, pages and the API all use these
so a value reads the same everywhere.

Example:
    >>> from datetime import date
    >>> period_label("quarter", date(2025, 4, 1), date(2025, 6, 30))
    'Q2 2025'
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import Any, Final

import pyarrow as pa

from btvstat_open.i18n import _, format_date, format_decimal, format_month, ngettext
from btvstat_open.i18n.formats import in_digits, percent_sign
from catalog.localized import Fallback, join_marked, marked
from catalog.models import Kpi
from catalog.periods import next_period, period_end, period_start
from catalog.status import STATUSES, Status
from catalog.targets import future_targets

__all__ = [
    "STATUSES",
    "STATUS_LABELS",
    "STATUS_SYMBOLS",
    "ChartNote",
    "Row",
    "Summary",
    "chart_notes",
    "format_value",
    "period_label",
    "rows",
    "summarize",
    "with_future_targets",
]


class _Labels(Mapping[str, str]):
    """Each status's label, read in the current locale at every lookup."""

    def __getitem__(self, status: str) -> str:
        return Status(status).label

    def __iter__(self) -> Iterator[str]:
        return iter(STATUSES)

    def __len__(self) -> int:
        return len(STATUSES)

    def get(self, status: str, default: Any = None) -> Any:  # type: ignore[override]
        return self[status] if status in _STATUS_VALUES else default


_STATUS_VALUES: Final = frozenset(str(s) for s in STATUSES)
STATUS_LABELS: Final[Mapping[str, str]] = _Labels()
# Shown next to the label so status never depends on colour alone (same shapes as the charts).
STATUS_SYMBOLS: Final[dict[str, str]] = {
    Status.ON_TRACK: "●",
    Status.NEAR_TARGET: "◆",
    Status.OFF_TRACK: "▼",
    Status.NO_TARGET: "■",
    Status.NO_DATA: "○",
}
_PERCENT_UNITS: Final = {"%", "percent", "pct"}


def format_value(value: float | None, kpi: Kpi, *, signed: bool = False, difference: bool = False) -> str:
    """A value rounded to the KPI's decimals, with thousands separators and its unit.

    A ``difference`` of percentages is in percentage points: from 98 % to 97 % is
    ``-1.0 point``, not ``-1%`` (which would be 1 % of 98).

    Example:
        >>> from catalog import Kpi
        >>> k = Kpi.model_validate({"id": "x", "title": "X", "department": "D", "unit": "days",
        ...     "decimals": 1, "source": {"dataset": "d", "date_column": "c"},
        ...     "measure": {"calculation": "count"}})
        >>> format_value(1234.56, k)
        '1,234.6 days'
        >>> format_value(None, k)
        'No data'
        >>> pct = k.model_copy(update={"unit": "%"})
        >>> [format_value(v, pct, signed=True, difference=True) for v in (-1.0, 2.5)]
        ['-1.0 point', '+2.5 points']
    """
    if value is None:
        return _("No data")
    rounded = round(value, kpi.decimals) + 0.0  # + 0.0 turns -0.0 into 0.0
    sign = "+" if signed and rounded > 0 else ""
    number = sign + format_decimal(rounded, kpi.decimals)
    unit = kpi.unit.strip()
    if not unit:
        return number
    if unit.lower() in _PERCENT_UNITS:
        if difference:
            return ngettext("%(number)s point", "%(number)s points", 1 if abs(rounded) == 1 else 2) % {
                "number": number
            }
        # the sign as the locale's numbering system writes it (format_percent's, Arabic ٪)
        return (_("%(number)s%%") % {"number": number}).replace("%", percent_sign())
    # A unit in the default language (no translation) keeps its lang in HTML.
    shown = Fallback(unit, kpi.unit.lang) if isinstance(kpi.unit, Fallback) else unit
    return marked(_("%(number)s %(unit)s"), {"number": number, "unit": shown})


def period_label(size: str, start: date, end: date) -> str:
    """How a period is named on axes, in tables and tooltips.

    Example:
        >>> period_label("fiscal_year", date(2012, 7, 1), date(2013, 6, 30))
        'FY2013'
    """
    if size == "week":
        return _("Week of %(day)s") % {"day": format_date(start)}
    if size == "month":
        return format_month(start)
    if size == "quarter":  # the locale's digits (Arabic-Indic in Arabic), as in formatted dates
        return in_digits(
            _("Q%(quarter)d %(year)d") % {"quarter": (start.month - 1) // 3 + 1, "year": start.year}
        )
    if size == "fiscal_year":
        return in_digits(_("FY%(year)d") % {"year": end.year})
    return in_digits(str(start.year))


@dataclass(frozen=True)
class Row:
    """One period of a series, with every label already formatted."""

    period_start: date
    period_end: date
    period: str
    value: float | None
    value_label: str
    target: float | None
    target_label: str
    status: str
    status_label: str
    # A target still to come (drawn dashed): set on future rows and on the last period, where the
    # dashed line starts.
    future_target: float | None = None
    # The period has not ended (include_current: true): its value and status may still change.
    provisional: bool = False

    def record(self) -> dict[str, Any]:
        """The row as chart data: ISO dates, numbers, labels."""
        return {
            "period_start": self.period_start.isoformat(),
            "period_end": self.period_end.isoformat(),
            "period": self.period,
            "value": self.value,
            "value_label": self.value_label,
            "target": self.target,
            "target_label": self.target_label,
            "status": self.status,
            "status_label": self.status_label,
            "future_target": self.future_target,
        }


def rows(kpi: Kpi, series: pa.Table, *, today: date | None = None) -> list[Row]:
    """The series as :class:`Row` objects ordered by period; with ``today``, a period that has not
    ended by then is marked provisional (its status label says so).

    Example:
        >>> rows(kpi, series)[-1].status_label
        'On track'
        >>> rows(kpi, series, today=date(2020, 2, 26))[-1].status_label
        'On track (provisional)'
    """
    out: list[Row] = []
    for rec in sorted(series.to_pylist(), key=lambda r: r["period_start"]):
        value = _number(rec.get("value"))
        target = _number(rec.get("target"))
        status = rec.get("status") or ("no_data" if value is None else "no_target")
        provisional = today is not None and rec["period_end"] >= today
        label = STATUS_LABELS.get(status, status) + ((" " + _("(provisional)")) if provisional else "")
        out.append(
            Row(
                period_start=rec["period_start"],
                period_end=rec["period_end"],
                period=period_label(kpi.period.size, rec["period_start"], rec["period_end"]),
                value=value,
                value_label=format_value(value, kpi),
                target=target,
                target_label=_("No target") if target is None else format_value(target, kpi),
                status=status,
                status_label=label,
                provisional=provisional,
            )
        )
    return out


def _number(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return None if number != number else number  # NaN means no data


@dataclass(frozen=True)
class Summary:
    """The latest period with data and how it compares with the one before it."""

    latest: Row | None
    previous: Row | None
    change: float | None
    change_label: str
    trend: str  # "better", "worse", "same" or "" (no direction or no change to compare)

    @property
    def status(self) -> str:
        """The latest period's status (``no_data`` when nothing has data)."""
        return self.latest.status if self.latest else "no_data"

    @property
    def status_label(self) -> str:
        """The latest status in words (``(provisional)`` for a period still in progress)."""
        return self.latest.status_label if self.latest else STATUS_LABELS.get(self.status, self.status)

    @property
    def status_symbol(self) -> str:
        """The latest status's shape, matching the charts."""
        return STATUS_SYMBOLS.get(self.status, "")


def summarize(kpi: Kpi, series_rows: list[Row]) -> Summary:
    """Latest value, change since the previous period and whether that change is good.

    Example:
        >>> summarize(kpi, rows(kpi, series)).change_label
        '▼ -3.0 days since Week of Feb 17, 2020'
    """
    with_data = [r for r in series_rows if r.value is not None]
    latest = with_data[-1] if with_data else None
    previous = with_data[-2] if len(with_data) > 1 else None
    if latest is None or previous is None or latest.value is None or previous.value is None:
        return Summary(latest, previous, None, _("No earlier period to compare"), "")
    change = latest.value - previous.value
    arrow = "▲" if change > 0 else "▼" if change < 0 else "="
    change_text = format_value(change, kpi, signed=True, difference=True)
    since = marked(_("%(change)s since %(period)s"), {"change": change_text, "period": previous.period})
    label = join_marked([arrow, since], " ")
    trend = ""
    if change == 0:
        trend = "same"
    elif kpi.direction != "none":
        up_is_good = kpi.direction == "higher_is_better"
        trend = "better" if (change > 0) == up_is_good else "worse"
    return Summary(latest, previous, change, label, trend)


def with_future_targets(kpi: Kpi, series_rows: list[Row], today: date, fiscal_year_start: int) -> list[Row]:
    """The rows a chart draws: the series, then one row per future target entry (no value, only
    ``future_target``), so the dashed step line runs on from the last period's target.

    Example:
        >>> chart_rows = with_future_targets(kpi, rows(kpi, series), date(2020, 3, 1), 7)
        >>> chart_rows[-1].period
        'Week of Jul 6, 2020'
    """
    entries = future_targets(kpi.target, today)
    if not entries or not series_rows:
        return series_rows
    size = kpi.period.size
    last = series_rows[-1]
    joined = replace(last, future_target=last.target if last.target is not None else entries[0].value)
    out = [*series_rows[:-1], joined]
    starts = [period_start(entry.start, size, fiscal_year_start) for entry in entries]
    # One more period after the last entry, so its step has a width.
    ends = [*starts[1:], next_period(starts[-1], size)]
    for entry, start, shown_until in zip(entries, starts, ends, strict=True):
        if start <= last.period_start:
            continue
        for day in (start, shown_until) if shown_until == ends[-1] else (start,):
            end = period_end(day, size, fiscal_year_start)
            label = _("%(target)s (future)") % {"target": format_value(entry.value, kpi)}
            out.append(
                Row(day, end, period_label(size, day, end), None, _("No data yet"), None, label,
                    "no_data", _("Future target"), future_target=entry.value)
            )  # fmt: skip
    return out


@dataclass(frozen=True)
class ChartNote:
    """A note placed on a chart: its day, the period (row) it falls in, its number and its words."""

    day: date
    row: int  # index of the row whose period holds the day
    number: int
    label: str  # "Note 1, Feb 3, 2020: Second crew added" (the mark's accessible label)

    def record(self, series_rows: list[Row]) -> dict[str, Any]:
        """As chart data, with the x fields both axis kinds use."""
        row = series_rows[self.row]
        number = in_digits(str(self.number))  # drawn as text: in the page's digits
        return {"period_start": self.day.isoformat(), "period": row.period, "number": number,
                "label": self.label}  # fmt: skip


def chart_notes(kpi: Kpi, series_rows: list[Row]) -> list[ChartNote]:
    """The KPI's notes that fall within the charted periods, numbered in date order.

    Example:
        >>> [n.label for n in chart_notes(kpi, rows(kpi, series))]
        ['Note 1, Jan 27, 2020: Requests more than doubled this week (1,168 against 542 the week before)']
    """
    out: list[ChartNote] = []
    for note in sorted(kpi.notes, key=lambda n: n.date):
        index = next(
            (i for i, r in enumerate(series_rows) if r.period_start <= note.date <= r.period_end), None
        )
        if index is None:
            continue
        number = len(out) + 1
        message = _("Note %(number)d, %(day)s: %(text)s").replace("%(number)d", "%(number)s")
        label = marked(  # the locale's digits; a note in the default language keeps its lang in HTML
            message, {"number": in_digits(str(number)), "day": format_date(note.date), "text": note.text}
        )
        out.append(ChartNote(note.date, index, number, label))
    return out
