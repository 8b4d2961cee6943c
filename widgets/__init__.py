"""The widget server: dashboard, KPI pages, embeddable charts, images and downloads.

Example:
    >>> from widgets import create_app  # doctest: +SKIP
    >>> app = create_app(store, catalog)  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "build_chart",
    "chart_spec",
    "create_app",
    "image_png",
    "image_svg",
    "render_png",
    "render_svg",
    "sparkline_spec",
]


def __getattr__(name: str) -> Any:
    # Lazy: importing the package stays cheap (FastAPI and Altair load on first use).
    if name == "create_app":
        from widgets.app import create_app

        return create_app
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
