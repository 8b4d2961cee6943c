"""CKAN's Action API: packages and resources, and which resource a DATASET_ID means.

Every answer is the envelope ``{"help": ..., "success": true, "result": ...}`` (some
recordings and proxies drop ``help``); an error is ``{"success": false, "error": {"__type":
"Not Found Error", "message": ...}}`` with a 4xx status. Extensions such as ckanext-scheming
store structured fields as JSON *encoded inside strings* (EnviDat's ``author``, ``funding``,
``spatial``): :func:`decoded_metadata` reads them back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson
import requests

from btvstat_open.errors import DatasetNotFound, PortalNotFound, UsageError
from connectors.http import ErrorBody, HttpClient

__all__ = [
    "ACTION",
    "CkanResource",
    "ckan_error_message",
    "decoded_metadata",
    "read_ckan_error",
    "resolve",
]

ACTION = "/api/3/action/"
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
_TABLE_FORMATS = {"csv", "text/csv"}


def ckan_error_message(body: Any) -> str | None:
    """The message of a CKAN error body (``error.message``, or its field errors).

    Example:
        >>> body = {"success": False, "error": {"__type": "Not Found Error", "message": "Not found"}}
        >>> ckan_error_message(body)
        'Not Found Error: Not found'
    """
    if not isinstance(body, dict):
        return None
    error = body.get("error")
    if isinstance(error, dict):
        kind = error.get("__type")
        message = error.get("message") or "; ".join(
            f"{k}: {v}" for k, v in error.items() if k not in ("__type", "message")
        )
        return f"{kind}: {message}" if kind else str(message)
    return str(error) if error else None


def read_ckan_error(resp: requests.Response) -> ErrorBody:
    """A CKAN error body for the shared HTTP client: the message, and the error's ``__type`` as code.

    Example:
        >>> r = requests.Response()
        >>> r._content = b'{"success": false, "error": {"__type": "Not Found Error"}}'
        >>> read_ckan_error(r).code
        'Not Found Error'
    """
    try:
        body = orjson.loads(resp.content) if resp.content else None
    except orjson.JSONDecodeError:
        return ErrorBody()
    error = body.get("error") if isinstance(body, dict) else None
    kind = error.get("__type") if isinstance(error, dict) else None
    return ErrorBody(message=ckan_error_message(body), code=str(kind) if kind else None)


def decoded_metadata(package: dict[str, Any]) -> dict[str, Any]:
    """The package with JSON held inside strings decoded (ckanext-scheming), other values as they are.

    Only strings that start like a JSON object or array and parse are decoded.

    Example:
        >>> decoded_metadata({"spatial": '{"type": "Point"}', "title": "[draft] x", "url": None})
        {'spatial': {'type': 'Point'}, 'title': '[draft] x', 'url': None}
    """
    out: dict[str, Any] = {}
    for key, value in package.items():
        if isinstance(value, str) and value[:1] in ("{", "["):
            try:
                out[key] = orjson.loads(value)
                continue
            except orjson.JSONDecodeError:
                pass
        out[key] = value
    return out


@dataclass(frozen=True)
class CkanResource:
    """One resource of a package, as much of it as a pull needs."""

    id: str
    name: str
    format: str
    url: str
    datastore_active: bool
    package: dict[str, Any]
    last_modified: str | None = None

    @property
    def is_table(self) -> bool:
        """Whether the resource can be pulled: in the DataStore, or a CSV file to download."""
        return self.datastore_active or self.format.lower() in _TABLE_FORMATS

    @classmethod
    def from_json(cls, resource: dict[str, Any], package: dict[str, Any]) -> CkanResource:
        """From a ``package_show`` resource entry and its package."""
        return cls(
            id=str(resource["id"]),
            name=str(resource.get("name") or resource["id"]),
            format=str(resource.get("format") or ""),
            url=str(resource.get("url") or ""),
            # Older sites leave the key out (EnviDat sends none); it is then not in the DataStore.
            datastore_active=bool(resource.get("datastore_active")),
            package=package,
            last_modified=resource.get("last_modified") or resource.get("metadata_modified"),
        )


def action(http: HttpClient, name: str, **params: str | int) -> Any:
    """Call an action and return its ``result``."""
    body = http.get_json(ACTION + name, params)
    if not isinstance(body, dict) or "result" not in body:
        raise UsageError(f"{http.url} did not answer {name} like a CKAN site. Check the portal URL.")
    return body["result"]


def resolve(http: HttpClient, dataset_id: str) -> CkanResource:
    """The resource a DATASET_ID means: a resource id, or a package (name or id) meaning its table.

    A package's table is its DataStore resource; failing that, its only CSV resource. A
    package with several candidates asks for the resource id.
    """
    if _UUID.match(dataset_id):
        try:
            resource = action(http, "resource_show", id=dataset_id)
            package = action(http, "package_show", id=str(resource["package_id"]))
            return CkanResource.from_json(resource, package)
        except PortalNotFound:
            pass  # not a resource id: perhaps a package id
    try:
        package = action(http, "package_show", id=dataset_id)
    except PortalNotFound as exc:
        raise DatasetNotFound(
            dataset_id,
            f"{http.url} has no CKAN resource or package {dataset_id!r}. "
            "Give a resource id or a package name.",
        ) from exc
    resources = [CkanResource.from_json(r, package) for r in package.get("resources") or []]
    in_store = [r for r in resources if r.datastore_active]
    candidates = in_store or [r for r in resources if r.is_table]
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        kinds = ", ".join(sorted({r.format or "?" for r in resources})) or "none"
        raise UsageError(
            f"Package {dataset_id!r} has no DataStore or CSV resource to pull (its resources: {kinds}).",
            code="ckan.no-table",
        )
    listed = "; ".join(f"{r.id} ({r.name})" for r in candidates)
    raise UsageError(
        f"Package {dataset_id!r} has several tables; give one resource id instead: {listed}.",
        code="ckan.ambiguous",
    )
