"""``$$as_of=YYYY-MM-DD``: a SODA read of a dataset as the store knew it at the end of that day.

History can hold rows a publisher later deleted, so these reads are for local or signed-in use:
they need the write token (as the portal's writes do). A read as known before the dataset's
history begins reads its first recorded version; ``X-Btvstat-History-Since`` says from when
history runs.

Example:
    >>> as_of_day([("$$as_of", "2020-03-04"), ("$limit", "5")])
    datetime.date(2020, 3, 4)
    >>> as_of_day([("$limit", "5")]) is None
    True
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from fastapi import Request

from btvstat_open.errors import AuthenticationRequired, UsageError
from btvstat_open.portal.auth import has_write_token
from btvstat_open.store import DatasetInfo, Store
from btvstat_open.store.known import end_of_day
from btvstat_open.web.settings import Settings

__all__ = ["AS_OF_PARAMETER", "as_known", "as_of_day", "history_headers"]

#: the request option, Socrata-style (``$$`` options are not SoQL)
AS_OF_PARAMETER = "$$as_of"


def as_of_day(pairs: Sequence[tuple[str, str]]) -> date | None:
    """The day ``$$as_of`` asks for (None without it); a bad date is a 400."""
    values = [v for k, v in pairs if k.lower() == AS_OF_PARAMETER]
    if not values:
        return None
    try:
        return date.fromisoformat(values[-1].strip())
    except ValueError:
        raise UsageError(
            f"{AS_OF_PARAMETER}={values[-1][:40]!r} is not a date: write it as YYYY-MM-DD.",
            code="query.bad-as-of",
        ) from None


def as_known(
    store: Store, settings: Settings, request: Request, info: DatasetInfo, pairs: Sequence[tuple[str, str]]
) -> DatasetInfo:
    """``info`` as known at the end of the ``$$as_of`` day, or ``info`` itself without the option."""
    day = as_of_day(pairs)
    if day is None:
        return info
    if not has_write_token(request, settings):
        raise AuthenticationRequired(
            f"Reading a dataset as known on a past day ({AS_OF_PARAMETER}) needs the write token: send "
            "it as the HTTP Basic password or as 'Authorization: Bearer <token>'."
        )
    return store.known(info.id, end_of_day(day))


def history_headers(info: DatasetInfo) -> dict[str, str]:
    """``X-Btvstat-As-Known`` and ``X-Btvstat-History-Since`` for a read of the past (else none)."""
    known_at = getattr(info, "known_at", None)
    since = getattr(info, "history_since", None)
    if known_at is None:
        return {}
    headers = {"X-Btvstat-As-Known": known_at.isoformat()}
    if since is not None:
        headers["X-Btvstat-History-Since"] = since.isoformat()
    return headers
