"""The ``render`` and ``serve`` commands, run through the real command line."""

from __future__ import annotations

from pathlib import Path

import pytest
from demo_store import demo_store

from btvstat_open.cli import main
from catalog.demo import DEMO_DIR


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("render-store")
    demo_store(root).close()
    return root


@pytest.mark.parametrize(
    ("kpi_id", "name", "magic"),
    [
        ("pothole-days-to-close", "chart.svg", b'<svg xmlns="http://www.w3.org/2000/svg" role="img"'),
        ("library-emedia-circulation", "chart.png", b"\x89PNG\r\n\x1a\n"),
        ("pothole-requests-weekly", "chart.html", b"<!doctype html>"),
    ],
)
def test_render_writes_each_format(
    store_dir: Path, tmp_path: Path, kpi_id: str, name: str, magic: bytes
) -> None:
    out = tmp_path / name
    argv = ["render", kpi_id, "--catalog", str(DEMO_DIR), "--store", str(store_dir), "-o", str(out)]
    assert main(argv) == 0
    data = out.read_bytes()
    assert data.startswith(magic)
    assert not list(tmp_path.glob("*.partial"))
    if name.endswith(".html"):
        text = data.decode()
        assert "window.vegaEmbed" in text and "<script src=" not in text  # bundle inlined, nothing fetched


def test_render_refuses_unknown_formats_and_kpis(
    store_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["--catalog", str(DEMO_DIR), "--store", str(store_dir)]
    assert main(["render", "pothole-days-to-close", *base, "-o", str(tmp_path / "x.gif")]) == 2
    assert ".svg, .png or .html" in capsys.readouterr().err
    assert main(["render", "no-such-kpi", *base, "-o", str(tmp_path / "x.svg")]) == 2
    assert "no-such-kpi" in capsys.readouterr().err
    assert not (tmp_path / "x.svg").exists()


def test_serve_refuses_bad_usage(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["serve", "--demo", "--catalog", str(DEMO_DIR), "--store", str(tmp_path / "s")]
    assert main(argv) == 2
    assert "either --demo or --catalog" in capsys.readouterr().err
    assert main(["serve", "--store", str(tmp_path / "s"), "--port", "70000"]) == 2
    assert "--port 70000" in capsys.readouterr().err
