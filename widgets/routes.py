"""The widget routes: dashboard, KPI pages, embeds, images, specs, series and dataset downloads.

No route accepts a spec, an expression or HTML: the only inputs are a KPI or dataset id (looked
up in the catalog or the store) and a few validated options (``theme``, ``height``, ``width``,
``plain``); anything else is a 400 that says what is allowed.

Example:
    >>> app.include_router(widget_router(service, pages, assets, responses,
    ...                                  ancestors="'self'", base_url=var))  # doctest: +SKIP
"""

from __future__ import annotations

import contextvars
import io
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlencode

import orjson
import pyarrow.csv as pacsv
from fastapi import APIRouter, Request
from fastapi.responses import Response

from btvstat_open.budget import Pools
from btvstat_open.errors import NotFound
from catalog.models import Kpi
from widgets.assets import Assets
from widgets.cache import DAY, CachedResponse, CacheKey, KeyedLocks, LruCache, make_response
from widgets.charts import Width
from widgets.downloads import dataset_response
from widgets.packets.routes import meeting_router
from widgets.packets.service import PacketService
from widgets.pages import Pages
from widgets.program import kpi_list
from widgets.program_routes import add_program_routes
from widgets.security import Kind, security_headers
from widgets.service import ChartOptions, WidgetService, parse_options, snap_size

__all__ = ["response_key", "widget_router"]

PAGE_CACHE = "public, max-age=60"
IMMUTABLE = "public, max-age=31536000, immutable"
_CHART_OPTIONS = ("theme", "width", "height")


def widget_router(
    service: WidgetService,
    pages: Pages,
    assets: Assets,
    responses: LruCache[CacheKey, CachedResponse],
    *,
    ancestors: str,
    base_url: contextvars.ContextVar[str],
    pools: Pools,
    export_seconds: float,
    packets: PacketService | None = None,
) -> APIRouter:
    """Every widget route, answering through the shared response cache.

    Renders not in the cache run on ``pools.renders`` and downloads on ``pools.queries`` (within
    ``export_seconds``); a full pool is a 503 with ``Retry-After``.
    """
    router = APIRouter()
    building = KeyedLocks()
    packets = packets or PacketService(service.store, service.catalog, service.versions, service.today)

    def respond(
        request: Request,
        kind: Kind,
        media_type: str,
        build: Callable[[], bytes],
        *,
        kpis: list[Kpi] | None = None,
        cache_control: str = PAGE_CACHE,
        extra: tuple[tuple[str, str], ...] = (),
        names_host: bool = False,
    ) -> Response:
        """Build (or reuse) a response, cached under its path and canonical query (never the Host).

        A response that names the server's address (``names_host``) is built each time from
        cached parts and never stored: a Host header chosen by a client must not reach others.
        """
        key = response_key(request.url.path, request.scope["query_string"])
        if names_host:
            key = (key[0], key[1] + b"#" + request.headers.get("host", "").encode("latin-1"))
        # One build per key at a time: requests that arrive while it is being built wait for it
        # and reuse it instead of building it again alongside (see KeyedLocks).
        with building.hold(key):
            entry = None if names_host else responses.get(key)
            if entry is None or not entry.fresh(service.versions.current()):
                deps = service.deps(kpis or [])  # read before building: a change meanwhile forces a rebuild
                headers = (*security_headers(kind, ancestors=ancestors), *extra)
                entry = make_response(
                    build(),
                    media_type,
                    cache_control=cache_control,
                    extra_headers=headers,
                    deps=deps,
                    salt=service.catalog_version,
                )
                if not names_host:
                    responses.put(key, entry)
        if entry.matches(request.headers.get("if-none-match", "").encode("latin-1")):
            response = Response(status_code=304)
            response.raw_headers = list(entry.not_modified_headers)
            return response
        response = Response(content=entry.body, status_code=200)
        response.raw_headers = list(entry.headers)
        return response

    def options(request: Request, allowed: tuple[str, ...], *, auto: bool = False) -> ChartOptions:
        return parse_options(dict(request.query_params), allowed=allowed, auto=auto)

    def no_options(request: Request) -> None:
        parse_options(dict(request.query_params), allowed=())

    add_program_routes(router, service, pages, respond, options, no_options)

    @router.get("/kpi/{kpi_id}.vl.json", summary="A KPI's chart as a Vega-Lite spec")
    def kpi_spec(kpi_id: str, request: Request) -> Response:
        kpi, opts = service.kpi(kpi_id), options(request, _CHART_OPTIONS)

        def build() -> bytes:
            width: Width = opts.width if "width" in request.query_params else "container"
            return orjson.dumps(
                service.spec(kpi, theme=opts.theme, width=width, height=opts.height, title=True)
            )

        return respond(request, "data", "application/json", build, kpis=[kpi])

    def image(
        kpi_id: str, request: Request, media_type: str, draw: Callable[[Kpi, ChartOptions], bytes]
    ) -> Response:
        kpi, opts = service.kpi(kpi_id), options(request, _CHART_OPTIONS)
        return respond(request, "image", media_type, lambda: draw(kpi, opts), kpis=[kpi])

    @router.get("/kpi/{kpi_id}.svg", summary="A KPI's chart as an SVG image (rendered on the server)")
    async def kpi_svg(kpi_id: str, request: Request) -> Response:
        draw = lambda kpi, opts: service.svg(kpi, opts).encode()  # noqa: E731
        return await pools.renders.run(image, kpi_id, request, "image/svg+xml", draw)

    @router.get("/kpi/{kpi_id}.png", summary="A KPI's chart as a PNG image (rendered on the server)")
    async def kpi_png(kpi_id: str, request: Request) -> Response:
        return await pools.renders.run(image, kpi_id, request, "image/png", service.png)

    @router.get("/kpi/{kpi_id}.csv", summary="A KPI's series as CSV")
    def kpi_csv(kpi_id: str, request: Request) -> Response:
        kpi = service.kpi(kpi_id)
        no_options(request)

        def build() -> bytes:
            out = io.BytesIO()
            pacsv.write_csv(service.series(kpi), out)
            return out.getvalue()

        disposition = (("content-disposition", f'attachment; filename="{kpi.id}.csv"'),)
        return respond(request, "data", "text/csv; charset=utf-8", build, kpis=[kpi], extra=disposition)

    @router.get("/kpi/{kpi_id}.json", summary="A KPI's series as JSON (one object per period)")
    def kpi_json(kpi_id: str, request: Request) -> Response:
        kpi = service.kpi(kpi_id)
        no_options(request)
        return respond(
            request,
            "data",
            "application/json",
            lambda: orjson.dumps(service.series(kpi).to_pylist()),
            kpis=[kpi],
        )

    @router.get("/kpi/{kpi_id}", response_class=Response, summary="A KPI's page")
    def kpi_page(kpi_id: str, request: Request) -> Response:
        kpi = service.kpi(kpi_id)
        no_options(request)
        base = str(request.base_url).rstrip("/")
        return respond(
            request,
            "page",
            "text/html; charset=utf-8",
            lambda: pages.kpi_page(kpi, base).encode(),
            kpis=[kpi],
            names_host=True,
        )

    @router.get("/embed/{kpi_id}", response_class=Response, summary="A KPI's chart for an iframe")
    def embed(kpi_id: str, request: Request) -> Response:
        kpi, opts = service.kpi(kpi_id), options(request, ("theme", "height", "plain"), auto=True)
        return respond(
            request, "embed", "text/html; charset=utf-8", lambda: pages.embed(kpi, opts).encode(), kpis=[kpi]
        )

    @router.get(
        "/embed.js", response_class=Response, summary="Script that sizes embed iframes to their charts"
    )
    def embed_js(request: Request) -> Response:
        asset = assets.get("embed.js")
        assert asset is not None  # shipped with the package
        return respond(
            request, "script", asset.media_type, lambda: asset.body, cache_control="public, max-age=3600"
        )

    @router.get("/static/{name}", response_class=Response, include_in_schema=False)
    def static(name: str, request: Request) -> Response:
        asset = assets.get(name)
        if asset is None:
            raise NotFound(f"No static file {name[:60]!r}.")
        versioned = name == assets.vega_name or request.query_params.get("v") == asset.digest
        gzip_ok = asset.gzipped is not None and "gzip" in request.headers.get("accept-encoding", "")
        body = asset.gzipped if gzip_ok and asset.gzipped is not None else asset.body
        headers = dict(security_headers("script"))
        headers.update(
            {
                "cache-control": IMMUTABLE if versioned else "public, max-age=300",
                "etag": f'"{asset.digest}"',
                "vary": "Accept-Encoding",
            }
        )
        if gzip_ok:
            headers["content-encoding"] = "gzip"
        if request.headers.get("if-none-match") == f'"{asset.digest}"':
            return Response(status_code=304, headers=headers)
        return Response(body, media_type=asset.media_type, headers=headers)

    @router.get("/datasets/{dataset_id}.csv", summary="A whole dataset as CSV (streamed)")
    async def dataset_csv(dataset_id: str, request: Request) -> Response:
        no_options(request)
        return await dataset_response(
            service.store, dataset_id, "csv", request, pools.queries, export_seconds
        )

    @router.get("/datasets/{dataset_id}.parquet", summary="A whole dataset as Parquet (streamed)")
    async def dataset_parquet(dataset_id: str, request: Request) -> Response:
        no_options(request)
        store = service.store
        return await dataset_response(store, dataset_id, "parquet", request, pools.queries, export_seconds)

    @router.get("/api/kpis", summary="The catalog's public KPIs with their latest values, as JSON")
    def api_kpis(request: Request) -> Response:
        no_options(request)
        base = str(request.base_url).rstrip("/")
        kpis = service.public_kpis()
        return respond(
            request,
            "data",
            "application/json",
            lambda: orjson.dumps(kpi_list(service, kpis, base)),
            kpis=kpis,
            names_host=True,
        )

    @router.get("/datapackage.json", summary="The KPI series as a Frictionless Data Package")
    def datapackage_json(request: Request) -> Response:
        no_options(request)
        if service.catalog is None:
            raise NotFound("No catalog is loaded; start the server with --catalog DIR or --demo.")
        from catalog.exports import datapackage

        base = base_url.get()
        catalog = service.catalog
        build = lambda: orjson.dumps(datapackage(catalog, service.store, base))  # noqa: E731
        return respond(
            request, "data", "application/json", build, kpis=service.public_kpis(), names_host=True
        )

    @router.get("/healthz", summary="Liveness: the server answers and the store is readable")
    async def healthz() -> dict[str, Any]:
        # On the event loop, never behind the heavy pools: it answers however busy they are
        # (the store's versions are a cached snapshot, re-read at most every 0.25 s).
        return {
            "status": "ok",
            "kpis": len(service.public_kpis()),
            "datasets": len([d for d in service.versions.current() if d != DAY]),
        }

    router.include_router(meeting_router(packets, pages, respond))
    return router


def response_key(path: str, query: bytes) -> CacheKey:
    """The response-cache key of a request: its path and its query options in canonical form.

    Options are sorted, the last of a repeated name wins (as the routes read them), and sizes
    are snapped to the steps they are drawn at, so every spelling of one response is one entry.

    Example:
        >>> response_key("/kpi/x.svg", b"width=700&theme=dark&theme=light")
        ('/kpi/x.svg', b'theme=light&width=720')
    """
    if not query:
        return path, b""
    options = dict(parse_qsl(query.decode("latin-1"), keep_blank_values=True))
    for name in ("width", "height"):
        if name in options:
            options[name] = snap_size(name, options[name])
    return path, urlencode(sorted(options.items())).encode("latin-1")
