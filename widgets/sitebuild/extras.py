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

__all__ = ["robots_txt", "sitemap_xml"]


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
