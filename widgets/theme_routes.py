"""``GET /theme/{name}``: the theme's logo, fonts and stylesheet (see :mod:`widgets.theme_files`).

A name is looked up in the table the app built from ``theme:`` at start; any other name, a path
with ``..`` or a file the theme does not name is a 404. Each name carries a hash of the file's
content, so the response may be cached for a year.

Example:
    >>> [route.path for route in router.routes]
    ['/theme/{name}']
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from btvstat_open.errors import NotFound
from widgets.route_context import Widgets
from widgets.routes import IMMUTABLE
from widgets.security import security_headers

__all__ = ["router"]

router = APIRouter()


@router.get("/theme/{name}", response_class=Response, include_in_schema=False)
def theme_file(name: str, request: Request, ctx: Widgets) -> Response:
    """One file of the catalog's theme, by its hashed name."""
    found = ctx.pages.brand.files.get(name)
    if found is None:
        raise NotFound(f"No theme file {name[:60]!r}: the theme names its files in catalog.yaml.")
    # Inert: an SVG opened on its own runs no script (CSP default-src 'none'), as other assets.
    headers = dict(security_headers("script"))
    headers.update({"cache-control": IMMUTABLE, "etag": f'"{found.digest}"'})
    if request.headers.get("if-none-match") == f'"{found.digest}"':
        return Response(status_code=304, headers=headers)
    return Response(found.body, media_type=found.media_type, headers=headers)
