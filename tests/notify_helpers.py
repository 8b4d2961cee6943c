"""What the notification tests share: the demo store loaded once per module, and
``btvstat-open notify`` run as its own process (as cron runs it)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from demo_store import demo_store

ROOT = Path(__file__).resolve().parent.parent


def load_demo(tmp_path_factory: pytest.TempPathFactory, name: str) -> Path:
    """A store folder holding the demo datasets."""
    root = tmp_path_factory.mktemp(name) / "store"
    demo_store(root).close()
    return root


def notify_argv(catalog: Path, store: Path, *extra: str) -> list[str]:
    """The command line of ``btvstat-open notify`` over ``catalog`` and ``store``."""
    return [
        sys.executable,
        "-m",
        "btvstat_open",
        "notify",
        "--catalog",
        str(catalog),
        "--store",
        str(store),
        *extra,
    ]


def notify_env(settings: dict[str, str]) -> dict[str, str]:
    """This process's environment, with this checkout importable and ``settings`` added."""
    return {**os.environ, "PYTHONPATH": str(ROOT), **settings}


def run_notify(
    catalog: Path, store: Path, settings: dict[str, str], *extra: str
) -> subprocess.CompletedProcess[str]:
    """Run ``btvstat-open notify`` to the end; its output as text."""
    argv = notify_argv(catalog, store, *extra)
    return subprocess.run(
        argv, env=notify_env(settings), capture_output=True, text=True, timeout=300, check=False
    )
