"""Meeting packets in the widget server and on the command line: HTML pages, PDFs, the meeting list.

Example:
    >>> from widgets.packets import packet_html, packet_pdf
"""

from __future__ import annotations

from widgets.packets.render import packet_html, packet_pdf, style_hash

__all__ = ["packet_html", "packet_pdf", "style_hash"]
