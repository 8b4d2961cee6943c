"""Reading a moment in time written as ISO 8601 text: the one parser every package uses.

Portals write stamps as ``2024-01-31T08:00:00Z``, ``2024-01-31T08:00:00.000+00:00`` or, as
CKAN does, ``2017-07-05T19:29:07.136124`` (UTC without a zone). :func:`parse_instant` reads all of
them as a zone-aware UTC ``datetime`` (text without a zone is taken as UTC).

Example:
    >>> parse_instant("2024-01-31T08:00:00Z")
    datetime.datetime(2024, 1, 31, 8, 0, tzinfo=datetime.timezone.utc)
    >>> parse_instant("2024-01-31T09:00:00+01:00") == parse_instant("2024-01-31T08:00:00")
    True
    >>> parse_instant("last Tuesday"), parse_instant(None)
    (None, None)
"""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["instant", "parse_instant"]


def parse_instant(value: object) -> datetime | None:
    """An ISO 8601 date or timestamp as an aware UTC datetime; None for anything else."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def instant(text: str) -> datetime:
    """:func:`parse_instant` for text that must be a moment: anything else is a ``ValueError``.

    Example:
        >>> instant("2024-01-31T23:59:59.999Z").isoformat()
        '2024-01-31T23:59:59.999000+00:00'
    """
    moment = parse_instant(text)
    if moment is None:
        raise ValueError(f"{text!r} is not an ISO 8601 moment such as 2024-01-31T08:00:00Z")
    return moment
