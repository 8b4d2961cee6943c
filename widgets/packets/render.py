"""A packet as one self-contained HTML page, and that page as a tagged PDF (WeasyPrint).

The HTML carries its stylesheet inline and its charts as inline SVG, so it needs nothing from
anywhere else: a city can mail it, archive it, or open it offline. It prints well: every KPI item
starts a page, and no chart, table or follow-up is cut across pages (``break-inside: avoid``).

The PDF is the same HTML laid out by WeasyPrint (no browser): PDF/UA-1, so it is tagged for
assistive technology and carries its title and language, with its fonts embedded. Its creation and
modification dates are the packet's as-of day and it holds no random identifier, so the PDF of a
past meeting is the same bytes every time it is made.

Example:
    >>> from catalog.packet import build_packet
    >>> packet = build_packet(catalog, store, "2020-03-04-public-works")
    >>> html = packet_html(packet, catalog.settings)
    >>> packet_pdf(html)[:5]
    b'%PDF-'
"""

from __future__ import annotations

import base64
import hashlib
import re
import threading
from pathlib import Path
from typing import Any

import jinja2

from btvstat_open.i18n import current_locale
from btvstat_open.web.locales import localize_links
from catalog.models import CatalogSettings
from catalog.packet import Packet
from widgets.packets.charts import IMAGE_RULE, charts_as_images
from widgets.packets.view import packet_context
from widgets.theme_files import Brand
from widgets.theme_templates import template_env

__all__ = [
    "IMAGE_RULE",
    "PACKET_CSS",
    "charts_as_images",
    "packet_css",
    "packet_html",
    "packet_pages",
    "packet_pdf",
    "page_styles",
    "style_hash",
]

TEMPLATES = Path(__file__).parent.parent / "templates"
PACKET_CSS = (TEMPLATES / "packet.css").read_text(encoding="utf-8")
_ENV = template_env(TEMPLATES, None)
_THEMED_ENVS: dict[Path, jinja2.Environment] = {}  # by overrides folder (widgets.theme_templates)
# WeasyPrint's layout is not documented as thread-safe; packets are rare, so one at a time.
_PDF_LOCK = threading.Lock()


def style_hash(css: str = PACKET_CSS) -> str:
    """The CSP source that allows exactly the packet's inline stylesheet (``'sha256-...'``).

    Example:
        >>> style_hash().startswith("'sha256-")
        True
    """
    digest = hashlib.sha256(css.encode()).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


_STYLE = re.compile(rb"<style>(.*?)</style>", re.S)


def page_styles(page: bytes) -> tuple[str, ...]:
    """The CSP sources of the inline stylesheets a packet page holds (the page is the server's own:
    every catalog text in it is escaped, so a ``<style>`` element in it is the template's).

    Example:
        >>> page_styles(b"<style>a{}</style>") == (style_hash("a{}"),)
        True
    """
    return tuple(style_hash(css.decode()) for css in _STYLE.findall(page))


def packet_css(brand: Brand) -> str:
    """The packet's stylesheet: :data:`PACKET_CSS`, then the theme's colours (validated hex codes).

    Example:
        >>> packet_css(Brand()) == PACKET_CSS
        True
    """
    if not brand.light_colors:
        return PACKET_CSS
    c = brand.light_colors
    return PACKET_CSS + (
        f"/* The catalog's theme */\na {{ color: {c['link']}; }}\n"
        f"h2 {{ border-bottom-color: {c['primary']}; }}\n"
        f".summary {{ border-left-color: {c['primary']}; background: {c['surface']}; }}\n"
        f".brand-logo {{ display: block; height: 14mm; width: auto; margin: 0.5rem 0 0; }}\n"
        f".status-on_track {{ color: {c['on_track']}; }}\n"
        f".status-near_target {{ color: {c['near_target']}; }}\n"
        f".status-off_track {{ color: {c['off_track']}; }}\n"
    )


def _env(brand: Brand) -> jinja2.Environment:
    if brand.templates is None:
        return _ENV
    if brand.templates not in _THEMED_ENVS:
        _THEMED_ENVS[brand.templates] = template_env(TEMPLATES, brand.templates)
    return _THEMED_ENVS[brand.templates]


def packet_html(
    packet: Packet, site: CatalogSettings, *, links: bool = False, brand: Brand | None = None
) -> str:
    """The packet as one HTML document; ``links`` adds the site's navigation (for the server);
    ``brand`` (the catalog's theme, :func:`widgets.theme_files.brand_of`) its logo and colours.

    Every catalog and meeting text is escaped by the template; the only markup inserted as is are
    the stylesheet above and the server's own chart SVG.
    """
    return _render(packet_context(packet, site.fiscal_year_start), site, links, brand or Brand())


def packet_pages(packet: Packet, site: CatalogSettings, brand: Brand | None = None) -> tuple[str, str]:
    """The packet as printed (no links: what its PDF is laid out from) and as a page (with the
    site's navigation), from one context: every chart is drawn once for both.

    Example:
        >>> from catalog.packet import build_packet
        >>> packet = build_packet(catalog, store, "2020-03-04-public-works")
        >>> printed, page = packet_pages(packet, catalog.settings)
        >>> "This packet as PDF" in page, "This packet as PDF" in printed
        (True, False)
        >>> printed == packet_html(packet, catalog.settings)
        True
    """
    context = packet_context(packet, site.fiscal_year_start)
    brand = brand or Brand()
    return _render(context, site, False, brand), _render(context, site, True, brand)


def _render(context: dict[str, Any], site: CatalogSettings, links: bool, brand: Brand) -> str:
    template = _env(brand).get_template("packet.html")
    html = template.render(site=site, css=packet_css(brand), links=links, brand=brand, **context)
    return localize_links(html, current_locale(), site.locales) if links else html


def packet_pdf(html: str) -> bytes:
    """The packet page as a PDF/UA-1 document (tagged, titled, language set, fonts embedded).

    Its parts are laid out one after the other in this process and joined
    (:func:`widgets.packets.parts.assemble`); the server lays them out side by side, to the
    same bytes. Raises :class:`~btvstat_open.errors.RenderError` when WeasyPrint or its system
    libraries fail.
    """
    from widgets.packets.parts import assemble, run_here

    with _PDF_LOCK:
        return assemble(html, run_here)
