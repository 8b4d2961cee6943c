"""Meeting packets in the widget server and on the command line: HTML pages, PDFs, the meeting list.

Importing the package is cheap (the PDF processes import only what lays a page out); the names
below load :mod:`widgets.packets.render` on first use.

Example:
    >>> from widgets.packets import packet_html, packet_pdf
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__all__ = ["packet_html", "packet_pdf", "style_hash"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(import_module("widgets.packets.render"), name)
    raise AttributeError(f"module 'widgets.packets' has no attribute {name!r}")
