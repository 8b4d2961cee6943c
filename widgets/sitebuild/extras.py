"""The files a static site has that the server answers no URL for: ``sitemap.xml``, ``robots.txt``
and the page a static host shows for a missing address (``404.html``).

Example:
    >>> print(robots_txt("https://city.example"), end="")
    User-agent: *
    Allow: /
    Sitemap: https://city.example/sitemap.xml
    >>> sitemap_xml("https://city.example", ["/kpi/a", "/"]).count(b"<loc>")
    2
"""

from __future__ import annotations

from collections.abc import Iterable
from xml.sax.saxutils import escape

__all__ = ["CHOOSER_SCRIPT", "chooser_page", "robots_txt", "sitemap_xml"]

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
