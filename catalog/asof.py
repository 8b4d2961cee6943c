"""The day a catalog is computed as of: "today", or a frozen day for a demo or an archive.

``--as-of DATE`` on the command line wins over ``as_of:`` in ``catalog.yaml``, which wins over the
local date. Everything below the command line and the app takes that day as an explicit ``today``
argument: :func:`catalog.measure.measure` leaves out rows dated after it, judges which periods have
ended against it, and the program's flags (overdue actions, stale data) are judged on it too.

Example:
    >>> from catalog.models import CatalogSettings
    >>> today_for(CatalogSettings(as_of=date(2020, 3, 2)))
    datetime.date(2020, 3, 2)
    >>> today_for(CatalogSettings(as_of=date(2020, 3, 2)), as_of="2020-01-31")
    datetime.date(2020, 1, 31)
"""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import date

from btvstat_open.errors import UsageError
from catalog.models import Catalog, CatalogSettings
from catalog.models.settings import AS_OF_RANGE

__all__ = ["AS_OF_RANGE", "check_as_of", "frozen_at", "parse_as_of", "today_for"]


def check_as_of(day: date, *, name: str = "as_of") -> date:
    """``day`` when it lies in :data:`AS_OF_RANGE`; else a :class:`UsageError` that names the range.

    Example:
        >>> check_as_of(date(2020, 3, 2))
        datetime.date(2020, 3, 2)
        >>> check_as_of(date(1, 1, 1))  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        btvstat_open.errors.UsageError: as_of=0001-01-01 is out of range: give a day from 1900-01-01 ...
    """
    low, high = AS_OF_RANGE
    if not low <= day <= high:
        raise UsageError(
            f"{name}={day.isoformat()} is out of range: give a day from {low.isoformat()} to "
            f"{high.isoformat()}, e.g. {name}=2020-03-02."
        )
    return day


def parse_as_of(text: str) -> date:
    """An ``--as-of`` value: an ISO date (``YYYY-MM-DD``); anything else is a :class:`UsageError`.

    Example:
        >>> parse_as_of("2020-03-02")
        datetime.date(2020, 3, 2)
        >>> parse_as_of("03/02/2020")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        btvstat_open.errors.UsageError: as_of='03/02/2020' is not a date: ...
    """
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(
            f"as_of={text[:40]!r} is not a date: write it as YYYY-MM-DD, e.g. as_of='2020-03-02'."
        ) from None
    return check_as_of(day)


def today_for(settings: CatalogSettings, as_of: date | str | None = None) -> date:
    """The day to compute as of: ``as_of`` (e.g. ``--as-of``), else ``settings.as_of``, else today.

    ``as_of`` may be a date or its ISO text (as the command line passes it).

    Example:
        >>> today_for(CatalogSettings(), as_of=date(2019, 12, 31))
        datetime.date(2019, 12, 31)
        >>> today_for(CatalogSettings()) == date.today()
        True
    """
    if isinstance(as_of, str):
        return parse_as_of(as_of)
    if as_of is not None:
        return check_as_of(as_of)
    if settings.as_of is not None:
        return settings.as_of
    return date.today()


def frozen_at(catalog: Catalog, as_of: date | str | None) -> Catalog:
    """The catalog with ``as_of`` in its settings (``--as-of`` on ``serve``); unchanged for None.

    The version changes with the day, so caches and ETags made for another day are not reused.

    Example:
        >>> from pathlib import Path
        >>> plain = Catalog(Path("."), CatalogSettings(), {}, version="abc")
        >>> frozen = frozen_at(plain, "2020-03-02")
        >>> today_for(frozen.settings), frozen.version != plain.version
        (datetime.date(2020, 3, 2), True)
    """
    if as_of is None:
        return catalog
    day = parse_as_of(as_of) if isinstance(as_of, str) else check_as_of(as_of)
    settings = catalog.settings.model_copy(update={"as_of": day})
    version = hashlib.sha256(f"{catalog.version}|as_of={day.isoformat()}".encode()).hexdigest()[:16]
    return dataclasses.replace(catalog, settings=settings, version=version)
