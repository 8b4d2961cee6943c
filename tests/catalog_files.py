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


# A KPI on the portal `city` of remote_demo() whose dataset that portal does not have.
MISSING_KPI = """\
    id: gone-kpi
    title: A KPI whose dataset the portal does not have
    department: Nowhere
    source: {portal: city, dataset: gone-1234, date_column: day}
    measure: {calculation: count}
    freshness: {expect: weekly}
    """


def remote_demo(root: Path, url: str, *, extra: dict[str, str] | None = None) -> Path:
    """The demo catalog copied to ``root`` with every dataset on the portal ``city`` at ``url``
    (instead of ``portal: local``), plus the ``extra`` files; returns ``root``. The KPIs on the
    demo's file portal (``burlington``, whose folder is not copied) and those whose values are
    entered (``source: {entry: manual}``, kept in the local store only) are left out."""
    import shutil

    from catalog.demo import DEMO_DIR

    shutil.copytree(DEMO_DIR, root, ignore=shutil.ignore_patterns("data"))
    settings = root / "catalog.yaml"
    settings.write_text(
        settings.read_text().replace("portals:\n", f"portals:\n  city: {{url: '{url}'}}\n", 1)
    )
    for path in root.rglob("*.yaml"):
        if path != settings and "meetings" not in path.parts:
            text = path.read_text()
            if "portal: burlington" in text or "entry: manual" in text:
                path.unlink()
                continue
            path.write_text(text.replace("portal: local", "portal: city"))
    return write(root, extra or {})
