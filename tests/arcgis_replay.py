"""A replay server for real recorded ArcGIS REST and Hub answers (tests/data/arcgis, see its SOURCES.md).

Bodies are served byte for byte, with HTTP 200 (ArcGIS sends its error bodies that way too).
Each recorded layer lives at ``/<name>/rest/services/<Service>/(MapServer|FeatureServer)/<layer>``
and answers ``?f=json`` with its metadata and ``/query`` by what is asked: ``returnCountOnly``
-> its count recording, ``outStatistics`` -> its statistics recording, ``returnIdsOnly`` -> its
ids, ``resultRecordCount=1`` -> its pagination probe, anything else -> its feature page. What
was not recorded answers ``404 Not Found`` (plain text, so it is not mistaken for an answer).
``/hub/api/feed/dcat-us/1.1.json`` is the USFS Hub feed; ``/usfs/rest/services/Actv_TimberHarvest/
MapServer`` its service root. Every request is logged as ``(path, query)``.
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from servers import read_request

DATA = Path(__file__).parent / "data" / "arcgis"
ESRIDUMP, MACHINE = DATA / "arcgis-pyesridump", DATA / "arcgis-oa-machine"


def _layer(folder: Path, prefix: str, metadata: str = "metadata") -> dict[str, Path]:
    kinds = {"metadata": metadata, "count": "count-only", "stats": "statistics", "ids": "ids-only"}
    kinds |= {"probe": "probe", "page": "0"}
    found = {k: folder / f"{prefix}{v}.json" for k, v in kinds.items()}
    return {k: p for k, p in found.items() if p.exists()}


LAYERS: dict[str, dict[str, Path]] = {
    "/chicago/rest/services/Places/MapServer/0": _layer(ESRIDUMP / "us-il-chicago", ""),
    "/cook/rest/services/POI/MapServer/0": {
        "metadata": ESRIDUMP / "us-il-cook" / "metadata.json",
        "page": ESRIDUMP / "us-il-cook" / "page-full.json",
    },
    "/kent/rest/services/External/MapServer/5": _layer(ESRIDUMP / "us-mi-kent", "us-mi-kent-"),
    "/columbia/rest/services/ADDRESSES/MapServer/2": _layer(ESRIDUMP / "us-mo-columbia", "us-mo-columbia-"),
    "/madison/rest/services/Madison/MapServer/13": _layer(ESRIDUMP / "us-ms-madison", "us-ms-madison-"),
    "/carson/rest/services/basemap/MapServer/1": _layer(ESRIDUMP / "us-ca-carson", "us-ca-carson-"),
    "/esri-test/rest/services/Recreation/FeatureServer/0": {
        "metadata": ESRIDUMP / "us-esri-test" / "us-esri-test-metadata.json",
        "count": MACHINE / "us-esri-test-count-only.json",
    },
    "/tuolumne/rest/services/Address_Parcels/MapServer/0": _layer(MACHINE, "us-ca-tuolumne-"),
    "/runnels/rest/services/Runnels_Services/MapServer/1": _layer(MACHINE, "us-tx-runnels-"),
    "/washington/rest/services/Public_Parcels/MapServer/0": _layer(MACHINE, "us-nm-washington-"),
    "/lancaster/rest/services/AddressPoints/FeatureServer/0": _layer(MACHINE, "us-pa-lancaster-"),
    "/orange/rest/services/LandBase/MapServer/0": _layer(MACHINE, "us-ny-orange-"),
    "/kharkiv/rest/services/gis_ort_stat_general/MapServer/1": _layer(MACHINE, "ua-kharkiv-"),
    "/brown/rest/services/Brown/MapServer/33": _layer(MACHINE, "us-ks-brown-"),
    "/waco/rest/services/Parcels/MapServer/0": _layer(MACHINE, "us-tx-waco-"),
    "/auckland/rest/services/Hosted/Vessels/FeatureServer/0": {
        "page": DATA / "arcgis-aucklandtransport-pjson" / "vessel-attributes.json"
    },
}
OTHER = {
    "/hub/api/feed/dcat-us/1.1.json": DATA / "arcgis-hub-usfs" / "gdd_metadata.json",
    "/usfs/rest/services/Actv_TimberHarvest/MapServer": DATA
    / "arcgis-hub-usfs"
    / "Actv_TimberHarvest_service.json",
}


def _kind(query: dict[str, str]) -> str:
    if query.get("returnCountOnly") == "true":
        return "count"
    if "outStatistics" in query:
        return "stats"
    if query.get("returnIdsOnly") == "true":
        return "ids"
    if query.get("resultRecordCount") == "1":
        return "probe"
    return "page"


class ArcgisReplay:
    """The ASGI app; see the module docstring for its routes."""

    def __init__(self) -> None:
        self.log: list[tuple[str, dict[str, str]]] = []
        self._lock = threading.Lock()

    def route(self, path: str, query: dict[str, str]) -> Path | None:
        if path in OTHER:
            return OTHER[path]
        if path in LAYERS:
            return LAYERS[path].get("metadata")
        if path.endswith("/query") and path[: -len("/query")] in LAYERS:
            return LAYERS[path[: -len("/query")]].get(_kind(query))
        return None

    async def __call__(
        self,
        scope: dict[str, Any],
        receive: Callable[[], Awaitable[dict[str, Any]]],
        send: Callable[[dict[str, Any]], Awaitable[None]],
    ) -> None:
        if not await read_request(scope, receive, send):
            return
        raw = parse_qs(scope.get("query_string", b"").decode(), keep_blank_values=True)
        query = {k: v[-1] for k, v in raw.items()}
        with self._lock:
            self.log.append((scope["path"], query))
        found = self.route(scope["path"], query)
        status, body, kind = (
            (200, found.read_bytes(), b"application/json") if found else (404, b"Not Found", b"text/plain")
        )
        headers = [(b"content-type", kind), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
