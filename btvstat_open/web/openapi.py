"""``/openapi.json`` that tells the truth: each route's real statuses, media types and parameters.

FastAPI describes every route as answering ``200 application/json`` or ``422``; the servers send
CSV, GeoJSON, HTML, images and empty bodies, errors in Socrata's shape with 400, 401, 404, 413, 415
(never 422), and read parameters the route signatures do not name. A :class:`RouteDoc` describes
one route as it behaves; each server keeps a table of them by ``(method, path)`` (the portal's
``PORTAL_ROUTES``, the widgets' ``WIDGET_ROUTES``). :func:`describe` writes those descriptions over
FastAPI's, and :func:`install_openapi` makes an app serve the result. A route with no description
is an error (:func:`undescribed` lists them; a test fails on any), so a new route cannot be
documented by accident as something it is not.

Example:
    >>> doc = RouteDoc({CSV: TEXT}, errors=(404, 500), not_modified=True)
    >>> sorted(doc.responses())
    ['200', '304', '404', '500']
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

__all__ = [
    "CSV",
    "ERROR_SCHEMA",
    "HTML",
    "JSON",
    "OBJECT",
    "ROWS",
    "TEXT",
    "RouteDoc",
    "Schema",
    "describe",
    "install_openapi",
    "merged",
    "undescribed",
]

Schema = dict[str, Any]

ERROR_SCHEMA: Final[Schema] = {
    "type": "object",
    "description": "An error in Socrata's shape.",
    "required": ["code", "error", "message"],
    "properties": {
        "code": {"type": "string", "examples": ["query.soql.no-such-column"]},
        "error": {"const": True},
        "message": {"type": "string"},
        "data": {},
    },
}
_REASONS: Final = {
    206: "Part of the file: the bytes the Range header asked for (Content-Range names them)",
    304: "Not modified: the copy named by If-None-Match or If-Modified-Since is current",
    400: "A bad request: a query that does not parse or type-check, or a bad parameter or body",
    401: "The write token is missing or wrong",
    403: "An application token is required",
    404: "No such dataset, row or KPI",
    413: "The body or its row count is over the server's limit",
    415: "The body is not JSON (or CSV, for rows)",
    416: "The Range asked for starts past the file's end (Content-Range: bytes */size)",
    500: "The store failed; the body holds a reference to the server log",
    501: "A Socrata API this server does not offer",
    503: "The server is busy; retry after the Retry-After header's seconds",
}
ROWS: Final[Schema] = {"type": "array", "items": {"type": "object"}}
OBJECT: Final[Schema] = {"type": "object"}
TEXT: Final[Schema] = {"type": "string"}
JSON: Final = "application/json"
CSV: Final = "text/csv"
HTML: Final = "text/html"


@dataclass(frozen=True)
class RouteDoc:
    """How a route answers: its success status and media types, its error statuses, its inputs.

    ``ok`` maps each media type of the success response to its schema (empty: no body);
    ``errors`` are answered in Socrata's JSON error shape, ``html_errors`` as HTML pages.
    """

    ok: Mapping[str, Schema]
    errors: tuple[int, ...] = (500,)
    status: int = 200
    not_modified: bool = False
    html_errors: tuple[int, ...] = ()
    parameters: tuple[Schema, ...] = ()
    body: Mapping[str, Schema] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    #: a file download answering ``Range`` (206 with ``Content-Range``, 416 past its end)
    ranges: bool = False

    def responses(self) -> dict[str, Any]:
        """The OpenAPI ``responses`` object."""
        ok: dict[str, Any] = {"description": "OK"}
        if self.ok:
            ok["content"] = {media: {"schema": schema} for media, schema in self.ok.items()}
        if self.headers:
            ok["headers"] = {n: {"description": d, "schema": TEXT} for n, d in self.headers.items()}
        out: dict[str, Any] = {str(self.status): ok}
        if self.ranges:
            out["206"] = {"description": _REASONS[206], "content": ok.get("content", {})}
            out["416"] = {"description": _REASONS[416]}
        if self.not_modified:
            out["304"] = {"description": _REASONS[304]}
        for status in sorted({*self.errors, *self.html_errors}):
            media = HTML if status in self.html_errors else JSON
            schema = TEXT if media == HTML else ERROR_SCHEMA
            out[str(status)] = {"description": _REASONS[status], "content": {media: {"schema": schema}}}
            if status == 503:
                out["503"]["headers"] = {"Retry-After": {"description": "Seconds to wait", "schema": TEXT}}
        return out


def undescribed(schema: Mapping[str, Any], routes: Mapping[tuple[str, str], RouteDoc]) -> list[str]:
    """Operations of an OpenAPI document that ``routes`` does not describe, as ``METHOD /path``.

    Example:
        >>> undescribed({"paths": {"/x": {"get": {}}, "/y": {"get": {}}}}, _EXAMPLE)
        ['GET /y']
    """
    return [
        f"{method.upper()} {path}"
        for path, operations in schema.get("paths", {}).items()
        for method in operations
        if (method, path) not in routes
    ]


def describe(schema: dict[str, Any], routes: Mapping[tuple[str, str], RouteDoc]) -> dict[str, Any]:
    """``schema`` (FastAPI's document) with each described operation's responses, parameters and
    body replaced by what the route really does; the unused validation schemas are dropped.

    Example:
        >>> doc = describe({"paths": {"/x": {"get": {"responses": {}}}}}, _EXAMPLE)
        >>> sorted(doc["paths"]["/x"]["get"]["responses"])
        ['200', '500']
    """
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            doc = routes.get((method, path))
            if doc is None:
                continue
            operation["responses"] = doc.responses()
            declared = [p for p in operation.get("parameters", []) if p.get("in") != "query"]
            query = [p for p in operation.get("parameters", []) if p.get("in") == "query"]
            operation["parameters"] = declared + query + list(doc.parameters)
            if doc.body is not None:
                content = {media: {"schema": body} for media, body in doc.body.items()}
                operation["requestBody"] = {"required": False, "content": content}
            if not operation["parameters"]:
                del operation["parameters"]
    schemas = schema.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    if "components" in schema and not schemas:
        schema["components"].pop("schemas", None)
    return schema


def install_openapi(app: FastAPI, routes: Mapping[tuple[str, str], RouteDoc]) -> None:
    """Make ``app`` serve :func:`describe`'s document at ``/openapi.json`` (built once, on first use).

    Example:
        >>> app = FastAPI()
        >>> @app.get("/x")
        ... def x() -> dict[str, str]:
        ...     return {}
        >>> install_openapi(app, _EXAMPLE)
        >>> sorted(app.openapi()["paths"]["/x"]["get"]["responses"])
        ['200', '500']
    """

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes
            )
            app.openapi_schema = describe(schema, routes)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def merged(*tables: Mapping[tuple[str, str], RouteDoc]) -> dict[tuple[str, str], RouteDoc]:
    """Several route tables as one (later tables win).

    Example:
        >>> sorted(merged(_EXAMPLE, {("get", "/y"): RouteDoc({})}))
        [('get', '/x'), ('get', '/y')]
    """
    out: dict[tuple[str, str], RouteDoc] = {}
    for table in tables:
        out.update(table)
    return out


# The route table the examples above describe.
_EXAMPLE: Final[dict[tuple[str, str], RouteDoc]] = {("get", "/x"): RouteDoc({JSON: OBJECT})}
