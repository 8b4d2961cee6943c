"""The uvicorn configuration ``btvstat-open serve`` runs with: timeouts and a connection cap.

uvicorn closes idle keep-alive connections (``timeout_keep_alive``) and answers 503 past
``limit_concurrency``, but waits for ever for a client that opens a connection and sends its
headers or body slowly. :func:`server_config` adds both deadlines to uvicorn's httptools
protocol: a connection whose request headers are not in within ``http_header_timeout_seconds``
(from connecting or from the previous response), or whose body is not in within
``http_body_timeout_seconds`` of its headers, is closed.

Example:
    >>> config = server_config(app, Settings(), "127.0.0.1", 8000)
    >>> uvicorn.Server(config).run()  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
from typing import Any

import uvicorn

from btvstat_open.web.settings import Settings

__all__ = ["server_config"]


def _deadline_protocol(header_seconds: float, body_seconds: float) -> type[Any]:
    """uvicorn's httptools protocol with read deadlines for headers and bodies."""
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    class DeadlineProtocol(HttpToolsProtocol):  # type: ignore[misc]
        _deadline: asyncio.TimerHandle | None = None

        def _arm(self, seconds: float) -> None:
            self._disarm()
            self._deadline = self.loop.call_later(seconds, self._expire)

        def _disarm(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def _expire(self) -> None:
            self._deadline = None
            if not self.transport.is_closing():
                self.transport.close()

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm(header_seconds)

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def on_headers_complete(self) -> None:
            super().on_headers_complete()
            self._arm(body_seconds)

        def on_message_complete(self) -> None:
            super().on_message_complete()
            self._disarm()  # the whole request is in: the app has it, no read deadline

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing():
                self._arm(header_seconds)  # the next request's headers

    return DeadlineProtocol


def server_config(app: Any, settings: Settings, host: str, port: int, **options: Any) -> uvicorn.Config:
    """uvicorn's config for ``app`` with the ``http_*`` settings' timeouts and connection cap.

    Example:
        >>> config = server_config(object(), Settings(http_max_connections=64), "127.0.0.1", 8000)
        >>> (config.limit_concurrency, config.timeout_keep_alive)
        (64, 5)
    """
    try:
        http: Any = _deadline_protocol(
            settings.http_header_timeout_seconds, settings.http_body_timeout_seconds
        )
    except ImportError:  # without httptools, uvicorn's h11 protocol (no header/body deadlines)
        http = "h11"
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http=http,
        timeout_keep_alive=settings.http_keep_alive_seconds,
        limit_concurrency=settings.http_max_connections,
        h11_max_incomplete_event_size=64 * 1024,
        **options,
    )
