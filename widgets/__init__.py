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

from typing import Any

__all__ = [
    "build_chart",
    "chart_spec",
    "create_widgets_app",
    "image_png",
    "image_svg",
    "render_png",
    "render_svg",
    "sparkline_spec",
]


def __getattr__(name: str) -> Any:
    # Lazy: importing the package stays cheap (FastAPI and Altair load on first use).
    if name == "create_widgets_app":
        from widgets.app import create_widgets_app

        return create_widgets_app
    if name in ("build_chart", "chart_spec", "sparkline_spec"):
        from widgets import charts

        return getattr(charts, name)
    if name in ("image_png", "image_svg"):
        from widgets import images

        return getattr(images, name)
    if name in ("render_png", "render_svg"):
        from widgets import render

        return getattr(render, name)
    raise AttributeError(f"module 'widgets' has no attribute {name!r}")
