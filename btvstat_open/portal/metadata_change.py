"""Read a metadata update from a request: sodapy's ``update_metadata`` body or ``setPermission``.

A body may be a whole ``/api/views/{id}.json`` document fetched, edited and sent back, so
keys this server does not keep (``id``, ``rowsUpdatedAt``, ``licenseId``...) are ignored;
the kept ones are checked and a wrong type is a 400 naming the key.

Example:
    >>> change_from_body({"name": "Potholes", "tags": ["streets"]}).tags
    ('streets',)
    >>> permission_change("public.read").public
    True
"""

from __future__ import annotations

from typing import Any

from btvstat_open.errors import BadRequestBody
from btvstat_open.store import MetadataChange

__all__ = ["change_from_body", "permission_change"]

_PERMISSIONS = {"public.read": True, "public": True, "private": False}


def _text(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadRequestBody(
            f'"{key}" must be a text, not {type(value).__name__}.', code="metadata.bad-value"
        )
    return value


def _tags(body: dict[str, Any]) -> tuple[str, ...] | None:
    value = body.get("tags")
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        raise BadRequestBody(
            '"tags" must be a list of texts, such as ["streets", "311"].', code="metadata.bad-value"
        )
    return tuple(dict.fromkeys(t.strip() for t in value if t.strip()))


def _column_descriptions(body: dict[str, Any]) -> dict[str, str]:
    """``{"columns": [{"fieldName": ..., "description": ...}]}`` as field name -> description."""
    columns = body.get("columns")
    if columns is None:
        return {}
    if not isinstance(columns, list):
        raise BadRequestBody(
            '"columns" must be a list of {"fieldName", "description"} objects.', code="metadata.bad-value"
        )
    found: dict[str, str] = {}
    for position, column in enumerate(columns):
        if not isinstance(column, dict) or not isinstance(column.get("fieldName"), str):
            raise BadRequestBody(f'Column {position} needs a "fieldName".', code="metadata.bad-value")
        if "description" in column:
            description = column["description"]
            if not isinstance(description, str):
                raise BadRequestBody(
                    f"The description of column {column['fieldName']!r} must be a text.",
                    code="metadata.bad-value",
                )
            found[column["fieldName"]] = description
    return found


def change_from_body(body: Any) -> MetadataChange:
    """The change a ``PUT /api/views/{id}.json`` (or Metadata API ``PATCH``) body asks for.

    Example:
        >>> change_from_body({"columns": [{"fieldName": "n", "description": "Count"}]}).column_descriptions
        {'n': 'Count'}
    """
    if not isinstance(body, dict):
        raise BadRequestBody(
            'The body must be a JSON object such as {"name": "...", "tags": ["..."]}.',
            code="metadata.bad-body",
        )
    name = _text(body, "name")
    if name is not None and not name.strip():
        raise BadRequestBody('"name" cannot be empty.', code="metadata.bad-value")
    return MetadataChange(
        name=name,
        description=_text(body, "description"),
        tags=_tags(body),
        category=_text(body, "category"),
        attribution=_text(body, "attribution"),
        column_descriptions=_column_descriptions(body),
    )


def permission_change(value: str | None) -> MetadataChange:
    """``setPermission``'s ``value`` (``public.read`` or ``private``) as a change.

    Example:
        >>> permission_change("private").public
        False
    """
    if value not in _PERMISSIONS:
        raise BadRequestBody(
            f"setPermission takes value=public.read or value=private, not {value!r}.",
            code="metadata.bad-permission",
        )
    return MetadataChange(public=_PERMISSIONS[value])
