"""Conditional answers: ``ETag`` and ``Last-Modified`` on downloads and catalog documents, and 304s.

A client that kept a copy sends ``If-None-Match`` (its ETag) or ``If-Modified-Since`` (its
``Last-Modified``); :func:`not_modified` says whether that copy is current, so the answer is a
``304`` with no body. :func:`document_response` does it for a JSON document made on request
(``/data.json``, ``/datapackage.json``): its ETag is a hash of its bytes, its ``Last-Modified``
the newest change of the datasets it describes.

Example:
    >>> response = document_response(Request({"type": "http", "headers": []}), b"{}", None)
    >>> response.status_code, response.headers["etag"]
    (200, '"2afb9b83f9314e5d029766197f539792"')
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from btvstat_open.store import DatasetInfo, as_utc

__all__ = [
    "document_response",
    "last_modified",
    "last_modified_header",
    "newest_change",
    "newest_modified",
    "not_modified",
]

JSON_TYPE = "application/json; charset=utf-8"


def newest_change(infos: Iterable[DatasetInfo]) -> datetime | None:
    """The latest change (rows or metadata) of any of these datasets; None for none.

    Example:
        >>> newest_change([info]) == max(info.rows_updated_at, info.view_last_modified)
        True
    """
    return max((max(i.rows_updated_at, i.view_last_modified) for i in infos), default=None)


def newest_modified(entries: Iterable[Mapping[str, Any]]) -> datetime | None:
    """The latest ``modified`` (ISO 8601) of DCAT entries, e.g. a ``data.json``'s ``dataset``.

    Example:
        >>> newest_modified([{"modified": "2020-01-07T10:00:00Z"}, {"modified": "2021-02-01"}, {}])
        datetime.datetime(2021, 2, 1, 0, 0, tzinfo=datetime.timezone.utc)
    """
    moments = []
    for entry in entries:
        try:
            moment = datetime.fromisoformat(str(entry["modified"]))
        except (KeyError, ValueError):
            continue
        moments.append(moment if moment.tzinfo else moment.replace(tzinfo=UTC))  # a day: its start, UTC
    return max(moments, default=None)


def _http_date(moment: datetime) -> tuple[str, int]:
    moment = as_utc(moment).replace(microsecond=0)
    return format_datetime(moment, usegmt=True), int(moment.timestamp())


def last_modified_header(moment: datetime) -> str:
    """``moment`` as an HTTP date (naive means UTC).

    Example:
        >>> last_modified_header(datetime(2020, 1, 7))
        'Tue, 07 Jan 2020 00:00:00 GMT'
    """
    return _http_date(moment)[0]


def document_response(
    request: Request, body: bytes, modified: datetime | None, headers: dict[str, str] | None = None
) -> Response:
    """``body`` (JSON) with an ETag of its bytes and ``modified`` as ``Last-Modified``, or a 304."""
    out = dict(headers or {})
    out["etag"] = f'"{hashlib.blake2b(body, digest_size=16).hexdigest()}"'
    epoch = None
    if modified is not None:
        out["last-modified"], epoch = _http_date(modified)
    out.setdefault("cache-control", "no-cache")
    if not_modified(request, out["etag"], epoch):
        return Response(status_code=304, headers=out)
    return Response(body, media_type=JSON_TYPE, headers=out)


def last_modified(info: DatasetInfo) -> tuple[str, int]:
    """A dataset's ``Last-Modified`` (its rows' or metadata's last change) and the same in epoch seconds.

    Example:
        >>> last_modified(info)[0].endswith(" GMT")
        True
    """
    return _http_date(max(info.rows_updated_at, info.view_last_modified))


def not_modified(request: Request, etag: str, last_modified_epoch: int | None) -> bool:
    """Whether the client's copy is current (``If-None-Match``, else ``If-Modified-Since``).

    Without a ``Last-Modified`` (``last_modified_epoch`` None) only the ETag is compared.

    Example:
        >>> from starlette.requests import Request
        >>> asked = Request({"type": "http", "headers": [(b"if-none-match", b'W/"a", "b"')]})
        >>> not_modified(asked, '"b"', 0), not_modified(asked, '"c"', 0)
        (True, False)
    """
    match = request.headers.get("if-none-match")
    if match is not None:
        tags = [t.strip().removeprefix("W/") for t in match.split(",")]
        return "*" in tags or etag in tags
    since = request.headers.get("if-modified-since")
    if since and last_modified_epoch is not None:
        try:
            moment = parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False
        return moment.tzinfo is not None and last_modified_epoch <= int(moment.timestamp())
    return False
