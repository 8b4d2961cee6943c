"""Error responses in Socrata's shape, for every error the portal or the widgets can meet.

One handler renders every :class:`BtvstatError` with its ``http_status`` and
``to_socrata()`` body; request validation errors, unknown routes and wrong methods get the
same shape; anything unexpected is a 500 with a short message and no traceback.
"""

from __future__ import annotations

import logging
from typing import Any

import duckdb
import orjson
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response

from btvstat_open.errors import BtvstatError, ServerBusy
from btvstat_open.store.engine_errors import engine_error
from btvstat_open.web.methods import HEAD_OF, allowed_methods

__all__ = ["JSON_TYPE", "error_response", "install_error_handlers", "json_response"]

log = logging.getLogger("btvstat_open.web")

JSON_TYPE = "application/json; charset=utf-8"

_HTTP_CODES = {
    400: "bad.request",
    401: "authentication_required",
    403: "permission_denied",
    404: "not.found",
    405: "method.not-allowed",
    406: "not.acceptable",
    413: "request.too-large",
    415: "unsupported.media-type",
}


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON response serialised with orjson.

    Example:
        >>> json_response({"a": 1}).body
        b'{"a":1}'
    """
    return Response(orjson.dumps(body), status_code=status, media_type=JSON_TYPE, headers=headers)


def error_response(status: int, code: str, message: str, data: Any = None) -> Response:
    """A Socrata-shaped error: ``{"code", "error": true, "message", "data"}``.

    Example:
        >>> error_response(404, "not.found", "No such route").status_code
        404
    """
    body: dict[str, Any] = {"code": code, "error": True, "message": message}
    if data is not None:
        body["data"] = data
    return json_response(body, status)


async def _btvstat_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, BtvstatError)
    # No ``WWW-Authenticate`` on a 401: it would make a browser ask for (or replay cached) Basic
    # credentials, so a page on another site could lead it to write. API clients send the token
    # without being challenged.
    headers = None
    if isinstance(exc, ServerBusy):  # clients (and our own connector) wait this long and retry
        headers = {"Retry-After": str(exc.retry_after)}
    if exc.http_status >= 500 and not isinstance(exc, ServerBusy):
        log.error("%s %s failed: %s", request.method, request.url.path, exc.message)
    return json_response(exc.to_socrata(), exc.http_status, headers)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    problems = [
        {"location": [str(part) for part in err.get("loc", ())], "message": str(err.get("msg", ""))}
        for err in exc.errors()
    ]
    summary = "; ".join(f"{'.'.join(p['location'])}: {p['message']}" for p in problems[:5])
    return error_response(400, "bad.request", f"The request is not valid: {summary}", {"errors": problems})


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, "http.error")
    allow = ""
    if exc.status_code == 404:
        message = f"No route {request.url.path!r}. See /docs for the routes this server answers."
    elif exc.status_code == 405:
        method = "HEAD" if request.scope.get(HEAD_OF) else request.method
        allow = allowed_methods(request.app.router.routes, request.scope)
        message = f"{method} is not allowed on {request.url.path!r}; this address takes {allow}."
    else:
        message = str(exc.detail)
    response = error_response(exc.status_code, code, message)
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    if allow:  # every method of every route at this path, not the first route's
        response.headers["allow"] = allow
    return response


async def _engine_error(request: Request, exc: Exception) -> Response:
    """A DuckDB error no route translated: rendered as the server's own error, never its text."""
    assert isinstance(exc, duckdb.Error)
    return await _btvstat_error(request, engine_error(exc, f"{request.method} {request.url.path}"))


async def _unexpected_error(request: Request, exc: Exception) -> Response:
    log.exception("%s %s failed unexpectedly", request.method, request.url.path)
    return error_response(500, "internal.error", "Internal error; the server log has the details.")


def install_error_handlers(app: FastAPI) -> None:
    """Render every error the app meets in Socrata's error shape.

    Example:
        >>> app = FastAPI()
        >>> install_error_handlers(app)
    """
    app.add_exception_handler(BtvstatError, _btvstat_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(duckdb.Error, _engine_error)
    app.add_exception_handler(Exception, _unexpected_error)
