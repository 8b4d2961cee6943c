"""How portals answer errors, read into typed errors: any kind's error bodies, one status map.

:func:`error_from_response` maps 401/403 to :class:`PortalAuthError`, 404 to
:class:`PortalNotFound`, 429/5xx/202 to :class:`PortalUnavailable` and other 4xx to
:class:`PortalRequestError`, with the message and code the body gives (:func:`read_error_body`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
import requests

from btvstat_open.errors import (
    PortalAuthError,
    PortalError,
    PortalNotFound,
    PortalRequestError,
    PortalUnavailable,
)
from connectors.retry import is_retryable_status
from connectors.transport import loads

__all__ = ["ErrorBody", "error_from_response", "parse_json", "read_error_body"]


def parse_json(resp: requests.Response) -> Any:
    """A response's JSON body (a body that does not parse is retried by :meth:`HttpClient.request`).

    Example:
        >>> r = requests.Response(); r._content = b'{"a": 1}'
        >>> parse_json(r)
        {'a': 1}
    """
    return loads(resp.content, f"The answer of {resp.url.split('?')[0] if resp.url else 'the portal'}")


@dataclass(frozen=True)
class ErrorBody:
    """What an error response says: its message, a machine-readable code and extra data.

    Example:
        >>> ErrorBody("Cannot find view", code="not_found").code
        'not_found'
    """

    message: str | None = None
    code: str | None = None
    data: Any = None


def read_error_body(resp: requests.Response) -> ErrorBody:
    """The message and code of an error body, from the shapes portals answer with.

    Socrata's ``{"code", "message", "data"}`` and ``{"errorCode", "message"}``; ArcGIS's
    and CKAN's ``{"error": {"code", "message"}}``; ``{"error": "text"}``; ``{"detail": ...}``.

    Example:
        >>> r = requests.Response(); r._content = b'{"error": {"code": 400, "message": "Invalid URL"}}'
        >>> read_error_body(r)
        ErrorBody(message='Invalid URL', code='400', data=None)
    """
    try:
        body = orjson.loads(resp.content) if resp.content else None
    except orjson.JSONDecodeError:
        return ErrorBody()
    if not isinstance(body, dict):
        return ErrorBody()
    inner = body.get("error")
    if isinstance(inner, dict):
        body = {**body, **inner}
    elif isinstance(inner, str) and inner:
        body = {"message": inner, **body}
    raw_code = body.get("code") or body.get("errorCode")
    raw_message = body.get("message") or body.get("error_message") or body.get("detail")
    return ErrorBody(
        message=str(raw_message) if raw_message else None,
        code=str(raw_code) if raw_code not in (None, "", True) else None,
        data=body.get("data"),
    )


def error_from_response(
    resp: requests.Response,
    what: str,
    *,
    read_error: Callable[[requests.Response], ErrorBody] = read_error_body,
    request_id_header: str = "X-Request-Id",
) -> PortalError:
    """The typed error for a failed response: auth (401/403), not found, busy (429/5xx) or rejected.

    Example:
        >>> r = requests.Response(); r.status_code = 404
        >>> r._content = b'{"code":"not_found","error":true,"message":"Cannot find view with id x"}'
        >>> str(error_from_response(r, "GET /api/views/x.json"))
        'GET /api/views/x.json: Cannot find view with id x (HTTP 404, not_found)'
    """
    status = resp.status_code
    detail = read_error(resp)
    message = detail.message
    if not message:
        message = resp.headers.get("X-Error-Message") or (resp.text or "").strip()[:200] or resp.reason
    cls: type[PortalError]
    if status in (401, 403):
        cls = PortalAuthError
        message = f"{message}. Check the credentials (app token, API key or user) and their rights"
    elif status == 404:
        cls = PortalNotFound
    elif is_retryable_status(status):
        cls = PortalUnavailable
    else:
        cls = PortalRequestError
    default = {401: "authentication_required", 403: "permission_denied", 404: "not_found"}
    return cls(
        f"{what}: {message}",
        status=status,
        code=detail.code or default.get(status, f"http.{status}"),
        request_id=resp.headers.get(request_id_header),
        data=detail.data,
    )
