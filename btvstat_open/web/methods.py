"""HTTP methods as readers expect them: ``HEAD`` on every ``GET`` route, ``OPTIONS``, a true ``Allow``.

FastAPI routes answer only the methods they declare, so a ``HEAD`` (which DuckDB's httpfs, GDAL's
``/vsicurl/`` and most download tools send first) was a 405, and a 405 named only the methods of
the first route whose path matched. :class:`MethodsMiddleware` (pure ASGI, outermost) answers:

- ``HEAD`` as the ``GET`` of the same address, with the same status and headers and no body (a
  streamed body is stopped after its first chunk, so a ``HEAD`` of an export costs one batch);
- ``OPTIONS`` with ``204`` and ``Allow`` listing every method some route takes at that path
  (no CORS headers: a cross-site preflight still fails, as the write API needs);
- every 405 with the same ``Allow`` (see :func:`allowed_methods`, used by the error handler).

Example:
    >>> from fastapi import FastAPI
    >>> app = FastAPI()
    >>> @app.get("/x")
    ... def x() -> dict[str, str]:
    ...     return {}
    >>> @app.post("/x")
    ... def y() -> dict[str, str]:
    ...     return {}
    >>> allowed_methods(app.router.routes, {"type": "http", "path": "/x", "method": "PUT"})
    'GET, HEAD, OPTIONS, POST'
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from starlette.routing import BaseRoute, Match

__all__ = ["HEAD_OF", "MethodsMiddleware", "allowed_methods"]

#: the scope key that marks a ``HEAD`` request answered as a ``GET`` (its original method)
HEAD_OF = "btvstat.head"


def allowed_methods(routes: Iterable[BaseRoute], scope: Mapping[str, Any]) -> str:
    """The ``Allow`` header for ``scope``'s path: every method of every route matching it ("" if none).

    ``HEAD`` comes with ``GET``, and ``OPTIONS`` with any route.
    """
    found: set[str] = set()
    # A method no route takes, so every path match is partial; only what routing reads is kept.
    probe = {"type": "http", "path": scope["path"], "root_path": scope.get("root_path", ""), "method": "\x00"}
    for route in _flat(routes):
        match, _ = route.matches(probe)
        methods = getattr(route, "methods", None)
        if match != Match.NONE and methods:
            found.update(methods)
    if not found:
        return ""
    if "GET" in found:
        found.add("HEAD")
    found.add("OPTIONS")
    return ", ".join(sorted(found))


class _HeadSent(Exception):
    """The headers of a ``HEAD`` answer are out: the ``GET`` body behind them is not wanted."""


class MethodsMiddleware:
    """Pure-ASGI middleware answering ``HEAD`` and ``OPTIONS`` for every route (see the module)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        method = scope.get("method") if scope["type"] == "http" else None
        if method == "HEAD":
            await self._head(scope, receive, send)
        elif method == "OPTIONS":
            allow = allowed_methods(_routes(scope), scope)
            if not allow:
                await self.app(scope, receive, send)  # no such route: the app's 404
                return
            headers = [(b"allow", allow.encode()), (b"cache-control", b"public, max-age=3600")]
            await send({"type": "http.response.start", "status": 204, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
        else:
            await self.app(scope, receive, send)

    async def _head(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """Run the ``GET`` and send its status and headers only (the server sends no body for HEAD)."""
        done = False

        async def headers_only(message: dict[str, Any]) -> None:
            nonlocal done
            if done:
                raise _HeadSent
            if message["type"] == "http.response.body":
                done = True
                await send({"type": "http.response.body", "body": b"", "more_body": False})
                if message.get("more_body", False):
                    raise _HeadSent  # stop the stream: nothing more will be sent
                return
            await send(message)

        try:
            await self.app({**scope, "method": "GET", HEAD_OF: True}, receive, headers_only)
        except _HeadSent:
            return


def _flat(routes: Iterable[Any]) -> Iterator[Any]:
    """Every route, with the routers FastAPI keeps included ones in opened up."""
    for route in routes:
        if hasattr(route, "effective_candidates"):  # an included router
            yield from _flat(route.effective_candidates())
            yield from route.effective_low_priority_routes()
        else:
            yield route


def _routes(scope: dict[str, Any]) -> Iterable[BaseRoute]:
    app = scope.get("app")
    router = getattr(app, "router", None)
    return list(getattr(router, "routes", ()))
