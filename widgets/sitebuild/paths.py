"""Where each URL of the site is written, and which URLs a page links to.

A page (an HTML answer) at ``/kpi/x`` is written to ``kpi/x/index.html``: a static file server
answers ``/kpi/x`` with a redirect to ``/kpi/x/`` and serves that file, so the address the server
uses keeps working. Every other answer (an image, a download, a feed) is written at its own path
(``/kpi/x.svg`` to ``kpi/x.svg``), including the few without a file extension (``/api/kpis``).
Pages link with root-relative addresses (``/kpi/x.csv``), so the added slash changes nothing;
:func:`relative_links` finds any link that would resolve differently after it.

Example:
    >>> file_for("/kpi/pothole-days-to-close", html=True), file_for("/kpi/a.svg", html=False)
    ('kpi/pothole-days-to-close/index.html', 'kpi/a.svg')
    >>> file_for("/", html=True)
    'index.html'
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Sequence
from html.parser import HTMLParser
from urllib.parse import parse_qsl, unquote, urljoin, urlsplit

from btvstat_open.errors import UsageError

__all__ = ["css_links", "file_for", "page_links", "relative_links", "site_path"]

_SAFE_SEGMENT = re.compile(r"^[A-Za-z0-9._~@+-]+$")
_LINK_ATTRIBUTES = ("href", "src", "poster", "action", "data-src")
_CSS_URL = re.compile(r"""url\(\s*['"]?([^'")\s]+)['"]?\s*\)|@import\s+['"]([^'"]+)['"]""")


def file_for(path: str, *, html: bool) -> str:
    """The file (relative to the output folder) that answers ``path`` on a static server.

    A path that could escape the folder or name a hidden file is a :class:`UsageError`.

    Example:
        >>> file_for("/goals/v1.2", html=True), file_for("/api/kpis", html=False)
        ('goals/v1.2/index.html', 'api/kpis')
        >>> file_for("/a/.env", html=False)
        Traceback (most recent call last):
        ...
        btvstat_open.errors.UsageError: The site has an address that cannot be a file: '/a/.env'.
    """
    parts = [unquote(part) for part in path.split("/") if part]
    if any(not _SAFE_SEGMENT.match(part) or part.startswith(".") for part in parts):
        raise UsageError(f"The site has an address that cannot be a file: {path[:120]!r}.")
    if html and not (parts and parts[-1].endswith(".html")):
        parts.append("index.html")
    if not parts:
        raise UsageError(f"The site has an address that cannot be a file: {path[:120]!r}.")
    return posixpath.join(*parts)


def site_path(link: str, page: str, base: str, locales: Sequence[str] = ()) -> str | None:
    """The site path a link on ``page`` leads to (query and fragment dropped), or None when it
    leaves the site (another host, ``mailto:``, ``data:``). A ``?lang=`` of one of the other
    ``locales`` (the first is the default) becomes the locale's prefix, the address the same
    answer has without a query (``/es/kpi/a.svg``).

    Example:
        >>> site_path("/kpi/a.csv?x=1#top", "/kpi/a", "https://city.example")
        '/kpi/a.csv'
        >>> site_path("/kpi/a.svg?lang=es", "/es/kpi/a", "https://city.example", ["en", "es"])
        '/es/kpi/a.svg'
        >>> site_path("https://elsewhere.example/x", "/", "https://city.example") is None
        True
    """
    full = urlsplit(urljoin(base + page, link.strip()))
    origin = urlsplit(base)
    if (full.scheme, full.netloc) != (origin.scheme, origin.netloc):
        return None
    path = full.path or "/"
    lang = dict(parse_qsl(full.query)).get("lang", "")
    if lang in locales[1:] and not path.startswith(f"/{lang}/"):
        path = f"/{lang}{path}"
    return path


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if not value:
                continue
            if name in _LINK_ATTRIBUTES:
                self.links.append(value)
            elif name in ("srcset", "imagesrcset"):
                self.links.extend(part.split()[0] for part in value.split(",") if part.split())


def page_links(html: str) -> list[str]:
    """Every address an HTML page refers to (links, images, scripts, stylesheets, forms).

    Example:
        >>> page_links('<a href="/kpi/a">a</a><img src="/kpi/a.svg" srcset="/kpi/a.png 2x">')
        ['/kpi/a', '/kpi/a.svg', '/kpi/a.png']
    """
    parser = _Links()
    parser.feed(html)
    parser.close()
    return parser.links


def css_links(css: str) -> list[str]:
    """The addresses a stylesheet refers to (``url(...)``, ``@import``).

    Example:
        >>> css_links('@font-face { src: url("/theme/font.woff2") } @import "/static/x.css";')
        ['/theme/font.woff2', '/static/x.css']
    """
    return [a or b for a, b in _CSS_URL.findall(css) if not (a or b).startswith("data:")]


def relative_links(links: list[str], page: str) -> list[str]:
    """The links of ``page`` that resolve differently once a static server adds its slash.

    Example:
        >>> relative_links(["/kpi/a.svg", "a.svg", "#top", "https://x.example/"], "/kpi/a")
        ['a.svg']
    """
    base = "http://site.invalid"
    moved = page.rstrip("/") + "/"
    return [
        link
        for link in links
        if not link.startswith("#") and urljoin(base + page, link) != urljoin(base + moved, link)
    ]
