"""The words the widgets show for catalog values (kinds, periods, action states, flags), marked for
translation and looked up in the current locale when a page is drawn.

Example:
    >>> from btvstat_open.i18n import use_locale
    >>> with use_locale("es"):
    ...     kind_label("outcome"), period_name("fiscal_year"), word("In force")
    ('Medida de resultado', 'año fiscal', 'Vigente')
    >>> kind_label("outcome"), period_name("week")
    ('Outcome measure', 'week')
"""

from __future__ import annotations

from typing import Final

from btvstat_open.i18n import gettext, lazy

__all__ = ["KIND_LABELS", "PERIOD_NAMES", "kind_label", "period_name", "word"]

KIND_LABELS: Final = {
    "outcome": lazy("Outcome measure"),
    "output": lazy("Output measure"),
    "efficiency": lazy("Efficiency measure"),
    "input": lazy("Input measure"),
    "quality": lazy("Quality measure"),
    "equity": lazy("Equity measure"),
}
PERIOD_NAMES: Final = {
    "week": lazy("week"),
    "month": lazy("month"),
    "quarter": lazy("quarter"),
    "year": lazy("year"),
    "fiscal_year": lazy("fiscal year"),
}
# Values shown through ``_()`` in templates: target states, action states, peer flags.
WORDS: Final = (
    lazy("In force"),
    lazy("Future"),
    lazy("Past"),
    lazy("Open"),
    lazy("Done"),
    lazy("Dropped"),
    lazy("Closed"),
    lazy("Failed"),
    lazy("Stale"),
    lazy("Not synced"),
    # how often new data is expected (a KPI's `expect:`)
    lazy("daily"),
    lazy("weekly"),
    lazy("monthly"),
    lazy("quarterly"),
    lazy("yearly"),
)


def kind_label(kind: str) -> str:
    """A KPI kind in words (``Outcome measure``)."""
    return gettext(KIND_LABELS[kind]) if kind in KIND_LABELS else kind


def period_name(size: str) -> str:
    """A period size in words (``fiscal year``)."""
    return gettext(PERIOD_NAMES.get(size, size.replace("_", " ")))


def word(text: str) -> str:
    """One of :data:`WORDS` (or any message) in the current locale."""
    return gettext(text)
