"""A stand-in ArcGIS REST server for tests (test equipment, not a product feature).

Plain ASGI, served by uvicorn (``servers.serve``). Each service lives at
``/arcgis/rest/services/<name>/FeatureServer`` and answers ``?f=json`` (its layers and tables),
``/<layer>?f=json`` (layer metadata: fields, ``objectIdField``, ``maxRecordCount``,
``advancedQueryCapabilities``, ``editFieldsInfo``, ``editingInfo.lastEditDate``) and
``/<layer>/query`` with ``where`` (read by DuckDB: :func:`where_rows`), ``outFields``, ``returnGeometry``,
``orderByFields``, ``resultOffset``/``resultRecordCount``, ``returnCountOnly``, ``returnIdsOnly``,
``objectIds`` and ``outStatistics`` (count, min, max), as GET or as a POSTed form. Errors are
ArcGIS error bodies with HTTP 200.

A service can lie the ways real servers do (:class:`Lies`): ignore ``resultOffset``, cap pages
below ``maxRecordCount`` without ``exceededTransferLimit``, never send the flag (old servers),
fail pagination probes, fail statistics, answer busy (an error body coded 503).

The site also answers ``/api/feed/dcat-us/1.1.json`` as an ArcGIS Hub site does: a DCAT-US feed
with one dataset per layer of every service.

Every query filters and encodes the layer's rows afresh: test layers are small. The benchmarks' big
layers page through :class:`bench.arcgis_pages.PagedArcgisStandin`, which finds pages by bisection.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from itertools import pairwise
from typing import Any
from urllib.parse import parse_qs

import duckdb
import orjson
import pyarrow as pa
from servers import read_request

EPOCH = datetime(1970, 1, 1)
OID, EDIT, CREATED = "OBJECTID", "EditDate", "CreationDate"


def dumps(value: Any) -> bytes:
    """Compact JSON bytes (NaN becomes null)."""
    return orjson.dumps(value)


def ms(moment: datetime) -> int:
    """Epoch milliseconds of a naive (UTC wall clock) datetime."""
    return round((moment - EPOCH).total_seconds() * 1000)


@dataclass
class Lies:
    """How a service misbehaves."""

    ignores_offset: bool = False
    repeats_from: int | None = None  # offsets from this one on are taken as 0 (a probe passes)
    page_cap: int | None = None  # pages never hold more, and no exceededTransferLimit says so
    no_flag: bool = False  # never sends exceededTransferLimit (pre-10 servers)
    probe_fails: bool = False  # a query with resultRecordCount fails (advertised pagination)
    statistics_fail: bool = False
    token: str | None = None  # answers {"error": {"code": 499, "message": "Token Required"}} without it
    whole_seconds: bool = False  # a timestamp literal with a fraction of a second is an error
    busy_answers: int = 0  # this many answers are {"error": {"code": 503}} bodies with HTTP 200
    loses_rows: int = 0  # every offset page after the first skips this many rows (a paging bug)


@dataclass
class Layer:
    """One layer (or table, without geometry) and its rows (attributes by field name)."""

    layer_id: int
    name: str
    fields: list[dict[str, Any]]
    rows: list[dict[str, Any]]
    geometry: list[dict[str, Any] | None] | None = None
    edit_tracking: bool = True
    dates_unknown_tz: bool = True
    max_record_count: int = 1000
    last_edit_ms: int = 0

    def geometry_of(self, oid: int) -> dict[str, Any] | None:
        return self.geometry[oid - 1] if self.geometry is not None else None


@dataclass
class Service:
    layers: dict[int, Layer]
    lies: Lies = field(default_factory=Lies)
    supports_pagination: bool = True


#: How city layers code a checkbox: a 0/1 integer field with this coded-value domain.
YES_NO: dict[str, Any] = {
    "type": "codedValue",
    "name": "YesNo",
    "codedValues": [{"name": "No", "code": 0}, {"name": "Yes", "code": 1}],
}
#: The editor-tracking fields (``editFieldsInfo``) a layer with edit tracking carries.
EDIT_FIELDS: list[dict[str, Any]] = [
    {"name": CREATED, "type": "esriFieldTypeDate", "alias": "Created", "editable": False},
    {"name": EDIT, "type": "esriFieldTypeDate", "alias": "Edited", "editable": False},
]


def contract_fields(edit_tracking: bool = True) -> list[dict[str, Any]]:
    """The contract columns as ArcGIS fields (closed: a 0/1 coded-value domain)."""
    fields = [
        {"name": OID, "type": "esriFieldTypeOID", "alias": "OBJECTID"},
        {"name": "case_id", "type": "esriFieldTypeString", "alias": "Case ID", "length": 16},
        {"name": "amount", "type": "esriFieldTypeDouble", "alias": "Amount"},
        {"name": "opened", "type": "esriFieldTypeDate", "alias": "Opened", "length": 8},
        {"name": "closed", "type": "esriFieldTypeSmallInteger", "alias": "Closed", "domain": YES_NO},
    ]
    if edit_tracking:
        fields += EDIT_FIELDS
    return fields


def layer_from_table(
    layer_id: int,
    name: str,
    table: pa.Table,
    *,
    geometry: bool = False,
    edit_tracking: bool = True,
    edited_at: datetime = datetime(2024, 3, 1),
    per_moment: int = 100,
    max_record_count: int = 1000,
) -> Layer:
    """A layer holding ``table``'s contract columns; rows edited in groups sharing a moment."""
    rows = []
    for i, row in enumerate(table.to_pylist()):
        attrs: dict[str, Any] = {
            OID: i + 1,
            "case_id": row["case_id"],
            "amount": row["amount"],
            "opened": ms(row["opened"]),
            "closed": int(row["closed"]),
        }
        if edit_tracking:
            attrs[CREATED] = ms(edited_at)
            attrs[EDIT] = ms(edited_at) + (i // per_moment) * 1000
        rows.append(attrs)
    shapes = (
        [{"x": -73.2 + i * 1e-5, "y": 44.47 + (i % 97) * 1e-4} for i in range(len(rows))]
        if geometry
        else None
    )
    last = max((r.get(EDIT, 0) for r in rows), default=ms(edited_at))
    return Layer(
        layer_id,
        name,
        contract_fields(edit_tracking),
        rows,
        shapes,
        edit_tracking,
        True,
        max_record_count,
        last,
    )


_EVERY_ROW = re.compile(r"\s*(\(\s*1\s*=\s*1\s*\)|1\s*=\s*1)?\s*")  # nothing, 1=1 or (1=1)
_tables: dict[int, tuple[list[dict[str, Any]], pa.Table]] = {}
_db = duckdb.connect()


def _as_table(rows: list[dict[str, Any]]) -> pa.Table:
    """``rows`` as an Arrow table with their positions (``__row``), made once per rows list: a pull
    asks for many pages of one layer, and an edit always leaves the layer a new list."""
    held = _tables.get(id(rows))
    if held is None or held[0] is not rows or held[1].num_rows != len(rows):
        if len(_tables) > 64:
            _tables.clear()
        held = _tables[id(rows)] = (
            rows,
            pa.Table.from_pylist([{**row, "__row": i} for i, row in enumerate(rows)]),
        )
    return held[1]


def where_rows(rows: list[dict[str, Any]], where: str | None) -> list[dict[str, Any]]:
    """The rows an ArcGIS ``where`` clause selects, read by DuckDB (as the CKAN stand-in reads its
    SQL); dates are epoch milliseconds, so a ``timestamp '...'`` literal is compared as one.
    A clause DuckDB cannot read is a ValueError.

    Example:
        >>> rows = [{"OBJECTID": 1, "v": 2.5}, {"OBJECTID": 2, "v": None}, {"OBJECTID": 3, "v": 9.0}]
        >>> [r["OBJECTID"] for r in where_rows(rows, "(1=1) AND (v > 2 OR v IS NULL) AND NOT OBJECTID = 3")]
        [1, 2]
    """
    if not rows or where is None or _EVERY_ROW.fullmatch(where):
        return list(rows)
    sql = re.sub(r"timestamp\s+'([^']*)'", r"epoch_ms(TIMESTAMP '\1')", where, flags=re.I)
    with _db.cursor() as con:  # a connection of its own to one in-memory database (opening one costs more)
        con.register("layer", _as_table(rows))
        try:
            picked = con.execute(f"SELECT __row FROM layer WHERE {sql} ORDER BY __row").fetchall()
        except duckdb.Error as exc:
            raise ValueError(f"cannot read the where clause {where!r}: {exc}") from None
    return [rows[i] for (i,) in picked]


def _error(code: int, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": []}}


class ArcgisStandin:
    """The ASGI app. ``services`` by name; :meth:`edit` changes rows as an editor would."""

    def __init__(self, services: dict[str, Service]) -> None:
        self.services = services
        self.lock = threading.Lock()
        self.log: list[tuple[str, dict[str, str]]] = []

    def edit(
        self,
        service: str,
        layer_id: int,
        *,
        at: datetime,
        update: dict[int, dict[str, Any]] | None = None,
        add: list[dict[str, Any]] | None = None,
        delete: list[int] | None = None,
    ) -> None:
        """Update rows by object id, add rows (new ids) and delete rows, all edited at ``at``."""
        with self.lock:
            layer = self.services[service].layers[layer_id]
            stamp = ms(at)
            by_id = {r[OID]: r for r in layer.rows}
            for oid, changes in (update or {}).items():
                by_id[oid].update(changes)
                if layer.edit_tracking:
                    by_id[oid][EDIT] = stamp
            next_id = max(by_id, default=0) + 1
            for attrs in add or []:
                row = {**attrs, OID: next_id}
                if layer.edit_tracking:
                    row[CREATED] = row[EDIT] = stamp
                layer.rows.append(row)
                if layer.geometry is not None:
                    layer.geometry.append({"x": -73.0, "y": 44.0})
                next_id += 1
            doomed = set(delete or [])
            layer.rows = [r for r in layer.rows if r[OID] not in doomed]
            layer.last_edit_ms = stamp

    # -- answers ----------------------------------------------------------------------------

    def hub_feed(self, base: str) -> dict[str, Any]:
        """A Hub site's DCAT-US feed: each layer, its ``accessURL`` the layer's URL on this server."""
        datasets = [
            {
                "title": layer.name,
                "description": f"<p>{layer.name} of {name}</p>",
                "distribution": [
                    {
                        "format": "ArcGIS GeoServices REST API",
                        "accessURL": f"{base}/arcgis/rest/services/{name}/FeatureServer/{layer.layer_id}",
                    }
                ],
            }
            for name, service in self.services.items()
            for layer in service.layers.values()
        ]
        return {"conformsTo": "https://project-open-data.cio.gov/v1.1/schema", "dataset": datasets}

    def service_json(self, service: Service) -> dict[str, Any]:
        maps = [lyr for lyr in service.layers.values() if lyr.geometry is not None]
        tables = [lyr for lyr in service.layers.values() if lyr.geometry is None]
        point = {"geometryType": "esriGeometryPoint"}
        return {
            "currentVersion": 11.1,
            "maxRecordCount": 1000,
            "layers": [{"id": lyr.layer_id, "name": lyr.name, **point} for lyr in maps],
            "tables": [{"id": lyr.layer_id, "name": lyr.name} for lyr in tables],
        }

    def layer_json(self, service: Service, layer: Layer) -> dict[str, Any]:
        body: dict[str, Any] = {
            "currentVersion": 11.1,
            "id": layer.layer_id,
            "name": layer.name,
            "type": "Feature Layer" if layer.geometry is not None else "Table",
            "objectIdField": OID,
            "fields": layer.fields,
            "maxRecordCount": layer.max_record_count,
            "datesInUnknownTimezone": layer.dates_unknown_tz,
            "advancedQueryCapabilities": {
                "supportsPagination": service.supports_pagination,
                "supportsOrderBy": True,
                "supportsStatistics": True,
            },
            "editingInfo": {"lastEditDate": layer.last_edit_ms},
        }
        if layer.geometry is not None:
            body["geometryType"] = "esriGeometryPoint"
        if layer.edit_tracking:
            body["editFieldsInfo"] = {"creationDateField": CREATED, "editDateField": EDIT}
        return body

    def matching(self, layer: Layer, where: str | None) -> list[dict[str, Any]]:
        """The rows ``where`` selects (raises ValueError/IndexError for a clause it cannot read)."""
        return where_rows(layer.rows, where)

    def features(
        self, layer: Layer, page: list[dict[str, Any]], names: list[str] | None, shapes: bool
    ) -> bytes:
        """The page's features, the inside of a JSON array: ``names``' attributes (None: all)."""
        encoded = []
        for row in page:
            feature: dict[str, Any] = {"attributes": row if names is None else {n: row.get(n) for n in names}}
            if shapes:
                feature["geometry"] = layer.geometry_of(row[OID])
            encoded.append(dumps(feature))
        return b",".join(encoded)

    def query(self, service: Service, layer: Layer, q: dict[str, str]) -> dict[str, Any] | bytes:
        lies = service.lies
        if lies.whole_seconds and re.search(r"timestamp '[^']*\.\d+'", q.get("where", "")):
            return _error(400, "Unable to complete operation. (invalid timestamp)")
        try:
            rows = self.matching(layer, q.get("where"))
        except (ValueError, IndexError) as exc:
            return _error(400, f"Unable to complete operation. ({exc})")
        if q.get("objectIds"):
            wanted_ids = {int(i) for i in q["objectIds"].split(",")}
            rows = [r for r in rows if r[OID] in wanted_ids]
        if q.get("returnCountOnly") == "true":
            return {"count": len(rows)}
        if q.get("returnIdsOnly") == "true":
            return {"objectIdFieldName": OID, "objectIds": [float(r[OID]) for r in rows]}  # as 6.4579816E7
        if "outStatistics" in q:
            return self.statistics(rows, q["outStatistics"], lies)
        if "resultRecordCount" in q and lies.probe_fails:
            return _error(400, "Failed to execute query.")
        rows = self.ordered(layer, rows, q.get("orderByFields"))
        offset = 0 if lies.ignores_offset else int(q.get("resultOffset") or 0)
        if lies.repeats_from is not None and offset >= lies.repeats_from:
            offset = 0
        if offset:
            offset += lies.loses_rows
        limit = min(int(q.get("resultRecordCount") or layer.max_record_count), layer.max_record_count)
        honest_limit = limit
        if lies.page_cap:
            limit = min(limit, lies.page_cap)
        page = rows[offset : offset + limit]
        wanted = q.get("outFields") or "*"
        names = None if wanted == "*" else [n.strip() for n in wanted.split(",")]
        shapes = q.get("returnGeometry", "true") == "true" and layer.geometry is not None
        features = self.features(layer, page, names, shapes)
        head = dumps({"objectIdFieldName": OID, "fields": layer.fields})[:-1]
        tail = b"}"
        if not lies.no_flag and not lies.page_cap:
            tail = b',"exceededTransferLimit":%s}' % dumps(len(rows) > offset + honest_limit)
        return b"".join((head, b',"features":[', features, b"]", tail))  # one copy of a big page

    def statistics(self, rows: list[dict[str, Any]], spec: str, lies: Lies) -> dict[str, Any]:
        if lies.statistics_fail:
            return _error(400, "Unable to complete operation.")
        attrs: dict[str, Any] = {}
        for stat in json.loads(spec):
            values = [
                r.get(stat["onStatisticField"]) for r in rows if r.get(stat["onStatisticField"]) is not None
            ]
            kind = stat["statisticType"]
            value = (
                len(values)
                if kind == "count"
                else (min(values) if values else None)
                if kind == "min"
                else (max(values) if values else None)
            )
            attrs[stat["outStatisticFieldName"]] = value
        return {"features": [{"attributes": attrs}]}

    def ordered(self, layer: Layer, rows: list[dict[str, Any]], order: str | None) -> list[dict[str, Any]]:
        """``rows`` (of ``layer``) sorted by ``orderByFields`` (default: object id)."""
        if order in (None, "", f"{OID} ASC") and all(a[OID] < b[OID] for a, b in pairwise(rows)):
            return rows  # already in object-id order
        keys = [p.split() for p in (order or f"{OID} ASC").split(",") if p.strip()]
        for words in reversed(keys):
            name, desc = words[0], len(words) > 1 and words[1].upper() == "DESC"
            rows = sorted(rows, key=lambda r: (r.get(name) is not None, r.get(name) or 0), reverse=desc)
        return rows

    def route(self, path: str, q: dict[str, str], base: str = "") -> dict[str, Any] | bytes:
        if path.rstrip("/") == "/api/feed/dcat-us/1.1.json":
            return self.hub_feed(base)
        parts = path.strip("/").split("/")
        # arcgis/rest/services/<name>/FeatureServer[/<layer>[/query]]
        if len(parts) < 5 or parts[:3] != ["arcgis", "rest", "services"] or parts[4] != "FeatureServer":
            return _error(404, "Service not found")
        service = self.services.get(parts[3])
        if service is None:
            return _error(404, f"Service {parts[3]} not found")
        if service.lies.token and q.get("token") != service.lies.token:
            return _error(499, "Token Required")
        if service.lies.busy_answers > 0:
            service.lies.busy_answers -= 1
            return _error(503, "Service unavailable: the server is busy")
        if len(parts) == 5:
            return self.service_json(service)
        layer = service.layers.get(int(parts[5])) if parts[5].isdigit() else None
        if layer is None:
            return _error(400, "Invalid or missing input parameters.")
        if len(parts) == 6:
            return self.layer_json(service, layer)
        if parts[6] == "query":
            return self.query(service, layer, q)
        return _error(400, "Requested operation is not supported by this service.")

    async def __call__(
        self,
        scope: dict[str, Any],
        receive: Callable[[], Awaitable[dict[str, Any]]],
        send: Callable[[dict[str, Any]], Awaitable[None]],
    ) -> None:
        form = b""
        if scope["type"] == "http" and scope.get("method") == "POST":  # a query sent as a form
            more = True
            while more:
                message = await receive()
                form += message.get("body", b"")
                more = message.get("more_body", False)
        elif not await read_request(scope, receive, send):
            return
        text = scope.get("query_string", b"").decode() + "&" + form.decode()
        q = {k: v[-1] for k, v in parse_qs(text, keep_blank_values=True).items()}
        with self.lock:
            self.log.append((scope["path"], q))
            host, port = scope["server"]
            answer = self.route(scope["path"], q, f"http://{host}:{port}")
            body = answer if isinstance(answer, bytes) else dumps(answer)
        headers = [
            (b"content-type", b"application/json; charset=utf-8"),
            (b"content-length", str(len(body)).encode()),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})
