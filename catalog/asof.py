"""The day a catalog is computed as of: "today", or a frozen day for a demo or an archive.

``--as-of DATE`` on the command line wins over ``as_of:`` in ``catalog.yaml``, which wins over the
local date. A day in the past means the data **as known then**: each dataset as the store held it
at the end of that day (:func:`known_dataset`), then rows dated after the day are left out; before
a dataset's history begins its first recorded version stands in, and :func:`history_note` says so.
Everything below the command line and the app takes that day as an explicit ``today``
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
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime

from markupsafe import escape

from btvstat_open.errors import UsageError
from btvstat_open.i18n import _
from btvstat_open.i18n.formats import format_iso_date, isolate
from btvstat_open.store import DatasetInfo, Store, as_utc
from btvstat_open.store.known import end_of_day
from catalog.models import Catalog, CatalogSettings
from catalog.models.catalog_yaml import AS_OF_RANGE

__all__ = [
    "AS_OF_RANGE",
    "check_as_of",
    "dataset_as_known",
    "frozen_at",
    "history_note",
    "known_dataset",
    "parse_as_of",
    "today_for",
]


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


def known_dataset(store: Store, dataset_id: str, today: date) -> DatasetInfo:
    """The dataset as the store knew it at the end of ``today`` (UTC): its ``table`` reads those rows.

    Example:
        >>> known = known_dataset(store, "kc-311-potholes", date.today())
        >>> known.row_count == store.info("kc-311-potholes").row_count
        True
    """
    from catalog.data_checks import held_at

    at, held = end_of_day(today), held_at(store, dataset_id)
    # A dataset held back by a data check stays published as it was before the failing write.
    return store.known(dataset_id, min(at, held) if held is not None else at)


def dataset_as_known(store: Store, dataset_id: str, today: date) -> DatasetInfo:
    """What an export as of ``today`` says of a dataset: as known at the end of that day (its row
    count and last write then, see :func:`known_dataset`; before its history begins, its first
    recorded version stands in).

    Metadata changes are not kept in history: one later than the day reads as the last write then.

    Example:
        >>> dataset_as_known(store, "kc-311-potholes", date.today()).row_count == info.row_count
        True
    """
    known = known_dataset(store, dataset_id, today)
    if as_utc(known.view_last_modified) <= end_of_day(today):
        return known
    return dataclasses.replace(known, view_last_modified=known.rows_updated_at)


def history_note(store: Store, dataset_ids: Iterable[str], today: date, *, html: bool = False) -> str | None:
    """What a page, packet or export computed as of a past day says about the data behind it.

    None for today (or a later day); else the day the data is as known on, and from which day
    each dataset's history runs where that is later (its first recorded version then stands in).
    ``html`` gives the note for a page (Markup): its days in the locale's digits and each dataset
    id isolated (``<bdi>``), so a left-to-right id keeps its place in a right-to-left sentence;
    without it the note is plain text with ASCII days, as downloads carry it.

    Example:
        >>> history_note(store, ["kc-311-potholes"], date.today()) is None
        True
        >>> from btvstat_open.i18n import use_locale
        >>> with use_locale("ar"):
        ...     history_note(store, [], date(2020, 3, 2), html=True)
        Markup('البيانات كما عرفها المخزن في نهاية ٢٠٢٠-٠٣-٠٢.')
    """
    if today >= datetime.now(UTC).date():
        return None
    text: Callable[[str], str] = escape if html else str
    run: Callable[[str], str] = isolate if html else str
    day: Callable[[date], str] = format_iso_date if html else date.isoformat
    late = []
    for dataset_id in dict.fromkeys(dataset_ids):
        if not store.exists(dataset_id):
            continue
        since = getattr(known_dataset(store, dataset_id, today), "history_since", None)
        if since is not None and since.date() > today:
            late.append(
                text(_("%(dataset)s from %(day)s")) % {"dataset": run(dataset_id), "day": day(since.date())}
            )
    note = text(_("Data as the store knew it at the end of %(day)s.")) % {"day": day(today)}
    if late:
        note += " " + text(
            _(
                "History runs only from a later day (%(datasets)s): the first recorded version of those "
                "datasets stands in."
            )
        ) % {"datasets": text(", ").join(late)}
    return note
