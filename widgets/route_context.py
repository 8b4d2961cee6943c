"""What every widget route shares, and how it answers: through the app's response cache.

The routes are module-level FastAPI routers (:mod:`widgets.routes`, :mod:`widgets.dashboard_routes`,
:mod:`widgets.packets.routes`); each path function takes the app's :class:`WidgetContext` as a
dependency (``ctx: Widgets``), read from ``request.app.state.widget_routes`` (set by
:func:`widgets.app.create_widgets_app`).

Example:
    >>> response_key("/kpi/x.svg", b"theme=dark")
    ('/kpi/x.svg', b'theme=dark')
"""

from __future__ import annotations

import contextvars
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Annotated, Any, cast
from urllib.parse import parse_qsl, urlencode

from fastapi import Depends, Request
from fastapi.responses import Response

from btvstat_open.errors import UsageError
from btvstat_open.i18n import PSEUDO_LOCALE
from btvstat_open.web.budget import Pools, WorkPool
from btvstat_open.web.conditional import not_modified
from btvstat_open.web.files import DownloadFiles
from catalog.models import Kpi
from widgets.assets import Assets
from widgets.cache import CachedResponse, CacheKey, KeyedLocks, LruCache, make_response
from widgets.dashboard_pages import ProgramPages
from widgets.packets.service import PacketService
from widgets.pages import Pages
from widgets.security import Kind, security_headers
from widgets.service import ChartOptions, WidgetService, parse_options, snap_size

__all__ = ["PAGE_CACHE", "WidgetContext", "Widgets", "get_widgets", "response_key"]

PAGE_CACHE = "public, max-age=60"


@dataclass
class WidgetContext:
    """The service, pages, assets, response cache and pools behind the widget routes.

    Renders not in the cache run on ``pools.renders`` and downloads on ``pools.queries`` (within
    ``export_seconds``); a full pool is a 503 with ``Retry-After``. ``base_url`` holds the
    request's base URL for documents that name their own links (set by a middleware).
    """

    service: WidgetService
    pages: Pages
    assets: Assets
    responses: LruCache[CacheKey, CachedResponse]
    ancestors: str
    base_url: contextvars.ContextVar[str]
    pools: Pools
    export_seconds: float
    packets: PacketService
    building: KeyedLocks = field(default_factory=KeyedLocks)
    #: whole-dataset downloads, written once per dataset version (``/datasets/{id}.csv|.parquet``)
    files: DownloadFiles = field(default_factory=DownloadFiles)
    program: ProgramPages = field(init=False)

    def __post_init__(self) -> None:
        self.program = ProgramPages(self.pages)

    def respond(
        self,
        request: Request,
        kind: Kind,
        media_type: str,
        build: Callable[[], bytes],
        *,
        kpis: list[Kpi] | None = None,
        cache_control: str = PAGE_CACHE,
        extra: tuple[tuple[str, str], ...] = (),
        names_host: bool = False,
        keep: bool = True,
    ) -> Response:
        """Build (or reuse) a response, cached under its path and canonical query (never the Host).

        A response that names the server's address (``names_host``) is built each time from
        cached parts and never stored: a Host header chosen by a client must not reach others.
        Nor is one asked for with free text (``keep=False``: the dashboard's ``q``), so clients
        cannot fill the cache with one entry per word they make up.
        """
        key = response_key(request.url.path, request.scope["query_string"])
        names_host = names_host or not keep
        if names_host:
            key = (key[0], key[1] + b"#" + request.headers.get("host", "").encode("latin-1"))
        # One build per key at a time: requests that arrive while it is being built wait for it
        # and reuse it instead of building it again alongside (see KeyedLocks).
        with self.building.hold(key):
            entry = None if names_host else self.responses.get(key)
            if entry is None or not entry.fresh(self.service.versions.current()):
                deps = self.service.deps(
                    kpis or []
                )  # read before building: a change meanwhile forces a rebuild
                headers = (*security_headers(kind, ancestors=self.ancestors), *extra)
                entry = make_response(
                    build(),
                    media_type,
                    cache_control=cache_control,
                    extra_headers=headers,
                    deps=deps,
                    salt=self.service.catalog_version,
                )
                if not names_host:
                    self.responses.put(key, entry)
        if not_modified(request, entry.etag.decode(), _modified_epoch(entry)):
            response = Response(status_code=304)
            response.raw_headers = list(entry.not_modified_headers)
            return response
        response = Response(content=entry.body, status_code=200)
        response.raw_headers = list(entry.headers)
        return response

    async def respond_on(
        self,
        pool: WorkPool,
        request: Request,
        kind: Kind,
        media_type: str,
        build: Callable[[], bytes],
        **options: Any,
    ) -> Response:
        """:meth:`respond` on one of ``pool``'s workers: a full pool is a 503 with ``Retry-After``.

        Builds never run on the server's shared threads, so health checks, cached pages and the
        other pools answer whatever is being built.
        """
        respond = functools.partial(self.respond, request, kind, media_type, build, **options)
        return await pool.run(respond)

    def options(self, request: Request, allowed: tuple[str, ...], *, auto: bool = False) -> ChartOptions:
        """The request's chart options, only ``allowed`` ones (anything else is a 400); ``lang`` is
        the locale (:class:`~btvstat_open.web.locales.LocaleMiddleware` reads it)."""
        return parse_options(self._without_lang(request), allowed=allowed, auto=auto)

    def no_options(self, request: Request) -> None:
        """Refuse any query option but ``lang`` (a 400 naming it)."""
        parse_options(self._without_lang(request), allowed=())

    def _without_lang(self, request: Request) -> dict[str, str]:
        query = dict(request.query_params)
        lang = query.pop("lang", None)
        locales = self.service.settings.locales
        if lang is not None and lang not in locales and lang != PSEUDO_LOCALE:
            raise UsageError(
                f"Query option lang={lang[:20]!r} is not a language of this site: use one of "
                f"{', '.join(locales)}.",
                code="query.bad-option",
            )
        return query

    def base(self, request: Request) -> str:
        """The server's base URL as the client reached it, without a trailing slash."""
        return str(request.base_url).rstrip("/")


def _modified_epoch(entry: CachedResponse) -> int | None:
    """The response's ``Last-Modified`` in epoch seconds, if it has one."""
    value = next((v for n, v in entry.headers if n == b"last-modified"), None)
    return None if value is None else int(parsedate_to_datetime(value.decode("latin-1")).timestamp())


async def get_widgets(request: Request) -> WidgetContext:
    """The app's :class:`WidgetContext`: the dependency of every widget route (async: no thread hop)."""
    return cast(WidgetContext, request.app.state.widget_routes)


Widgets = Annotated[WidgetContext, Depends(get_widgets)]


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
