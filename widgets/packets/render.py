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
import threading
from pathlib import Path

import jinja2

from btvstat_open.errors import RenderError
from btvstat_open.i18n import current_locale
from btvstat_open.i18n.jinja import install as install_i18n
from btvstat_open.web.locales import localize_links
from catalog.models import CatalogSettings
from catalog.packet import Packet
from widgets.packets.view import packet_context
from widgets.vocabulary import kind_label, period_name

__all__ = ["PACKET_CSS", "packet_html", "packet_pdf", "style_hash"]

TEMPLATES = Path(__file__).parent.parent / "templates"
PACKET_CSS = (TEMPLATES / "packet.css").read_text(encoding="utf-8")
_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
install_i18n(_ENV)
_ENV.globals["kind_label"] = kind_label
_ENV.globals["period_name"] = period_name
# WeasyPrint's layout is not documented as thread-safe; packets are rare, so one at a time.
_PDF_LOCK = threading.Lock()


def style_hash() -> str:
    """The CSP source that allows exactly the packet's inline stylesheet (``'sha256-...'``).

    Example:
        >>> style_hash().startswith("'sha256-")
        True
    """
    digest = hashlib.sha256(PACKET_CSS.encode()).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


def packet_html(packet: Packet, site: CatalogSettings, *, links: bool = False) -> str:
    """The packet as one HTML document; ``links`` adds the site's navigation (for the server).

    Every catalog and meeting text is escaped by the template; the only markup inserted as is are
    the stylesheet above and the server's own chart SVG.
    """
    context = packet_context(packet, site.fiscal_year_start)
    html = _ENV.get_template("packet.html").render(site=site, css=PACKET_CSS, links=links, **context)
    return localize_links(html, current_locale(), site.locales) if links else html


def packet_pdf(html: str) -> bytes:
    """The packet page as a PDF/UA-1 document (tagged, titled, language set, fonts embedded).

    Raises :class:`~btvstat_open.errors.RenderError` when WeasyPrint or its system libraries fail.
    """
    try:
        import weasyprint
    except (ImportError, OSError) as exc:  # OSError: Pango or its fonts are missing
        raise RenderError(
            f"Cannot make PDF packets: WeasyPrint is not usable here ({exc}). Install the Pango "
            "libraries (Debian: libpango-1.0-0 libpangoft2-1.0-0) and a font such as fonts-dejavu-core."
        ) from exc
    with _PDF_LOCK:
        try:
            document = weasyprint.HTML(string=html, base_url=None)
            pdf: bytes = document.write_pdf(pdf_variant="pdf/ua-1", uncompressed_pdf=False)
        except Exception as exc:
            raise RenderError(f"Could not lay out the packet as PDF: {exc}.") from exc
    return pdf
