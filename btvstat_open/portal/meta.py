"""Dataset metadata in Socrata's shapes: ``/api/views/{id}.json`` and Discovery API results.

Column ids are the 1-based positions of the dataset's own columns (system fields are not
listed, as on Socrata). Data types use the SODA 2.1 names (``floating_timestamp``, not the
legacy ``calendar_date``); clients that map legacy names understand both.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from btvstat_open.portal.context import as_utc, epoch_seconds
from btvstat_open.store import DatasetInfo, license_url

__all__ = ["catalog_result", "column_id", "view_json"]


def column_id(info: DatasetInfo, field_name: str) -> int | None:
    """The id ``/api/views`` gives a column (its 1-based position), or None.

    Example:
        >>> column_id(info, "days_to_close")
        14
    """
    for position, col in enumerate(info.columns, start=1):
        if col.field_name == field_name:
            return position
    return None


def view_json(info: DatasetInfo, asked: str | None = None) -> dict[str, Any]:
    """The dataset as ``/api/views/{id}.json`` describes it.

    ``fourByFour`` is its Socrata-style id; when the client ``asked`` by that id, ``id`` is it too
    (a client that checks the ``xxxx-xxxx`` form gets the form back), else the readable id.

    Example:
        >>> view_json(info)["columns"][0]["fieldName"]
        'case_id'
        >>> view = view_json(info, asked=info.four_by_four)
        >>> view["id"] == view["fourByFour"] == info.four_by_four, view["resourceName"]
        (True, 'kc-311-potholes')
    """
    columns = [
        {
            "id": position,
            "name": col.name,
            "dataTypeName": col.data_type,
            "fieldName": col.field_name,
            "position": position,
            "renderTypeName": col.data_type,
            "tableColumnId": position,
            "description": col.description,
            "format": {},
        }
        for position, col in enumerate(info.columns, start=1)
    ]
    row_id_column = column_id(info, info.row_identifier) if info.row_identifier else None
    by_fxf = bool(info.four_by_four) and asked == info.four_by_four
    view: dict[str, Any] = {
        "id": info.four_by_four if by_fxf else info.id,
        "fourByFour": info.four_by_four,
        "resourceName": info.id,
        "name": info.name,
        "description": info.description,
        "assetType": "dataset",
        "displayType": "table",
        "viewType": "tabular",
        "publicationStage": "published" if info.published else "unpublished",
        "createdAt": epoch_seconds(info.created_at),
        "publicationDate": epoch_seconds(info.created_at),
        "rowsUpdatedAt": epoch_seconds(info.rows_updated_at),
        "viewLastModified": epoch_seconds(info.view_last_modified),
        "rowCount": info.row_count,
        "columns": columns,
        "metadata": {},
        "owner": {},
        "query": {},
        "rights": ["read"],
        "flags": ["default"],
        "tags": list(info.tags),
    }
    if info.category is not None:
        view["category"] = info.category
    if info.attribution is not None:
        view["attribution"] = info.attribution
    if info.source_url is not None:
        view["attributionLink"] = info.source_url
    if info.license is not None:  # as Socrata describes a view's license
        view["license"] = {
            "name": info.license,
            **({"termsLink": url} if (url := license_url(info.license)) else {}),
        }
    # Socrata lists a grant of public read on public datasets; private ones have none.
    view["grants"] = [{"inherited": False, "type": "viewer", "flags": ["public"]}] if info.public else []
    if row_id_column is not None:
        view["rowIdentifierColumnId"] = row_id_column
        view["metadata"]["rowIdentifier"] = row_id_column
        view["rowIdentifier"] = info.row_identifier
    return view


def _iso(info_time: Any) -> str:
    return str(as_utc(info_time).strftime("%Y-%m-%dT%H:%M:%S.000Z"))


def catalog_result(info: DatasetInfo, *, base_url: str, domain: str) -> dict[str, Any]:
    """One Discovery API (``/api/catalog/v1``) result for a dataset.

    Example:
        >>> catalog_result(info, base_url="http://x", domain="x")["resource"]["type"]
        'dataset'
    """
    link = f"{base_url.rstrip('/')}/d/{quote(info.id, safe='')}"
    # Socrata's permalinks name the 4x4; the readable link stays beside it.
    permalink = f"{base_url.rstrip('/')}/d/{quote(info.four_by_four or info.id, safe='')}"
    return {
        "resource": {
            "name": info.name,
            "id": info.id,
            "fourByFour": info.four_by_four,
            "parent_fxf": [],
            "description": info.description,
            "attribution": info.attribution,
            "type": "dataset",
            "updatedAt": _iso(max(info.rows_updated_at, info.view_last_modified)),
            "createdAt": _iso(info.created_at),
            "data_updated_at": _iso(info.rows_updated_at),
            "metadata_updated_at": _iso(info.view_last_modified),
            "columns_name": [c.name for c in info.columns],
            "columns_field_name": [c.field_name for c in info.columns],
            "columns_datatype": [c.data_type for c in info.columns],
            "columns_description": [c.description for c in info.columns],
            "columns_format": [{} for _ in info.columns],
            "download_count": 0,
            "provenance": "official",
        },
        "classification": {
            "categories": [],
            "tags": [],
            "domain_category": info.category,
            "domain_tags": list(info.tags),
            "domain_metadata": [],
        },
        "metadata": {"domain": domain},
        "permalink": permalink,
        "link": link,
        "owner": {},
    }
