"""One image pipeline: the drawing functions ``widgets`` exports are the ones the server and the
``render`` command call, and every chart image goes through one vl-convert wrapper."""

from __future__ import annotations

import ast
from pathlib import Path

import widgets
import widgets.charts
import widgets.commands
import widgets.service

ROOT = Path(__file__).resolve().parent.parent


def _names(module: object) -> set[str]:
    tree = ast.parse(Path(str(getattr(module, "__file__", ""))).read_text(encoding="utf-8"))
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}


def test_every_exported_drawing_function_is_the_servers() -> None:
    # The server's service and the render command, and chart_spec (the spec pages embed) over build_chart.
    used = _names(widgets.service) | _names(widgets.commands) | _names(widgets.charts)
    drawing = [n for n in widgets.__all__ if n != "create_widgets_app"]
    assert drawing and all(name in used for name in drawing), sorted(set(drawing) - used)
    assert widgets.service.image_svg is widgets.image_svg and widgets.service.image_png is widgets.image_png


def test_vl_convert_is_wrapped_once() -> None:
    callers = [
        path.relative_to(ROOT).as_posix()
        for path in sorted((ROOT / "widgets").rglob("*.py"))
        if "vl_convert" in path.read_text(encoding="utf-8")
    ]
    assert callers == ["widgets/render.py"]
