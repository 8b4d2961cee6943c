"""A stand-in CKAN site for tests: the Action API and the DataStore over Arrow tables, in DuckDB.

Test equipment, not a product feature. It speaks what the connector uses, the way CKAN does:
``package_search``, ``package_show``, ``resource_show``, ``datastore_search`` (``limit``/``offset``,
``filters``, ``fields``, ``sort``; ``numeric`` values sent as JSON strings; ``_links.next``
sent even past the end) and, unless ``sql_enabled`` is off, ``datastore_search_sql``. A resource
added with ``add_file`` is outside the DataStore and served as a CSV download.
"""

from __future__ import annotations

import io
import re
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import duckdb
import orjson
import pyarrow as pa
import pyarrow.csv as pacsv
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

_TYPES = {
    "string": "text",
    "double": "numeric",
    "int64": "int4",
    "bool": "bool",
    "timestamp[us]": "timestamp",
}
_SORT = re.compile(r'^\s*(?:"([^"]+)"|([A-Za-z0-9_]+))\s*(asc|desc)?\s*$', re.I)


def _json(status: int, body: Any) -> Response:
    return Response(orjson.dumps(body), status, media_type="application/json")


def _error(status: int, kind: str, message: str) -> Response:
    return _json(status, {"help": "", "success": False, "error": {"__type": kind, "message": message}})


def _cell(value: Any, ckan_type: str) -> Any:
    if value is None:
        return None
    if ckan_type == "numeric":
        return str(value)  # as CKAN sends numeric: a JSON string
    if isinstance(value, datetime):
        return value.isoformat()
    return value


@dataclass
class StandinCkan:
    """The site's state: packages by name, DataStore tables and files by resource id."""

    sql_enabled: bool = True
    loses_rows: int = 0  # every page after the first skips this many rows (a paging bug)
    rows_max: int | None = None  # ckan.datastore.search.rows_max: a larger limit is cut to it
    packages: dict[str, dict[str, Any]] = field(default_factory=dict)
    tables: dict[str, pa.Table] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)
    url: str = ""
    log: list[str] = field(default_factory=list)
    authorizations: list[str | None] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add_table(self, package: str, resource_id: str, table: pa.Table, modified: str) -> None:
        """A package whose one resource is in the DataStore, holding ``table``."""
        self.tables[resource_id] = table.append_column(
            "_id", pa.array(range(1, table.num_rows + 1), pa.int64())
        )
        self._package(package, resource_id, modified, datastore=True)

    def update_in_place(self, resource_id: str, column: str, row: int, value: Any) -> None:
        """Change one value of row ``_id = row + 1`` and nothing else: as CKAN's ``datastore_upsert``
        (method ``update``) does, the metadata stamps and the row count stay as they were."""
        table = self.tables[resource_id]
        values = table.column(column).to_pylist()
        values[row] = value
        index = table.schema.get_field_index(column)
        self.tables[resource_id] = table.set_column(
            index, column, pa.array(values, table.schema.field(index).type)
        )

    def add_file(self, package: str, resource_id: str, table: pa.Table, modified: str) -> None:
        """A package whose one resource is a CSV file (not in the DataStore)."""
        sink = io.BytesIO()
        pacsv.write_csv(table, sink)
        self.files[resource_id] = sink.getvalue()
        self._package(package, resource_id, modified, datastore=False)

    def _package(self, name: str, resource_id: str, modified: str, *, datastore: bool) -> None:
        resource = {
            "id": resource_id,
            "package_id": f"pkg-{name}",
            "name": f"{name}.csv",
            "format": "CSV",
            "url": f"/files/{resource_id}.csv",  # made absolute when served
            "datastore_active": datastore,
            "last_modified": modified,
        }
        self.packages[name] = {
            "id": f"pkg-{name}",
            "name": name,
            "title": name.replace("-", " ").title(),
            "notes": f"Stand-in package {name}",
            "metadata_modified": modified,
            "resources": [resource],
        }

    def touch(self, name: str, modified: str, table: pa.Table | None = None) -> None:
        """Change a package's ``metadata_modified`` (and its rows, when ``table`` is given)."""
        package = self.packages[name]
        package["metadata_modified"] = modified
        resource = package["resources"][0]
        resource["last_modified"] = modified
        if table is not None:
            self.add_table(name, resource["id"], table, modified)

    def _served(self, package: dict[str, Any]) -> dict[str, Any]:
        resources = [{**r, "url": self._absolute(r["url"])} for r in package["resources"]]
        return {**package, "resources": resources}

    def _absolute(self, url: str) -> str:
        return self.url + url if url.startswith("/") else url

    def _find(self, key: str) -> dict[str, Any] | None:
        return next((p for p in self.packages.values() if key in (p["name"], p["id"])), None)

    def _resource(self, key: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
        for package in self.packages.values():
            for resource in package["resources"]:
                if resource["id"] == key:
                    return package, resource
        return None

    # -- actions -------------------------------------------------------------------------------
    async def action(self, request: Request) -> Response:
        name = request.path_params["name"]
        q = request.query_params
        self.log.append(f"{name}?{q}")
        self.authorizations.append(request.headers.get("authorization"))
        ok = {"help": f"{self.url}/api/3/action/help_show?name={name}", "success": True}
        if name == "package_search":
            rows = int(q.get("rows", "10"))
            found = [self._served(p) for p in self.packages.values()]
            return _json(200, {**ok, "result": {"count": len(found), "results": found[:rows]}})
        if name == "package_show":
            package = self._find(q.get("id", ""))
            if package is None:
                return _error(404, "Not Found Error", "Not found")
            return _json(200, {**ok, "result": self._served(package)})
        if name == "resource_show":
            found = self._resource(q.get("id", ""))
            if found is None:
                return _error(404, "Not Found Error", "Not found: Resource was not found.")
            return _json(200, {**ok, "result": {**found[1], "url": self._absolute(found[1]["url"])}})
        if name == "datastore_search":
            return self._search(q, ok)
        if name == "datastore_search_sql" and self.sql_enabled:
            return self._sql(q.get("sql", ""), ok)
        return _error(400, "Validation Error", f"Action name not known: {name}")

    def _fields(self, table: pa.Table, names: list[str]) -> list[dict[str, str]]:
        return [{"id": n, "type": _TYPES.get(str(table.schema.field(n).type), "text")} for n in names]

    def _run(self, table: pa.Table, sql: str, params: list[Any]) -> pa.Table:
        with self.lock:
            con = duckdb.connect()
            try:
                con.register("t", table)
                result: pa.Table = con.sql(sql, params=params or None).to_arrow_table()
                return result
            finally:
                con.close()

    def _search(self, q: Any, ok: dict[str, Any]) -> Response:
        table = self.tables.get(q.get("resource_id", ""))
        if table is None:
            return _error(404, "Not Found Error", "Resource not found")
        limit, offset = int(q.get("limit", "100")), int(q.get("offset", "0"))
        limit = min(limit, self.rows_max or limit)
        offset += self.loses_rows if offset else 0
        names = ["_id", *[n for n in table.column_names if n != "_id"]]
        if q.get("fields"):
            names = [n.strip() for n in q["fields"].split(",")]
        where, params = [], []
        for key, value in orjson.loads(q.get("filters") or "{}").items():
            where.append(f'"{key}" = ?')
            params.append(value)
        if q.get("q"):  # full text, roughly: any text field containing the words
            texts = [f.name for f in table.schema if pa.types.is_string(f.type)]
            where.append("(" + " OR ".join(f'"{n}" ILIKE ?' for n in texts) + ")")
            params.extend([f"%{q['q']}%"] * len(texts))
        sort = []
        for part in (q.get("sort") or '"_id"').split(","):
            m = _SORT.match(part)
            if not m or (m.group(1) or m.group(2)) not in table.column_names:
                return _error(409, "Validation Error", f"field {part!r} not in table")
            sort.append(f'"{m.group(1) or m.group(2)}" {m.group(3) or "asc"}')
        if any(n not in table.column_names for n in names):
            return _error(409, "Validation Error", "field not in table")
        cond = " WHERE " + " AND ".join(where) if where else ""
        cols = ", ".join(f'"{n}"' for n in names)
        page = self._run(
            table,
            f"SELECT {cols} FROM t{cond} ORDER BY {', '.join(sort)} LIMIT {limit} OFFSET {offset}",
            params,
        )
        total = self._run(table, f"SELECT count(*) AS n FROM t{cond}", params).column(0)[0].as_py()
        fields = self._fields(table, names)
        records = [{f["id"]: _cell(r[f["id"]], f["type"]) for f in fields} for r in page.to_pylist()]
        links = {
            "start": f"/api/action/datastore_search?limit={limit}",
            "next": f"/api/action/datastore_search?offset={offset + limit}&limit={limit}",
        }
        result = {
            "resource_id": q["resource_id"],
            "fields": fields,
            "records": records,
            "_links": links,
            "total": total,
            "limit": limit,
        }
        return _json(200, {**ok, "result": result})

    def _sql(self, sql: str, ok: dict[str, Any]) -> Response:
        match = re.search(r'FROM "([^"]+)"', sql)
        table = self.tables.get(match.group(1)) if match else None
        if table is None:
            return _error(404, "Not Found Error", "Resource not found")
        try:
            page = self._run(table, sql.replace(match.group(0), "FROM t"), [])  # type: ignore[union-attr]
        except duckdb.Error as exc:
            return _error(409, "Validation Error", str(exc))
        fields = self._fields(page, page.column_names)
        records = [{f["id"]: _cell(r[f["id"]], f["type"]) for f in fields} for r in page.to_pylist()]
        return _json(200, {**ok, "result": {"records": records, "fields": fields, "sql": sql}})

    async def file(self, request: Request) -> Response:
        body = self.files.get(request.path_params["rid"])
        if body is None:
            return Response(b"not found", 404)
        return Response(body, media_type="text/csv")

    def app(self) -> Starlette:
        """The ASGI app."""
        return Starlette(
            routes=[
                Route("/api/3/action/{name}", self.action),
                Route("/files/{rid}.csv", self.file),
            ]
        )
