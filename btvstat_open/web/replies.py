"""Answer a heavy read (a SoQL query, an export) on the query pool, within the query budget.

:func:`answer` admits the request to the pool (a 503 when it is full), runs its first step on a
worker (plan the query, run it, encode the first batch) while watching the clock and the client,
and streams the rest batch by batch on the same slot; see :mod:`btvstat_open.web.budget`.

Example:
    >>> import requests  # portal_url: the portal's reads answer through answer()
    >>> reply = requests.get(f"{portal_url}/resource/kc-311-potholes.json?$limit=2", timeout=60)
    >>> reply.status_code, len(reply.json()), "ETag" in reply.headers
    (200, 2, True)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import duckdb
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from btvstat_open.web.budget import WorkPool, budgeted_body, check_bytes

__all__ = ["Reply", "answer"]


@dataclass
class Reply:
    """What a first step produced: the first bytes, how to make the rest, and the headers.

    ``rest`` returns the next chunk or None at the end; None for ``rest`` means ``first`` is
    the whole body (sent with a Content-Length).
    """

    first: bytes
    rest: Callable[[], bytes | None] | None
    media_type: str
    headers: dict[str, str] = field(default_factory=dict)
    max_bytes: int | None = None


Start = Callable[[duckdb.DuckDBPyConnection], "Reply | Response"]


async def answer(
    pool: WorkPool,
    request: Request,
    cursor_of: Callable[[], duckdb.DuckDBPyConnection],
    start: Start,
    *,
    seconds: float,
    limit: str,
) -> Response:
    """Run ``start(cursor)`` on ``pool`` within ``seconds`` of worker time and answer with its reply.

    ``cursor_of`` makes the DuckDB connection the request runs on (it is interrupted when the
    time runs out or the client hangs up, and closed when the response ends). ``start`` may
    return a plain :class:`Response` (a 304) instead of a :class:`Reply`.
    """
    slot = pool.admit(seconds=seconds, limit=limit)
    try:
        cursor = cursor_of()
        slot.on_close(cursor.close)
        reply = await slot.run(start, cursor, interrupt=cursor.interrupt, receive=request.receive)
        if isinstance(reply, Response) or reply.rest is None:
            slot.close()
        if isinstance(reply, Response):
            return reply
        check_bytes(len(reply.first), reply.max_bytes)
    except BaseException:
        slot.close()
        raise
    if reply.rest is None:
        return Response(reply.first, media_type=reply.media_type, headers=reply.headers)
    body = budgeted_body(slot, reply.first, reply.rest, interrupt=cursor.interrupt, max_bytes=reply.max_bytes)
    return StreamingResponse(body, media_type=reply.media_type, headers=reply.headers)
