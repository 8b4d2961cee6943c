"""The widget server: dashboard, KPI pages, embeddable charts, images and downloads.

:func:`create_widgets_app` makes the widgets' own app; the server that also answers the local
portal's SODA routes is :func:`btvstat_open.server.create_app`.

Example:
    >>> import tempfile
    >>> from btvstat_open.store import Store
    >>> from widgets import create_widgets_app
    >>> create_widgets_app(Store(tempfile.mkdtemp())).app.title
    'btvstat-open'
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__all__ = [
    "build_chart",
    "chart_spec",
    "create_widgets_app",
    "image_png",
    "image_svg",
]


# Lazy: importing the package stays cheap (FastAPI and Altair load on first use).
_LAZY = {
    "build_chart": "widgets.charts",
    "chart_spec": "widgets.charts",
    "create_widgets_app": "widgets.app",
    "image_png": "widgets.images",
    "image_svg": "widgets.images",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'widgets' has no attribute {name!r}")
