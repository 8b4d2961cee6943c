"""The files a static site has that the server answers no URL for: ``sitemap.xml``, ``robots.txt``,
the page a static host shows for a missing address (``404.html``), the language selector's pages
and the ``_headers`` file (:func:`site_extras` makes them all).

Example:
    >>> print(robots_txt("https://city.example"), end="")
    User-agent: *
    Allow: /
    Sitemap: https://city.example/sitemap.xml
    >>> sitemap_xml("https://city.example", ["/kpi/a", "/"]).count(b"<loc>")
    2
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from xml.sax.saxutils import escape

from btvstat_open.web.locales import language_links
from widgets.route_context import WidgetContext
from widgets.security import Kind, security_headers
from widgets.sitebuild.headers import HEADERS_FILE, headers_file, security_of
from widgets.sitebuild.manifest import Manifest

__all__ = ["CHOOSER_SCRIPT", "chooser_page", "robots_txt", "site_extras", "sitemap_xml"]

# The language selector's links (/locale/{code}?next=/path) set a cookie on the server and redirect;
# on a static copy, /locale/{code}/ is this page: it goes to the page in that language at once.
CHOOSER_SCRIPT = """(function () {
  "use strict";
  var root = document.documentElement;
  var locales = root.getAttribute("data-locales").split(" ");
  var next = new URLSearchParams(window.location.search).get("next") || "/";
  if (next.charAt(0) !== "/" || next.charAt(1) === "/" || next.indexOf("\\\\") !== -1) { next = "/"; }
  var first = next.split("/")[1];
  if (locales.indexOf(first) > 0) { next = next.slice(first.length + 1) || "/"; }
  window.location.replace(root.getAttribute("data-prefix") + next);
}());
"""


def chooser_page(code: str, name: str, prefix: str, locales: list[str]) -> str:
    """The static stand-in of ``/locale/{code}``: to the asked page in that language (with
    JavaScript), else a link to the language's dashboard.

    Example:
        >>> 'href="/es/"' in chooser_page("es", "Español", "/es", ["en", "es"])
        True
    """
    return (
        f'<!doctype html>\n<html lang="{escape(code)}" data-prefix="{escape(prefix)}" '
        f'data-locales="{escape(" ".join(locales))}"><head><meta charset="utf-8">'
        f'<meta name="robots" content="noindex"><title>{escape(name)}</title>'
        '<script src="/locale/choose.js"></script></head>'
        f'<body><p><a href="{escape(prefix)}/">{escape(name)}</a></p></body></html>\n'
    )


def robots_txt(base: str) -> str:
    """Every page may be indexed; the sitemap lists them."""
    return f"User-agent: *\nAllow: /\nSitemap: {base}/sitemap.xml\n"


def sitemap_xml(base: str, paths: Iterable[str]) -> bytes:
    """A sitemap of these pages' addresses (sorted, so the same pages give the same bytes).

    No ``lastmod``: a page's day would change the file with every build; search engines
    compare the pages themselves.
    """
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">',
    ]
    lines.extend(f"  <url><loc>{escape(base + path)}</loc></url>" for path in sorted(set(paths)))
    lines.append("</urlset>")
    return ("\n".join(lines) + "\n").encode()


def site_extras(
    ctx: WidgetContext, base: str, built: Manifest, locales: Sequence[str], prefixes: Sequence[str]
) -> dict[str, bytes]:
    """The static site's own files, by name, for the addresses of ``built``."""
    pages = [url for url, entry in built.urls.items() if entry.file.endswith(".html")]
    missing = ctx.pages.error(
        "Page not found", "There is no page at this address. The dashboard lists every KPI."
    )
    extras = {
        "robots.txt": robots_txt(base).encode(),
        "sitemap.xml": sitemap_xml(base, pages),
        "404.html": missing.encode(),
    }
    if len(locales) > 1:
        extras["locale/choose.js"] = CHOOSER_SCRIPT.encode()
        for code, prefix in zip(locales, prefixes, strict=True):
            name = language_links(list(locales), code, "/")[list(locales).index(code)].name
            extras[f"locale/{code}/index.html"] = chooser_page(code, name, prefix, list(locales)).encode()
    extras[HEADERS_FILE] = _headers_file(ctx, built, extras, prefixes).encode()
    return extras


def _headers_file(
    ctx: WidgetContext, built: Manifest, extras: dict[str, bytes], prefixes: Sequence[str]
) -> str:
    """The ``_headers`` file: each address's headers as the server sent them; the static
    site's own files as the server would send them (a page, a script, a document)."""
    answers = {
        url: (built.security[entry.security], entry.file.endswith("index.html"))
        for url, entry in built.urls.items()
    }
    for name in extras:
        kind: Kind = "page" if name.endswith(".html") else "script" if name.endswith(".js") else "data"
        url = "/" + name.removesuffix("index.html")
        sent = dict(security_headers(kind, ancestors=ctx.ancestors))
        answers[url] = (security_of(url, sent), name.endswith("index.html"))
    return headers_file(answers, list(prefixes))
