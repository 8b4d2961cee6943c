"""Catalog folders written by tests, and the problems loading them reports."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from btvstat_open.errors import CatalogError
from btvstat_open.store import Store
from catalog import load_catalog


def write(root: Path, files: dict[str, str]) -> Path:
    """Write each ``{relative name: YAML text}`` under ``root`` (dedented); returns ``root``."""
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def problems(root: Path, store: Store | None = None) -> list[tuple[str, int | None, str]]:
    """The ``(file name, line, message)`` problems of loading the catalog at ``root``, which must fail."""
    with pytest.raises(CatalogError) as info:
        load_catalog(root, store=store)
    return [(Path(f).name, line, message) for f, line, message in info.value.problems]
