"""``GET /d/{id}``: the human page of a dataset, where the catalog's permalinks point.

Name, description, facts (rows, dates, category, tags), downloads (CSV, JSON, GeoJSON when
the dataset has a point or location), its columns with types and descriptions, and a sample
of rows. The page is rendered with jinja2 from this package's own template, every value
escaped; it runs no script and sends its own Content-Security-Policy (styles from this
server only), so a dataset whose name or cells hold ``<script>`` shows text. A site that
mounts the portal passes a :class:`PageSite`: its title, publisher and stylesheet (the widgets
app passes the catalog's title and ``site.css``), so the page looks like the rest of the site.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, cast
from urllib.parse import quote, urlencode

import jinja2
from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from btvstat_open.encode import socrata_text
from btvstat_open.i18n import current_locale, format_date
from btvstat_open.i18n.formats import in_digits
from btvstat_open.i18n.jinja import install as install_i18n
from btvstat_open.portal.context import Portal, PortalContext, as_utc, epoch_seconds, http_date
from btvstat_open.portal.stream import not_modified
from btvstat_open.store import DatasetInfo, license_url, quote_ident

__all__ = [
    "PAGE_HEADERS",
    "DatasetPages",
    "PageCache",
    "PageSite",
    "get_dataset_pages",
    "render_dataset_page",
    "router",
]

#: rows shown in the sample table
SAMPLE_ROWS = 10

#: the page's own security headers: no script at all, styles and images from this server only
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; font-src 'self'; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}


@dataclass(frozen=True)
class PageSite:
    """What the dataset pages take from the site around them; ``None`` uses the portal's settings.

    Example:
        >>> PageSite(title="City of Example open data", stylesheet="/static/site.css").publisher is None
        True
    """

    title: str | None = None
    publisher: str | None = None
    stylesheet: str | None = None
    #: the catalog's theme stylesheet (colours, fonts), linked after ``stylesheet``
    theme_stylesheet: str | None = None
    #: the theme's logo in the header: its URL and text alternative
    logo_url: str | None = None
    logo_alt: str = ""


@lru_cache(maxsize=1)
def _template() -> jinja2.Template:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return install_i18n(env).get_template("dataset.html")


def _sample(ctx: PortalContext, info: DatasetInfo) -> list[list[str]]:
    """The first rows (by ``:id``) as the texts the CSV export writes."""
    if not info.columns:
        return []
    select = ", ".join(quote_ident(c.field_name) for c in info.columns)
    table = (
        ctx.store.cursor()
        .sql(f'SELECT {select} FROM {info.table} ORDER BY ":id" LIMIT {SAMPLE_ROWS:d}')
        .to_arrow_table()
    )
    if table.num_rows == 0:
        return []
    texts = [
        socrata_text(table.column(i).combine_chunks(), c.data_type).to_pylist()
        for i, c in enumerate(info.columns)
    ]
    return [["" if value is None else str(value) for value in row] for row in zip(*texts, strict=True)]


def _when(moment: datetime) -> tuple[str, str]:
    """A moment as the page's language writes it ("December 8, 2026, 00:42 UTC"), and as ISO 8601."""
    utc = as_utc(moment)
    shown = f"{format_date(utc.date(), 'long')}, {in_digits(utc.strftime('%H:%M'))} UTC"
    return shown, utc.strftime("%Y-%m-%dT%H:%M:%SZ")


def _links(info: DatasetInfo, limit: int | None) -> dict[str, str | None]:
    ident = quote(info.id, safe="")
    rows = {"$limit": str(limit)} if limit else {}
    has_geometry = any(c.data_type in ("point", "location") for c in info.columns)
    return {
        "csv": f"/api/views/{ident}/rows.csv?accessType=DOWNLOAD",
        "json": f"/resource/{ident}.json" + (f"?{urlencode(rows)}" if rows else ""),
        "geojson": (f"/resource/{ident}.geojson" + (f"?{urlencode(rows)}" if rows else ""))
        if has_geometry
        else None,
        "api": f"/resource/{ident}.json",
        "metadata": f"/api/views/{ident}.json",
    }


def render_dataset_page(ctx: PortalContext, info: DatasetInfo, site: PageSite | None = None) -> str:
    """The page's HTML.

    Example:
        >>> "<h1>Kansas City 311 pothole requests" in render_dataset_page(ctx, ctx.info("kc-311-potholes"))
        True
    """
    settings = ctx.settings
    site = site or PageSite()
    max_limit = settings.max_limit or None  # 0: no cap
    limit = max(info.row_count, 1) if max_limit is None else min(max(info.row_count, 1), max_limit)
    whole = max_limit is None or info.row_count <= max_limit
    data, data_iso = _when(info.rows_updated_at)
    meta, meta_iso = _when(info.view_last_modified)
    created, created_iso = _when(info.created_at)
    paragraphs = [p.strip() for p in info.description.split("\n\n") if p.strip()]
    context: dict[str, Any] = {
        "info": info,
        "site_title": site.title or settings.catalog_title,
        "publisher": site.publisher or settings.publisher,
        "stylesheet": site.stylesheet,
        "theme_stylesheet": site.theme_stylesheet,
        "logo_url": site.logo_url,
        "logo_alt": site.logo_alt,
        "summary": paragraphs[0] if paragraphs else info.name,
        "paragraphs": paragraphs,
        "dates": {
            "data": data,
            "data_iso": data_iso,
            "meta": meta,
            "meta_iso": meta_iso,
            "created": created,
            "created_iso": created_iso,
        },
        "links": _links(info, limit),
        "json_note": "every row" if whole else f"the first {limit:,} rows; page with $offset",
        "sample": _sample(ctx, info),
        # Links only to web addresses (never javascript: or data:), whatever was recorded.
        "license_link": _web(license_url(info.license)) if info.license else None,
        "source_link": _web(info.source_url),
    }
    return _template().render(context)


def _web(url: str | None) -> str | None:
    return url if url and url.startswith(("https://", "http://")) else None


class PageCache:
    """Rendered pages by dataset and language, kept while the dataset's version stays the same.

    A page costs a scan for its sample; kept per version, a flood of requests for the same page
    costs one render (every change bumps the version). Holds one page per dataset and language.

    Example:
        >>> PageCache().get("kc-311", 3) is None
        True
    """

    def __init__(self) -> None:
        self._pages: dict[tuple[str, str], tuple[int, bytes]] = {}
        self._lock = threading.Lock()

    def get(self, dataset_id: str, version: int, locale: str = "") -> bytes | None:
        """The page rendered at this version in ``locale``, if it is kept."""
        kept = self._pages.get((dataset_id, locale))
        return kept[1] if kept is not None and kept[0] == version else None

    def put(self, dataset_id: str, version: int, page: bytes, locale: str = "") -> None:
        """Keep a page (replacing an older version's in the same language)."""
        with self._lock:
            self._pages[(dataset_id, locale)] = (version, page)


def dataset_page(
    ctx: PortalContext, request: Request, dataset_id: str, site: PageSite | None, pages: PageCache
) -> Response:
    """The response for ``/d/{id}``: the page, or a 304 when the client's copy is current."""
    info = ctx.readable(dataset_id, request)
    locale = current_locale()  # one page per language: the cache and the ETag keep them apart
    etag = f'"{info.id}-v{info.version}-{locale}-page"'
    changed = max(info.rows_updated_at, info.view_last_modified)
    cache = "no-cache" if info.public else "private, no-store"
    headers = {**PAGE_HEADERS, "ETag": etag, "Last-Modified": http_date(changed), "Cache-Control": cache}
    if not_modified(request, etag, epoch_seconds(changed)):
        return Response(status_code=304, headers=headers)
    body = pages.get(info.id, info.version, locale)
    if body is None:
        body = render_dataset_page(ctx, info, site).encode("utf-8")
        pages.put(info.id, info.version, body, locale)
    return Response(body, media_type="text/html; charset=utf-8", headers=headers)


@dataclass(frozen=True)
class DatasetPages:
    """What ``/d/{id}`` needs besides the portal: the site it looks like and its page cache (one per
    app, on ``app.state.dataset_pages``).

    Example:
        >>> DatasetPages(PageSite(title="Open data")).cache.get("kc-311", 1) is None
        True
    """

    site: PageSite | None = None
    cache: PageCache = field(default_factory=PageCache)


async def get_dataset_pages(request: Request) -> DatasetPages:
    """The app's :class:`DatasetPages` (a dependency of ``/d/{id}``)."""
    return cast(DatasetPages, request.app.state.dataset_pages)


router = APIRouter()
"""The ``/d/{id}`` route."""


@router.get("/d/{dataset_id}", tags=["Pages"], summary="The dataset's page", response_class=HTMLResponse)
def page(
    dataset_id: str,
    request: Request,
    ctx: Portal,
    pages: Annotated[DatasetPages, Depends(get_dataset_pages)],
) -> Response:
    """A page for people: description, columns, row count, downloads and a sample of rows."""
    return dataset_page(ctx, request, dataset_id, pages.site, pages.cache)
