"""Helpers of the site-build tests: build the demo site, hash a built folder, change one KPI's data."""

from __future__ import annotations

import hashlib
import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import yaml

from btvstat_open.server import create_app
from btvstat_open.server.site_command import PUBLIC_ROUTES
from btvstat_open.store import Store
from catalog import load_catalog
from catalog.demo import DEMO_DIR
from widgets.sitebuild import BuildReport, build_site

BASE = "https://performance.example.gov"
# One dataset behind exactly one demo KPI, in one goal and one department.
CHANGED_DATASET = "child-care-locations"
CHANGED_KPI = "child-care-licensed-capacity"


# After the demo's own day (as of which the data is as known then, before any change a test makes).
AS_OF = date(2030, 1, 1)


def two_languages(folder: Path, locales: tuple[str, ...] = ("en", "es")) -> Path:
    """A copy of the demo catalog in two of its languages (its datasets are in the demo store)."""
    shutil.copytree(DEMO_DIR, folder, ignore=shutil.ignore_patterns("data"))
    return set_locales(folder, locales)


def set_locales(folder: Path, locales: tuple[str, ...]) -> Path:
    """Set the catalog's ``locales:`` (the first the default); the translations into the demo's
    other languages are taken out (a catalog lists every language it holds texts in)."""
    dropped = set(DEMO_LOCALES) - set(locales)
    settings = yaml.safe_load((folder / "catalog.yaml").read_text(encoding="utf-8"))
    settings["locales"] = list(locales)
    (folder / "catalog.yaml").write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
    for path in sorted(folder.rglob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        path.write_text(yaml.safe_dump(_without(yaml.safe_load(text), dropped), allow_unicode=True))
    for path in sorted(folder.rglob("*.md")):
        _, front, body = path.read_text(encoding="utf-8").split("---\n", 2)
        front = yaml.safe_dump(_without(yaml.safe_load(front), dropped), allow_unicode=True)
        path.write_text(f"---\n{front}---\n{body}", encoding="utf-8")
    lock = folder / "translations.lock"
    if lock.exists():
        stamps = _without(yaml.safe_load(lock.read_text(encoding="utf-8")), dropped, lock=True)
        lock.write_text(yaml.safe_dump(stamps, allow_unicode=True), encoding="utf-8")
    return folder


DEMO_LOCALES = ("en", "es", "fr")


def _without(value: Any, dropped: set[str], *, lock: bool = False) -> Any:
    """``value`` with the texts in ``dropped`` languages taken out of every ``{en: .., es: ..}``."""
    if isinstance(value, dict):
        texts = "en" in value or lock
        if texts and set(value) <= set(DEMO_LOCALES) and value:
            return {k: v for k, v in value.items() if k not in dropped}
        return {k: _without(v, dropped, lock=lock) for k, v in value.items()}
    if isinstance(value, list):
        return [_without(v, dropped, lock=lock) for v in value]
    return value


def goal_and_ancestors(catalog_dir: Path, store: Store, kpi_id: str) -> set[str]:
    """The goals a KPI serves and every goal above them."""
    catalog = load_catalog(catalog_dir, store)
    parents = {goal.id: goal.parent for goal in catalog.settings.goals}
    found: set[str] = set()
    for goal in catalog.kpis[kpi_id].goals:
        current: str | None = goal
        while current is not None and current not in found:
            found.add(current)
            current = parents.get(current)
    return found


def build(
    store: Store, out: Path, catalog_dir: Path = DEMO_DIR, *, pdfs: bool = True, parallel: bool = True
) -> BuildReport:
    """Build the site of this catalog over ``store`` into ``out`` with a fresh app (a new run)."""
    app = create_app(store, load_catalog(catalog_dir, store), as_of=AS_OF)
    return build_site(app, out, base_url=BASE, public=PUBLIC_ROUTES, pdfs=pdfs, parallel=parallel)


def hashes(root: Path) -> dict[str, str]:
    """Every file of a built folder (the manifest too) and the digest of its bytes."""
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def change_one_kpi(store: Store) -> None:
    """Load a changed copy of the one KPI's dataset: every licensed capacity doubled."""
    table = store.arrow(CHANGED_DATASET)
    column = "total_licensed_capacity"
    index = table.schema.get_field_index(column)
    doubled = pc.multiply(table[column], pa.scalar(2, table[column].type))
    store.replace(CHANGED_DATASET, table.set_column(index, column, doubled))
