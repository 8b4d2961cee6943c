"""``/openapi.json`` that tells the truth: each route's real statuses, media types and SoQL parameters.

FastAPI describes every route as answering ``200 application/json`` or ``422``; the portal sends
CSV, GeoJSON and empty bodies, errors in Socrata's shape with 400, 401, 404, 413, 415 (never 422),
and reads SoQL from query parameters the route signatures do not name. :data:`PORTAL_ROUTES`
describes each route as it behaves; :func:`describe` writes those descriptions over FastAPI's,
and :func:`install_openapi` makes an app serve the result. A route with no description is an
error (:func:`undescribed` lists them; a test fails on any), so a new route cannot be documented
by accident as something it is not.

Example:
    >>> doc = PORTAL_ROUTES[("get", "/resource/{resource}")]
    >>> sorted(doc.ok)
    ['application/json', 'application/vnd.geo+json', 'text/csv']
    >>> [p["name"] for p in doc.parameters][:3]
    ['$select', '$where', '$order']
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

__all__ = [
    "ERROR_SCHEMA",
    "PORTAL_ROUTES",
    "SOQL_PARAMETERS",
    "RouteDoc",
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
    304: "Not modified: the copy named by If-None-Match or If-Modified-Since is current",
    400: "A bad request: a query that does not parse or type-check, or a bad parameter or body",
    401: "The write token is missing or wrong",
    403: "An application token is required",
    404: "No such dataset, row or KPI",
    413: "The body or its row count is over the server's limit",
    415: "The body is not JSON (or CSV, for rows)",
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


def _param(name: str, description: str, schema: Schema | None = None) -> Schema:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema or TEXT,
    }


SOQL_PARAMETERS: Final[tuple[Schema, ...]] = (
    _param("$select", "The columns or expressions to return, e.g. `status, count(*) AS n`."),
    _param("$where", "A filter, e.g. `days_to_close > 7 AND status = 'Closed'`."),
    _param("$order", "The sort, e.g. `creation_date DESC` (default: by `:id`, or by the group keys)."),
    _param("$group", "Group by these expressions (aggregate the others in `$select`)."),
    _param("$having", "A filter on grouped results, e.g. `count(*) > 10`."),
    _param("$limit", "At most this many rows (default 1000).", {"type": "integer", "minimum": 0}),
    _param("$offset", "Skip this many rows (page with `$limit`).", {"type": "integer", "minimum": 0}),
    _param("$q", "Full-text search: every word appears in some text field."),
    _param(
        "$query",
        "A whole SoQL statement (`SELECT ... WHERE ... ORDER BY ... LIMIT ...`); not with the others.",
    ),
    _param(
        "$$exclude_system_fields",
        "`false` adds `:id`, `:created_at` and `:updated_at` to the rows.",
        {"type": "string", "enum": ["true", "false"]},
    ),
)


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

    def responses(self) -> dict[str, Any]:
        """The OpenAPI ``responses`` object."""
        ok: dict[str, Any] = {"description": "OK"}
        if self.ok:
            ok["content"] = {media: {"schema": schema} for media, schema in self.ok.items()}
        if self.headers:
            ok["headers"] = {n: {"description": d, "schema": TEXT} for n, d in self.headers.items()}
        out: dict[str, Any] = {str(self.status): ok}
        if self.not_modified:
            out["304"] = {"description": _REASONS[304]}
        for status in sorted({*self.errors, *self.html_errors}):
            media = HTML if status in self.html_errors else JSON
            schema = TEXT if media == HTML else ERROR_SCHEMA
            out[str(status)] = {"description": _REASONS[status], "content": {media: {"schema": schema}}}
            if status == 503:
                out["503"]["headers"] = {"Retry-After": {"description": "Seconds to wait", "schema": TEXT}}
        return out


def _read(ok: Mapping[str, Schema], *, errors: tuple[int, ...] = (404, 500), **kw: Any) -> RouteDoc:
    return RouteDoc(ok, errors=errors, not_modified=True, **kw)


def _write(ok: Mapping[str, Schema], errors: tuple[int, ...], **kw: Any) -> RouteDoc:
    return RouteDoc(ok, errors=(*errors, 401, 500), **kw)


_ROWS_BODY: Final = {JSON: ROWS, CSV: TEXT}
_RESULT: Final = {JSON: OBJECT}
_FORMATS: Final = {JSON: ROWS, CSV: TEXT, "application/vnd.geo+json": OBJECT}
_SYSTEM_FIELDS: Final = (SOQL_PARAMETERS[-1],)

# Every portal route (and the ones other parts of the portal add), by (method, path).
# Reads that run on the query pool (btvstat_open.budget): a 400 over the budget, a 503 when it is full.
_QUERY: Final = (400, 404, 500, 503)
PORTAL_ROUTES: Final[dict[tuple[str, str], RouteDoc]] = {
    ("get", "/resource/{resource}"): _read(_FORMATS, errors=_QUERY, parameters=SOQL_PARAMETERS),
    ("get", "/resource/{dataset_id}/{row}"): _read(_FORMATS, errors=_QUERY, parameters=_SYSTEM_FIELDS),
    ("get", "/api/views/{resource}"): _read({JSON: OBJECT}),
    ("get", "/api/views/{dataset_id}/rows.csv"): _read(
        {CSV: TEXT},
        errors=_QUERY,
        parameters=(_param("accessType", "Accepted as Socrata's export takes it (DOWNLOAD)."),),
    ),
    ("get", "/api/catalog/v1"): RouteDoc({JSON: OBJECT}, errors=(400, 500)),
    ("get", "/data.json"): RouteDoc({JSON: OBJECT}),
    ("get", "/api/views/metadata/v1"): RouteDoc({JSON: ROWS}, errors=(400, 500)),
    ("get", "/api/views/metadata/v1/{dataset_id}"): RouteDoc({JSON: OBJECT}, errors=(404, 500)),
    ("patch", "/api/views/metadata/v1/{dataset_id}"): _write({JSON: OBJECT}, (400, 404, 413, 415)),
    ("get", "/d/{dataset_id}"): RouteDoc({HTML: TEXT}, errors=(404, 500), not_modified=True),
    # Its request body is the route's own (openapi_extra), kept as FastAPI writes it.
    ("post", "/api/v3/views/{dataset_id}/query.json"): RouteDoc({JSON: ROWS}, errors=(*_QUERY, 403, 413)),
    ("get", "/api/v3/views/{dataset_id}/query.json"): _read({JSON: ROWS}, errors=(*_QUERY, 403)),
    ("get", "/api/v3/views/{dataset_id}/export.csv"): _read({CSV: TEXT}, errors=(*_QUERY, 403)),
    ("post", "/resource/{resource}"): _write(_RESULT, (400, 404, 413, 415), body=_ROWS_BODY),
    ("put", "/resource/{resource}"): _write(_RESULT, (400, 404, 413, 415), body=_ROWS_BODY),
    ("delete", "/resource/{dataset_id}/{row}"): _write(_RESULT, (404,)),
    ("post", "/api/views.json"): _write({JSON: OBJECT}, (400, 413, 415), body={JSON: OBJECT}),
    ("put", "/api/views/{resource}"): _write({JSON: OBJECT}, (400, 404, 413, 415), body={JSON: OBJECT}),
    ("delete", "/api/views/{resource}"): _write({}, (404,)),
    ("post", "/api/views/{dataset_id}/publication.json"): _write({JSON: OBJECT}, (404,)),
    ("get", "/healthz"): RouteDoc({JSON: OBJECT}),
}


def undescribed(schema: Mapping[str, Any], routes: Mapping[tuple[str, str], RouteDoc]) -> list[str]:
    """Operations of an OpenAPI document that ``routes`` does not describe, as ``METHOD /path``.

    Example:
        >>> undescribed({"paths": {"/x": {"get": {}}}}, PORTAL_ROUTES)
        ['GET /x']
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
        >>> doc = describe({"paths": {"/healthz": {"get": {"responses": {}}}}}, PORTAL_ROUTES)
        >>> sorted(doc["paths"]["/healthz"]["get"]["responses"])
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
        >>> install_openapi(app, PORTAL_ROUTES)
        >>> sorted(app.openapi()["paths"])
        []
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
        >>> len(merged(PORTAL_ROUTES, {("get", "/x"): RouteDoc({})})) == len(PORTAL_ROUTES) + 1
        True
    """
    out: dict[tuple[str, str], RouteDoc] = {}
    for table in tables:
        out.update(table)
    return out
