"""A stand-in Opendatasoft portal for tests: Explore API v2.1 over Arrow tables, queried with DuckDB.

Test equipment, not a product feature. It answers what the connector uses as Opendatasoft does:
the catalog (``total_count``/``results``), a dataset (``metas.default``, ``fields``), records
(at most 100 a request, ``offset + limit`` at most 10,000), the ``/exports`` listing of formats,
CSV exports (``;``, CRLF, no quoting, ``datetime`` with an offset, ``geo_point_2d`` as ``lat,lon``)
and, unless ``offer_parquet`` is off, Parquet exports (the table's own types, ``datetime`` zoned
UTC, ``geo_point_2d`` as a ``{lon, lat}`` struct). With ``list_exports`` off the listing answers
404, as an older portal would. ``select``, ``where`` and ``order_by`` are run as DuckDB SQL on
both exports (enough for what the tests send; not a full ODSQL).
"""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import duckdb
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

_TYPES = {
    "string": "text",
    "double": "double",
    "int64": "int",
    "bool": "boolean",
    "timestamp[us]": "datetime",
}
BASE = "/api/explore/v2.1/catalog/datasets"


def _json(status: int, body: Any) -> Response:
    return Response(orjson.dumps(body), status, media_type="application/json; charset=utf-8")


def _error(status: int, code: str, message: str) -> Response:
    return _json(status, {"error_code": code, "message": message})


def _csv_text(column: pa.ChunkedArray, timezone: str) -> pa.ChunkedArray:
    """One export column as Opendatasoft writes it: unquoted text, empty for null.

    A timestamp (held as UTC) is written as the wall time of ``timezone``, with its offset.
    """
    if pa.types.is_struct(column.type):  # a geo_point_2d: "lat,lon"
        flat = column.combine_chunks()
        lat, lon = (flat.field(n).cast(pa.string()) for n in ("lat", "lon"))
        return pc.fill_null(pc.binary_join_element_wise(lat, lon, ","), "")
    if pa.types.is_timestamp(column.type):
        zoned = column.cast(pa.timestamp("us", "UTC")).cast(pa.timestamp("us", timezone))
        column = pc.strftime(zoned, "%Y-%m-%dT%H:%M:%S%z")
    elif pa.types.is_boolean(column.type):
        column = pc.if_else(column, "True", "False")
    return pc.fill_null(column.cast(pa.string()), "")


@dataclass
class StandinOds:
    """The portal's state: datasets by id, each a table and its processing stamp."""

    tables: dict[str, pa.Table] = field(default_factory=dict)
    processed: dict[str, str] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)
    offer_parquet: bool = True
    list_exports: bool = True  # off: an older portal, without the /exports listing (404)
    loses_rows: int = 0  # exports leave out this many rows (an export cut short, cleanly)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def put(self, dataset_id: str, table: pa.Table, processed: str) -> None:
        """Publish (or republish) a dataset; ``processed`` is its ``data_processed`` stamp."""
        self.tables[dataset_id] = table
        self.processed[dataset_id] = processed

    def _dataset(self, dataset_id: str) -> dict[str, Any]:
        table = self.tables[dataset_id]
        fields = [
            {
                "name": f.name,
                "label": f.name.replace("_", " ").title(),
                "type": "geo_point_2d" if pa.types.is_struct(f.type) else _TYPES.get(str(f.type), "text"),
            }
            for f in table.schema
        ]
        stamp = self.processed[dataset_id]
        meta = {
            "title": dataset_id.replace("-", " ").title(),
            "description": "<p>Stand-in dataset</p>",
            "records_count": table.num_rows,
            "modified": stamp,
            "data_processed": stamp,
            "metadata_processed": stamp,
        }
        return {"dataset_id": dataset_id, "has_records": True, "metas": {"default": meta}, "fields": fields}

    def _query(self, dataset_id: str, q: Any, limit: int | None, offset: int) -> pa.Table:
        select = q.get("select") or "*"
        sql = f"SELECT {select} FROM t"
        if q.get("where"):
            sql += f" WHERE {q['where']}"
        if q.get("order_by"):
            sql += f" ORDER BY {q['order_by']}"
        if limit is not None:
            sql += f" LIMIT {limit} OFFSET {offset}"
        elif self.loses_rows and not select.lower().startswith("count("):
            sql += f" OFFSET {self.loses_rows}"
        with self.lock:
            con = duckdb.connect()
            try:
                con.register("t", self.tables[dataset_id])
                result: pa.Table = con.sql(sql).to_arrow_table()
                return result
            finally:
                con.close()

    async def catalog(self, request: Request) -> Response:
        self.log.append(f"catalog?{request.query_params}")
        results = [self._dataset(d) for d in self.tables]
        limit, offset = (
            int(request.query_params.get("limit", "10")),
            int(request.query_params.get("offset", "0")),
        )
        if limit > 100:
            return _error(400, "InvalidRESTParameterError", "limit must be at most 100")
        return _json(200, {"total_count": len(results), "results": results[offset : offset + limit]})

    async def dataset(self, request: Request) -> Response:
        dataset_id = request.path_params["id"]
        self.log.append(f"dataset {dataset_id}")
        if dataset_id not in self.tables:
            return _error(404, "DatasetNotFound", f"Unknown dataset: {dataset_id}")
        return _json(200, self._dataset(dataset_id))

    async def records(self, request: Request) -> Response:
        dataset_id, q = request.path_params["id"], request.query_params
        if dataset_id not in self.tables:
            return _error(404, "DatasetNotFound", f"Unknown dataset: {dataset_id}")
        limit, offset = int(q.get("limit", "10")), int(q.get("offset", "0"))
        if limit > 100 or offset + limit > 10_000:
            return _error(400, "InvalidRESTParameterError", "Invalid value for limit or offset")
        try:
            page = self._query(dataset_id, q, limit, offset)
            total = self._query(dataset_id, {"select": "count(*)", "where": q.get("where")}, None, 0)
        except duckdb.Error as exc:
            return _error(400, "ODSQLError", str(exc))
        rows = [
            {k: v.isoformat() if isinstance(v, datetime) else v for k, v in r.items()}
            for r in page.to_pylist()
        ]
        return _json(200, {"total_count": total.column(0)[0].as_py(), "results": rows})

    async def export_csv(self, request: Request) -> Response:
        dataset_id = request.path_params["id"]
        self.log.append(f"export {dataset_id}?{request.query_params}")
        if dataset_id not in self.tables:
            return _error(404, "DatasetNotFound", f"Unknown dataset: {dataset_id}")
        try:
            table = self._query(dataset_id, request.query_params, None, 0)
        except duckdb.Error as exc:
            return _error(400, "ODSQLError", str(exc))
        zone = request.query_params.get("timezone") or "UTC"
        cells = [_csv_text(table.column(i), zone) for i in range(table.num_columns)]
        joined = pc.binary_join_element_wise(*cells, ";") if cells else pa.array([], pa.string())
        body = "\r\n".join([";".join(table.column_names), *joined.to_pylist(), ""]).encode()
        return Response(body, media_type="text/csv; charset=utf-8")

    async def exports(self, request: Request) -> Response:
        dataset_id = request.path_params["id"]
        self.log.append(f"exports {dataset_id}")
        if dataset_id not in self.tables or not self.list_exports:
            return _error(404, "NotFound", f"Unknown page: exports of {dataset_id}")
        formats = ["csv", "fgb", "geojson", "json", "jsonl", "xlsx"] + (
            ["parquet"] if self.offer_parquet else []
        )
        base = f"{request.base_url}{BASE.lstrip('/')}/{dataset_id}/exports"
        links = [{"rel": "self", "href": base}] + [{"rel": f, "href": f"{base}/{f}"} for f in sorted(formats)]
        return _json(200, {"links": links})

    async def export_parquet(self, request: Request) -> Response:
        dataset_id = request.path_params["id"]
        self.log.append(f"export-parquet {dataset_id}?{request.query_params}")
        if dataset_id not in self.tables:
            return _error(404, "DatasetNotFound", f"Unknown dataset: {dataset_id}")
        if not self.offer_parquet:
            return _error(400, "InvalidRESTParameterError", "Unknown export format: parquet")
        try:
            table = self._query(dataset_id, request.query_params, None, 0)
        except duckdb.Error as exc:
            return _error(400, "ODSQLError", str(exc))
        for i, kind in enumerate(table.schema.types):
            if pa.types.is_timestamp(kind) and kind.tz is None:  # the portal writes instants, in UTC
                table = table.set_column(
                    i, table.field(i).name, table.column(i).cast(pa.timestamp("us", "UTC"))
                )
        out = io.BytesIO()
        pq.write_table(table, out, row_group_size=4_096)
        return Response(out.getvalue(), media_type="application/vnd.apache.parquet")

    def app(self) -> Starlette:
        """The ASGI app."""
        return Starlette(
            routes=[
                Route(BASE, self.catalog),
                Route(BASE + "/{id}", self.dataset),
                Route(BASE + "/{id}/records", self.records),
                Route(BASE + "/{id}/exports", self.exports),
                Route(BASE + "/{id}/exports/csv", self.export_csv),
                Route(BASE + "/{id}/exports/parquet", self.export_parquet),
            ]
        )
