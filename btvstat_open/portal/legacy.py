"""SODA 1 paths older clients still use, answered as their ``/api/views`` counterparts are.

- ``GET /views/{id}.json``: the dataset's metadata (as ``/api/views/{id}.json``).
- ``GET /views/{id}/rows.csv``: the whole dataset as CSV (as ``/api/views/{id}/rows.csv``).
- ``GET /api/views/{id}/rows.json`` and ``/views/{id}/rows.json``: the whole dataset in Socrata's
  legacy JSON shape, ``{"meta": {"view": {...}}, "data": [[...], ...]}``: each row an array of
  the eight system values (``:sid``, ``:id``, ``:position``, ``:created_at`` and ``:updated_at``
  as epoch seconds, their ``_meta`` companions, ``:meta``), then the dataset's values in column
  order (SODA 2 encodings, nulls as ``null``). ``meta.view.columns`` lists the system columns
  (negative ids, ``meta_data``) before the dataset's own, so a client can zip names with values.

Every id may be the readable one or the 4x4. Rows stream on the query pool under the export
budget, as the CSV export does.
"""

from __future__ import annotations

from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc
from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from btvstat_open.encode import socrata_json_values
from btvstat_open.portal.context import Portal, PortalContext, epoch_seconds, http_date
from btvstat_open.portal.meta import view_json
from btvstat_open.portal.routes_meta import get_view
from btvstat_open.portal.routes_read import export_response
from btvstat_open.portal.stream import conditional_headers, not_modified, open_query, query_etag
from btvstat_open.store import DatasetInfo, quote_ident
from btvstat_open.web.replies import Reply, answer

__all__ = ["legacy_rows_sql", "router", "rows_array_batch"]

_SYSTEM = (
    ":sid",
    ":id",
    ":position",
    ":created_at",
    ":created_meta",
    ":updated_at",
    ":updated_meta",
    ":meta",
)


def legacy_rows_sql(info: DatasetInfo) -> str:
    """SQL for the legacy rows: the system values as one JSON text (``__system``), then the columns.

    Example:
        >>> legacy_rows_sql(info).startswith("SELECT '[' || to_json(\\":id\\")")
        True
    """
    system = (
        "'[' || to_json(\":id\") || ',' || to_json(\":id\") || ',0,' "
        "|| coalesce(CAST(epoch(\":created_at\") AS BIGINT)::VARCHAR, 'null') || ',null,' "
        "|| coalesce(CAST(epoch(\":updated_at\") AS BIGINT)::VARCHAR, 'null') || ',null,\"{ }\"'"
    )
    select = "".join(", " + quote_ident(c.field_name) for c in info.columns)
    return f'SELECT {system} AS "__system"{select} FROM {info.table} ORDER BY ":id"'


def rows_array_batch(batch: pa.RecordBatch, data_types: list[str]) -> bytes:
    """A batch of :func:`legacy_rows_sql` as row arrays joined by ``",\\n"``.

    Example:
        >>> batch = pa.record_batch({"__system": ['[\"a\",\"a\",0,1,null,1,null,\"{ }\"'], "n": [2.0]})
        >>> rows_array_batch(batch, ["text", "number"])
        b'[\"a\",\"a\",0,1,null,1,null,\"{ }\",\"2\"]'
    """
    if batch.num_rows == 0:
        return b""
    parts = [batch.column(0)]
    for i in range(1, batch.num_columns):
        parts.append(pc.fill_null(socrata_json_values(batch.column(i), data_types[i]), "null"))
    rows = pc.binary_join_element_wise(*parts, ",") if len(parts) > 1 else parts[0]
    rows = pc.binary_join_element_wise(rows, "]", "")
    lists = pa.ListArray.from_arrays(pa.array([0, len(rows)], pa.int32()), rows)
    buffer = pc.binary_join(lists, ",\n")[0].as_buffer()
    return b"" if buffer is None else buffer.to_pybytes()


def _legacy_view(info: DatasetInfo, asked: str) -> dict[str, Any]:
    view = view_json(info, asked)
    system = [
        {"id": -1 - i, "name": name, "dataTypeName": "meta_data", "fieldName": name, "position": 0}
        for i, name in enumerate(_SYSTEM)
    ]
    view["columns"] = system + view["columns"]
    return view


async def _rows_json(ctx: PortalContext, request: Request, asked: str) -> Response:
    def start(cursor: Any) -> Reply | Response:
        info = ctx.readable(asked, request)
        etag = query_etag(info, request, f"rows.json {asked}")
        changed = max(info.rows_updated_at, info.view_last_modified)
        headers = conditional_headers(info, etag, http_date(changed), ctx.settings.cache_max_age)
        if not_modified(request, etag, epoch_seconds(changed)):
            return Response(status_code=304, headers=headers)
        types = ["text"] + [c.data_type for c in info.columns]
        stream = open_query(cursor, legacy_rows_sql(info), [], types, ctx.settings.batch_size)
        opening = b'{"meta":{"view":' + orjson.dumps(_legacy_view(info, asked)) + b'},"data":[\n'
        first = opening + rows_array_batch(stream.first, types)
        wrote = [stream.first.num_rows > 0, False]  # rows written so far, closing sent

        def rest() -> bytes | None:
            if wrote[1]:
                return None
            batch = stream.next_batch()
            if batch is None:
                wrote[1] = True
                return b"\n]}\n"
            data = rows_array_batch(batch, types)
            chunk = (b",\n" + data) if wrote[0] and data else data
            wrote[0] = wrote[0] or batch.num_rows > 0
            return chunk

        if stream.exhausted:
            return Reply(first + b"\n]}\n", None, "application/json", headers, None)
        return Reply(first, rest, "application/json", headers, None)

    settings = ctx.settings
    return await answer(
        ctx.pools.queries,
        request,
        lambda: ctx.store.cursor().cursor(),
        start,
        seconds=settings.export_timeout_seconds,
        limit="export_timeout_seconds",
    )


router = APIRouter()
"""The SODA 1 paths (and ``/api/views/{id}/rows.json``)."""


@router.get("/views/{dataset_id}/rows.csv", tags=["SODA 1"], summary="Download a whole dataset (SODA 1)")
async def legacy_rows_csv(dataset_id: str, request: Request, ctx: Portal) -> Response:
    """As ``/api/views/{id}/rows.csv``: every row as CSV headed by display names."""
    return await export_response(ctx, request, dataset_id)


@router.get("/api/views/{dataset_id}/rows.json", tags=["SODA 2.1"], summary="A whole dataset, legacy JSON")
async def rows_json(dataset_id: str, request: Request, ctx: Portal) -> Response:
    """Every row as arrays under ``data``, the metadata under ``meta.view`` (Socrata's legacy shape)."""
    return await _rows_json(ctx, request, dataset_id)


@router.get("/views/{dataset_id}/rows.json", tags=["SODA 1"], summary="A whole dataset, legacy JSON (SODA 1)")
async def legacy_rows_json(dataset_id: str, request: Request, ctx: Portal) -> Response:
    """As ``/api/views/{id}/rows.json``."""
    return await _rows_json(ctx, request, dataset_id)


@router.get("/views/{resource}", tags=["SODA 1"], summary="Dataset metadata (SODA 1)")
def legacy_view(resource: str, request: Request, ctx: Portal) -> Response:
    """As ``/api/views/{id}.json``."""
    return get_view(resource, request, ctx)
