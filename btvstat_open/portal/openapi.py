"""The portal's routes as they behave, for a truthful ``/openapi.json`` (:mod:`btvstat_open.web.openapi`).

:data:`PORTAL_ROUTES` describes each SODA route: its statuses, media types (JSON, CSV, GeoJSON)
and the SoQL parameters the route signatures do not name (:data:`SOQL_PARAMETERS`).

Example:
    >>> doc = PORTAL_ROUTES[("get", "/resource/{resource}")]
    >>> sorted(doc.ok)
    ['application/json', 'application/vnd.geo+json', 'text/csv']
    >>> [p["name"] for p in doc.parameters][:3]
    ['$select', '$where', '$order']
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from btvstat_open.web.openapi import CSV, HTML, JSON, OBJECT, ROWS, TEXT, RouteDoc, Schema

__all__ = ["PORTAL_ROUTES", "SOQL_PARAMETERS"]


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


def _read(ok: Mapping[str, Schema], *, errors: tuple[int, ...] = (404, 500), **kw: Any) -> RouteDoc:
    return RouteDoc(ok, errors=errors, not_modified=True, **kw)


def _write(ok: Mapping[str, Schema], errors: tuple[int, ...], **kw: Any) -> RouteDoc:
    return RouteDoc(ok, errors=(*errors, 401, 500), **kw)


_ROWS_BODY: Final = {JSON: ROWS, CSV: TEXT}
_RESULT: Final = {JSON: OBJECT}
_FORMATS: Final = {JSON: ROWS, CSV: TEXT, "application/vnd.geo+json": OBJECT}
_SYSTEM_FIELDS: Final = (SOQL_PARAMETERS[-1],)

# Every portal route (and the ones other parts of the portal add), by (method, path).
# Reads that run on the query pool (btvstat_open.web.budget): a 400 over the budget, a 503 when it is full.
_QUERY: Final = (400, 404, 500, 503)
PORTAL_ROUTES: Final[dict[tuple[str, str], RouteDoc]] = {
    ("get", "/resource/{resource}"): _read(_FORMATS, errors=_QUERY, parameters=SOQL_PARAMETERS),
    ("get", "/resource/{dataset_id}/{row}"): _read(_FORMATS, errors=_QUERY, parameters=_SYSTEM_FIELDS),
    ("get", "/api/views/{resource}"): _read({JSON: OBJECT}),
    ("get", "/api/views/{dataset_id}/rows.csv"): _read(
        {CSV: TEXT},
        errors=_QUERY,
        ranges=True,
        parameters=(_param("accessType", "Accepted as Socrata's export takes it (DOWNLOAD)."),),
    ),
    # Socrata's legacy rows.json and the SODA 1 paths older clients use (btvstat_open.portal.legacy)
    ("get", "/api/views/{dataset_id}/rows.json"): _read({JSON: OBJECT}, errors=_QUERY),
    ("get", "/views/{dataset_id}/rows.json"): _read({JSON: OBJECT}, errors=_QUERY),
    ("get", "/views/{dataset_id}/rows.csv"): _read({CSV: TEXT}, errors=_QUERY),
    ("get", "/views/{resource}"): _read({JSON: OBJECT}),
    ("get", "/api/catalog/v1"): RouteDoc({JSON: OBJECT}, errors=(400, 500)),
    ("get", "/data.json"): RouteDoc({JSON: OBJECT}, not_modified=True),
    ("get", "/api/views/metadata/v1"): RouteDoc({JSON: ROWS}, errors=(400, 500)),
    ("get", "/api/views/metadata/v1/{dataset_id}"): RouteDoc({JSON: OBJECT}, errors=(404, 500)),
    ("patch", "/api/views/metadata/v1/{dataset_id}"): _write({JSON: OBJECT}, (400, 404, 413, 415)),
    ("get", "/d/{dataset_id}"): RouteDoc({HTML: TEXT}, errors=(404, 500), not_modified=True),
    # Its request body is the route's own (openapi_extra), kept as FastAPI writes it.
    ("post", "/api/v3/views/{dataset_id}/query.json"): RouteDoc({JSON: ROWS}, errors=(*_QUERY, 403, 413)),
    ("get", "/api/v3/views/{dataset_id}/query.json"): _read({JSON: ROWS}, errors=(*_QUERY, 403)),
    ("get", "/api/v3/views/{dataset_id}/export.csv"): _read({CSV: TEXT}, errors=(*_QUERY, 403), ranges=True),
    ("post", "/resource/{resource}"): _write(_RESULT, (400, 404, 413, 415), body=_ROWS_BODY),
    ("put", "/resource/{resource}"): _write(_RESULT, (400, 404, 413, 415), body=_ROWS_BODY),
    ("delete", "/resource/{dataset_id}/{row}"): _write(_RESULT, (404,)),
    # soda-js's row operations: update or replace one row (a JSON object), empty a dataset
    ("post", "/resource/{dataset_id}/{row}"): _write(_RESULT, (400, 404, 413, 415), body={JSON: OBJECT}),
    ("put", "/resource/{dataset_id}/{row}"): _write(_RESULT, (400, 404, 413, 415), body={JSON: OBJECT}),
    ("delete", "/resource/{resource}"): _write(_RESULT, (404,)),
    ("post", "/api/views.json"): _write({JSON: OBJECT}, (400, 413, 415), body={JSON: OBJECT}),
    ("put", "/api/views/{resource}"): _write({JSON: OBJECT}, (400, 404, 413, 415), body={JSON: OBJECT}),
    ("delete", "/api/views/{resource}"): _write({}, (404,)),
    ("post", "/api/views/{dataset_id}/publication.json"): _write({JSON: OBJECT}, (404,)),
    ("get", "/healthz"): RouteDoc({JSON: OBJECT}),
}
