"""The day a catalog is computed as of: ``--as-of``, else ``as_of:`` in ``catalog.yaml``, else today.

Example:
    >>> from catalog.models import CatalogSettings
    >>> today_for(CatalogSettings(as_of=date(2020, 3, 1))).isoformat()
    '2020-03-01'
    >>> today_for(CatalogSettings(as_of=date(2020, 3, 1)), as_of=date(2020, 2, 1)).isoformat()
    '2020-02-01'
"""

from __future__ import annotations

from datetime import date

from catalog.models import CatalogSettings

__all__ = ["today_for"]


def today_for(settings: CatalogSettings, as_of: date | None = None) -> date:
    """``as_of`` (the command line's ``--as-of``) > the catalog's ``as_of`` > the local date."""
    return as_of or settings.as_of or date.today()
